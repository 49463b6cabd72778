"""Frage stellen: ask, see the suggested colleagues with their reasons, invite some."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from api.deps import Conn, EmbedderDep, MailingDep, SettingsDep, get_replica
from api.web import forms, messages
from api.web.auth import (
    CheckedForm,
    EndedSession,
    MemberVisitor,
    SignInRequired,
    Visitor,
    checked_form,
    current_cookie,
    member_visitor,
    signed_in,
)
from api.web.highlight import highlight
from api.web.rendering import redirect, render
from api.web.route import WebRoute
from models.questions import Fit, Question, QuestionCreate, QuestionDraft, QuestionUpdate
from models.requests import Direction, RequestCreate
from service import identity
from service.errors import DomainError
from service.members import service as members_service
from service.outcomes import service as outcomes_service
from service.questions import service as questions_service
from service.requests import service as requests_service

router = APIRouter(route_class=WebRoute, include_in_schema=False)

QUESTION_TAG_FIELDS = 3
DRAFT_RESTORED = (
    "Ihre Frage ist wiederhergestellt, so wie Sie sie geschrieben hatten. Prüfen Sie sie und "
    "senden Sie sie ab."
)


async def _ask_page(
    request: Request,
    conn: Conn,
    visitor: Visitor[identity.MemberPrincipal],
    *,
    values: dict[str, Any] | None = None,
    errors: messages.FormErrors | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    asked = await questions_service.own_questions(conn, visitor.principal)
    return render(
        request,
        "ask.html",
        {
            "values": values or {"title": "", "body": "", "tags": []},
            "errors": errors or messages.FormErrors(),
            "questions": list(reversed(asked)),
            "vocabulary": await members_service.tag_vocabulary(conn),
            "empty_tag_fields": QUESTION_TAG_FIELDS,
            **({"notice": notice} if notice else {}),
        },
        status_code=status_code,
    )


def _uuid(raw: str) -> UUID | None:
    try:
        return UUID(raw)
    except ValueError:
        return None


@router.get("/fragen")
async def ask_form(request: Request, conn: Conn, visitor: MemberVisitor) -> Response:
    """The question form and the list of your questions; with ``?entwurf=<id>`` the form holds
    the question kept when the session ended before it was sent."""
    values = None
    notice = None
    draft_id = _uuid(request.query_params.get("entwurf", ""))
    if draft_id is not None:
        kept = await questions_service.take_draft(conn, visitor.principal, draft_id)
        if kept is not None:
            values = kept.model_dump()
            notice = DRAFT_RESTORED
    return await _ask_page(request, conn, visitor, values=values, notice=notice)


@router.post("/fragen")
async def ask(
    request: Request,
    conn: Conn,
    settings: SettingsDep,
    embedder: EmbedderDep,
    ended: EndedSession,
) -> Response:
    """Ask through the same service call as POST /v1/questions, then show the suggestions.
    When the member's session ended while the question was written, it is kept for them
    (within a question's limits), and comes back in the form once they have signed in again;
    anyone else is sent to the sign-in page, and nothing is stored."""
    if ended is not None:
        draft = _draft_of(ended.form)
        if draft is None:
            raise SignInRequired
        draft_id = await questions_service.keep_draft(conn, ended.principal, draft)
        return RedirectResponse(
            "/anmelden?"
            + urlencode({"weiter": f"/fragen?entwurf={draft_id}", "hinweis": "entwurf"}),
            status_code=303,
        )
    visitor = await member_visitor(
        await signed_in(request, conn, settings, await current_cookie(request))
    )
    form = await checked_form(request, visitor.cookie)
    values = {
        "title": forms.text(form, "title"),
        "body": forms.text(form, "body"),
        "tags": forms.texts(form, "tags"),
        "open": bool(forms.text(form, "open")),
    }
    replica = await get_replica(request)
    asked = await forms.submit(
        conn,
        lambda: questions_service.ask(
            conn,
            embedder,
            visitor.principal,
            QuestionCreate.model_validate(values, strict=False),
            replica=replica,
        ),
    )
    if isinstance(asked, forms.Refused):
        return await _ask_page(
            request,
            conn,
            visitor,
            values=values,
            errors=asked.errors,
            status_code=asked.status_code,
        )
    return redirect(f"/fragen/{asked.id}")


def _draft_of(form: FormData) -> QuestionDraft | None:
    """The question as far as it was written, if it keeps within a question's limits."""
    try:
        return QuestionDraft.model_validate(
            {
                "title": forms.text(form, "title"),
                "body": forms.text(form, "body"),
                "tags": forms.texts(form, "tags"),
            }
        )
    except ValidationError:
        return None


async def _invited(
    conn: Conn, visitor: Visitor[identity.MemberPrincipal], question_id: UUID
) -> dict[str, str]:
    """The colleagues invited to the question, with the state of their request."""
    outgoing = await requests_service.list_requests(conn, visitor.principal, Direction.outgoing)
    return {
        request_.peer.id: request_.status
        for request_ in outgoing
        if request_.question_id == str(question_id)
    }


async def show_question(
    request: Request,
    conn: Conn,
    embedder: EmbedderDep,
    visitor: Visitor[identity.MemberPrincipal],
    question_id: UUID,
    *,
    chosen: list[str] | None = None,
    message: str = "",
    errors: messages.FormErrors | None = None,
    outcome_errors: messages.FormErrors | None = None,
    outcome_values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """A question with the colleagues suggested for it (see ``_shown_question``), what the
    network already worked out on it, and its outcome."""
    question, closed_since = await _shown_question(conn, embedder, visitor, question_id)
    invited = await _invited(conn, visitor, question_id)
    text = f"{question.title}\n{question.body}"
    frequent = await members_service.frequent_words(conn, text)
    passages = {
        suggestion.member.id: highlight(suggestion.reasons.passage, text, frequent)
        for suggestion in question.suggestions
        if suggestion.reasons.passage
    }
    outcome = question.outcome
    return render(
        request,
        "question.html",
        {
            "question": question,
            "passages": passages,
            "invited": invited,
            "chosen": set(chosen or []),
            "message": message,
            "errors": errors or messages.FormErrors(),
            "can_invite": any(s.member.id not in invited for s in question.suggestions),
            "closed_since": closed_since,
            "reached": await questions_service.reached(conn, question),
            "related": await outcomes_service.related_to(conn, embedder, question),
            "can_record": outcome is not None
            or await outcomes_service.may_record(conn, question_id),
            "outcome_errors": outcome_errors or messages.FormErrors(),
            "outcome_values": outcome_values
            or (
                {"outcome": outcome.text, "shared": "ja" if outcome.shared else ""}
                if outcome
                else {}
            ),
        },
        status_code=status_code,
    )


async def _shown_question(
    conn: Conn, embedder: EmbedderDep, visitor: MemberVisitor, question_id: UUID
) -> tuple[Question, bool]:
    """The question with the colleagues suggested when it was asked; for a question that was a
    gap, those suggested on the network as it is now once someone there fits it (and whether
    that is so: the gap closed since)."""
    question = await questions_service.get_question(conn, visitor.principal, question_id)
    if not question.gap:
        return question, False
    now = await questions_service.current_suggestions(
        conn, embedder, visitor.principal, question_id, limit=len(question.suggestions) or 5
    )
    if all(suggestion.fit is Fit.weak for suggestion in now):
        return question, False
    return question.model_copy(update={"suggestions": now, "gap": False}), True


@router.get("/fragen/{question_id:uuid}")
async def question_page(
    question_id: UUID,
    request: Request,
    conn: Conn,
    embedder: EmbedderDep,
    visitor: MemberVisitor,
) -> Response:
    """A question with the colleagues suggested for it (see ``show_question``)."""
    return await show_question(request, conn, embedder, visitor, question_id)


@router.post("/fragen/{question_id:uuid}/oeffnen")
async def open_question(
    question_id: UUID, conn: Conn, embedder: EmbedderDep, visitor: MemberVisitor, form: CheckedForm
) -> Response:
    """Open the question to every colleague who fits it (as PATCH /v1/questions/{id})."""
    return await _set_open(conn, embedder, visitor, question_id, opened=True)


@router.post("/fragen/{question_id:uuid}/schliessen")
async def close_question(
    question_id: UUID, conn: Conn, embedder: EmbedderDep, visitor: MemberVisitor, form: CheckedForm
) -> Response:
    """Close the question: it leaves every list of open questions."""
    return await _set_open(conn, embedder, visitor, question_id, opened=False)


async def _set_open(
    conn: Conn, embedder: EmbedderDep, visitor: MemberVisitor, question_id: UUID, *, opened: bool
) -> Response:
    await questions_service.set_open(
        conn, embedder, visitor.principal, question_id, QuestionUpdate(open=opened)
    )
    return redirect(f"/fragen/{question_id}", notice="geoeffnet" if opened else "geschlossen")


@router.post("/fragen/{question_id:uuid}/einladen")
async def invite(
    question_id: UUID,
    request: Request,
    conn: Conn,
    settings: SettingsDep,
    mailing: MailingDep,
    embedder: EmbedderDep,
    visitor: MemberVisitor,
    form: CheckedForm,
) -> Response:
    """Invite the chosen colleagues through the same service call as the API. The form sent
    twice (a double click) invites once, and the second answer is the same as the first."""
    await questions_service.get_question(conn, visitor.principal, question_id)
    chosen = forms.texts(form, "member_ids")
    message = forms.text(form, "message")

    async def all_invited_already() -> bool:
        invited = await _invited(conn, visitor, question_id)
        return bool(chosen) and set(chosen) <= set(invited)

    if await all_invited_already():
        return redirect("/anfragen", notice="eingeladen")
    invited = await forms.submit(
        conn,
        lambda: requests_service.invite(
            conn,
            visitor.principal,
            question_id,
            RequestCreate.model_validate(
                {"member_ids": chosen, "message": message.strip() or None}, strict=False
            ),
            expiry_days=settings.request_expiry_days,
            mailing=mailing,
        ),
        field="member_ids",
        refusals=(DomainError,),
    )
    if isinstance(invited, forms.Refused):
        if invited.status_code == 409 and await all_invited_already():
            return redirect("/anfragen", notice="eingeladen")
        return await show_question(
            request,
            conn,
            embedder,
            visitor,
            question_id,
            chosen=chosen,
            message=message,
            errors=invited.errors,
            status_code=invited.status_code,
        )
    return redirect("/anfragen", notice="eingeladen")
