"""How an import's problems and changes read in German (the coordinator's import page)."""

from __future__ import annotations

from api.web import messages
from service.members.import_file import GERMAN_COLUMNS, ImportProblem

# The fields an import writes (service/members/import_merge.py), as its summary names them.
IMPORT_FIELD_LABELS: dict[str, str] = {
    "name": "Name",
    "email": "E-Mail-Adresse",
    "municipality": "Kommune",
    "role": "Funktion",
    "expertise": "Erfahrung und Expertise",
    "tags": "Schlagwörter",
    "languages": "Sprachen",
    "accepting_requests": "Anfragen annehmen",
    "max_open_requests": "höchstens offene Anfragen",
}


def import_problem(problem: ImportProblem) -> str:
    """A problem of an import file in German, with the row and the column as the file has
    them, and what to do."""
    where = ", ".join(
        part
        for part in (
            f"Zeile {problem.row}" if problem.row is not None else "",
            f"Spalte „{problem.column}“" if problem.column else "",
        )
        if part
    )
    what = _import_problem_text(problem)
    return f"{where}: {what}" if where else what


def _import_problem_text(problem: ImportProblem) -> str:
    context = problem.context
    if problem.kind == "missing_columns":
        names = ", ".join(f"„{GERMAN_COLUMNS[column]}“" for column in problem.value or [])
        return (
            f"In der ersten Zeile fehlen die Spalten {names}. Die erste Zeile der Datei nennt "
            "die Spalten; welche es gibt, steht unten."
        )
    if problem.kind == "duplicate_column":
        return (
            f"„{context.get('other_column')}“ und „{problem.column}“ meinen dieselbe Angabe. "
            "Bitte lassen Sie eine der beiden Spalten weg."
        )
    if problem.kind == "duplicate":
        return (
            f"Dieses Mitglied steht schon in Zeile {context.get('other_row')}. Bitte führen Sie "
            "jedes Mitglied nur in einer Zeile."
        )
    if problem.kind == "not_utf8":
        return (
            "Die Datei ist nicht als UTF-8 gespeichert. Bitte speichern Sie sie in Excel als "
            "„CSV UTF-8 (durch Trennzeichen getrennt)“ und laden Sie sie erneut hoch."
        )
    if problem.kind == "json_invalid":
        return "Die Datei ist weder eine Tabelle (CSV) noch gültiges JSON."
    field = problem.field or "form"
    if field == "municipality":
        field = "municipality_name"
    elif field == "state":
        field = "municipality_state"
    return messages.validation_message(
        field,
        {"type": problem.kind, "ctx": context, "input": problem.value, "msg": problem.message},
    )
