"""The texts of the e-mails, in German: pure functions, one per message.

The network's letters address people as "Sie", plainly and friendly, and every message ends
with the link to the page where its reader acts. Question titles and names come from members:
they are put into the subject only after folding every kind of line break and whitespace into
single spaces (no header injection), and the subject is kept short. Bodies are plain text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from service.local_time import local

# The ``kind`` stored with each outbox row.
INVITED = "invited"
ACCEPTED = "accepted"
DECLINED = "declined"
WELCOME = "welcome"
SIGN_IN = "sign-in"
APPLICATION_CONFIRM = "application-confirm"
APPLICATION_DECLINED = "application-declined"
WITHDRAWN = "withdrawn"
EMAIL_CONFIRM = "email-confirm"
EMAIL_CHANGED = "email-changed"
GAP_HELP = "gap-help"
OFFERED = "offered"
OFFER_ACCEPTED = "offer-accepted"
OFFER_DECLINED = "offer-declined"
OFFER_WITHDRAWN = "offer-withdrawn"
DIGEST = "digest"
NAMED_CHOICE = "named-choice"
OUTCOME_REMINDER = "outcome-reminder"

SUBJECT_TITLE_MAX = 100

_WHITESPACE = re.compile(r"\s+", re.UNICODE)
SIGNATURE = (
    "Mit freundlichen Grüßen\n"
    "peerconsult – Netzwerk Kommunale Partizipationsbeauftragte\n"
    "\n"
    "Diese Nachricht hat peerconsult automatisch verschickt."
)


@dataclass(frozen=True, slots=True)
class Message:
    """One e-mail: a single-line subject, a plain-text body, and any headers of its own (a
    digest's ``List-Unsubscribe``)."""

    subject: str
    body: str
    headers: Mapping[str, str] = field(default_factory=dict)


def one_line(text: str) -> str:
    """``text`` on one line: every run of whitespace (line breaks included) becomes a space."""
    return _WHITESPACE.sub(" ", text).strip()


def short(text: str, limit: int = SUBJECT_TITLE_MAX) -> str:
    text = one_line(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def paragraphs(text: str) -> str:
    """Member-written text for a body: normalized line ends, quoted, no trailing blanks."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").strip().split("\n")
    return "\n".join(f"> {line.rstrip()}".rstrip() for line in lines)


def compose(*parts: str) -> str:
    return "\n\n".join(part for part in parts if part) + "\n"


def quote(message: str | None, heading: str) -> str:
    """A note a member or the coordinator wrote, quoted under ``heading``; nothing without one."""
    if not message or not message.strip():
        return ""
    return compose(heading, paragraphs(message)).rstrip("\n")


def hello(name: str) -> str:
    return f"Guten Tag {one_line(name)},"


def until(moment: datetime) -> str:
    """A link's end, as a person in the network reads it: "bis zum 12.12.2026, 14:05 Uhr"."""
    return f"bis zum {local(moment):%d.%m.%Y, %H:%M} Uhr"


def invited(
    *,
    peer_name: str,
    asker_name: str,
    asker_municipality: str,
    question_title: str,
    link: str,
    message: str | None = None,
    expires_on: date | None = None,
) -> Message:
    """To the invited colleague: who asks, about what, and where to accept or decline.

    Deliberately no e-mail address of the asker: contact details are shared only on acceptance.
    """
    asker = f"{one_line(asker_name)} ({one_line(asker_municipality)})"
    quoted = quote(message, "Die Nachricht dazu:")
    deadline = (
        f"Die Anfrage ist bis zum {expires_on:%d.%m.%Y} offen." if expires_on is not None else ""
    )
    return Message(
        subject=f"Anfrage zur kollegialen Beratung: {short(question_title)}",
        body=compose(
            hello(peer_name),
            f"{asker} bittet Sie um eine kollegiale Beratung zur Frage:",
            f"„{one_line(question_title)}“",
            quoted,
            "Sie können die Anfrage hier annehmen oder ablehnen:\n" + link,
            "Erst wenn Sie annehmen, bekommen Sie beide die E-Mail-Adresse der anderen Seite "
            "und können sich direkt verabreden.",
            deadline,
            SIGNATURE,
        ),
    )


def accepted(
    *,
    asker_name: str,
    peer_name: str,
    peer_municipality: str,
    peer_email: str,
    question_title: str,
    link: str,
) -> Message:
    """To the asker: the colleague accepted; here is how to reach them."""
    peer = one_line(peer_name)
    return Message(
        subject=f"Zusage zur kollegialen Beratung: {short(question_title)}",
        body=compose(
            hello(asker_name),
            f"{peer} ({one_line(peer_municipality)}) hat Ihre Anfrage zur kollegialen "
            "Beratung angenommen:",
            f"„{one_line(question_title)}“",
            f"So erreichen Sie {peer}:\nE-Mail: {one_line(peer_email)}",
            f"Am besten melden Sie sich direkt bei {peer} und verabreden einen Termin. Nach "
            "dem Gespräch freuen wir uns über eine kurze Rückmeldung, ob die Beratung "
            "geholfen hat:\n" + link,
            SIGNATURE,
        ),
    )


def accepted_copy(
    *,
    peer_name: str,
    asker_name: str,
    asker_municipality: str,
    asker_email: str,
    question_title: str,
    link: str,
) -> Message:
    """To the colleague who accepted: a copy with the asker's contact details."""
    asker = one_line(asker_name)
    return Message(
        subject=f"Sie haben zugesagt: {short(question_title)}",
        body=compose(
            hello(peer_name),
            f"danke, dass Sie die Anfrage von {asker} ({one_line(asker_municipality)}) "
            "angenommen haben:",
            f"„{one_line(question_title)}“",
            f"So erreichen Sie {asker}:\nE-Mail: {one_line(asker_email)}",
            f"{asker} hat Ihre E-Mail-Adresse ebenfalls bekommen und meldet sich bei Ihnen, "
            "um einen Termin zu verabreden. Die Anfrage finden Sie hier:\n" + link,
            SIGNATURE,
        ),
    )


def declined(*, asker_name: str, peer_name: str, question_title: str, link: str) -> Message:
    """To the asker: the colleague declined (no reason given); invite someone else."""
    return Message(
        subject=f"Absage zur kollegialen Beratung: {short(question_title)}",
        body=compose(
            hello(asker_name),
            f"{one_line(peer_name)} kann Ihre Anfrage zur Frage "
            f"„{one_line(question_title)}“ leider nicht übernehmen.",
            "Zu Ihrer Frage gibt es weitere passende Vorschläge. Laden Sie gern eine andere "
            "Kollegin oder einen anderen Kollegen ein:\n" + link,
            SIGNATURE,
        ),
    )


def withdrawn(*, peer_name: str, asker_name: str, question_title: str, link: str) -> Message:
    """To the invited colleague: the asker withdrew the invitation; nothing more to do."""
    return Message(
        subject=f"Anfrage zurückgezogen: {short(question_title)}",
        body=compose(
            hello(peer_name),
            f"{one_line(asker_name)} hat die Anfrage zur Frage „{one_line(question_title)}“ "
            "zurückgezogen, zum Beispiel weil sich die Frage inzwischen erledigt hat. Sie "
            "brauchen nichts weiter zu tun.",
            "Ihre Anfragen finden Sie hier:\n" + link,
            SIGNATURE,
        ),
    )


def email_confirm(*, name: str, new_email: str, link: str, valid_until: datetime) -> Message:
    """To the new address a member gave: confirm it, and only then it counts."""
    return Message(
        subject="Bitte bestätigen Sie Ihre neue E-Mail-Adresse bei peerconsult",
        body=compose(
            hello(name),
            f"Sie möchten bei peerconsult künftig die Adresse {one_line(new_email)} nutzen. "
            "Bitte bestätigen Sie mit diesem Link, dass sie Ihnen gehört:\n" + link,
            f"Der Link gilt {until(valid_until)}. Bis dahin bleibt Ihre bisherige Adresse "
            "gültig. Haben Sie keine Änderung angefordert, können Sie diese Nachricht löschen.",
            SIGNATURE,
        ),
    )


def email_change_requested(*, name: str, new_email: str) -> Message:
    """To the old address: someone asked to change it; nothing happens without the link."""
    return Message(
        subject="Ihre E-Mail-Adresse bei peerconsult soll geändert werden",
        body=compose(
            hello(name),
            f"für Ihr Konto bei peerconsult wurde eine neue E-Mail-Adresse angegeben: "
            f"{one_line(new_email)}. Sie gilt erst, wenn sie mit dem Link bestätigt ist, den "
            "wir an diese neue Adresse geschickt haben.",
            "Waren Sie das nicht, melden Sie sich bitte bei peerconsult an und wenden Sie "
            "sich an die Koordination des Netzwerks. Ihre Adresse bleibt bis dahin unverändert.",
            SIGNATURE,
        ),
    )


def email_changed(*, name: str, old_email: str, new_email: str, by_coordinator: bool) -> Message:
    """To both addresses: the member's address is now the new one."""
    who = "Die Koordination des Netzwerks hat" if by_coordinator else "Sie haben"
    return Message(
        subject="Ihre E-Mail-Adresse bei peerconsult ist geändert",
        body=compose(
            hello(name),
            f"{who} die E-Mail-Adresse Ihres Kontos bei peerconsult geändert: von "
            f"{one_line(old_email)} auf {one_line(new_email)}. Anmeldelinks und Nachrichten "
            "gehen ab jetzt an die neue Adresse.",
            "Ist das nicht in Ihrem Sinn, wenden Sie sich bitte an die Koordination des Netzwerks.",
            SIGNATURE,
        ),
    )


def welcome(*, name: str, link: str, valid_until: datetime) -> Message:
    """To a new member: what peerconsult is, and a link that signs them in."""
    return Message(
        subject="Willkommen bei peerconsult, der kollegialen Beratung im Netzwerk",
        body=compose(
            hello(name),
            "willkommen bei peerconsult! Hier finden Mitglieder des Netzwerks Kommunale "
            "Partizipationsbeauftragte Kolleginnen und Kollegen aus anderen Kommunen, die "
            "schon gemacht haben, was sie gerade vorhaben, und beraten sich gegenseitig.",
            "Mit diesem Link melden Sie sich an, ohne Passwort:\n" + link,
            f"Der Link gilt {until(valid_until)} und nur einmal. Danach fordern Sie auf der "
            "Anmeldeseite jederzeit einen neuen an, mit dieser E-Mail-Adresse.",
            "Bitte sehen Sie sich nach der Anmeldung Ihr Profil an: Je genauer Sie Ihre "
            "Erfahrungen beschreiben, desto besser finden die anderen Sie.",
            SIGNATURE,
        ),
    )


def sign_in_link(*, name: str, link: str, valid_minutes: int, valid_until: datetime) -> Message:
    """To a member who asked for it: a link that signs them in once."""
    return Message(
        subject="Ihr Anmeldelink für peerconsult",
        body=compose(
            hello(name),
            "mit diesem Link melden Sie sich bei peerconsult an:\n" + link,
            f"Der Link gilt {valid_minutes} Minuten lang ({until(valid_until)}) und nur "
            "einmal. Haben Sie keinen "
            "Anmeldelink angefordert, können Sie diese Nachricht löschen: Ohne den Link "
            "meldet sich niemand an.",
            SIGNATURE,
        ),
    )


def application_confirm(*, name: str, link: str, valid_until: datetime) -> Message:
    """To an applicant: confirm the address, so that the application reaches the coordinator."""
    return Message(
        subject="Bitte bestätigen Sie Ihre Bewerbung bei peerconsult",
        body=compose(
            hello(name),
            "vielen Dank für Ihre Bewerbung um die Mitgliedschaft im Netzwerk Kommunale "
            "Partizipationsbeauftragte. Bitte bestätigen Sie mit diesem Link, dass die "
            "E-Mail-Adresse Ihnen gehört:\n" + link,
            f"Erst dann sieht die Koordination Ihre Bewerbung. Ohne Bestätigung löschen wir "
            f"sie {until(valid_until)} mit allen Angaben.",
            "Haben Sie sich nicht beworben, können Sie diese Nachricht löschen.",
            SIGNATURE,
        ),
    )


def application_declined(*, name: str, reason: str | None) -> Message:
    """To an applicant: the coordinator declined, with their reason if they gave one."""
    because = (
        compose("Die Koordination schreibt dazu:", paragraphs(reason)).rstrip("\n")
        if reason and reason.strip()
        else ""
    )
    return Message(
        subject="Ihre Bewerbung bei peerconsult",
        body=compose(
            hello(name),
            "vielen Dank für Ihr Interesse am Netzwerk Kommunale Partizipationsbeauftragte. "
            "Die Koordination hat Ihre Bewerbung geprüft und kann sie leider nicht annehmen.",
            because,
            "Bei Fragen antworten Sie gern der Koordination des Netzwerks. Ihre Angaben "
            "löschen wir in 30 Tagen.",
            SIGNATURE,
        ),
    )
