"""Delivery of the outbox by SMTP: the settings, one delivery round, and the background loop.

``PEERCONSULT_SMTP_URL`` has the form::

    smtp://[user:password@]host[:port]?from=address[&starttls=true|false][&ssl=true|false]
           [&verify=true|false][&timeout=10]
    smtps://[user:password@]host[:port]?from=address[&verify=true|false][&timeout=10]

``smtps://`` (or ``ssl=true``) is implicit TLS, default port 465; ``starttls=true`` upgrades a
plain connection, default port 587; plain SMTP defaults to port 25. ``from`` is required and may
carry a display name (``from=peerconsult%20%3Cnoreply%40example.org%3E``). ``verify=false``
accepts any server certificate (a relay with a self-signed one). User and password are
percent-decoded and must be ASCII (smtplib's limit); the password never appears in a repr,
log line or error message. Credentials are refused over an unencrypted connection except to a
loopback host.

Delivery is at-least-once: a row is marked sent only after the SMTP server took it; the lock on
the row (see :mod:`service.notifications.outbox`) keeps concurrent senders apart. Log lines and
stored errors carry outbox ids, counts, error classes and SMTP codes, never addresses or texts.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import smtplib
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import parse_qsl, unquote, urlsplit

import asyncpg

from service import metrics
from service.notifications import outbox

log = logging.getLogger(__name__)

MAX_ATTEMPTS = outbox.MAX_ATTEMPTS
BACKOFF_BASE_SECONDS = 30.0
BACKOFF_MAX_SECONDS = 3600.0

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_QUERY_KEYS = ("from", "starttls", "ssl", "verify", "timeout")


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 30 s, doubling, at most an hour."""
    exponent = min(max(attempts - 1, 0), 20)
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2.0**exponent, BACKOFF_MAX_SECONDS))


