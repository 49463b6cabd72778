"""The notification texts."""

from __future__ import annotations

from datetime import date

import asyncpg
import pytest

from service.notifications import accepted, accepted_copy, declined, enqueue, invited
from service.notifications.messages import INVITED, Message
from tests.helpers.database import insert_member

TITLE = "Wie bringt man Leitlinien\r\nfür Bürgerbeteiligung durch den Rat?"


def test_invitation_says_who_asks_and_what_without_contact_details() -> None:
    message = invited(
        peer_name="Jörg Müller",
        asker_name="Ülkü Weiß",
        asker_municipality="Gießen",
        question_title=TITLE,
        message="Hallo Jörg,\nwir stecken gerade mittendrin.\n\nHast du Zeit?",
        expires_on=date(2026, 12, 5),
    )
    assert message.subject == (
        "Anfrage zur kollegialen Beratung: Wie bringt man Leitlinien für Bürgerbeteiligung "
        "durch den Rat?"
    )
    assert message.body.startswith("Hallo Jörg Müller,\n\nÜlkü Weiß (Gießen) bittet dich")
    assert "„Wie bringt man Leitlinien für Bürgerbeteiligung durch den Rat?“" in message.body
    assert "> wir stecken gerade mittendrin.\n>\n> Hast du Zeit?" in message.body
    assert "annehmen oder ablehnen" in message.body
    assert "05.12.2026" in message.body
    assert "@" not in message.body


def test_invitation_without_a_message_has_no_empty_quote() -> None:
    message = invited(
        peer_name="Jörg Müller",
        asker_name="Ülkü Weiß",
        asker_municipality="Gießen",
        question_title="Bürgerrat",
        message="   ",
    )
    assert "Die Nachricht dazu" not in message.body
    assert ">" not in message.body
    assert "\n\n\n" not in message.body


def test_acceptance_gives_each_side_the_other_contact() -> None:
    to_asker = accepted(
        asker_name="Ülkü Weiß",
        peer_name="Jörg Müller",
        peer_municipality="Kassel",
        peer_email="joerg.mueller@kassel.example",
        question_title=TITLE,
    )
    assert to_asker.subject.startswith("Zusage zur kollegialen Beratung: ")
    assert "Jörg Müller (Kassel) hat deine Anfrage" in to_asker.body
    assert "E-Mail: joerg.mueller@kassel.example" in to_asker.body

    to_peer = accepted_copy(
        peer_name="Jörg Müller",
        asker_name="Ülkü Weiß",
        asker_municipality="Gießen",
        asker_email="uelkue.weiss@giessen.example",
        question_title=TITLE,
    )
    assert to_peer.body.startswith("Hallo Jörg Müller,")
    assert "E-Mail: uelkue.weiss@giessen.example" in to_peer.body
    assert "\n" not in to_peer.subject


def test_decline_suggests_inviting_someone_else() -> None:
    message = declined(asker_name="Ülkü Weiß", peer_name="Jörg Müller", question_title=TITLE)
    assert message.subject.startswith("Absage zur kollegialen Beratung: Wie bringt man")
    assert "Jörg Müller kann deine Anfrage" in message.body
    assert "andere Kollegin oder einen anderen Kollegen ein" in message.body
    assert "@" not in message.body


def test_long_titles_are_shortened_in_the_subject_only() -> None:
    title = "Beteiligung " * 30
    message = declined(asker_name="A", peer_name="B", question_title=title)
    assert len(message.subject) < 140
    assert message.subject.endswith("…")
    assert title.strip() in message.body


def test_messages_are_frozen() -> None:
    message = Message(subject="s", body="b")
    with pytest.raises(AttributeError):
        message.subject = "t"  # type: ignore[misc]


@pytest.mark.parametrize("recipient", ["", "   ", "no-at-sign", "a@b.de\r\nBcc: x@y.de"])
async def test_enqueue_refuses_unusable_addresses(pool: asyncpg.Pool, recipient: str) -> None:
    member = await insert_member(pool)
    async with pool.acquire() as conn:
        with pytest.raises(ValueError, match="not a usable e-mail address") as raised:
            await enqueue(
                conn,
                member_id=member,
                recipient=recipient,
                message=Message(subject="s", body="b"),
                kind=INVITED,
            )
        assert "@" not in str(raised.value)
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0


async def test_enqueue_is_part_of_the_callers_transaction(pool: asyncpg.Pool) -> None:
    member = await insert_member(pool)
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError):
            async with conn.transaction():
                await enqueue(
                    conn,
                    member_id=member,
                    recipient="a@example.org",
                    message=Message(subject="Betreff\nmit Umbruch", body="b"),
                    kind=INVITED,
                )
                raise RuntimeError("the state change failed")
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
        async with conn.transaction():
            await enqueue(
                conn,
                member_id=member,
                recipient=" a@example.org ",
                message=Message(subject="Betreff\nmit Umbruch", body="b"),
                kind=INVITED,
            )
        row = await conn.fetchrow("SELECT recipient, subject, kind, attempts, sent_at FROM outbox")
    assert row is not None
    assert dict(row) == {
        "recipient": "a@example.org",
        "subject": "Betreff mit Umbruch",
        "kind": "invited",
        "attempts": 0,
        "sent_at": None,
    }
