"""``peerconsult serve`` (api/cli/serve.py, workers.py) as an operator runs it: configuration
refused at start, data kept across restarts, a few lines said, workers that share the work."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import psutil
import pytest

from api.cli import workers as worker_processes
from tests.helpers.app import ADMIN_TOKEN
from tests.helpers.processes import CLI, free_port, run_cli, serve, wait_until_healthy


class TestConfiguration:
    def test_refuses_a_short_admin_token(self) -> None:
        result = run_cli("migrate", env={"PEERCONSULT_ADMIN_TOKEN": "short"})
        assert result.returncode == 2
        assert "at least 16 characters" in result.stderr


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
