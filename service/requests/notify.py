"""E-mail notifications of the workflow, written to the outbox in the same transaction as the
state change (so a notification is never lost nor sent for a change that rolled back). Each
links to the page where its reader acts."""

from __future__ import annotations

from models.requests import RequestKind
from service.db import Connection
from service.notifications import messages, outbox, reach
from service.notifications.mailing import Mailing
from service.requests.repository import PartyRecord, RequestRecord


async def _send(
    conn: Connection,
    record: RequestRecord,
    to: PartyRecord,
    message: messages.Message,
    kind: str,
) -> None:
    """Queue ``message`` for one party of the request (members without an address get none)."""
    if to.email:
        await outbox.enqueue(
            conn,
            member_id=to.id,
            recipient=to.email,
            message=message,
            kind=kind,
            request_id=record.id,
        )


def _request_link(mailing: Mailing, record: RequestRecord) -> str:
    # A path, not a fragment: a fragment is not sent to the server, and would be lost on the
    # way through the sign-in page (/anfragen/{id} leads on to /anfragen#anfrage-{id}).
    return mailing.link(f"/anfragen/{record.id}")


async def invited(conn: Connection, record: RequestRecord, mailing: Mailing) -> None:
    """Tell the invited colleague (no contact details of the asker before acceptance)."""
    message = messages.invited(
        peer_name=record.peer.name,
        asker_name=record.asker.name,
        asker_municipality=record.asker.municipality.name,
        question_title=record.question_title,
        link=_request_link(mailing, record),
        message=record.message,
        expires_on=record.expires_at.date(),
    )
    await _send(conn, record, record.peer, message, messages.INVITED)


async def offered(conn: Connection, record: RequestRecord, mailing: Mailing) -> None:
    """Tell the asker of an open question that a colleague offers help (no contact details of
    the colleague before the asker accepts)."""
    message = reach.offered(
        asker_name=record.asker.name,
        helper_name=record.peer.name,
        helper_municipality=record.peer.municipality.name,
        question_title=record.question_title,
        link=_request_link(mailing, record),
        message=record.message,
        expires_on=record.expires_at.date(),
    )
    await _send(conn, record, record.asker, message, messages.OFFERED)


async def accepted(conn: Connection, record: RequestRecord, mailing: Mailing) -> None:
    """Both parties get the other's contact (only when both have an address to share)."""
    asker, peer = record.asker, record.peer
    if not (asker.email and peer.email):
        return
    link = _request_link(mailing, record)
    if record.kind == RequestKind.offer:
        for_helper = reach.offer_accepted(
            helper_name=peer.name,
            asker_name=asker.name,
            asker_municipality=asker.municipality.name,
            asker_email=asker.email,
            question_title=record.question_title,
            link=link,
        )
        for_asker_copy = reach.offer_accepted_copy(
            asker_name=asker.name,
            helper_name=peer.name,
            helper_municipality=peer.municipality.name,
            helper_email=peer.email,
            question_title=record.question_title,
            link=link,
        )
        await _send(conn, record, peer, for_helper, messages.OFFER_ACCEPTED)
        await _send(conn, record, asker, for_asker_copy, messages.OFFER_ACCEPTED)
        return
    for_asker = messages.accepted(
        asker_name=asker.name,
        peer_name=peer.name,
        peer_municipality=peer.municipality.name,
        peer_email=peer.email,
        question_title=record.question_title,
        link=link,
    )
    for_peer = messages.accepted_copy(
        peer_name=peer.name,
        asker_name=asker.name,
        asker_municipality=asker.municipality.name,
        asker_email=asker.email,
        question_title=record.question_title,
        link=link,
    )
    await _send(conn, record, asker, for_asker, messages.ACCEPTED)
    await _send(conn, record, peer, for_peer, messages.ACCEPTED)


async def declined(conn: Connection, record: RequestRecord, mailing: Mailing) -> None:
    if record.kind == RequestKind.offer:
        offer = reach.offer_declined(
            helper_name=record.peer.name,
            asker_name=record.asker.name,
            question_title=record.question_title,
            link=mailing.link("/offene-fragen"),
        )
        await _send(conn, record, record.peer, offer, messages.OFFER_DECLINED)
        return
    message = messages.declined(
        asker_name=record.asker.name,
        peer_name=record.peer.name,
        question_title=record.question_title,
        link=mailing.link(f"/fragen/{record.question_id}"),
    )
    await _send(conn, record, record.asker, message, messages.DECLINED)


async def withdrawn(conn: Connection, record: RequestRecord, mailing: Mailing) -> None:
    """Tell the other side that a request was withdrawn (so they do not answer in vain)."""
    if record.kind == RequestKind.offer:
        offer = reach.offer_withdrawn(
            asker_name=record.asker.name,
            helper_name=record.peer.name,
            question_title=record.question_title,
            link=mailing.link(f"/fragen/{record.question_id}"),
        )
        await _send(conn, record, record.asker, offer, messages.OFFER_WITHDRAWN)
        return
    message = messages.withdrawn(
        peer_name=record.peer.name,
        asker_name=record.asker.name,
        question_title=record.question_title,
        link=_request_link(mailing, record),
    )
    await _send(conn, record, record.peer, message, messages.WITHDRAWN)
