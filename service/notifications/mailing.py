"""Whether the service sends e-mail, and where the links in it lead."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Mailing:
    """E-mail is configured (``PEERCONSULT_SMTP_URL``): messages go to the outbox, and every
    link in them leads under the address members open (``PEERCONSULT_PUBLIC_URL``)."""

    public_url: str

    def link(self, path: str) -> str:
        """The address of one of the service's pages (``path`` starts with a slash)."""
        return self.public_url.rstrip("/") + path
