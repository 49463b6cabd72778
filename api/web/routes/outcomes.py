"""What came out of consultations, on the web: "Ergebnis festhalten" on the question page,
choosing whether one is named on a shared outcome, and Wissen, the search over the shared
outcomes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import Conn, EmbedderDep, MailingDep
from api.web import forms
from api.web.auth import CheckedForm, MemberVisitor
from api.web.rendering import redirect, render
from api.web.route import WebRoute
from api.web.routes.questions import show_question
from models.common import MAX_SHORT_TEXT
from models.outcomes import OutcomeWrite
from service.errors import DomainError, NotFound
from service.outcomes import service as outcomes_service
from service.requests import service as requests_service

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# Shared outcomes on one page of Wissen.
SHOWN = 20


@router.post("/fragen/{question_id:uuid}/ergebnis")
async def record_outcome(
    question_id: UUID,
    request: Request,
    conn: Conn,
    embedder: EmbedderDep,
    mailing: MailingDep,
    visitor: MemberVisitor,
    form: CheckedForm,
) -> Response:
    """Record what came out of the question's consultation (as PUT /v1/questions/{id}/outcome)."""
    text, shared = forms.text(form, "outcome"), bool(forms.text(form, "shared"))
    recorded = await forms.submit(
        conn,
        lambda: outcomes_service.record(
            conn,
            embedder,
            visitor.principal,
            question_id,
            OutcomeWrite.model_validate({"text": text, "shared": shared}, strict=False),
            mailing=mailing,
        ),
        field="outcome",
        refusals=(DomainError,),
    )
    if isinstance(recorded, forms.Refused):
        return await show_question(
            request,
            conn,
            embedder,
            visitor,
            question_id,
            outcome_errors=recorded.errors,
            outcome_values={"outcome": text, "shared": "ja" if shared else ""},
            status_code=recorded.status_code,
        )
    notice = "ergebnis-geteilt" if shared else "ergebnis"
    return redirect(f"/fragen/{question_id}", notice=notice, anchor="ergebnis")


@router.get("/anfragen/{request_id:uuid}/nennung")
async def named_choice(
    request_id: UUID,
    request: Request,
    conn: Conn,
    visitor: MemberVisitor,
    wahl: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    """Whether you appear by name on a shared outcome: the outcome and the choice, as the
    e-mail links to it (a GET changes nothing)."""
    item = await requests_service.get_request(conn, visitor.principal, request_id)
    if item.peer.id != str(visitor.principal.member_id):
        raise NotFound("Only the colleague who gave the advice chooses this.")
    outcome = await outcomes_service.outcome_of(conn, visitor.principal, UUID(item.question_id))
    named = item.named if wahl not in ("ja", "nein") else wahl == "ja"
    return render(request, "named_choice.html", {"item": item, "outcome": outcome, "named": named})


@router.post("/anfragen/{request_id:uuid}/nennung")
async def set_named(
    request_id: UUID, conn: Conn, visitor: MemberVisitor, form: CheckedForm
) -> Response:
    """Save the choice (as PUT /v1/requests/{id}/named)."""
    named = forms.text(form, "named") == "ja"
    await outcomes_service.set_named(conn, visitor.principal, request_id, named)
    return redirect(
        "/anfragen", notice="genannt" if named else "nicht-genannt", anchor=f"anfrage-{request_id}"
    )


@router.get("/wissen")
async def knowledge(
    request: Request,
    conn: Conn,
    embedder: EmbedderDep,
    visitor: MemberVisitor,
    q: Annotated[str | None, Query(max_length=MAX_SHORT_TEXT)] = None,
) -> Response:
    """What the network worked out: the shared outcomes relevant to a search, or the newest."""
    found = await outcomes_service.search(conn, embedder, q, limit=SHOWN)
    return render(request, "knowledge.html", {"q": q or "", "found": found.outcomes})
