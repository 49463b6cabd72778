"""The e-mails of the network's memory, in German: asking a colleague whether they appear by
name on a shared outcome, and reminding an asker to say how a consultation went. Pure
functions, written as ``messages`` writes its own."""

from __future__ import annotations

from service.notifications.messages import SIGNATURE, Message, compose, hello, one_line, short


def named_choice(
    *, helper_name: str, asker_name: str, question_title: str, yes_link: str, no_link: str
) -> Message:
    """To the colleague of an accepted request: the asker shared what came out; may the network
    see their name on it?"""
    asker = one_line(asker_name)
    return Message(
        subject=f"Mit Namen genannt werden? {short(question_title)}",
        body=compose(
            hello(helper_name),
            f"{asker} hat festgehalten, was aus Ihrer Beratung zur Frage "
            f"„{one_line(question_title)}“ herausgekommen ist, und es mit dem ganzen Netzwerk "
            "geteilt. Wer später eine ähnliche Frage stellt, findet es.",
            "Möchten Sie dabei mit Namen und Kommune als Beraterin oder Berater genannt werden? "
            "Dann können andere Sie direkt dazu anfragen, und Ihre Erfahrung zählt bei "
            "Vorschlägen zu diesem Thema mit. Ohne Ihre Zustimmung erscheint Ihr Name nicht.",
            "Ja, mit Namen nennen:\n" + yes_link,
            "Nein, nicht nennen:\n" + no_link,
            "Sie können Ihre Wahl jederzeit unter „Meine Anfragen“ ändern.",
            SIGNATURE,
        ),
    )


def outcome_reminder(
    *,
    asker_name: str,
    helper_name: str,
    question_title: str,
    feedback_link: str | None,
    outcome_link: str | None,
) -> Message:
    """To the asker, a week after a colleague accepted: how did it go, and what came out?"""
    asks = []
    if feedback_link:
        asks.append(
            "Hat die Beratung geholfen? Ihre kurze Rückmeldung (1 bis 5):\n" + feedback_link
        )
    if outcome_link:
        asks.append(
            "Was ist dabei herausgekommen? Ein paar Sätze genügen; teilen Sie sie mit dem "
            "Netzwerk, finden sie alle, die später Ähnliches fragen:\n" + outcome_link
        )
    return Message(
        subject=f"Wie war die Beratung? {short(question_title)}",
        body=compose(
            hello(asker_name),
            f"vor einer Woche hat {one_line(helper_name)} Ihre Anfrage zur Frage "
            f"„{one_line(question_title)}“ angenommen.",
            *asks,
            "Diese Erinnerung kommt nur einmal.",
            SIGNATURE,
        ),
    )