def _flag(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"SMTP URL: {name} must be true or false")


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where and how to send; build it with :meth:`from_url`."""

    host: str
    port: int
    from_header: str
    sender: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    implicit_tls: bool = False
    starttls: bool = False
    verify: bool = True
    timeout: float = 10.0

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """Parse and validate an SMTP URL (see the module docstring); ValueError if unusable.

        Error messages never repeat the URL (it may hold a password).
        """
        try:
            parts = urlsplit(url.strip())
        except ValueError:
            raise ValueError("SMTP URL: not a valid URL") from None
        scheme = parts.scheme.lower()
        if scheme not in ("smtp", "smtps"):
            raise ValueError("SMTP URL: the scheme must be smtp:// or smtps://")
        host = parts.hostname
        if not host:
            raise ValueError("SMTP URL: the host is missing")
        try:
            port = parts.port
        except ValueError:
            raise ValueError("SMTP URL: the port must be a number from 1 to 65535") from None
        if port == 0:
            raise ValueError("SMTP URL: the port must be a number from 1 to 65535")
        if parts.path not in ("", "/"):
            raise ValueError("SMTP URL: a path is not allowed")
        if parts.fragment:
            raise ValueError("SMTP URL: a fragment (#…) is not allowed")

        options: dict[str, str] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key not in _QUERY_KEYS:
                allowed = ", ".join(_QUERY_KEYS)
                raise ValueError(f"SMTP URL: unknown parameter {key!r} (allowed: {allowed})")
            if key in options:
                raise ValueError(f"SMTP URL: parameter {key!r} is given twice")
            options[key] = value

        from_header = options.get("from", "").strip()
        if not from_header:
            raise ValueError("SMTP URL: the sender address is missing (add ?from=address)")
        if any(c in from_header for c in "\r\n\x00"):
            raise ValueError("SMTP URL: from must be a single line")
        sender = parseaddr(from_header)[1]
        if "@" not in sender:
            raise ValueError("SMTP URL: from is not an e-mail address")

        implicit_tls = scheme == "smtps"
        if "ssl" in options:
            ssl_flag = _flag("ssl", options["ssl"])
            if implicit_tls and not ssl_flag:
                raise ValueError("SMTP URL: ssl=false contradicts smtps://")
            implicit_tls = ssl_flag
        starttls = _flag("starttls", options["starttls"]) if "starttls" in options else False
        if implicit_tls and starttls:
            raise ValueError(
                "SMTP URL: starttls=true and implicit TLS (smtps:// or ssl=true) exclude each other"
            )
        verify = _flag("verify", options["verify"]) if "verify" in options else True

        timeout = 10.0
        if "timeout" in options:
            try:
                timeout = float(options["timeout"])
            except ValueError:
                raise ValueError("SMTP URL: timeout must be a number of seconds") from None
            if not 0 < timeout <= 600:
                raise ValueError("SMTP URL: timeout must be more than 0 and at most 600 seconds")

        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password is not None else None
        if password is not None and not username:
            raise ValueError("SMTP URL: a password needs a user name (user:password@host)")
        if username and not password:
            raise ValueError("SMTP URL: the user name needs a password (user:password@host)")
        if not (username or "").isascii() or not (password or "").isascii():
            # smtplib sends AUTH responses as ASCII; fail here rather than on every message
            raise ValueError("SMTP URL: user name and password must be ASCII")
        if username and not (implicit_tls or starttls) and not _is_loopback(host):
            raise ValueError(
                "SMTP URL: refusing to send credentials unencrypted; use smtps:// or starttls=true"
            )

        if port is None:
            port = 465 if implicit_tls else 587 if starttls else 25
        return cls(
            host=host,
            port=port,
            from_header=from_header,
            sender=sender,
            username=username,
            password=password,
            implicit_tls=implicit_tls,
            starttls=starttls,
            verify=verify,
            timeout=timeout,
        )

    def describe(self) -> str:
        """For log lines: server and transport security, no credentials."""
        security = "implicit TLS" if self.implicit_tls else "STARTTLS" if self.starttls else "plain"
        auth = ", with login" if self.username else ""
        return f"{self.host}:{self.port} ({security}{auth})"

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


# The headers a message may bring of its own (RFC 2369 and RFC 8058, for a digest).
OWN_HEADERS = frozenset({"List-Unsubscribe", "List-Unsubscribe-Post"})


def _encoded_subject(subject: str) -> str:
    """The subject as RFC 2047 encoded words, folded. The spaces stay inside the encoded words:
    the standard library's own folding puts them between two words, where mail programs drop
    them ("Altstadt  – Streit", or a leading space)."""
    charset = "us-ascii" if subject.isascii() else "utf-8"
    return Header(subject, charset, header_name="Subject").encode(linesep="\n")


def compose(message: outbox.OutboxMessage, smtp: SmtpSettings) -> EmailMessage:
    """The e-mail for an outbox row. Its Message-ID derives from the row, so a message that is
    delivered twice (a crash between sending and marking it sent) can be recognized as one."""
    domain = smtp.sender.rpartition("@")[2]
    email = EmailMessage()
    email["From"] = smtp.from_header
    email["To"] = outbox.check_recipient(message.recipient)
    email.set_raw("Subject", _encoded_subject(message.subject))
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = (
        f"<peerconsult.{message.id}.{int(message.created_at.timestamp())}@{domain}>"
    )
    email["Auto-Submitted"] = "auto-generated"
    for name, value in message.headers.items():
        if name in OWN_HEADERS:
            email[name] = value
    email.set_content(message.body, charset="utf-8")
    return email


class _Client:
    """One SMTP session, opened on first use; its methods block (run them in a thread)."""

    def __init__(self, smtp: SmtpSettings) -> None:
        self._settings = smtp
        self._session: smtplib.SMTP | None = None

    def send(self, email: EmailMessage) -> None:
        if self._session is None:
            self._session = self._open()
        self._session.send_message(email, from_addr=self._settings.sender)

    def _open(self) -> smtplib.SMTP:
        s = self._settings
        session: smtplib.SMTP
        if s.implicit_tls:
            session = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=s.tls_context())
        else:
            session = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            session.ehlo()
            if s.starttls:
                session.starttls(context=s.tls_context())
                session.ehlo()
            if s.username and s.password is not None:
                session.login(s.username, s.password)
        except BaseException:
            session.close()
            raise
        return session

    def close(self) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        try:
            session.quit()
        except (OSError, smtplib.SMTPException):
            session.close()


@dataclass(frozen=True, slots=True)
class _Failure:
    error: str  # class name and SMTP code: never the server's text (it may quote addresses)
    permanent: bool  # retrying cannot help (the address or the message was refused for good)
    session_broken: bool  # stop this round: the server is unreachable or the session is gone


def _classify(exc: Exception) -> _Failure:
    name = type(exc).__name__
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in exc.recipients.values()})
        text = " ".join(str(code) for code in codes)
        return _Failure(f"{name} {text}".strip(), bool(codes) and min(codes) >= 500, False)
    if isinstance(exc, smtplib.SMTPDataError):
        return _Failure(f"{name} {exc.smtp_code}", exc.smtp_code >= 500, False)
    if isinstance(exc, smtplib.SMTPResponseException):
        # refused sender, HELO, login, connect: the configuration or the server, not the message
        return _Failure(f"{name} {exc.smtp_code}", False, True)
    return _Failure(name, False, True)


async def _attempt(
    client: _Client, message: outbox.OutboxMessage, smtp: SmtpSettings
) -> _Failure | None:
    """Send one message; None on success."""
    try:
        email = compose(message, smtp)
    except (ValueError, TypeError) as exc:  # an unusable address or header: retrying won't help
        return _Failure(type(exc).__name__, True, False)
    try:
        await asyncio.to_thread(client.send, email)
    except Exception as exc:
        return _classify(exc)
    return None


async def deliver_due(
    pool: asyncpg.Pool, smtp: SmtpSettings, *, batch: int = 20, max_attempts: int = MAX_ATTEMPTS
) -> int:
    """Send up to ``batch`` due messages; returns how many the SMTP server accepted.

    Each message is claimed in its own transaction (``FOR UPDATE SKIP LOCKED``), sent while its
    row stays locked, and marked sent or failed before the commit. A failure counts an attempt
    and schedules the next one with exponential backoff; after ``max_attempts`` (or at once
    when the server refuses the address or message for good) the row stays unsent with its
    error for the coordinator. When the server is unreachable the round ends at the first
    failure, so the other due messages are not charged an attempt. Database errors propagate.
    """
    client = _Client(smtp)
    sent = failed = 0
    try:
        async with pool.acquire() as conn:
            for _ in range(batch):
                async with conn.transaction():
                    message = await outbox.claim_due(conn, max_attempts=max_attempts)
                    if message is None:
                        break
                    failure = await _attempt(client, message, smtp)
                    if failure is None:
                        await outbox.mark_sent(conn, message.id)
                        sent += 1
                        continue
                    failed += 1
                    attempts = max_attempts if failure.permanent else message.attempts + 1
                    await outbox.mark_failed(
                        conn,
                        message.id,
                        attempts=attempts,
                        error=failure.error,
                        retry_in=backoff(attempts),
                    )
                log.warning(
                    "e-mail %d (%s): attempt %d failed: %s%s",
                    message.id,
                    message.kind,
                    message.attempts + 1,
                    failure.error,
                    "; giving up" if attempts >= max_attempts else "",
                )
                if failure.session_broken:
                    break
    finally:
        await asyncio.to_thread(client.close)
    if sent or failed:
        log.info("e-mail: %d sent, %d failed", sent, failed)
        metrics.EMAILS.labels("sent").inc(sent)
        metrics.EMAILS.labels("failed").inc(failed)
    return sent


# Work that fills the outbox just before a delivery round (sign-in links asked for, looked up
# behind the outbox); it gets the pool, and what it returns is not used.
Preparation = Callable[[asyncpg.Pool], Awaitable[object]]


async def run_sender(
    pool: asyncpg.Pool,
    smtp: SmtpSettings,
    *,
    interval: float = 5.0,
    stop: asyncio.Event,
    batch: int = 20,
    prepare: Preparation | None = None,
) -> None:
    """Deliver the outbox every ``interval`` seconds (at once again after a full batch) until
    ``stop`` is set, each round after ``prepare``. Never raises on database or SMTP trouble:
    it logs the error class and tries again next round."""
    log.info("e-mail sender started: %s", smtp.describe())
    while not stop.is_set():
        sent = 0
        try:
            if prepare is not None:
                await prepare(pool)
            sent = await deliver_due(pool, smtp, batch=batch)
        except Exception as exc:
            log.warning(
                "e-mail sender: round failed (%s); next try in %.0f s",
                type(exc).__name__,
                interval,
            )
        if sent >= batch:
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
    log.info("e-mail sender stopped")
