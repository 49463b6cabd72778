"""``peerconsult serve``: the web interface and the API, with one worker per core."""

from __future__ import annotations

import atexit
import copy
import ipaddress
import logging
import os
import secrets
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import SecretStr

from api.cli import workers as worker_processes
from api.cli.common import console, database_url, exit_on_sigterm, load_model, read_settings, run
from service import db
from service.config import Settings
from service.embedding import cpu_count


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[
        str, typer.Option(help="Worker processes: a number, or auto (one per core)")
    ] = "auto",
    demo: Annotated[
        bool, typer.Option("--demo", help="Load the demo network into an empty database")
    ] = False,
) -> None:
    """Run the web interface and the HTTP API (migrating the database first)."""
    count = _worker_count(workers)
    _log_the_service_only()
    configured = read_settings()
    if configured.metrics_token is not None:
        _share_metrics_between_workers()
    url = database_url(configured)
    db.migrate(url)
    settings = _worker_settings(configured, url=url, host=host, port=port, workers=count, demo=demo)
    demo_lines = run(_load_demo(settings, url)) if demo else []
    # Uvicorn shuts down gracefully on SIGTERM, then raises it again with the handler it found.
    exit_on_sigterm()
    _say_where(settings, host=host, port=port, workers=count, demo_lines=demo_lines)
    options = _uvicorn_options(host, port)
    if count > 1 and not worker_processes.supported():
        console.print(
            "[yellow]One worker: several need Linux's SO_REUSEPORT to share the work.[/yellow]"
        )
        count = 1
    try:
        status = worker_processes.run(settings, options, host=host, port=port, workers=count)
    except OSError as error:  # the address is taken, or not this machine's
        console.print(f"[red]Cannot listen on {host}:{port}: {error.strerror}[/red]")
        raise typer.Exit(1) from None
    raise typer.Exit(status)


def _worker_settings(
    configured: Settings, *, url: str, host: str, port: int, workers: int, demo: bool
) -> Settings:
    """The one ``Settings`` every worker gets: the database this process resolved and
    migrated, the address members open (this one, unless configured), a coordinator's token
    for a demo, each worker's share of the cores."""
    changes: dict[str, Any] = {"database_url": url, "migrate_on_start": False}
    if configured.public_url is None:
        changes["public_url"] = _address(host, port)
    if configured.admin_token is None and demo:
        # A demo needs a coordinator; this token lives only as long as this process.
        changes["admin_token"] = SecretStr(secrets.token_urlsafe(24))
    if configured.embedding_threads is None:
        changes["embedding_threads"] = max(1, cpu_count() // workers)
    return configured.model_copy(update=changes)


def _log_the_service_only() -> None:
    """The service's own lines; the embedded server, the migrations and Uvicorn speak only
    when something is wrong."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in SERVICE_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)


def _uvicorn_options(host: str, port: int) -> dict[str, Any]:
    """How each worker's Uvicorn runs (``uvicorn.Config`` keyword arguments but the app)."""
    import uvicorn

    # Worker processes configure logging from this, so the service's own loggers (the access
    # log among them) print there too.
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    for name in SERVICE_LOGGERS:
        log_config["loggers"][name] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return {
        "host": host,
        "port": port,
        "log_level": "warning",
        "log_config": log_config,
        # Uvicorn's access log records client addresses and concrete paths (personal data);
        # api.access_log records route templates instead.
        "access_log": False,
        # The application believes the proxies of PEERCONSULT_TRUSTED_PROXIES itself
        # (api.middleware.ForwardedBy), and says when an untrusted one sends their headers.
        "proxy_headers": False,
    }


def _say_where(
    settings: Settings, *, host: str, port: int, workers: int, demo_lines: list[str]
) -> None:
    """A few lines: a warning where it is due, the demo's tokens, where the service answers,
    and how to sign in."""
    public_url = settings.public_url or _address(host, port)
    if not _is_loopback(host) and not public_url.startswith("https://"):
        console.print(
            f"[yellow]Warning: serving plain http on {host}:{port}: traffic, access tokens and "
            "sign-in links cross the network unencrypted. Put a reverse proxy with TLS in "
            "front (README: Intranet and TLS) and set PEERCONSULT_PUBLIC_URL=https://… "
            "and PEERCONSULT_TRUSTED_PROXIES.[/yellow]"
        )
    elif settings.admin_token is None:
        console.print(
            "[yellow]PEERCONSULT_ADMIN_TOKEN is not set: coordinator routes answer 401.[/yellow]"
        )
    for line in demo_lines:
        console.print(line, soft_wrap=True)
    console.print(
        f"peerconsult ({workers} worker{'s' if workers > 1 else ''}; each says its memory when "
        f"ready), API documentation at "
        f"{public_url}/docs. The web interface: [bold]{public_url}/[/bold]"
    )
    if demo_lines:
        console.print("Sign in there with a token above.")
    elif settings.smtp_url is not None:
        console.print(
            "Members sign in there with a link by e-mail or their access token; the "
            "coordinator with PEERCONSULT_ADMIN_TOKEN."
        )
    else:
        console.print(
            "Sign in there with an access token (the coordinator's: PEERCONSULT_ADMIN_TOKEN). "
            "With PEERCONSULT_SMTP_URL set, members can ask for a sign-in link by e-mail."
        )


def _share_metrics_between_workers() -> None:
    """Every worker writes its metrics to one directory, so that a scrape adds them up
    (prometheus-client's multiprocess mode). Set before the metrics are first imported, here
    and in the workers, which inherit it. The operator's own PROMETHEUS_MULTIPROC_DIR is
    emptied of an earlier run's files; otherwise a fresh one is made and removed at exit."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        return
    made = tempfile.mkdtemp(prefix="peerconsult-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = made
    atexit.register(shutil.rmtree, made, ignore_errors=True)


def _worker_count(workers: str) -> int:
    """``--workers``: a number from 1 to 64, or ``auto``, one per core this process may use."""
    if workers == "auto":
        return cpu_count()
    if workers.isdigit() and 1 <= int(workers) <= 64:
        return int(workers)
    console.print(f"[red]--workers takes a number from 1 to 64, or auto; not {workers!r}.[/red]")
    raise typer.Exit(2)


# The loggers whose INFO lines an operator sees: the service's own.
SERVICE_LOGGERS = ("peerconsult", "service", "api")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _address(host: str, port: int) -> str:
    """The address ``serve`` listens on, as a browser opens it."""
    if host in ("0.0.0.0", "::", ""):
        host = socket.getfqdn()
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


async def _load_demo(settings: Settings, url: str) -> list[str]:
    """Load the demo network into an empty database; what to tell the person who started it."""
    from service import demo

    embedder = load_model(settings)
    pool = await db.create_pool(url, max_size=2)
    try:
        loaded = await demo.load_if_empty(pool, embedder)
        member = await demo.demo_member(pool)
    finally:
        await pool.close()
    assert settings.admin_token is not None
    lines = [f"Demo network loaded: {loaded} members."] if loaded else []
    lines.append(f"Coordinator token: {settings.admin_token.get_secret_value()}")
    if member is not None:
        lines.append(
            f"Demo member ({member.name}, {member.municipality}), sign in with: {member.token}"
        )
    return lines
