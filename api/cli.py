"""The operator's command line: ``peerconsult serve | migrate | import | reindex | export |
evaluate``."""

from __future__ import annotations

import asyncio
import atexit
import copy
import ipaddress
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api import workers as worker_processes
from service import db
from service.config import Settings
from service.embedding import Embedder, cpu_count, load_embedder, model_name
from service.notifications.mailing import Mailing

app = typer.Typer(
    help="peerconsult: peer consultation matching for municipal participation officers.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            console.print(f"[red]configuration error:[/red] {message}", soft_wrap=True)
        raise typer.Exit(2) from None


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _database_url(settings: Settings) -> str:
    return db.resolve_database_url(settings.database_url, settings.data_dir)


async def _with_pool(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    url = _database_url(settings)
    await db.migrate_async(url)
    pool = await db.create_pool(url, max_size=4)
    try:
        return await work(pool)
    finally:
        await pool.close()


def _load_model(settings: Settings) -> Embedder:
    with console.status(f"loading the embedding model {settings.embedding_model} …"):
        return load_embedder(settings.embedding_model)


def _exit_on_sigterm() -> None:
    """Leave through the normal exit path on SIGTERM (kill, a service manager, a CI timeout), as
    on Ctrl-C, so the embedded PostgreSQL this process started is stopped (and a scratch
    server deleted): the default action ends the process without running exit handlers."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


@app.command()
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
    import uvicorn

    count = _worker_count(workers)

    # The service's own lines; the embedded server, the migrations and Uvicorn speak only when
    # something is wrong.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in SERVICE_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    settings = _settings()
    if settings.metrics_token is not None:
        _share_metrics_between_workers()
    if settings.public_url is None:
        os.environ["PEERCONSULT_PUBLIC_URL"] = _address(host, port)
        settings = _settings()
    public_url = settings.public_url or _address(host, port)
    url = _database_url(settings)
    db.migrate(url)
    if settings.admin_token is None and demo:
        # A demo needs a coordinator; this token lives only as long as this process.
        os.environ["PEERCONSULT_ADMIN_TOKEN"] = secrets.token_urlsafe(24)
        settings = _settings()
    demo_lines = _run(_load_demo(settings, url)) if demo else []
    # Workers reach the database (embedded or not) through this URL; migrations are done.
    os.environ["DATABASE_URL"] = url
    os.environ["PEERCONSULT_MIGRATE_ON_START"] = "0"
    if settings.embedding_threads is None:
        os.environ["PEERCONSULT_EMBEDDING_THREADS"] = str(max(1, cpu_count() // count))
    # Worker processes configure logging from this, so the service's own loggers (the access
    # log among them) print there too.
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    # Uvicorn shuts down gracefully on SIGTERM, then raises it again with the handler it found.
    _exit_on_sigterm()
    for name in SERVICE_LOGGERS:
        log_config["loggers"][name] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    config: dict[str, Any] = {
        "app": "api.app:create_app",
        "factory": True,
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
        f"peerconsult ({count} worker{'s' if count > 1 else ''}; each says its memory when "
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
    if count > 1 and worker_processes.supported():
        # Each worker on a socket of its own, so connections spread over all of them.
        try:
            status = worker_processes.run(config, host=host, port=port, workers=count)
        except OSError as error:  # the address is taken, or not this machine's
            console.print(f"[red]Cannot listen on {host}:{port}: {error.strerror}[/red]")
            raise typer.Exit(1) from None
        raise typer.Exit(status)
    uvicorn.run(**config, workers=count)


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

    embedder = _load_model(settings)
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


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (and build indexes an interrupted import left
    unbuilt)."""
    from service.members import bulk

    settings = _settings()

    async def work(pool: Any) -> list[str]:
        async with pool.acquire() as conn:
            return await bulk.restore_indexes(conn)

    built = _run(_with_pool(settings, work))
    if built:
        console.print(f"Built the indexes an interrupted import had set aside: {', '.join(built)}.")
    console.print("The database schema is up to date.")


@app.command("import")
def import_members(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON or CSV file")],
    batch_size: Annotated[int, typer.Option(min=1, max=1024)] = 64,
    welcome: Annotated[
        bool,
        typer.Option(
            "--welcome",
            help="E-mail every member the import creates a welcome with a sign-in link",
        ),
    ] = False,
) -> None:
    """Import members from a JSON list (the schema of members.json) or a CSV file (, or ;
    between cells, English or German column names). A re-import changes only what the file
    changed since the last import, never what members changed themselves, and never brings
    back a member who erased their account."""
    from service.identity import links
    from service.members import import_file, importer
    from service.members.import_merge import ImportReport

    settings = _settings()
    mailing = _welcome_mailing(settings) if welcome else None
    try:
        members = import_file.read(file.name, file.read_bytes()).rows
    except import_file.ImportFileError as exc:
        console.print(f"[red]Nothing was imported:[/red]\n{exc}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    embedder = _load_model(settings)

    async def work(pool: Any) -> tuple[ImportReport, tuple[int, int]]:
        with _progress() as progress:
            task = progress.add_task("importing members", total=len(members))
            report = await importer.import_members(
                pool,
                embedder,
                members,
                batch_size=batch_size,
                progress=lambda n: progress.advance(task, n),
            )
        welcomes = (
            await links.send_welcomes(pool, mailing, report.created_ids)
            if mailing is not None
            else (0, 0)
        )
        return report, welcomes

    report, (welcomed, without_email) = _run(_with_pool(settings, work))
    built = (
        f" The vector index was built in {report.index_build_s:.1f} s."
        if report.index_build_s
        else ""
    )
    console.print(
        f"Imported {len(members)} rows ({report.summary()}; {report.passages} passages).{built}"
    )
    for row in report.erased:
        console.print(
            f"  row {row.row} ({row.name}): belongs to an account that was erased; skipped",
            markup=False,
        )
    for row in report.conflicts:
        kept = ", ".join(row.conflicts)
        refused = ", ".join(row.refused)
        console.print(
            f"  row {row.row} ({row.name}): "
            + (f"kept the member's own {kept} (changed since the last import)" if kept else "")
            + ("; " if kept and refused else "")
            + (f"not changed: {refused} (another member has that address)" if refused else ""),
            markup=False,
        )
    if mailing is None:
        console.print(
            "Members sign in with a link they ask for on the sign-in page, or welcome them: "
            "import --welcome, POST /v1/members/{id}/welcome or the button on their page."
        )
        return
    console.print(
        f"Welcome e-mails with a sign-in link (valid 7 days) are waiting in the outbox for "
        f"{welcomed} new member{'s' if welcomed != 1 else ''}; the running service sends them."
        + (
            f" {without_email} new member{'s have' if without_email != 1 else ' has'} no "
            "e-mail address."
            if without_email
            else ""
        )
    )


def _welcome_mailing(settings: Settings) -> Mailing:
    """Where welcome links lead; welcomes need e-mail and the address members open."""
    missing = [
        name
        for name, value in (
            ("PEERCONSULT_SMTP_URL", settings.smtp_url),
            ("PEERCONSULT_PUBLIC_URL", settings.public_url),
        )
        if value is None
    ]
    if missing:
        console.print(
            f"[red]Nothing was imported:[/red] --welcome needs {' and '.join(missing)}, set as "
            "for the running service (the links in welcome e-mails lead to the public address)."
        )
        raise typer.Exit(2)
    assert settings.public_url is not None
    return Mailing(public_url=settings.public_url)


@app.command()
def backup(
    file: Annotated[Path, typer.Argument(dir_okay=False, help="Where to write the backup")],
) -> None:
    """Write a consistent backup of the whole network while the service runs (pg_dump,
    custom format)."""
    from service import backup as backups

    settings = _settings()
    url = _database_url(settings)
    try:
        held = _run(backups.backup(url, file))
    except backups.BackupError as error:
        console.print(f"[red]No backup was written:[/red] {error}", soft_wrap=True)
        raise typer.Exit(1) from None
    size = file.stat().st_size / 2**20
    what = (
        f"{held.members} members, {held.questions} questions, {held.requests} requests"
        if held is not None
        else "no members yet"
    )
    console.print(f"Backed up the network ({what}) to {file} ({size:.1f} MB).", soft_wrap=True)


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A backup file")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite the network this database holds")
    ] = False,
) -> None:
    """Restore a backup into an installation that holds no network yet (or, with --replace,
    over the one it holds); stop the service first."""
    from service import backup as backups

    settings = _settings()
    url = _database_url(settings)
    try:
        restored = _run(backups.restore(url, file, replace=replace))
    except backups.BackupError as error:
        console.print(f"[red]Nothing was restored:[/red] {error}", soft_wrap=True)
        raise typer.Exit(1) from None
    console.print(
        f"Restored {restored.members} members, {restored.questions} questions and "
        f"{restored.requests} requests from {file}.",
        soft_wrap=True,
    )
    configured = model_name(settings.embedding_model)
    other = [model for model in restored.models if model != configured]
    if other:
        console.print(
            f"[yellow]The backup's profiles were embedded with {', '.join(other)}; this "
            f"installation uses {configured}. Run `peerconsult reindex` before starting the "
            "service.[/yellow]",
            soft_wrap=True,
        )


