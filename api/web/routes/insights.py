"""Koordination › Einblicke: the gaps first, then request flow, load and reach; every chart
with its table, and every table as CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import Conn, EmbedderDep, MailingDep, Sending
from api.web import forms, messages
from api.web.auth import CheckedForm, CoordinatorVisitor
from api.web.rendering import redirect, render
from api.web.route import WebRoute
from models.insights import GapContactRequest, Insights
from service.errors import NotFound
from service.insights import service as insights_service
from service.local_time import local

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# The request states in the order a request goes through them.
STATES = ("pending", "accepted", "declined", "withdrawn", "expired")


def _day(raw: str | None) -> date | None:
    """A date typed into the period's fields; None for none, one that is not a date, and one
    at the very ends of the calendar (the day after it, which ends the period, must exist)."""
    try:
        day = date.fromisoformat(raw) if raw else None
    except ValueError:
        return None
    return day if day is not None and date.min < day < date.max else None


def _period(request: Request) -> tuple[date | None, date | None]:
    """The period chosen on the page (dates, the second inclusive); unreadable dates count
    as not chosen."""
    return _day(request.query_params.get("von")), _day(request.query_params.get("bis"))


def period_text(since: date | None, until: date | None) -> str:
    """The period in words, as the page states it."""
    if since and until:
        return f"vom {since:%d.%m.%Y} bis einschließlich {until:%d.%m.%Y}"
    if since:
        return f"seit dem {since:%d.%m.%Y}"
    if until:
        return f"alles bis einschließlich {until:%d.%m.%Y}"
    return "alles seit Beginn des Netzwerks bei peerconsult"


async def _computed(
    request: Request, conn: Conn, embedder: EmbedderDep, visitor: CoordinatorVisitor
) -> tuple[Insights, dict[str, str]]:
    """The insights of the period chosen on the page, and the titles of the gaps' questions."""
    since, until = _period(request)
    insights = await insights_service.insights(
        conn,
        embedder,
        visitor.principal,
        since=datetime.combine(since, time(), UTC) if since else None,
        # The last day chosen counts whole.
        until=datetime.combine(until + timedelta(days=1), time(), UTC) if until else None,
    )
    gap_questions = [qid for gap in insights.gaps for qid in gap.question_ids] + [
        qid for gap in insights.closed_gaps for qid in gap.question_ids
    ]
    titles = await insights_service.question_titles(conn, visitor.principal, gap_questions)
    return insights, titles


# The page's tables, each also a CSV download.
TABLES = ("luecken", "geschlossen", "themen", "anfragen", "auslastung", "bundeslaender", "kommunen")


