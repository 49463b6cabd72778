"""``peerconsult serve --workers N``: worker processes that each listen on a socket of their own.

Uvicorn's own ``--workers`` shares one listening socket among the workers, and a worker that
wakes up accepts every connection waiting. Connections that arrive together, as a proxy's pool
or a group of clients opens them, all end up with one worker, which then serves them on its
own while the others idle: with 16 keep-alive clients and 2 workers on 2 cores, one worker did
all the work, 1.48 cores were busy and 16 clients got 1.33 times the throughput of one
(docs/performance.md, "Workers"). Here every worker binds its own socket to the same
address with ``SO_REUSEPORT``, and the kernel spreads new connections over the workers'
sockets (by a hash of the client's address and port): the same 16 clients were served by both
workers, 1.81 cores busy, 1.71 times the throughput of one.

This needs Linux's ``SO_REUSEPORT`` (elsewhere the option does not balance); ``supported``
says whether it is there, and ``peerconsult serve`` runs one worker otherwise. Each worker is
handed the ``Settings`` that ``serve`` built, and builds its application from them (nothing
travels through the environment). The parent process supervises: it starts the workers,
starts a new one when one dies, stops them all on SIGINT or SIGTERM, and gives up when a
worker cannot start (the application's start-up failed, or the address cannot be bound):
restarting it would fail the same way. The
price of sockets of their own: connections a worker had not yet accepted when it died are
reset, where a shared socket would have kept them for the others.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from typing import Any

from service.config import Settings

log = logging.getLogger("peerconsult.workers")

# Uvicorn's exit status for a worker whose application failed to start (uvicorn.config).
STARTUP_FAILURE = 3
# How long a stopping worker may take to finish its requests before it is killed.
STOP_SECONDS = 30


def supported() -> bool:
    """Whether the kernel balances connections over sockets bound with ``SO_REUSEPORT``."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def reserve_port(host: str, port: int) -> int:
    """The port to serve on (a free one for 0), checked to be free: bound once *without*
    ``SO_REUSEPORT``, which fails while any other socket holds the address, even one of another
    ``peerconsult serve`` that would otherwise silently share it."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        bound: int = probe.getsockname()[1]
        return bound


def listening_socket(host: str, port: int) -> socket.socket:
    """A worker's own socket on the shared address (listening starts with the server)."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if supported():
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(settings: Settings, options: dict[str, Any], host: str, port: int) -> None:
    """One worker process: the application of ``settings`` in Uvicorn (``options``), on a
    socket of its own."""
    import uvicorn

    from api.app import create_app

    server = uvicorn.Server(uvicorn.Config(app=create_app(settings), **options))
    try:
        sock = listening_socket(host, port)
    except OSError as error:
        log.error("cannot listen on %s:%d: %s", host, port, error)
        sys.exit(STARTUP_FAILURE)
    server.run(sockets=[sock])


def run(settings: Settings, options: dict[str, Any], *, host: str, port: int, workers: int) -> int:
    """Serve the application of ``settings`` with Uvicorn (``options``: keyword arguments of
    ``uvicorn.Config``) in ``workers`` processes until SIGINT or SIGTERM; returns the exit
    status (0, or STARTUP_FAILURE). Each worker is given the settings, and builds its
    application from them."""
    port = reserve_port(host, port)
    context = multiprocessing.get_context("spawn")
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        # SIGTERM's default would end this process and leave the workers running.
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    # Ctrl-C stops the service even when it was started with SIGINT ignored (a shell's
    # background job inherits that), as Uvicorn's single process does.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    def start() -> BaseProcess:
        process = context.Process(
            target=_worker, args=(settings, options, host, port), daemon=False
        )
        process.start()
        return process

    log.info("serving on %s:%d with %d workers, each on its own socket", host, port, workers)
    processes = [start() for _ in range(workers)]
    try:
        while True:  # until a signal: SIGINT arrives as KeyboardInterrupt, SIGTERM as SystemExit
            wait([process.sentinel for process in processes])
            for index, process in enumerate(processes):
                if process.is_alive():
                    continue
                if process.exitcode == STARTUP_FAILURE:
                    log.error("a worker could not start; stopping")
                    return STARTUP_FAILURE
                log.warning(
                    "worker %s exited with %s; starting another", process.pid, process.exitcode
                )
                _forget_metrics_of(process.pid)
                processes[index] = start()
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(processes)


def _forget_metrics_of(pid: int | None) -> None:
    """A dead worker's gauges leave the sums (its counters stay counted)."""
    if pid is not None and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def _stop(processes: list[BaseProcess]) -> None:
    """Ask every worker to finish (SIGTERM: Uvicorn completes the requests under way), then
    kill those that do not within STOP_SECONDS."""
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(STOP_SECONDS)
        if process.is_alive():
            process.kill()
            process.join()
