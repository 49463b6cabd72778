"""Koordination › Mitglieder importieren: a spreadsheet (CSV with , or ;, German or English
column names) or a JSON list; a preview of what the import would do (new members, changes,
members' own changes kept, erased accounts skipped) before anything is written; then the
import, with the welcome e-mail for the new members if wanted."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from api.deps import Conn, EmbedderDep, MailingDep
from api.web import forms, import_messages
from api.web.auth import CheckedForm, CoordinatorVisitor
from api.web.rendering import render
from api.web.route import WebRoute
from service.identity import links
from service.members import import_file, import_repository, importer
from service.members.import_merge import ImportReport

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# The columns the page lists: the German name, the English one, and what goes in it.
COLUMN_HELP = (
    ("name", "Vor- und Nachname", True),
    ("email", "für Anmeldelinks und Nachrichten; erkennt ein Mitglied wieder", False),
    ("municipality", "die Kommune", True),
    ("state", "Bundesland ausgeschrieben oder abgekürzt (RLP, NRW), in Österreich und der "
     "Schweiz Bundesland oder Kanton", True),
    ("municipality_type", "Großstadt, Mittelstadt, Kleinstadt, Gemeinde oder Landkreis", False),
    ("role", "die Funktion in der Verwaltung", False),
    ("expertise", "Erfahrung und Expertise, gern ausführlich", True),
    ("tags", "Schlagworte, durch ; oder , getrennt", False),
    ("languages", "Sprachkürzel wie de, en; ohne Angabe de", False),
    ("id", "eine eigene Kennung; erkennt ein Mitglied wieder, auch bei neuer Adresse", False),
)  # fmt: skip


def _page(
    request: Request,
    *,
    mailing: bool,
    problems: list[str] | None = None,
    report: ImportReport | None = None,
    ignored: list[str] | None = None,
    import_id: UUID | None = None,
    file_name: str = "",
    done: bool = False,
    welcomed: int = 0,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "import.html",
        {
            "mailing": mailing,
            "problems": problems or [],
            "report": report,
            "ignored": ignored or [],
            "import_id": import_id,
            "file_name": file_name,
            "done": done,
            "welcomed": welcomed,
            "columns": [
                (import_file.GERMAN_COLUMNS[column], column, text, required)
                for column, text, required in COLUMN_HELP
            ],
            "labels": import_messages.IMPORT_FIELD_LABELS,
        },
        status_code=status_code,
    )


@router.get("/koordination/import")
async def import_form(
    request: Request, mailing: MailingDep, visitor: CoordinatorVisitor
) -> Response:
    """The upload form, with the columns a file may have."""
    return _page(request, mailing=mailing is not None)


@router.post("/koordination/import")
async def preview(
    request: Request,
    conn: Conn,
    mailing: MailingDep,
    visitor: CoordinatorVisitor,
    form: CheckedForm,
) -> Response:
    """Read the file and say what importing it would do; nothing is written yet."""
    upload = form.get("datei")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(
            request,
            mailing=mailing is not None,
            problems=["Bitte wählen Sie eine Datei aus (CSV oder JSON)."],
            status_code=422,
        )
    content = await upload.read()
    try:
        read = import_file.read(upload.filename, content)
    except import_file.ImportFileError as exc:
        return _page(
            request,
            mailing=mailing is not None,
            problems=[import_messages.import_problem(problem) for problem in exc.problems],
            file_name=upload.filename,
            status_code=422,
        )
    report = await importer.plan(conn, read.rows)
    import_id = await import_repository.keep_pending_import(
        conn, file_name=upload.filename, content=content
    )
    return _page(
        request,
        mailing=mailing is not None,
        report=report,
        ignored=read.ignored_columns,
        import_id=import_id,
        file_name=upload.filename,
    )


@router.post("/koordination/import/{import_id:uuid}")
async def run_import(
    import_id: UUID,
    request: Request,
    conn: Conn,
    embedder: EmbedderDep,
    mailing: MailingDep,
    visitor: CoordinatorVisitor,
    form: CheckedForm,
) -> Response:
    """Import the file of the preview; welcome the new members if wanted."""
    pending = await import_repository.pending_import(conn, import_id)
    if pending is None:
        return _page(
            request,
            mailing=mailing is not None,
            problems=[
                "Diese Vorschau ist abgelaufen (sie gilt einen Tag) oder schon importiert. "
                "Bitte laden Sie die Datei erneut hoch."
            ],
            status_code=410,
        )
    file_name, content = pending
    read = import_file.read(file_name, content)
    pool = request.app.state.pool
    report = await importer.import_members(pool, embedder, read.rows)
    await import_repository.drop_pending_import(conn, import_id)
    welcomed = 0
    if mailing is not None and forms.checkbox(form, "welcome") and report.created_ids:
        welcomed, _ = await links.send_welcomes(pool, mailing, report.created_ids)
    return _page(
        request,
        mailing=mailing is not None,
        report=report,
        file_name=file_name,
        done=True,
        welcomed=welcomed,
    )
