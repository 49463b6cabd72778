"""The consultation workflow: invite, offer, accept or decline, withdraw, give feedback.

A request is an invitation (the asker asks a colleague, who answers) or an offer (a colleague
offers help on an open question, and the asker answers). Valid transitions (anything else is a
409):

    pending --accept (who answers)--> accepted --feedback (asker, once)--> (feedback recorded)
    pending --decline (who answers)--> declined
    pending --withdraw (who requested)--> withdrawn
    pending --(expiry days pass)--> expired

Contact details (both e-mail addresses) appear only on an accepted request, and only to its
two parties.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from models.requests import (
    ConsultationRequest,
    Contact,
    ContactPerson,
    Direction,
    Feedback,
    FeedbackCreate,
    OfferCreate,
    Party,
    QuestionSummary,
    RequestCreate,
    RequestKind,
    RequestStatus,
)
from service import identity, metrics
from service.db import Connection
from service.errors import Conflict, Forbidden, NotFound, Unprocessable
from service.notifications.mailing import Mailing
from service.questions import repository as questions_repository
from service.requests import notify, repository


def _party(party: repository.PartyRecord) -> Party:
    return Party(id=str(party.id), name=party.name, municipality=party.municipality)


def request_schema(
    record: repository.RequestRecord, viewer: identity.Principal
) -> ConsultationRequest:
    """The request as ``viewer`` may see it."""
    is_party = isinstance(viewer, identity.MemberPrincipal) and viewer.member_id in (
        record.asker.id,
        record.peer.id,
    )
    contact = None
    if record.status == RequestStatus.accepted and is_party:
        contact = Contact(
            asker=ContactPerson(name=record.asker.name, email=record.asker.email),
            peer=ContactPerson(name=record.peer.name, email=record.peer.email),
        )
    feedback = None
    if record.feedback is not None and viewer.may_act_for(record.asker.id):
        feedback = Feedback(
            helpful=record.feedback.helpful,
            comment=record.feedback.comment,
            created_at=record.feedback.created_at,
        )
    return ConsultationRequest(
        id=str(record.id),
        question_id=str(record.question_id),
        question=QuestionSummary(
            id=str(record.question_id), title=record.question_title, body=record.question_body
        ),
        asker=_party(record.asker),
        peer=_party(record.peer),
        kind=record.kind,
        status=record.status,
        message=record.message,
        created_at=record.created_at,
        expires_at=record.expires_at,
        responded_at=record.responded_at,
        contact=contact,
        feedback=feedback,
        named=record.named,
    )


def _member_ids(raw_ids: Sequence[str]) -> list[UUID]:
    """The ids of a ``RequestCreate`` (checked to be UUIDs by the schema)."""
    return [UUID(raw) for raw in raw_ids]


async def invite(
    conn: Connection,
    principal: identity.MemberPrincipal,
    question_id: UUID,
    data: RequestCreate,
    *,
    expiry_days: int,
    mailing: Mailing | None,
) -> list[ConsultationRequest]:
    """Invite colleagues to a question. All or nothing: if one of them may not be invited,
    nobody is, and the answer says why."""
    question = await questions_repository.get_question(conn, question_id)
    if question is None:
        raise NotFound(f"No question with id {question_id}.")
    if principal.member_id != question.asker_id:
        raise Forbidden("Only the member who asked the question can invite colleagues to it.")
    asker_id = question.asker_id
    member_ids = _member_ids(data.member_ids)
    found = await repository.invitees(conn, asker_id=asker_id, member_ids=member_ids)
    already = await repository.invited_already(conn, question_id)
    for member_id in member_ids:
        invitee = found.get(member_id)
        if invitee is None:
            raise NotFound(f"No member with id {member_id}.")
        if member_id == asker_id:
            raise Unprocessable("You cannot invite yourself.")
        if invitee.same_municipality:
            raise Unprocessable(
                f"{invitee.name} works in your own municipality; peerconsult connects you with "
                "colleagues from other municipalities."
            )
        if member_id in already:
            raise Conflict(f"{invitee.name} has already been invited to this question.")
        if not invitee.accepting_requests:
            raise Conflict(f"{invitee.name} is not accepting requests at the moment.")
        if not invitee.has_capacity:
            raise Conflict(f"{invitee.name} has no capacity for further requests right now.")
    created = []
    for member_id in member_ids:
        request_id = await repository.insert_request(
            conn,
            question_id=question_id,
            asker_id=asker_id,
            peer_id=member_id,
            message=data.message,
            expiry_days=expiry_days,
        )
        if request_id is None:
            raise Conflict(f"{found[member_id].name} has already been invited to this question.")
        record = await repository.get_request(conn, request_id)
        assert record is not None
        if mailing is not None:
            await notify.invited(conn, record, mailing)
        created.append(request_schema(record, principal))
    metrics.INVITATIONS.labels("sent").inc(len(created))
    return created


async def offer(
    conn: Connection,
    principal: identity.MemberPrincipal,
    question_id: UUID,
    data: OfferCreate,
    *,
    expiry_days: int,
    mailing: Mailing | None,
) -> ConsultationRequest:
    """Offer help on an open question; the asker is told and accepts or declines. The rules of
    an invitation hold: another municipality (422), accepting requests and below capacity
    (409), one request per colleague and question (409); and the question must be open (409)."""
    question = await questions_repository.get_question(conn, question_id)
    if question is None:
        raise NotFound(f"No question with id {question_id}.")
    if principal.member_id == question.asker_id:
        raise Unprocessable("You cannot offer help on your own question.")
    found = await repository.invitees(
        conn, asker_id=question.asker_id, member_ids=[principal.member_id]
    )
    helper = found.get(principal.member_id)
    if helper is None:
        raise NotFound(f"No member with id {principal.member_id}.")
    if helper.same_municipality:
        raise Unprocessable(
            "The question comes from your own municipality; peerconsult connects colleagues "
            "from different municipalities."
        )
    if not question.open:
        raise Conflict("The question is not open (any more): its asker has closed it.")
    if principal.member_id in await repository.invited_already(conn, question_id):
        raise Conflict("You have a request on this question already (an invitation or an offer).")
    if not helper.accepting_requests:
        raise Conflict(
            "You are not accepting requests at the moment; change that in your profile first."
        )
    if not helper.has_capacity:
        raise Conflict("You have no capacity for further requests right now.")
    request_id = await repository.insert_request(
        conn,
        question_id=question_id,
        asker_id=question.asker_id,
        peer_id=principal.member_id,
        message=data.message,
        expiry_days=expiry_days,
        kind=RequestKind.offer,
    )
    if request_id is None:
        raise Conflict("You have a request on this question already (an invitation or an offer).")
    record = await repository.get_request(conn, request_id)
    assert record is not None
    if mailing is not None:
        await notify.offered(conn, record, mailing)
    metrics.OFFERS.labels("sent").inc()
    return request_schema(record, principal)


async def list_requests(
    conn: Connection, principal: identity.MemberPrincipal, direction: Direction | None
) -> list[ConsultationRequest]:
    """The member's requests: incoming (for them to answer: invitations to them, offers on
    their questions), outgoing (their invitations and offers), or both."""
    records = await repository.list_requests(
        conn,
        principal.member_id,
        incoming=direction in (None, Direction.incoming),
        outgoing=direction in (None, Direction.outgoing),
    )
    return [request_schema(record, principal) for record in records]


async def _load(
    conn: Connection, principal: identity.Principal, request_id: UUID, *, for_update: bool = False
) -> repository.RequestRecord:
    record = await repository.get_request(conn, request_id, for_update=for_update)
    if record is None:
        raise NotFound(f"No request with id {request_id}.")
    if not (principal.may_act_for(record.asker.id) or principal.may_act_for(record.peer.id)):
        raise Forbidden("Only the two parties and the coordinator can see a request.")
    return record


async def get_request(
    conn: Connection, principal: identity.Principal, request_id: UUID
) -> ConsultationRequest:
    return request_schema(await _load(conn, principal, request_id), principal)


async def _transition(
    conn: Connection,
    principal: identity.MemberPrincipal,
    request_id: UUID,
    *,
    to: RequestStatus,
) -> repository.RequestRecord:
    record = await _load(conn, principal, request_id, for_update=True)
    actor = record.requests if to == RequestStatus.withdrawn else record.answers
    if principal.member_id != record.party(actor).id:
        who = {
            (RequestKind.invitation, repository.Side.peer): "invited colleague",
            (RequestKind.invitation, repository.Side.asker): "asker",
            (RequestKind.offer, repository.Side.peer): "colleague who offered help",
            (RequestKind.offer, repository.Side.asker): "asker",
        }[record.kind, actor]
        raise Forbidden(f"Only the {who} can {to_verb(to)} this {record.kind}.")
    if record.status != RequestStatus.pending:
        raise Conflict(f"The request is {record.status}; only a pending request can be {to}.")
    await repository.set_status(conn, request_id, to)
    updated = await repository.get_request(conn, request_id)
    assert updated is not None
    if record.kind == RequestKind.invitation:
        metrics.INVITATIONS.labels(to.value).inc()
    else:
        metrics.OFFERS.labels(to.value).inc()
    return updated


def to_verb(status: RequestStatus) -> str:
    return {"accepted": "accept", "declined": "decline", "withdrawn": "withdraw"}.get(
        status, str(status)
    )


async def accept(
    conn: Connection,
    principal: identity.MemberPrincipal,
    request_id: UUID,
    *,
    mailing: Mailing | None,
) -> ConsultationRequest:
    """Who answers (the invited colleague, or the asker of an offer) accepts; both parties now
    see each other's contact."""
    record = await _transition(conn, principal, request_id, to=RequestStatus.accepted)
    if mailing is not None:
        await notify.accepted(conn, record, mailing)
    return request_schema(record, principal)