@app.command()
def reindex(batch_size: Annotated[int, typer.Option(min=1, max=1024)] = 64) -> None:
    """Re-embed every member's expertise with the configured model."""
    from service.members import importer
    from service.members import repository as members_repository

    settings = _settings()
    embedder = _load_model(settings)

    async def work(pool: Any) -> int:
        async with pool.acquire() as conn:
            total = await members_repository.member_count(conn)
        with _progress() as progress:
            task = progress.add_task(f"re-embedding with {embedder.name}", total=total)
            return await importer.reindex(
                pool, embedder, batch_size=batch_size, progress=lambda n: progress.advance(task, n)
            )

    passages = _run(_with_pool(settings, work))
    console.print(f"Re-embedded {passages} passages with {embedder.name}.")


@app.command()
def export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout)")
    ] = None,
) -> None:
    """Export the network as JSON in the import schema (includes e-mail addresses)."""
    from service.members import repository as members_repository

    settings = _settings()

    async def work(pool: Any) -> list[dict[str, Any]]:
        async with pool.acquire() as conn:
            return await members_repository.export_members(conn)

    members = _run(_with_pool(settings, work))
    text = json.dumps(members, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"Wrote {len(members)} members to {output}.")


@app.command()
def evaluate(
    dataset_dir: Annotated[
        Path, typer.Argument(exists=True, file_okay=False, help="members/questions/qrels.json")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
    worst: Annotated[int, typer.Option(min=0, help="How many worst questions to show")] = 5,
    model: Annotated[
        str | None, typer.Option(help="Embedding model (default: PEERCONSULT_EMBEDDING_MODEL)")
    ] = None,
    within: Annotated[
        int,
        typer.Option(
            min=0,
            max=1_000_000,
            help="Evaluate inside a synthetic network of this many members (as at scale)",
        ),
    ] = 0,
) -> None:
    """nDCG@5, Recall@10 (grade >= 2) and MRR of the service's answers on a judged set."""
    from api.evaluation import evaluate_over_http
    from service.evaluation.dataset import DatasetError, load_dataset

    settings = _settings()
    try:
        dataset = load_dataset(dataset_dir)
    except DatasetError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    if model is not None:
        settings = settings.model_copy(update={"embedding_model": model})
    embedder = _load_model(settings)

    async def work() -> Any:
        with _progress() as progress:
            task = progress.add_task(
                "members and questions",
                total=within + len(dataset.members) + len(dataset.questions),
            )
            return await evaluate_over_http(
                dataset,
                embedder,
                database_url=settings.database_url,
                within=within,
                progress=lambda n: progress.advance(task, n),
            )

    report = _run(work())
    if as_json:
        payload = {
            **report.summary(),
            "model": embedder.name,
            "within": within,
            "worst": [
                {
                    "question_id": result.question_id,
                    "title": result.title,
                    "ndcg@5": result.ndcg_at_5,
                    "recall@10": result.recall_at_10,
                    "reciprocal_rank": result.reciprocal_rank,
                    "top5": [
                        {"member_id": member_id, "grade": result.grades.get(member_id, 0)}
                        for member_id in result.ranked[:5]
                    ],
                    "missed": list(result.missed),
                }
                for result in report.worst(worst)
            ],
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    else:
        network = f"within      {within} synthetic members\n" if within else ""
        sys.stdout.write(f"model       {embedder.name}\n{network}{report.format(worst)}\n")


@app.command()
def bench(
    members: Annotated[
        list[int] | None, typer.Option("--members", help="Network sizes (repeatable)")
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Also 100,000 members")] = False,
    requests: Annotated[int, typer.Option(min=20, help="Questions per measurement")] = 200,
    workers: Annotated[
        str, typer.Option(help="Server worker processes: a number, or auto (as serve)")
    ] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Latency, throughput, import speed and index recall on synthetic networks, each as a
    ratio against a baseline measured in the same run."""
    from service.bench import runner

    _exit_on_sigterm()
    settings = _settings()
    sizes = members or [1000, 10000]
    if full and 100_000 not in sizes:
        sizes.append(100_000)
    embedder = _load_model(settings)
    measured = _run(
        runner.run(
            sizes,
            embedder=embedder,
            model=settings.embedding_model,
            database_url=settings.database_url,
            requests=requests,
            workers=workers,
            say=lambda message: console.print(f"[dim]{message}[/dim]"),
            # Each size as soon as it is measured (a long run's earlier sizes are not lost).
            measured=lambda result: console.print(
                f"[dim]{json.dumps(runner.as_dict(result))}[/dim]"
            ),
        )
    )
    results = [runner.as_dict(result) for result in measured]
    if as_json:
        sys.stdout.write(json.dumps(results, indent=2) + "\n")
        return
    from rich.table import Table

    table = Table(title="peerconsult bench (ratios are measured in the same run)")
    table.add_column("metric")
    for result in results:
        table.add_column(f"{result['members']:,} members", justify="right")
    # Every metric any size reported, in order (a stage may be missing from a size).
    for key in dict.fromkeys(key for result in results for key in result):
        if key != "members":
            table.add_row(key, *("" if key not in result
                                 else f"{result[key]:,.3f}" if isinstance(result[key], float)
                                 else f"{result[key]:,}" for result in results))  # fmt: skip
    Console().print(table)


if __name__ == "__main__":
    app()
