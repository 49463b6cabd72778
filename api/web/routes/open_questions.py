"""Offene Fragen: the open questions that fit the member, with why, and offering help; and the
digest's one-click unsubscribe, which needs no session."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import Conn, MailingDep, SettingsDep
from api.web import forms, messages
from api.web.auth import CheckedForm, MemberVisitor
from api.web.rendering import redirect, render
from api.web.route import WebRoute
from models.questions import OpenQuestionMatch
from models.requests import OfferCreate
from service.digests import service as digests_service
from service.errors import DomainError
from service.questions import service as questions_service
from service.requests import service as requests_service

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# The open questions a member is shown on the page at most.
SHOWN = 50


async def _page(
    request: Request,
    conn: Conn,
    visitor: MemberVisitor,
    *,
    only: UUID | None = None,
    message: str = "",
    errors: messages.FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    matches = await questions_service.open_questions(conn, visitor.principal, limit=SHOWN)
    if only is not None:
        matches = [match for match in matches if match.question.id == str(only)]
    return render(
        request,
        "open_questions.html",
        {
            "matches": matches,
            "passages": {match.question.id: _passage(match) for match in matches},
            "only": only,
            "message": message,
            "errors": errors or messages.FormErrors(),
        },
        status_code=status_code,
    )


def _passage(match: OpenQuestionMatch) -> str | None:
    """The member's own sentence that fits the question (their words, not marked up)."""
    return match.reasons.passage


@router.get("/offene-fragen")
async def open_questions(request: Request, conn: Conn, visitor: MemberVisitor) -> Response:
    """The open questions of the last 30 days that fit you, best first."""
    return await _page(request, conn, visitor)


@router.get("/offene-fragen/{question_id:uuid}")
async def open_question(
    question_id: UUID, request: Request, conn: Conn, visitor: MemberVisitor
) -> Response:
    """One open question, as a digest links to it (or why it is not shown any more)."""
    return await _page(request, conn, visitor, only=question_id)


@router.post("/offene-fragen/{question_id:uuid}/anbieten")
async def offer(
    question_id: UUID,
    request: Request,
    conn: Conn,
    settings: SettingsDep,
    mailing: MailingDep,
    visitor: MemberVisitor,
    form: CheckedForm,
) -> Response:
    """Offer help (as POST /v1/questions/{id}/offers); the asker is told by e-mail."""
    message = forms.text(form, "message")
    offered = await forms.submit(
        conn,
        lambda: requests_service.offer(
            conn,
            visitor.principal,
            question_id,
            OfferCreate.model_validate({"message": message.strip() or None}, strict=False),
            expiry_days=settings.request_expiry_days,
            mailing=mailing,
        ),
        field="message",
        refusals=(DomainError,),
    )
    if isinstance(offered, forms.Refused):
        return await _page(
            request,
            conn,
            visitor,
            only=question_id,
            message=message,
            errors=offered.errors,
            status_code=offered.status_code,
        )
    return redirect("/anfragen", notice="angeboten")


@router.get("/zusammenfassung/abbestellen/{token}")
async def confirm_unsubscribe(token: str, request: Request) -> Response:
    """The unsubscribe link opened in a browser: a button (a GET changes nothing, so that mail
    scanners following links unsubscribe nobody)."""
    return render(request, "unsubscribe.html", {"token": token, "done": False})


@router.post("/zusammenfassung/abbestellen/{token}")
async def unsubscribe(token: str, request: Request, conn: Conn) -> Response:
    """One-click unsubscribe (RFC 8058): a mail program's POST, or the button; no session. The
    token unsubscribes its member from digests and does nothing else."""
    if not await digests_service.unsubscribe(conn, token):
        return render(
            request,
            "unsubscribe.html",
            {"token": token, "done": False, "unknown": True},
            status_code=404,
        )
    return render(request, "unsubscribe.html", {"token": token, "done": True})
