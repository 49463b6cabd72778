"""The operator's commands, run as an operator runs them: as processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import psutil
import pytest

from api.app import create_app
from api.cli import workers as worker_processes
from lab.evaluation.dataset import load_dataset
from lab.evaluation.over_http import evaluate_over_http
from service import db
from service.embedding import Embedder
from service.questions import service as questions_service
from tests.helpers.app import ADMIN_TOKEN, COORDINATOR, make_settings
from tests.helpers.data import DEV_SET, needs_dev_set
from tests.helpers.mail import api_client
from tests.helpers.processes import CLI, free_port, run_cli, serve, wait_until_healthy
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


class TestConfiguration:
    def test_refuses_a_short_admin_token(self) -> None:
        result = run_cli("migrate", env={"PEERCONSULT_ADMIN_TOKEN": "short"})
        assert result.returncode == 2
        assert "at least 16 characters" in result.stderr


@needs_dev_set
class TestEvaluate:
    async def test_dev_set_quality_floor_through_the_api(
        self, server_url: str, embedder: Embedder
    ) -> None:
        report = await evaluate_over_http(load_dataset(DEV_SET), embedder, database_url=server_url)
        assert len(report.results) == 25
        assert report.ndcg_at_5 >= 0.80
        assert report.recall_at_10 >= 0.80

    async def test_inside_a_synthetic_network_through_the_bounded_channels(
        self, server_url: str, embedder: Embedder
    ) -> None:
        # 400 members: more than are ranked in full, so the candidate channels answer.
        within = questions_service.RETRIEVAL.bounded_above + 100
        report = await evaluate_over_http(
            load_dataset(DEV_SET), embedder, database_url=server_url, within=within
        )
        assert report.settings["within synthetic members"] == within
        assert len(report.results) == 25
        ranked = [member for result in report.results for member in result.ranked]
        # Synthetic colleagues compete (shown by their import ids), the set's still lead.
        assert any(member.startswith("bench-") for member in ranked)
        assert report.mrr >= 0.75
        assert report.recall_at_10 >= 0.65


class TestServe:
    def test_data_survives_a_restart_on_the_embedded_database(self, tmp_path: Path) -> None:
        port = free_port()
        env = {
            **os.environ,
            "PEERCONSULT_DATA_DIR": str(tmp_path / "pgdata"),
            "PEERCONSULT_ADMIN_TOKEN": ADMIN_TOKEN,
        }
        env.pop("DATABASE_URL", None)
        base = f"http://127.0.0.1:{port}"
        coordinator = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

        def start() -> subprocess.Popen[bytes]:
            process = serve(port, env)
            wait_until_healthy(process, base)
            return process

        def stop(process: subprocess.Popen[bytes]) -> None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)

        process = start()
        try:
            created = httpx.post(
                f"{base}/v1/members",
                headers=coordinator,
                json={
                    "name": "Dauerhafte Daten",
                    "email": "dauer@example.org",
                    "municipality": {"name": "Bleibestadt", "state": "Bremen"},
                    "expertise": "Ich habe eine Vorhabenliste eingeführt.",
                    "tags": ["Vorhabenliste"],
                },
            )
            assert created.status_code == 201, created.text
        finally:
            stop(process)
        process = start()
        try:
            member = created.json()
            fetched = httpx.get(f"{base}/v1/members/{member['id']}", headers=coordinator)
            assert fetched.status_code == 200
            assert fetched.json()["tags"] == ["Vorhabenliste"]
            me = httpx.get(
                f"{base}/v1/members/me", headers={"Authorization": f"Bearer {member['token']}"}
            )
            assert me.status_code == 200
        finally:
            stop(process)

    def test_sigterm_stops_the_embedded_database(self, tmp_path: Path) -> None:
        """A service manager stops the service with SIGTERM: the embedded PostgreSQL it started
        stops with it (it used to keep running, holding the data directory)."""
        port = free_port()
        data_dir = tmp_path / "pgdata"
        env = {**os.environ, "PEERCONSULT_DATA_DIR": str(data_dir)}
        env.pop("DATABASE_URL", None)
        process = serve(port, env)
        wait_until_healthy(process, f"http://127.0.0.1:{port}")
        assert (data_dir / "postmaster.pid").exists()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        # pg_ctl stop removes postmaster.pid once the server has shut down.
        assert not (data_dir / "postmaster.pid").exists()

    def test_start_says_a_few_lines_and_warns_about_plain_http(self, own_database_url: str) -> None:
        """On an intranet address over plain http: one warning, then where the service answers
        and how to sign in; the database's and Uvicorn's chatter stays out."""
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": own_database_url,
            "PEERCONSULT_ADMIN_TOKEN": ADMIN_TOKEN,
        }
        env.pop("PEERCONSULT_PUBLIC_URL", None)
        process = subprocess.Popen(
            [*CLI, "serve", "--host", "0.0.0.0", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            wait_until_healthy(process, f"http://127.0.0.1:{port}")
        finally:
            process.send_signal(signal.SIGINT)
            output, _ = process.communicate(timeout=60)
        lines = [line for line in output.splitlines() if line.strip()]
        start = lines[: lines.index(next(line for line in lines if line.startswith("Sign in")))]
        said = " ".join(" ".join(start).split())
        assert said.count("unencrypted") == 1
        assert "README: Intranet and TLS" in said
        assert f":{port}/" in start[-1]
        assert len(start) <= 6, start


def listening_workers(process: subprocess.Popen[bytes], port: int) -> list[psutil.Process]:
    """The processes under ``process`` with a socket listening on ``port`` (one that is just
    ending, and so cannot be looked at, is none of them)."""
    listening = []
    for child in psutil.Process(process.pid).children(recursive=True):
        try:
            connections = child.net_connections(kind="tcp")
        except psutil.NoSuchProcess:  # ended, or a zombie not yet collected
            continue
        if any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in connections):
            listening.append(child)
    return listening


def connections_held(worker: psutil.Process, port: int) -> int:
    return sum(
        1
        for connection in worker.net_connections(kind="tcp")
        if connection.status == psutil.CONN_ESTABLISHED and connection.laddr.port == port
    )


@pytest.mark.skipif(not worker_processes.supported(), reason="needs Linux's SO_REUSEPORT")
class TestWorkers:
    def test_connections_opened_together_reach_every_worker(self, own_database_url: str) -> None:
        """A proxy's pool or a group of clients opens its connections together: with one
        shared listening socket the first worker to wake accepted them all and served them
        alone. Every worker listens on its own socket now; a worker that dies is replaced,
        and SIGTERM stops them all."""
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": own_database_url,
            "PEERCONSULT_ADMIN_TOKEN": ADMIN_TOKEN,
        }
        process = serve(port, env, "--workers", "2")
        clients: list[socket.socket] = []
        try:
            wait_until_healthy(process, f"http://127.0.0.1:{port}")
            for _ in range(600):
                workers = listening_workers(process, port)
                if len(workers) == 2:
                    break
                time.sleep(0.1)
            assert len(workers) == 2, "two workers listen on the port"
            # Twenty connections at once (not one after the other, which gives a sharing
            # worker time to wake up in between). The chance that the kernel hashes all of
            # them to one of two sockets is 2 in 2**20.
            clients = [socket.socket() for _ in range(20)]
            for client in clients:
                client.setblocking(False)
                client.connect_ex(("127.0.0.1", port))
            for _ in range(100):
                held = [connections_held(worker, port) for worker in workers]
                if sum(held) == len(clients):
                    break
                time.sleep(0.1)
            assert sum(held) == len(clients), held
            assert min(held) > 0, f"one worker got every connection: {held}"
            for client in clients:
                client.close()
            # A worker that dies is replaced.
            workers[0].kill()
            for _ in range(600):
                replaced = listening_workers(process, port)
                if len(replaced) == 2 and workers[0] not in replaced:
                    break
                time.sleep(0.1)
            assert len(replaced) == 2 and workers[0] not in replaced
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
            workers = replaced
        finally:
            for client in clients:
                client.close()
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        assert not any(worker.is_running() for worker in workers), "workers outlive serve"
