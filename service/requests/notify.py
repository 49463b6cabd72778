"""E-mail notifications of the workflow, written to the outbox in the same transaction as the
state change (so a notification is never lost nor sent for a change that rolled back)."""

from __future__ import annotations

from typing import Any

from service.db import Connection
from service.notifications import messages, outbox


async def invited(conn: Connection, record: dict[str, Any]) -> None:
    """Tell the invited colleague (no contact details of the asker before acceptance)."""
    if not record["peer_email"]:
        return
    message = messages.invited(
        peer_name=record["peer_name"],
        asker_name=record["asker_name"],
        asker_municipality=record["asker_municipality_name"],
        question_title=record["question_title"],
        message=record["message"],
        expires_on=record["expires_at"].date(),
    )
    await outbox.enqueue(
        conn,
        member_id=record["peer_id"],
        recipient=record["peer_email"],
        message=message,
        kind="invited",
        request_id=record["id"],
    )


async def accepted(conn: Connection, record: dict[str, Any]) -> None:
    """Both parties get the other's contact."""
    if record["asker_email"] and record["peer_email"]:
        for_asker = messages.accepted(
            asker_name=record["asker_name"],
            peer_name=record["peer_name"],
            peer_municipality=record["peer_municipality_name"],
            peer_email=record["peer_email"],
            question_title=record["question_title"],
        )
        await outbox.enqueue(
            conn,
            member_id=record["asker_id"],
            recipient=record["asker_email"],
            message=for_asker,
            kind="accepted",
            request_id=record["id"],
        )
        for_peer = messages.accepted_copy(
            peer_name=record["peer_name"],
            asker_name=record["asker_name"],
            asker_municipality=record["asker_municipality_name"],
            asker_email=record["asker_email"],
            question_title=record["question_title"],
        )
        await outbox.enqueue(
            conn,
            member_id=record["peer_id"],
            recipient=record["peer_email"],
            message=for_peer,
            kind="accepted",
            request_id=record["id"],
        )


async def declined(conn: Connection, record: dict[str, Any]) -> None:
    if not record["asker_email"]:
        return
    message = messages.declined(
        asker_name=record["asker_name"],
        peer_name=record["peer_name"],
        question_title=record["question_title"],
    )
    await outbox.enqueue(
        conn,
        member_id=record["asker_id"],
        recipient=record["asker_email"],
        message=message,
        kind="declined",
        request_id=record["id"],
    )
