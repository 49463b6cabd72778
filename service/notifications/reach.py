"""The e-mails of the network's reach, in German: offers of help on open questions, the digest,
and the coordinator's note about a gap. Pure functions, written as ``messages`` writes its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from service.notifications.messages import (
    SIGNATURE,
    Message,
    compose,
    hello,
    one_line,
    quote,
    short,
)


def gap_help(
    *, name: str, topic: str, question_titles: list[str], link: str, note: str | None = None
) -> Message:
    """To a colleague who comes closest to a gap: the questions nobody covered yet (without who
    asked them), and where to add their experience."""
    listed = "\n".join(f"- „{one_line(title)}“" for title in question_titles)
    return Message(
        subject=f"Können Sie helfen? Fragen im Netzwerk zu {short(topic, 60)}",
        body=compose(
            hello(name),
            "im Netzwerk wurden Fragen gestellt, zu denen bisher niemand passende Erfahrung "
            f"angegeben hat. Ihr Profil kommt dem Thema „{one_line(topic)}“ am nächsten:",
            listed,
            quote(note, "Die Nachricht der Koordination dazu:"),
            "Haben Sie damit Erfahrung? Dann ergänzen Sie sie bitte in Ihrem Profil: Wer solche "
            "Fragen stellt, bekommt Sie dann vorgeschlagen und kann Sie um eine kollegiale "
            "Beratung bitten.\n" + link,
            "Wenn Sie dazu keine Erfahrung haben, müssen Sie nichts tun.",
            SIGNATURE,
        ),
    )


def offered(
    *,
    asker_name: str,
    helper_name: str,
    helper_municipality: str,
    question_title: str,
    link: str,
    message: str | None = None,
    expires_on: date | None = None,
) -> Message:
    """To the asker of an open question: a colleague offers help; accept or decline."""
    helper = f"{one_line(helper_name)} ({one_line(helper_municipality)})"
    return Message(
        subject=f"Angebot zur kollegialen Beratung: {short(question_title)}",
        body=compose(
            hello(asker_name),
            f"{helper} hat Ihre offene Frage gesehen und bietet Ihnen Hilfe an:",
            f"„{one_line(question_title)}“",
            quote(message, "Die Nachricht dazu:"),
            "Sie können das Angebot hier annehmen oder ablehnen:\n" + link,
            "Erst wenn Sie annehmen, bekommen Sie beide die E-Mail-Adresse der anderen Seite.",
            f"Das Angebot ist bis zum {expires_on:%d.%m.%Y} offen." if expires_on else "",
            SIGNATURE,
        ),
    )


def offer_accepted(
    *,
    helper_name: str,
    asker_name: str,
    asker_municipality: str,
    asker_email: str,
    question_title: str,
    link: str,
) -> Message:
    """To the colleague who offered help: the asker accepted; here is how to reach them."""
    asker = one_line(asker_name)
    return Message(
        subject=f"Ihr Angebot ist angenommen: {short(question_title)}",
        body=compose(
            hello(helper_name),
            f"{asker} ({one_line(asker_municipality)}) hat Ihr Angebot zur kollegialen "
            "Beratung angenommen:",
            f"„{one_line(question_title)}“",
            f"So erreichen Sie {asker}:\nE-Mail: {one_line(asker_email)}",
            f"{asker} hat Ihre E-Mail-Adresse ebenfalls bekommen; verabreden Sie am besten "
            "direkt einen Termin. Die Anfrage finden Sie hier:\n" + link,
            SIGNATURE,
        ),
    )


def offer_accepted_copy(
    *,
    asker_name: str,
    helper_name: str,
    helper_municipality: str,
    helper_email: str,
    question_title: str,
    link: str,
) -> Message:
    """To the asker who accepted an offer: a copy with the colleague's contact details."""
    helper = one_line(helper_name)
    return Message(
        subject=f"Sie haben ein Angebot angenommen: {short(question_title)}",
        body=compose(
            hello(asker_name),
            f"Sie haben das Angebot von {helper} ({one_line(helper_municipality)}) zu Ihrer "
            "Frage angenommen:",
            f"„{one_line(question_title)}“",
            f"So erreichen Sie {helper}:\nE-Mail: {one_line(helper_email)}",
            "Nach dem Gespräch freuen wir uns über eine kurze Rückmeldung, ob die Beratung "
            "geholfen hat:\n" + link,
            SIGNATURE,
        ),
    )