def tables(
    insights: Insights, titles: dict[str, str]
) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Every table of the page: name → (header, rows); the page and the CSV downloads."""
    flow = insights.requests
    reach = insights.members
    return {
        "luecken": (
            [
                "Thema",
                "Fragen",
                "Beste Übereinstimmung (%)",
                "Fragen (Titel)",
                "Am nächsten",
                "Angeschrieben",
                "Fragen mit geteiltem Ergebnis",
            ],
            [
                [
                    gap.label,
                    gap.questions,
                    "" if gap.best_score is None else round(gap.best_score * 100),
                    "; ".join(titles.get(qid, "") for qid in gap.question_ids),
                    "; ".join(f"{m.name} ({m.municipality.name})" for m in gap.closest),
                    "; ".join(
                        f"{c.member.name} ({local(c.contacted_at):%d.%m.%Y})" for c in gap.contacted
                    ),
                    gap.shared_outcomes,
                ]
                for gap in insights.gaps
            ],
        ),
        "geschlossen": (
            ["Thema", "Fragen", "Fragen (Titel)", "Passt jetzt"],
            [
                [
                    gap.label,
                    gap.questions,
                    "; ".join(titles.get(qid, "") for qid in gap.question_ids),
                    "; ".join(f"{m.name} ({m.municipality.name})" for m in gap.covered_by),
                ]
                for gap in insights.closed_gaps
            ],
        ),
        "themen": (
            ["Thema", "Fragen", "davon mit geteiltem Ergebnis", "Mitglieder", "davon erreichbar"],
            [[t.topic, t.questions, t.outcomes, t.members, t.accepting] for t in insights.topics],
        ),
        "anfragen": (
            ["Stand", "Anfragen"],
            [[messages.STATUS_LABELS[key], getattr(flow, key)] for key in STATES],
        ),
        "auslastung": (
            ["Mitglieder", "Anzahl"],
            [
                ["nehmen Anfragen an", reach.accepting],
                ["pausieren", reach.paused],
                ["ausgelastet", reach.at_capacity],
                ["nie angemeldet", reach.never_signed_in],
                ["Profil seit 12 Monaten unverändert", reach.stale],
            ],
        ),
        "bundeslaender": (
            ["Bundesland", "Mitglieder"],
            [[row.state, row.members] for row in reach.by_state],
        ),
        "kommunen": (
            ["Art der Kommune", "Mitglieder"],
            [[row.kind or "keine Angabe", row.members] for row in reach.by_kind],
        ),
    }


@router.get("/koordination/einblicke")
async def insights_page(
    request: Request,
    conn: Conn,
    embedder: EmbedderDep,
    visitor: CoordinatorVisitor,
    mailing: MailingDep,
) -> Response:
    insights, titles = await _computed(request, conn, embedder, visitor)
    since, until = _period(request)
    query = request.url.query
    return render(
        request,
        "insights.html",
        {
            "insights": insights,
            "titles": titles,
            "tables": tables(insights, titles),
            "since": since,
            "until": until,
            "period": period_text(since, until),
            "query": f"?{query}" if query else "",
            "sends_mail": mailing is not None,
        },
    )


@router.post("/koordination/einblicke/luecken/anschreiben")
async def contact_closest(
    conn: Conn, visitor: CoordinatorVisitor, form: CheckedForm, sending: Sending
) -> Response:
    """Write to the colleagues chosen at a gap (as POST /v1/insights/gaps/contacts)."""
    chosen = forms.texts(form, "member_id")
    if not chosen:
        return redirect("/koordination/einblicke", notice="niemand-gewaehlt")
    await insights_service.contact_closest(
        conn,
        sending,
        visitor.principal,
        GapContactRequest.model_validate(
            {
                "question_ids": forms.texts(form, "question_id"),
                "member_ids": chosen,
                "message": forms.text(form, "nachricht").strip() or None,
            },
            strict=False,
        ),
    )
    return redirect("/koordination/einblicke", notice="angeschrieben")


# What a spreadsheet runs as a formula when a cell starts with it (OWASP, "CSV Injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> Any:
    """A cell as a spreadsheet in Germany reads it, and never runs it: text that would start
    a formula gets a leading apostrophe, which marks a cell as text (members' tags and titles
    end up here); a fraction has a decimal comma. Whole numbers stay as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    if isinstance(value, float):
        return f"{value:.2f}".replace(".", ",")
    return value


@router.get("/koordination/einblicke/{name}.csv")
async def insights_csv(
    name: str, request: Request, conn: Conn, embedder: EmbedderDep, visitor: CoordinatorVisitor
) -> Response:
    """One table of the page as CSV (UTF-8 with BOM and semicolons, as spreadsheets in
    Germany open it)."""
    if name not in TABLES:
        raise NotFound(f"No table {name}.")
    insights, titles = await _computed(request, conn, embedder, visitor)
    header, rows = tables(insights, titles)[name]
    since, until = _period(request)
    span = "".join(
        f"-{part}-{day.isoformat()}" for part, day in (("von", since), ("bis", until)) if day
    )
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([spreadsheet_cell(cell) for cell in header])
    writer.writerows([spreadsheet_cell(cell) for cell in row] for row in rows)
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="einblicke-{name}{span}.csv"'},
    )
