"""The outbox against a real SMTP server on loopback and the real PostgreSQL test database."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from uuid import UUID

import asyncpg
import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from service import db
from service.notifications import deliver_due, enqueue, invited, purge_delivered, run_sender
from service.notifications.messages import INVITED, Message
from service.notifications.sender import MAX_ATTEMPTS
from tests.helpers.database import insert_member
from tests.helpers.smtp import FROM, Mailbox, SmtpServer, smtp_settings

MESSAGE = invited(
    peer_name="Jörg Müller",
    asker_name="Ülkü Weiß",
    asker_municipality="Gießen",
    question_title="Bürgerrat für die Straßenplanung – wie habt ihr gelost?",
    link="https://peerconsult.example.org/anfragen#anfrage-1",
    message="Grüße aus Gießen!\nWir planen einen Bürgerrat zur Verkehrsführung.",
)


async def queue(
    pool: asyncpg.Pool, member_id: UUID, recipient: str, message: Message = MESSAGE
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await enqueue(conn, member_id=member_id, recipient=recipient, message=message, kind=INVITED)


async def rows(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        return await conn.fetch(
            """
            SELECT id, recipient, attempts, sent_at, last_error,
                   next_attempt_at > now() AS waiting
            FROM outbox ORDER BY id
            """
        )


async def make_due(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute("UPDATE outbox SET next_attempt_at = now() WHERE sent_at IS NULL")


async def test_enqueued_message_arrives_intact(pool: asyncpg.Pool, smtp_server: SmtpServer) -> None:
    mailbox = smtp_server.start(Mailbox())
    member = await insert_member(pool)
    await queue(pool, member, "joerg.mueller@example.org")

    assert await deliver_due(pool, smtp_settings(smtp_server.port)) == 1
    assert await deliver_due(pool, smtp_settings(smtp_server.port)) == 0

    [mail] = mailbox.received
    assert mail.recipients == ["joerg.mueller@example.org"]
    assert mail.mail_from == "noreply@example.org"
    assert mail.message["To"] == "joerg.mueller@example.org"
    assert mail.message["From"] == FROM
    assert mail.message["Subject"] == MESSAGE.subject
    assert "Straßenplanung" in mail.message["Subject"]
    assert mail.message.get_content_charset() == "utf-8"
    assert mail.body == MESSAGE.body
    assert "Ülkü Weiß (Gießen)" in mail.body
    assert mail.message["Auto-Submitted"] == "auto-generated"
    assert mail.message["Message-ID"].startswith("<peerconsult.")
    [row] = await rows(pool)
    assert row["sent_at"] is not None
    assert row["attempts"] == 1
    assert row["last_error"] is None


async def test_a_long_subject_keeps_every_space(
    pool: asyncpg.Pool, smtp_server: SmtpServer
) -> None:
    """A subject folded into several encoded words reads in the mail program as it was written
    (the standard library's folding lost the space before "– Streit")."""
    mailbox = smtp_server.start(Mailbox())
    member = await insert_member(pool)
    title = "Solaranlagen in der Altstadt – Streit zwischen Denkmalschutz und Bewohnern"
    message = Message(subject=f"Anfrage zur kollegialen Beratung: {title}", body="Hallo")
    await queue(pool, member, "joerg.mueller@example.org", message)
    assert await deliver_due(pool, smtp_settings(smtp_server.port)) == 1
    [mail] = mailbox.received
    assert mail.message["Subject"] == message.subject


async def test_purge_deletes_only_sent_messages(
    pool: asyncpg.Pool, smtp_server: SmtpServer
) -> None:
    smtp_server.start(Mailbox())
    member = await insert_member(pool)
    await queue(pool, member, "sent@example.org")
    assert await deliver_due(pool, smtp_settings(smtp_server.port)) == 1
    await queue(pool, member, "waiting@example.org")
    async with pool.acquire() as conn:
        assert await purge_delivered(conn, older_than=timedelta(days=30)) == 0
        assert await purge_delivered(conn, older_than=timedelta(0)) == 1
    assert [row["recipient"] for row in await rows(pool)] == ["waiting@example.org"]


async def test_smtp_down_keeps_the_message_then_delivers_it_once(
    pool: asyncpg.Pool, smtp_server: SmtpServer
) -> None:
    smtp = smtp_settings(smtp_server.port)  # nothing listens on the port yet
    member = await insert_member(pool)
    await queue(pool, member, "joerg.mueller@example.org")

    assert await deliver_due(pool, smtp) == 0
    [row] = await rows(pool)
    assert row["sent_at"] is None
    assert row["attempts"] == 1
    assert row["waiting"] is True
    assert row["last_error"] == "ConnectionRefusedError"

    mailbox = smtp_server.start(Mailbox())
    assert await deliver_due(pool, smtp) == 0  # not due yet: backoff
    assert mailbox.received == []

    await make_due(pool)
    assert await deliver_due(pool, smtp) == 1
    assert await deliver_due(pool, smtp) == 0
    assert len(mailbox.received) == 1
    [row] = await rows(pool)
    assert row["sent_at"] is not None
    assert row["attempts"] == 2
    assert row["last_error"] is None


async def test_an_unreachable_server_ends_the_round_without_charging_the_others(
    pool: asyncpg.Pool, smtp_server: SmtpServer
) -> None:
    member = await insert_member(pool)
    for number in range(3):
        await queue(pool, member, f"peer{number}@example.org")

    assert await deliver_due(pool, smtp_settings(smtp_server.port)) == 0
    assert [row["attempts"] for row in await rows(pool)] == [1, 0, 0]


async def test_concurrent_rounds_never_send_a_message_twice(
    own_database_url: str, pool: asyncpg.Pool, smtp_server: SmtpServer
) -> None:
    mailbox = smtp_server.start(Mailbox(hold_first=True))
    member = await insert_member(pool)
    recipients = [f"peer{number:02d}@example.org" for number in range(12)]
    for recipient in recipients:
        await queue(pool, member, recipient)
    smtp = smtp_settings(smtp_server.port)
    # a second pool: as a second worker process would have
    other = await db.create_pool(own_database_url, max_size=2)
    try:
        first, second = await asyncio.gather(
            deliver_due(pool, smtp, batch=50), deliver_due(other, smtp, batch=50)
        )
    finally:
        await other.close()

    assert mailbox.overlapped, "the second sender should have sent while the first held a row"
    assert first + second == len(recipients)
    delivered = sorted(r for mail in mailbox.received for r in mail.recipients)
    assert delivered == recipients
    assert all(row["sent_at"] is not None for row in await rows(pool))
    assert await deliver_due(pool, smtp) == 0


async def test_a_refused_address_is_given_up_and_the_error_names_no_address(
    pool: asyncpg.Pool, smtp_server: SmtpServer
) -> None:
    mailbox = smtp_server.start(Mailbox(refuse=frozenset({"gone@example.org"})))
    member = await insert_member(pool)
    await queue(pool, member, "gone@example.org")
    await queue(pool, member, "here@example.org")

    assert await deliver_due(pool, smtp_settings(smtp_server.port)) == 1

    gone, here = await rows(pool)
    assert gone["sent_at"] is None
    assert gone["attempts"] == MAX_ATTEMPTS
    assert gone["last_error"] == "SMTPRecipientsRefused 550"
    assert here["sent_at"] is not None
    assert [mail.recipients for mail in mailbox.received] == [["here@example.org"]]
    await make_due(pool)
    assert await deliver_due(pool, smtp_settings(smtp_server.port)) == 0


async def test_gives_up_after_the_maximum_number_of_attempts(
    pool: asyncpg.Pool, smtp_server: SmtpServer
) -> None:
    smtp = smtp_settings(smtp_server.port)
    member = await insert_member(pool)
    await queue(pool, member, "joerg.mueller@example.org")

    for expected_attempts in (1, 2, 2):
        assert await deliver_due(pool, smtp, max_attempts=2) == 0
        [row] = await rows(pool)
        assert row["attempts"] == expected_attempts
        await make_due(pool)

    mailbox = smtp_server.start(Mailbox())
    assert await deliver_due(pool, smtp, max_attempts=2) == 0
    assert mailbox.received == []
    [row] = await rows(pool)
    assert row["sent_at"] is None
    assert row["last_error"] == "ConnectionRefusedError"


def _authenticator(expected: LoginPassword) -> object:
    def authenticate(
        server: object, session: object, envelope: object, mechanism: str, auth_data: object
    ) -> AuthResult:
        success = auth_data == expected
        return AuthResult(success=success, handled=False, auth_data=auth_data)

    return authenticate


async def test_logs_in_with_the_credentials_of_the_url(
    pool: asyncpg.Pool, smtp_server: SmtpServer
) -> None:
    mailbox = smtp_server.start(
        Mailbox(),
        authenticator=_authenticator(LoginPassword(b"mailer", b"p@ss:w/rd%")),
        auth_require_tls=False,
    )
    member = await insert_member(pool)
    await queue(pool, member, "joerg.mueller@example.org")

    wrong = smtp_settings(smtp_server.port, credentials="mailer:wrong@")
    assert await deliver_due(pool, wrong) == 0
    [row] = await rows(pool)
    assert row["last_error"] == "SMTPAuthenticationError 535"

    await make_due(pool)
    right = smtp_settings(smtp_server.port, credentials="mailer:p%40ss%3Aw%2Frd%25@")
    assert await deliver_due(pool, right) == 1
    [mail] = mailbox.received
    assert mail.authenticated


async def test_run_sender_delivers_until_stopped(
    pool: asyncpg.Pool, smtp_server: SmtpServer
) -> None:
    mailbox = smtp_server.start(Mailbox())
    member = await insert_member(pool)
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_sender(pool, smtp_settings(smtp_server.port), interval=0.05, stop=stop)
    )
    await queue(pool, member, "joerg.mueller@example.org")
    for _ in range(400):
        if mailbox.received:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await task
    assert len(mailbox.received) == 1


async def test_run_sender_survives_database_errors(
    own_database_url: str, smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    broken = await db.create_pool(own_database_url, max_size=1)
    await broken.close()  # every round now fails in the database layer
    stop = asyncio.Event()
    caplog.set_level(logging.WARNING, logger="service.notifications.sender")
    task = asyncio.create_task(
        run_sender(broken, smtp_settings(smtp_server.port), interval=0.01, stop=stop)
    )
    for _ in range(400):
        if sum("round failed" in r.getMessage() for r in caplog.records) >= 2:
            break
        await asyncio.sleep(0.01)
    assert not task.done()
    stop.set()
    await task
    failures = [r.getMessage() for r in caplog.records if "round failed" in r.getMessage()]
    assert len(failures) >= 2
    assert all("InterfaceError" in line for line in failures)
