"""The texts of the e-mail notifications, in German: pure functions, one per message.

The network addresses each other informally ("du"), so the messages do too. Question titles
and names come from members: they are put into the subject only after folding every kind of
line break and whitespace into single spaces (no header injection), and the subject is kept
short. Bodies are plain text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

# The ``kind`` stored with each outbox row.
INVITED = "invited"
ACCEPTED = "accepted"
DECLINED = "declined"

SUBJECT_TITLE_MAX = 100

_WHITESPACE = re.compile(r"\s+", re.UNICODE)
_SIGNATURE = (
    "Viele Grüße\n"
    "peerconsult – Netzwerk Kommunale Partizipationsbeauftragte\n"
    "\n"
    "Diese Nachricht hat peerconsult automatisch verschickt."
)


@dataclass(frozen=True, slots=True)
class Message:
    """One e-mail: a single-line subject and a plain-text body."""

    subject: str
    body: str


def one_line(text: str) -> str:
    """``text`` on one line: every run of whitespace (line breaks included) becomes a space."""
    return _WHITESPACE.sub(" ", text).strip()


def _short(text: str, limit: int = SUBJECT_TITLE_MAX) -> str:
    text = one_line(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _paragraphs(text: str) -> str:
    """Member-written text for a body: normalized line ends, quoted, no trailing blanks."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").strip().split("\n")
    return "\n".join(f"> {line.rstrip()}".rstrip() for line in lines)


def _compose(*parts: str) -> str:
    return "\n\n".join(part for part in parts if part) + "\n"


def invited(
    *,
    peer_name: str,
    asker_name: str,
    asker_municipality: str,
    question_title: str,
    message: str | None = None,
    expires_on: date | None = None,
) -> Message:
    """To the invited peer: who asks, about what, and that they may accept or decline.

    Deliberately no e-mail address of the asker: contact details are shared only on acceptance.
    """
    asker = f"{one_line(asker_name)} ({one_line(asker_municipality)})"
    note = (
        _compose("Die Nachricht dazu:", _paragraphs(message)).rstrip("\n")
        if message and message.strip()
        else ""
    )
    deadline = (
        f"Die Anfrage ist bis zum {expires_on:%d.%m.%Y} offen." if expires_on is not None else ""
    )
    return Message(
        subject=f"Anfrage zur kollegialen Beratung: {_short(question_title)}",
        body=_compose(
            f"Hallo {one_line(peer_name)},",
            f"{asker} bittet dich um eine kollegiale Beratung zur Frage:",
            f"„{one_line(question_title)}“",
            note,
            "Du kannst die Anfrage in peerconsult annehmen oder ablehnen. Erst wenn du annimmst, "
            "bekommt ihr beide die E-Mail-Adresse der anderen Seite und könnt euch direkt "
            "verabreden.",
            deadline,
            _SIGNATURE,
        ),
    )


def accepted(
    *,
    asker_name: str,
    peer_name: str,
    peer_municipality: str,
    peer_email: str,
    question_title: str,
) -> Message:
    """To the asker: the peer accepted; here is how to reach them."""
    peer = one_line(peer_name)
    return Message(
        subject=f"Zusage zur kollegialen Beratung: {_short(question_title)}",
        body=_compose(
            f"Hallo {one_line(asker_name)},",
            f"{peer} ({one_line(peer_municipality)}) hat deine Anfrage zur kollegialen "
            "Beratung angenommen:",
            f"„{one_line(question_title)}“",
            f"So erreichst du {peer}:\nE-Mail: {one_line(peer_email)}",
            f"Am besten meldest du dich direkt bei {peer} und ihr verabredet einen Termin. "
            "Nach dem Gespräch freuen wir uns über eine kurze Rückmeldung in peerconsult, "
            "ob die Beratung geholfen hat.",
            _SIGNATURE,
        ),
    )


def accepted_copy(
    *,
    peer_name: str,
    asker_name: str,
    asker_municipality: str,
    asker_email: str,
    question_title: str,
) -> Message:
    """To the peer who accepted: a copy with the asker's contact details."""
    asker = one_line(asker_name)
    return Message(
        subject=f"Du hast zugesagt: {_short(question_title)}",
        body=_compose(
            f"Hallo {one_line(peer_name)},",
            f"danke, dass du die Anfrage von {asker} ({one_line(asker_municipality)}) "
            "angenommen hast:",
            f"„{one_line(question_title)}“",
            f"So erreichst du {asker}:\nE-Mail: {one_line(asker_email)}",
            f"{asker} hat deine E-Mail-Adresse ebenfalls bekommen und meldet sich bei dir, "
            "um einen Termin zu verabreden.",
            _SIGNATURE,
        ),
    )


def declined(*, asker_name: str, peer_name: str, question_title: str) -> Message:
    """To the asker: the peer declined (no reason given); invite someone else."""
    return Message(
        subject=f"Absage zur kollegialen Beratung: {_short(question_title)}",
        body=_compose(
            f"Hallo {one_line(asker_name)},",
            f"{one_line(peer_name)} kann deine Anfrage zur Frage "
            f"„{one_line(question_title)}“ leider nicht übernehmen.",
            "In peerconsult findest du zu deiner Frage weitere passende Vorschläge. "
            "Lade gern eine andere Kollegin oder einen anderen Kollegen ein.",
            _SIGNATURE,
        ),
    )
