"""The notification texts."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import asyncpg
import pytest

from service.notifications import accepted, accepted_copy, declined, enqueue, invited, messages
from service.notifications.messages import INVITED, Message
from tests.helpers.database import insert_member

TITLE = "Wie bringt man Leitlinien\r\nfür Bürgerbeteiligung durch den Rat?"
LINK = "https://peerconsult.example.org/anfragen#anfrage-7"


def test_invitation_says_who_asks_and_what_without_contact_details() -> None:
    message = invited(
        peer_name="Jörg Müller",
        asker_name="Ülkü Weiß",
        asker_municipality="Gießen",
        question_title=TITLE,
        link=LINK,
        message="Hallo Jörg,\nwir stecken gerade mittendrin.\n\nHast du Zeit?",
        expires_on=date(2026, 12, 5),
    )
    assert message.subject == (
        "Anfrage zur kollegialen Beratung: Wie bringt man Leitlinien für Bürgerbeteiligung "
        "durch den Rat?"
    )
    assert message.body.startswith("Guten Tag Jörg Müller,\n\nÜlkü Weiß (Gießen) bittet Sie")
    assert "„Wie bringt man Leitlinien für Bürgerbeteiligung durch den Rat?“" in message.body
    assert "> wir stecken gerade mittendrin.\n>\n> Hast du Zeit?" in message.body
    assert f"annehmen oder ablehnen:\n{LINK}" in message.body
    assert "05.12.2026" in message.body
    assert "@" not in message.body


def test_invitation_without_a_message_has_no_empty_quote() -> None:
    message = invited(
        peer_name="Jörg Müller",
        asker_name="Ülkü Weiß",
        asker_municipality="Gießen",
        question_title="Bürgerrat",
        link=LINK,
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
        link=LINK,
    )
    assert to_asker.subject.startswith("Zusage zur kollegialen Beratung: ")
    assert "Jörg Müller (Kassel) hat Ihre Anfrage" in to_asker.body
    assert to_asker.body.count(LINK) == 1
    assert "E-Mail: joerg.mueller@kassel.example" in to_asker.body

    to_peer = accepted_copy(
        peer_name="Jörg Müller",
        asker_name="Ülkü Weiß",
        asker_municipality="Gießen",
        asker_email="uelkue.weiss@giessen.example",
        question_title=TITLE,
        link=LINK,
    )
    assert to_peer.body.startswith("Guten Tag Jörg Müller,")
    assert LINK in to_peer.body
    assert "E-Mail: uelkue.weiss@giessen.example" in to_peer.body
    assert "\n" not in to_peer.subject


def test_decline_suggests_inviting_someone_else() -> None:
    message = declined(
        asker_name="Ülkü Weiß", peer_name="Jörg Müller", question_title=TITLE, link=LINK
    )
    assert message.subject.startswith("Absage zur kollegialen Beratung: Wie bringt man")
    assert "Jörg Müller kann Ihre Anfrage" in message.body
    assert LINK in message.body
    assert "andere Kollegin oder einen anderen Kollegen ein" in message.body
    assert "@" not in message.body


def test_long_titles_are_shortened_in_the_subject_only() -> None:
    title = "Beteiligung " * 30
    message = declined(asker_name="A", peer_name="B", question_title=title, link=LINK)
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


def test_every_letter_addresses_its_reader_as_sie() -> None:
    """The network's letters say "Sie"; a member's own words (quoted) may say anything."""
    moment = datetime(2026, 12, 12, 14, 5, tzinfo=UTC)
    letters = [
        invited(peer_name="A", asker_name="B", asker_municipality="C", question_title="T",
                link=LINK),
        accepted(asker_name="A", peer_name="B", peer_municipality="C", peer_email="b@x.de",
                 question_title="T", link=LINK),
        accepted_copy(peer_name="A", asker_name="B", asker_municipality="C",
                      asker_email="b@x.de", question_title="T", link=LINK),
        declined(asker_name="A", peer_name="B", question_title="T", link=LINK),
        messages.welcome(name="A", link=LINK, valid_until=moment),
        messages.sign_in_link(name="A", link=LINK, valid_minutes=15, valid_until=moment),
        messages.application_confirm(name="A", link=LINK, valid_until=moment),
        messages.application_declined(name="A", reason=None),
    ]  # fmt: skip
    # 14:05 UTC in December is 15:05 in Germany.
    assert "bis zum 12.12.2026, 15:05 Uhr" in letters[4].body
    informal = re.compile(r"\b([Dd]u|[Dd]ich|[Dd]ir|[Dd]ein\w*|[Ee]uch|[Ee]ure?\w*)\b")
    for letter in letters:
        assert not informal.search(letter.subject + "\n" + letter.body), letter.subject
        assert "Sie" in letter.body or "Ihre" in letter.body, letter.subject
