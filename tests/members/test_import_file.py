"""Reading import files as people have them: German Excel's CSV (``;``, a byte-order mark,
German column names), English CSV, JSON; every problem named by row and column
(service/members/import_file.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.members.import_file import ImportFileError, read

GERMAN_EXCEL = (
    "\ufeffName;E-Mail;Kommune;Bundesland;Gemeindetyp;Rolle;Expertise;Schlagworte;Sprachen;"
    "Telefon\r\n"
    "Karla Beispiel;karla@example.org;Mainz;RLP;Großstadt;Referentin;"
    '"Ich habe einen Bürgerrat mit Losverfahren begleitet; die Empfehlungen gingen an den '
    'Stadtrat.";"Bürgerrat; Losverfahren; Zufallsauswahl";de;06131 12345\r\n'
    "Jens Muster;jens@example.org;Köln;NRW;;;Ich betreue Jugendbeteiligung.;;de, en;\r\n"
    ";;;;;;;;;\r\n"
)


class TestSpreadsheets:
    def test_german_excel_csv_with_semicolons_bom_and_german_headers(self) -> None:
        read_file = read("mitglieder.csv", GERMAN_EXCEL.encode("utf-8"))
        karla, jens = (row.member for row in read_file.rows)
        assert [row.number for row in read_file.rows] == [2, 3]
        assert (karla.name, karla.email, karla.municipality) == (
            "Karla Beispiel",
            "karla@example.org",
            "Mainz",
        )
        assert karla.state == "Rheinland-Pfalz"
        assert jens.state == "Nordrhein-Westfalen"
        assert karla.expertise.startswith("Ich habe einen Bürgerrat mit Losverfahren begleitet;")
        assert karla.tags == ["Bürgerrat", "Losverfahren", "Zufallsauswahl"]
        assert jens.languages == ["de", "en"]
        assert read_file.ignored_columns == ["Telefon"]

    def test_english_csv_with_commas(self) -> None:
        text = (
            "id,name,municipality,state,expertise,tags,accepting_requests\n"
            'k1,Karla,Kassel,Hessen,"Bürgerräte, Losverfahren",Bürgerrat;Losverfahren,nein\n'
        )
        [row] = read("members.csv", text.encode()).rows
        assert row.member.tags == ["Bürgerrat", "Losverfahren"]
        assert row.member.accepting_requests is False

    def test_every_problem_names_its_row_and_column(self) -> None:
        text = (
            "Name;E-Mail;Kommune;Bundesland;Expertise\n"
            "Karla;keine-adresse;Mainz;Rheinland;Bürgerrat\n"
            ";jens@example.org;Köln;NRW;Jugend\n"
        )
        with pytest.raises(ImportFileError) as raised:
            read("mitglieder.csv", text.encode())
        where = {(p.row, p.column, p.field) for p in raised.value.problems}
        assert where == {(2, "E-Mail", "email"), (2, "Bundesland", "state"), (3, "Name", "name")}
        message = str(raised.value)
        assert "row 2 column 'Bundesland': 'Rheinland' is no German state" in message
        assert "Rheinland-Pfalz" in message  # the list of states

    def test_missing_columns_say_what_the_header_needs(self) -> None:
        with pytest.raises(ImportFileError) as raised:
            read("mitglieder.csv", b"Name;Kommune\nKarla;Mainz\n")
        [problem] = raised.value.problems
        assert problem.kind == "missing_columns"
        assert (
            "state (Bundesland)" in problem.message and "expertise (Expertise)" in problem.message
        )

    def test_a_file_that_is_not_utf8_says_how_to_save_it(self) -> None:
        with pytest.raises(ImportFileError) as raised:
            read("mitglieder.csv", "Name;Kommune\nJörg;Köln\n".encode("cp1252"))
        assert "CSV UTF-8" in str(raised.value)

    def test_a_member_twice_is_refused(self) -> None:
        text = (
            "Name;E-Mail;Kommune;Bundesland;Expertise\n"
            "Karla;k@example.org;Mainz;RLP;Bürgerrat\n"
            "Karla B.;K@example.org;Mainz;RLP;Bürgerrat\n"
        )
        with pytest.raises(ImportFileError) as raised:
            read("mitglieder.csv", text.encode())
        assert "the same email as row 2" in str(raised.value)

    def test_json_in_the_schema_of_the_development_set(self) -> None:
        text = '[{"id": "m1", "name": "A", "municipality": "B", "state": "BY", "expertise": "C"}]'
        [row] = read("members.json", text.encode()).rows
        assert (row.number, row.member.state) == (1, "Bayern")


def test_the_example_file_the_readme_links_to_imports() -> None:
    example = Path(__file__).resolve().parents[2] / "api" / "static" / "mitglieder-beispiel.csv"
    rows = read(example.name, example.read_bytes()).rows
    assert [row.member.state for row in rows] == ["Rheinland-Pfalz", "Nordrhein-Westfalen"]
    assert rows[1].member.languages == ["de", "en"]
