"""The network's data from the command line (api/cli/data.py): import and export as an operator
runs them, as processes."""

from __future__ import annotations

import json
from pathlib import Path

from api.app import create_app
from service import db
from service.embedding import Embedder
from tests.helpers.app import COORDINATOR, make_settings
from tests.helpers.data import DEV_SET, needs_dev_set
from tests.helpers.mail import api_client
from tests.helpers.processes import free_port, run_cli
from tests.helpers.smtp import FROM_QUERY, Mailbox, SmtpServer


@needs_dev_set
class TestImportExport:
    def test_import_is_idempotent_and_export_round_trips(
        self, own_database_url: str, tmp_path: Path
    ) -> None:
        env = {"DATABASE_URL": own_database_url}
        first = run_cli("import", str(DEV_SET / "members.json"), env=env)
        assert first.returncode == 0, first.stderr
        assert "40 new, 0 updated" in first.stderr
        again = run_cli("import", str(DEV_SET / "members.json"), env=env)
        assert again.returncode == 0, again.stderr
        assert "0 new, 0 updated, 40 unchanged" in again.stderr
        exported = tmp_path / "network.json"
        result = run_cli("export", "--output", str(exported), env=env)
        assert result.returncode == 0, result.stderr
        members = json.loads(exported.read_text(encoding="utf-8"))
        source = json.loads((DEV_SET / "members.json").read_text(encoding="utf-8"))
        assert {member["id"] for member in members} == {member["id"] for member in source}
        by_id = {member["id"]: member for member in members}
        assert by_id[source[0]["id"]]["tags"] == source[0]["tags"]

    def test_invalid_file_imports_nothing(self, own_database_url: str, tmp_path: Path) -> None:
        broken = tmp_path / "broken.json"
        broken.write_text(
            json.dumps(
                [
                    {
                        "id": "a",
                        "name": "Anna",
                        "municipality": "X",
                        "state": "Y",
                        "expertise": "Z",
                    },
                    {"id": "b", "name": "", "municipality": "X", "state": "Y", "expertise": "Z"},
                ]
            ),
            encoding="utf-8",
        )
        result = run_cli("import", str(broken), env={"DATABASE_URL": own_database_url})
        assert result.returncode == 1
        assert "row 1 column 'state'" in result.stderr
        assert "row 2 column 'name'" in result.stderr
        exported = run_cli("export", env={"DATABASE_URL": own_database_url})
        assert json.loads(exported.stdout) == []

    def test_csv_import(self, own_database_url: str, tmp_path: Path) -> None:
        table = tmp_path / "members.csv"
        table.write_text(
            "id,name,municipality,state,municipality_type,role,expertise,tags,languages\n"
            'k1,Karla Beispiel,Kassel,Hessen,Großstadt,Referentin,"Ich berate zu Bürgerräten.",'
            "Bürgerrat;Losverfahren,de;en\n",
            encoding="utf-8",
        )
        result = run_cli("import", str(table), env={"DATABASE_URL": own_database_url})
        assert result.returncode == 0, result.stderr
        exported = json.loads(run_cli("export", env={"DATABASE_URL": own_database_url}).stdout)
        assert exported[0]["tags"] == ["Bürgerrat", "Losverfahren"]
        assert exported[0]["languages"] == ["de", "en"]

    async def test_a_german_spreadsheet_and_a_reimport_after_an_erasure(
        self, own_database_url: str, tmp_path: Path, fake_embedder: Embedder
    ) -> None:
        """German Excel's CSV imports; imported again with --welcome after one member erased
        their account, nobody is brought back and nobody e-mailed."""
        table = tmp_path / "mitglieder.csv"
        table.write_bytes(
            (
                "\ufeffName;E-Mail;Kommune;Bundesland;Expertise;Schlagworte\r\n"
                'Karla Beispiel;karla@example.org;Mainz;RLP;Bürgerräte begleitet.;"Bürgerrat; '
                'Losverfahren; Zufallsauswahl"\r\n'
                "Jens Muster;jens@example.org;Köln;NRW;Jugendbeteiligung.;\r\n"
            ).encode("utf-8")
        )
        env = {"DATABASE_URL": own_database_url}
        first = run_cli("import", str(table), env=env)
        assert first.returncode == 0, first.stderr
        assert "2 new" in first.stderr
        exported = {m["name"]: m for m in json.loads(run_cli("export", env=env).stdout)}
        assert exported["Karla Beispiel"]["state"] == "Rheinland-Pfalz"
        assert exported["Karla Beispiel"]["tags"] == ["Bürgerrat", "Losverfahren", "Zufallsauswahl"]
        pool = await db.create_pool(own_database_url, max_size=2)
        try:
            app = create_app(make_settings(own_database_url), embedder=fake_embedder, pool=pool)
            async with app.router.lifespan_context(app), api_client(app) as client:
                karla_id = await pool.fetchval(
                    "SELECT id FROM member WHERE name = 'Karla Beispiel'"
                )
                erased = await client.delete(f"/v1/members/{karla_id}", headers=COORDINATOR)
                assert erased.status_code == 204
            smtp = SmtpServer(free_port())
            smtp.start(Mailbox())
            try:
                again = run_cli(
                    "import",
                    str(table),
                    "--welcome",
                    env={
                        **env,
                        "PEERCONSULT_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}?{FROM_QUERY}",
                        "PEERCONSULT_PUBLIC_URL": "https://peerconsult.example.org",
                    },
                )
            finally:
                smtp.stop()
            assert again.returncode == 0, again.stderr
            assert "0 new, 0 updated, 1 unchanged, 1 skipped (erased accounts)" in again.stderr
            assert "row 2 (Karla Beispiel): belongs to an account that was erased" in again.stderr
            assert await pool.fetchval("SELECT count(*) FROM member") == 1
            assert await pool.fetchval("SELECT count(*) FROM outbox") == 0
        finally:
            await pool.close()
