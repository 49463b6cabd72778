"""Meine Anfragen: answer invitations, withdraw your own, see contacts, give feedback."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from api.deps import Conn, MailingDep
from api.web import forms, messages
from api.web.auth import CheckedForm, MemberVisitor, Visitor
from api.web.rendering import redirect, render
from api.web.route import WebRoute
from models.requests import Direction, FeedbackCreate, RequestKind
from service import identity
from service.errors import DomainError
from service.outcomes import service as outcomes_service
from service.requests import service as requests_service

router = APIRouter(route_class=WebRoute, include_in_schema=False)

HELPFUL_LABELS: dict[int, str] = {
    1: "gar nicht hilfreich",
    2: "wenig hilfreich",
    3: "teils, teils",
    4: "hilfreich",
    5: "sehr hilfreich",
}


async def _page(
    request: Request,
    conn: Conn,
    visitor: Visitor[identity.MemberPrincipal],
    *,
    problem: str | None = None,
    feedback_for: str | None = None,
    feedback_errors: messages.FormErrors | None = None,
    feedback_values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    incoming = await requests_service.list_requests(conn, visitor.principal, Direction.incoming)
    outgoing = await requests_service.list_requests(conn, visitor.principal, Direction.outgoing)
    # The outcomes of the questions of accepted requests, as each party may see them.
    outcomes = {
        item.question_id: outcome
        for item in {
            r.question_id: r for r in incoming + outgoing if r.status == "accepted"
        }.values()
        if (
            outcome := await outcomes_service.outcome_of(
                conn, visitor.principal, UUID(item.question_id)
            )
        )
        is not None
    }
    return render(
        request,
        "requests.html",
        {
            "incoming": incoming,
            "outgoing": outgoing,
            "outcomes": outcomes,
            "problem": problem,
            "feedback_for": feedback_for,
            "feedback_errors": feedback_errors or messages.FormErrors(),
            "feedback_values": feedback_values or {},
            "helpful_labels": HELPFUL_LABELS,
        },
        status_code=status_code,
    )


@router.get("/anfragen")
async def requests_page(request: Request, conn: Conn, visitor: MemberVisitor) -> Response:
    """Invitations and offers for you to answer, and your own."""
    return await _page(request, conn, visitor)


class Answer(StrEnum):
    """What a member does with a request from this page."""

    accept = "accept"
    decline = "decline"
    withdraw = "withdraw"


# The page's address of each answer, its notice afterwards, and for the two that end a
# request, the confirmation they ask for first: heading, consequence, button.
PATHS = {Answer.accept: "annehmen", Answer.decline: "ablehnen", Answer.withdraw: "zurueckziehen"}
NOTICES = {
    Answer.accept: "angenommen",
    Answer.decline: "abgelehnt",
    Answer.withdraw: "zurueckgezogen",
}
CONFIRMATIONS = {
    (Answer.decline, RequestKind.invitation): (
        "Anfrage ablehnen?",
        "Wenn Sie ablehnen, erfährt die anfragende Person das per E-Mail und kann jemand "
        "anderen einladen. Eine Begründung braucht es nicht.",
        "Ja, ablehnen",
    ),
    (Answer.withdraw, RequestKind.invitation): (
        "Anfrage zurückziehen?",
        "Wenn Sie zurückziehen, erfährt die eingeladene Person das per E-Mail und braucht "
        "nicht mehr zu antworten. Danach können Sie sie nicht erneut zu dieser Frage einladen.",
        "Ja, zurückziehen",
    ),
    (Answer.decline, RequestKind.offer): (
        "Angebot ablehnen?",
        "Wenn Sie ablehnen, erfährt die Kollegin oder der Kollege das per E-Mail. Eine "
        "Begründung braucht es nicht.",
        "Ja, ablehnen",
    ),
    (Answer.withdraw, RequestKind.offer): (
        "Angebot zurückziehen?",
        "Wenn Sie zurückziehen, erfährt die fragende Person das per E-Mail und braucht nicht "
        "mehr zu antworten. Danach können Sie zu dieser Frage keine Hilfe mehr anbieten.",
        "Ja, zurückziehen",
    ),
}


async def _answer(
    request: Request,
    conn: Conn,
    mailing: MailingDep,
    visitor: Visitor[identity.MemberPrincipal],
    request_id: UUID,
    answer: Answer,
) -> Response:
    principal = visitor.principal
    try:
        async with conn.transaction():
            if answer == Answer.accept:
                await requests_service.accept(conn, principal, request_id, mailing=mailing)
            elif answer == Answer.decline:
                await requests_service.decline(conn, principal, request_id, mailing=mailing)
            else:
                await requests_service.withdraw(conn, principal, request_id, mailing=mailing)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return await _page(
            request, conn, visitor, problem=messages.domain_message(exc), status_code=exc.status
        )
    return redirect("/anfragen", notice=NOTICES[answer])


@router.get("/anfragen/{request_id:uuid}")
async def one_request(request_id: UUID, conn: Conn, visitor: MemberVisitor) -> Response:
    """A request as e-mails link to it: its place on Meine Anfragen (after signing in, if
    need be; a link's #fragment would be lost on the way through the sign-in page)."""
    await requests_service.get_request(conn, visitor.principal, request_id)
    return RedirectResponse(f"/anfragen#anfrage-{request_id}", status_code=303)


async def _confirmation(
    request: Request, conn: Conn, visitor: MemberVisitor, request_id: UUID, answer: Answer
) -> Response:
    item = await requests_service.get_request(conn, visitor.principal, request_id)
    heading, consequence, button = CONFIRMATIONS[answer, item.kind]
    viewer_asks = item.asker.id == str(visitor.principal.member_id)
    return render(
        request,
        "request_confirm.html",
        {
            "item": item,
            # The other side, as the reader names them: from whom, or to whom.
            "counterpart": item.peer if viewer_asks else item.asker,
            "preposition": "von" if answer == Answer.decline else "an",
            "path": PATHS[answer],
            "heading": heading,
            "consequence": consequence,
            "button": button,
        },
    )


@router.get("/anfragen/{request_id:uuid}/ablehnen")
async def confirm_decline(
    request_id: UUID, request: Request, conn: Conn, visitor: MemberVisitor
) -> Response:
    """Ask before declining: it cannot be undone."""
    return await _confirmation(request, conn, visitor, request_id, Answer.decline)


@router.get("/anfragen/{request_id:uuid}/zurueckziehen")
async def confirm_withdrawal(
    request_id: UUID, request: Request, conn: Conn, visitor: MemberVisitor
) -> Response:
    """Ask before withdrawing: it cannot be undone."""
    return await _confirmation(request, conn, visitor, request_id, Answer.withdraw)


@router.post("/anfragen/{request_id:uuid}/annehmen")
async def accept(
    request_id: UUID,
    request: Request,
    conn: Conn,
    mailing: MailingDep,
    visitor: MemberVisitor,
    form: CheckedForm,
) -> Response:
    """Accept an invitation (or an offer of help); both of you then see each other's e-mail
    address."""
    return await _answer(request, conn, mailing, visitor, request_id, Answer.accept)


@router.post("/anfragen/{request_id:uuid}/ablehnen")
async def decline(
    request_id: UUID,
    request: Request,
    conn: Conn,
    mailing: MailingDep,
    visitor: MemberVisitor,
    form: CheckedForm,
) -> Response:
    """Decline an invitation (or an offer of help)."""
    return await _answer(request, conn, mailing, visitor, request_id, Answer.decline)


@router.post("/anfragen/{request_id:uuid}/zurueckziehen")
async def withdraw(
    request_id: UUID,
    request: Request,
    conn: Conn,
    mailing: MailingDep,
    visitor: MemberVisitor,
    form: CheckedForm,
) -> Response:
    """Withdraw your own pending invitation (or offer); the other side is told."""
    return await _answer(request, conn, mailing, visitor, request_id, Answer.withdraw)


@router.post("/anfragen/{request_id:uuid}/rueckmeldung")
async def give_feedback(
    request_id: UUID,
    request: Request,
    conn: Conn,
    visitor: MemberVisitor,
    form: CheckedForm,
) -> Response:
    """Rate an accepted consultation, 1 to 5, with an optional comment."""
    values = {"helpful": forms.text(form, "helpful"), "comment": forms.text(form, "comment")}
    try:
        fields: dict[str, object] = {"comment": values["comment"].strip() or None}
        if values["helpful"]:
            fields["helpful"] = forms.number(values["helpful"])
        data = FeedbackCreate.model_validate(fields, strict=False)
        async with conn.transaction():
            await requests_service.give_feedback(conn, visitor.principal, request_id, data)
    except ValidationError as exc:
        return await _page(
            request,
            conn,
            visitor,
            feedback_for=str(request_id),
            feedback_errors=messages.validation_errors(exc),
            feedback_values=values,
            status_code=422,
        )
    except DomainError as exc:
        if exc.status == 404:
            raise
        return await _page(
            request, conn, visitor, problem=messages.domain_message(exc), status_code=exc.status
        )
    return redirect("/anfragen", notice="rueckmeldung")