def offer_declined(*, helper_name: str, asker_name: str, question_title: str, link: str) -> Message:
    """To the colleague who offered help: the asker declined (no reason given)."""
    return Message(
        subject=f"Zu Ihrem Angebot: {short(question_title)}",
        body=compose(
            hello(helper_name),
            f"danke für Ihr Angebot zur Frage „{one_line(question_title)}“. "
            f"{one_line(asker_name)} nimmt es nicht an, zum Beispiel weil sich schon jemand "
            "anderes gefunden hat. Sie brauchen nichts weiter zu tun.",
            "Weitere offene Fragen, die zu Ihnen passen, finden Sie hier:\n" + link,
            SIGNATURE,
        ),
    )


def offer_withdrawn(
    *, asker_name: str, helper_name: str, question_title: str, link: str
) -> Message:
    """To the asker: the colleague withdrew their offer; nothing more to do."""
    return Message(
        subject=f"Angebot zurückgezogen: {short(question_title)}",
        body=compose(
            hello(asker_name),
            f"{one_line(helper_name)} hat das Angebot zu Ihrer Frage „{one_line(question_title)}“ "
            "zurückgezogen. Sie brauchen nichts weiter zu tun.",
            "Ihre Frage finden Sie hier:\n" + link,
            SIGNATURE,
        ),
    )


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One line of a digest: what, from whom, and the page where its reader acts."""

    title: str
    who: str
    link: str


def digest(
    *,
    name: str,
    weekly: bool,
    questions: list[DigestItem],
    invitations: list[DigestItem],
    offers: list[DigestItem],
    settings_link: str,
    unsubscribe_link: str,
) -> Message:
    """The digest: open questions that fit the reader, invitations waiting for their answer and
    offers of help waiting for them as askers, each one click from its page. Carries the
    one-click unsubscribe of RFC 8058."""

    def section(heading: str, items: list[DigestItem]) -> str:
        if not items:
            return ""
        lines = [
            f"- „{one_line(item.title)}“ ({one_line(item.who)})\n  {item.link}" for item in items
        ]
        return heading + "\n\n" + "\n".join(lines)

    counts = []
    if questions:
        counts.append(f"{len(questions)} offene {'Frage' if len(questions) == 1 else 'Fragen'}")
    if invitations:
        counts.append(f"{len(invitations)} {'Anfrage' if len(invitations) == 1 else 'Anfragen'}")
    if offers:
        counts.append(f"{len(offers)} {'Angebot' if len(offers) == 1 else 'Angebote'}")
    period = "wöchentlich" if weekly else "täglich"
    return Message(
        subject="Neu für Sie im Netzwerk: " + ", ".join(counts),
        body=compose(
            hello(name),
            f"hier ist Ihre {'wöchentliche' if weekly else 'tägliche'} Zusammenfassung aus dem "
            "Netzwerk.",
            section(
                "Offene Fragen, zu denen Ihre Erfahrung passt (mit einem Klick bieten Sie Hilfe "
                "an):",
                questions,
            ),
            section("Anfragen an Sie, die auf Ihre Antwort warten:", invitations),
            section("Angebote zu Ihren Fragen, die auf Ihre Antwort warten:", offers),
            f"Sie bekommen diese Zusammenfassung {period}. Wie oft, stellen Sie in Ihrem Profil "
            "ein:\n" + settings_link,
            "Keine Zusammenfassungen mehr bekommen:\n" + unsubscribe_link,
            SIGNATURE,
        ),
        headers={
            "List-Unsubscribe": f"<{unsubscribe_link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
