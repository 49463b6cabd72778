"""Meine Anfragen: answer invitations, withdraw your own, see contacts, give feedback."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from api.deps import Conn, MailingDep
from api.web import forms, messages
from api.web.auth import CheckedForm, MemberVisitor, Visitor
from api.web.rendering import WebRoute, redirect, render
from models.requests import Direction, FeedbackCreate
from service import identity
from service.errors import DomainError
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
    return render(
        request,
        "requests.html",
        {
            "incoming": incoming,
            "outgoing": outgoing,
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
    """Invitations to you and your own invitations."""
    return await _page(request, conn, visitor)


async def _answer(
    request: Request,
    conn: Conn,
    mailing: MailingDep,
    visitor: Visitor[identity.MemberPrincipal],
    request_id: UUID,
    action: str,
) -> Response:
    try:
        async with conn.transaction():
            if action == "accept":
                await requests_service.accept(conn, visitor.principal, request_id, mailing=mailing)
            elif action == "decline":
                await requests_service.decline(conn, visitor.principal, request_id, mailing=mailing)
            else:
                await requests_service.withdraw(conn, visitor.principal, request_id)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return await _page(
            request, conn, visitor, problem=messages.domain_message(exc), status_code=exc.status
        )
    notice = {"accept": "angenommen", "decline": "abgelehnt", "withdraw": "zurueckgezogen"}
    return redirect("/anfragen", notice=notice[action])


@router.post("/anfragen/{request_id:uuid}/annehmen")
async def accept(
    request_id: UUID,
    request: Request,
    conn: Conn,
    mailing: MailingDep,
    visitor: MemberVisitor,
    form: CheckedForm,
) -> Response:
    """Accept an invitation; both of you then see each other's e-mail address."""
    return await _answer(request, conn, mailing, visitor, request_id, "accept")


@router.post("/anfragen/{request_id:uuid}/ablehnen")
async def decline(
    request_id: UUID,
    request: Request,
    conn: Conn,
    mailing: MailingDep,
    visitor: MemberVisitor,
    form: CheckedForm,
) -> Response:
    """Decline an invitation."""
    return await _answer(request, conn, mailing, visitor, request_id, "decline")


@router.post("/anfragen/{request_id:uuid}/zurueckziehen")
async def withdraw(
    request_id: UUID,
    request: Request,
    conn: Conn,
    mailing: MailingDep,
    visitor: MemberVisitor,
    form: CheckedForm,
) -> Response:
    """Withdraw your own pending invitation."""
    return await _answer(request, conn, mailing, visitor, request_id, "withdraw")


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