async def decline(
    conn: Connection,
    principal: identity.MemberPrincipal,
    request_id: UUID,
    *,
    mailing: Mailing | None,
) -> ConsultationRequest:
    record = await _transition(conn, principal, request_id, to=RequestStatus.declined)
    if mailing is not None:
        await notify.declined(conn, record, mailing)
    return request_schema(record, principal)


async def withdraw(
    conn: Connection,
    principal: identity.MemberPrincipal,
    request_id: UUID,
    *,
    mailing: Mailing | None,
) -> ConsultationRequest:
    """Who requested withdraws a pending request (the asker an invitation, the colleague an
    offer); the other side is told."""
    record = await _transition(conn, principal, request_id, to=RequestStatus.withdrawn)
    if mailing is not None:
        await notify.withdrawn(conn, record, mailing)
    return request_schema(record, principal)


async def give_feedback(
    conn: Connection, principal: identity.MemberPrincipal, request_id: UUID, data: FeedbackCreate
) -> ConsultationRequest:
    """The asker rates an accepted consultation, once."""
    record = await _load(conn, principal, request_id, for_update=True)
    if principal.member_id != record.asker.id:
        raise Forbidden("Only the asker can give feedback on a consultation.")
    if record.status != RequestStatus.accepted:
        raise Conflict(f"The request is {record.status}; feedback is for accepted consultations.")
    if record.feedback is not None:
        raise Conflict("Feedback for this consultation has been given already.")
    await repository.insert_feedback(
        conn, request_id=request_id, helpful=data.helpful, comment=data.comment
    )
    updated = await repository.get_request(conn, request_id)
    assert updated is not None
    return request_schema(updated, principal)
