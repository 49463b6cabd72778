"""The network's data: ``migrate``, ``import``, ``export``, ``reindex``, ``backup``,
``restore``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli.common import (
    console,
    database_url,
    load_model,
    progress_bar,
    read_settings,
    run,
    with_pool,
)
from service.config import Settings
from service.embedding import model_name
from service.members import import_repository
from service.notifications.mailing import Mailing


def migrate() -> None:
    """Bring the database schema up to date (and build indexes an interrupted import left
    unbuilt)."""
    from service.members import bulk

    settings = read_settings()

    async def work(pool: Any) -> list[str]:
        async with pool.acquire() as conn:
            return await bulk.restore_indexes(conn)

    built = run(with_pool(settings, work))
    if built:
        console.print(f"Built the indexes an interrupted import had set aside: {', '.join(built)}.")
    console.print("The database schema is up to date.")


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

    settings = read_settings()
    mailing = _welcome_mailing(settings) if welcome else None
    try:
        members = import_file.read(file.name, file.read_bytes()).rows
    except import_file.ImportFileError as exc:
        console.print(f"[red]Nothing was imported:[/red]\n{exc}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    embedder = load_model(settings)

    async def work(pool: Any) -> tuple[ImportReport, tuple[int, int]]:
        with progress_bar() as progress:
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

    report, (welcomed, without_email) = run(with_pool(settings, work))
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


def export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout)")
    ] = None,
) -> None:
    """Export the network as JSON in the import schema (includes e-mail addresses)."""

    settings = read_settings()

    async def work(pool: Any) -> list[import_repository.ExportedMember]:
        async with pool.acquire() as conn:
            return await import_repository.export_members(conn)

    members = run(with_pool(settings, work))
    text = json.dumps(members, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"Wrote {len(members)} members to {output}.")


def reindex(batch_size: Annotated[int, typer.Option(min=1, max=1024)] = 64) -> None:
    """Re-embed every member's expertise and every shared outcome with the configured model."""
    from service.members import importer
    from service.members import repository as members_repository
    from service.outcomes import service as outcomes_service

    settings = read_settings()
    embedder = load_model(settings)

    async def work(pool: Any) -> tuple[int, int]:
        async with pool.acquire() as conn:
            total = await members_repository.member_count(conn)
        with progress_bar() as progress:
            task = progress.add_task(f"re-embedding with {embedder.name}", total=total)
            passages = await importer.reindex(
                pool, embedder, batch_size=batch_size, progress=lambda n: progress.advance(task, n)
            )
        async with pool.acquire() as conn, conn.transaction():
            outcomes = await outcomes_service.reembed(conn, embedder, batch_size=batch_size)
        return passages, outcomes

    passages, outcomes = run(with_pool(settings, work))
    console.print(
        f"Re-embedded {passages} passages and {outcomes} shared outcomes with {embedder.name}."
    )


def backup(
    file: Annotated[Path, typer.Argument(dir_okay=False, help="Where to write the backup")],
) -> None:
    """Write a consistent backup of the whole network while the service runs (pg_dump,
    custom format)."""
    from service import backup as backups

    settings = read_settings()
    url = database_url(settings)
    try:
        held = run(backups.backup(url, file))
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


def restore(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A backup file")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite the network this database holds")
    ] = False,
) -> None:
    """Restore a backup into an installation that holds no network yet (or, with --replace,
    over the one it holds); stop the service first."""
    from service import backup as backups

    settings = read_settings()
    url = database_url(settings)
    try:
        restored = run(backups.restore(url, file, replace=replace))
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
