"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import asyncio
import contextlib
import email
import threading
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from service.notifications.sender import SmtpSettings

FROM = "peerconsult <noreply@example.org>"
FROM_QUERY = "from=peerconsult%20%3Cnoreply%40example.org%3E"


def smtp_settings(port: int, *, credentials: str = "") -> SmtpSettings:
    return SmtpSettings.from_url(f"smtp://{credentials}127.0.0.1:{port}?{FROM_QUERY}&timeout=10")


@dataclass(frozen=True)
class Received:
    peer: Any
    mail_from: str
    recipients: list[str]
    message: EmailMessage
    authenticated: bool

    @property
    def body(self) -> str:
        content: str = self.message.get_content()
        return content.replace("\r\n", "\n")


class Mailbox:
    """An aiosmtpd handler that keeps what it receives and can refuse chosen recipients.

    With ``hold_first`` the first message's DATA is answered only once a message from another
    SMTP session arrived (or after a safety timeout): proof that two senders worked at once.
    """

    def __init__(self, *, refuse: frozenset[str] = frozenset(), hold_first: bool = False) -> None:
        self.refuse = refuse
        self.hold_first = hold_first
        self.overlapped = False
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._second: asyncio.Event | None = None
        self._first_peer: Any = None

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self._received.append(
                Received(
                    peer=session.peer,
                    mail_from=envelope.mail_from,
                    recipients=list(envelope.rcpt_tos),
                    message=parsed,
                    authenticated=bool(session.authenticated),
                )
            )
            first = len(self._received) == 1
        if self.hold_first:
            if first:
                self._first_peer = session.peer
                self._second = asyncio.Event()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._second.wait(), timeout=20)
            elif self._second is not None and session.peer != self._first_peer:
                self.overlapped = True
                self._second.set()
        return "250 Message accepted for delivery"


class SmtpServer:
    """A real SMTP server on 127.0.0.1:``port``, started and stopped on demand."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._controller: Controller | None = None

    def start(self, mailbox: Mailbox, **smtp_parameters: Any) -> Mailbox:
        self.stop()
        controller = Controller(mailbox, hostname="127.0.0.1", port=self.port, **smtp_parameters)
        controller.start()
        self._controller = controller
        return mailbox

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
