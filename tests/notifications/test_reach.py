"""The e-mails of the network's reach (service/notifications/reach.py): offers of help and the
digest say what a member needs to act, one click from the page, and are whole e-mails for any
text members type (hypothesis)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from hypothesis import given, settings
from hypothesis import strategies as st

from service.notifications import reach
from service.notifications.messages import Message
from service.notifications.outbox import OutboxMessage
from service.notifications.sender import SmtpSettings, compose

SMTP = SmtpSettings.from_url("smtp://127.0.0.1:2525?from=peerconsult%40example.org")
UNSUBSCRIBE = "https://peerconsult.example.org/zusammenfassung/abbestellen/abc"
SETTINGS = "https://peerconsult.example.org/profil"

# What members type: short, odd, non-Latin, with line breaks and control characters.
TYPED = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    min_size=1,
    max_size=80,
)


def _digest(**overrides: object) -> Message:
    arguments: dict[str, object] = {
        "name": "Jörg Müller",
        "weekly": True,
        "questions": [
            reach.DigestItem(
                "Bürgerrat per Los", "Ülkü Weiß, Gießen", "https://x.example/offene-fragen/1"
            )
        ],
        "invitations": [],
        "offers": [
            reach.DigestItem("Jugendforum", "Bernd Berater, Bonn", "https://x.example/anfragen/2")
        ],
        "settings_link": SETTINGS,
        "unsubscribe_link": UNSUBSCRIBE,
    }
    arguments.update(overrides)
    return reach.digest(**arguments)  # type: ignore[arg-type]


def _email(message: Message) -> EmailMessage:
    """The e-mail as sent, read back as a mail program reads it."""
    row = OutboxMessage(
        id=1,
        kind="digest",
        recipient="joerg@example.org",
        subject=message.subject,
        body=message.body,
        attempts=0,
        created_at=datetime(2026, 12, 7, 6, 0, tzinfo=UTC),
        headers=message.headers,
    )
    sent = compose(row, SMTP).as_bytes()
    parsed = BytesParser(policy=policy.default).parsebytes(sent)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_the_digest_names_what_is_new_each_one_click_away() -> None:
    message = _digest()
    assert message.subject == "Neu für Sie im Netzwerk: 1 offene Frage, 1 Angebot"
    assert message.body.startswith("Guten Tag Jörg Müller,\n\nhier ist Ihre wöchentliche")
    assert "- „Bürgerrat per Los“ (Ülkü Weiß, Gießen)\n  https://x.example/offene-fragen/1" in (
        message.body
    )
    assert "Angebote zu Ihren Fragen" in message.body
    assert "Anfragen an Sie" not in message.body  # no empty section
    assert f"Keine Zusammenfassungen mehr bekommen:\n{UNSUBSCRIBE}" in message.body


def test_the_digest_carries_the_one_click_unsubscribe_of_rfc_8058() -> None:
    email = _email(_digest())
    # A long link folds onto the header's next line (RFC 5322), as mail programs expect.
    assert email["List-Unsubscribe"].strip() == f"<{UNSUBSCRIBE}>"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_an_offer_tells_the_asker_who_offers_without_their_address() -> None:
    message = reach.offered(
        asker_name="Ülkü Weiß",
        helper_name="Jörg Müller",
        helper_municipality="Kassel",
        question_title="Bürgerrat\r\nper Los",
        link="https://x.example/anfragen/7",
        message="Gern!\nWir haben 2023 ausgelost.",
        expires_on=date(2026, 12, 21),
    )
    assert message.subject == "Angebot zur kollegialen Beratung: Bürgerrat per Los"
    assert "Jörg Müller (Kassel) hat Ihre offene Frage gesehen" in message.body
    assert "> Gern!\n> Wir haben 2023 ausgelost." in message.body
    assert "annehmen oder ablehnen:\nhttps://x.example/anfragen/7" in message.body
    assert "21.12.2026" in message.body
    assert "@" not in message.body


@settings(max_examples=60, deadline=None)
@given(name=TYPED, title=TYPED, who=TYPED, note=TYPED)
def test_any_typed_text_makes_whole_emails(name: str, title: str, who: str, note: str) -> None:
    link = "https://x.example/offene-fragen/1"
    messages = [
        _digest(
            name=name,
            questions=[reach.DigestItem(title, who, link)],
            offers=[],
            invitations=[reach.DigestItem(title, who, link)],
        ),
        reach.offered(
            asker_name=name,
            helper_name=who,
            helper_municipality=who,
            question_title=title,
            link=link,
            message=note,
        ),
        reach.offer_declined(helper_name=name, asker_name=who, question_title=title, link=link),
        reach.offer_withdrawn(asker_name=name, helper_name=who, question_title=title, link=link),
        reach.gap_help(name=name, topic=title, question_titles=[title], link=link, note=note),
    ]
    for message in messages:
        assert "\n" not in message.subject and "\r" not in message.subject
        # Every link stands on a line of its own, whatever was typed around it.
        assert f"\n{link}\n" in message.body or f"\n  {link}\n" in message.body
        email = _email(message)
        assert email["Subject"] == message.subject
        assert email.get_content() == message.body
