"""The operator's commands as processes, and servers to talk to."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

CLI = [sys.executable, "-m", "api.cli"]


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``peerconsult ARGS`` to its end, with ``env`` added to this process's environment."""
    return subprocess.run(
        [*CLI, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=300
    )


def serve(port: int, env: dict[str, str], *options: str) -> subprocess.Popen[bytes]:
    """``peerconsult serve --port PORT OPTIONS`` in the background, quietly, with exactly
    ``env`` as its environment."""
    return subprocess.Popen(
        [*CLI, "serve", "--port", str(port), *options],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def free_port() -> int:
    """A loopback port nothing listens on (the OS just handed it out and it is closed again)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_healthy(process: subprocess.Popen[Any], base_url: str) -> None:
    """Until /healthz answers 200; fails the test if the server exits or never gets there."""
    for _ in range(600):
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            pytest.fail(f"serve exited with {process.returncode}")
        time.sleep(0.1)
    process.kill()
    pytest.fail("serve did not become healthy")
