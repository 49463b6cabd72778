"""Parsing PEERCONSULT_SMTP_URL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.notifications.sender import SmtpSettings, backoff

FROM = "from=noreply%40example.org"


def test_plain_smtp_with_defaults() -> None:
    smtp = SmtpSettings.from_url(f"smtp://mail.example.org?{FROM}")
    assert (smtp.host, smtp.port) == ("mail.example.org", 25)
    assert smtp.sender == smtp.from_header == "noreply@example.org"
    assert not smtp.implicit_tls and not smtp.starttls and smtp.verify
    assert smtp.username is None and smtp.password is None
    assert smtp.timeout == 10.0


def test_starttls_with_credentials_and_display_name() -> None:
    smtp = SmtpSettings.from_url(
        "smtp://mailer%40example.org:s3cr%3At@Mail.Example.org"
        "?from=peerconsult%20%3Cnoreply%40example.org%3E&starttls=true&timeout=2.5"
    )
    assert (smtp.host, smtp.port) == ("mail.example.org", 587)
    assert smtp.starttls and not smtp.implicit_tls
    assert smtp.username == "mailer@example.org"
    assert smtp.password == "s3cr:t"
    assert smtp.from_header == "peerconsult <noreply@example.org>"
    assert smtp.sender == "noreply@example.org"
    assert smtp.timeout == 2.5


@pytest.mark.parametrize(
    "url",
    [
        f"smtps://user:s3cret@mail.example.org?{FROM}",
        f"smtp://user:s3cret@mail.example.org?{FROM}&ssl=true",
        f"SMTPS://user:s3cret@mail.example.org?{FROM}&ssl=1&verify=false",
    ],
)
def test_implicit_tls(url: str) -> None:
    smtp = SmtpSettings.from_url(url)
    assert smtp.implicit_tls and not smtp.starttls
    assert smtp.port == 465


def test_explicit_port_and_ipv6_host() -> None:
    smtp = SmtpSettings.from_url(f"smtp://[::1]:2525/?{FROM}")
    assert (smtp.host, smtp.port) == ("::1", 2525)


def test_credentials_over_plain_smtp_only_to_loopback() -> None:
    assert SmtpSettings.from_url(f"smtp://u:p@127.0.0.1:1025?{FROM}").username == "u"
    assert SmtpSettings.from_url(f"smtp://u:p@localhost?{FROM}").username == "u"


def test_the_password_never_shows() -> None:
    smtp = SmtpSettings.from_url(f"smtps://user:hunter2-secret@mail.example.org?{FROM}")
    assert "hunter2-secret" not in repr(smtp)
    assert "hunter2-secret" not in str(smtp)
    assert "hunter2-secret" not in smtp.describe()
    assert smtp.describe() == "mail.example.org:465 (implicit TLS, with login)"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "scheme must be smtp"),
        ("http://mail.example.org?from=a%40b.de", "scheme must be smtp"),
        ("smtp://?from=a%40b.de", "host is missing"),
        ("smtp://mail.example.org:http?from=a%40b.de", "port must be a number"),
        ("smtp://mail.example.org:70000?from=a%40b.de", "port must be a number"),
        ("smtp://mail.example.org:0?from=a%40b.de", "port must be a number"),
        ("smtp://mail.example.org/inbox?from=a%40b.de", "path is not allowed"),
        ("smtp://mail.example.org?from=a%40b.de#x", "fragment"),
        ("smtp://mail.example.org", "sender address is missing"),
        ("smtp://mail.example.org?from=", "sender address is missing"),
        ("smtp://mail.example.org?from=nobody", "not an e-mail address"),
        ("smtp://mail.example.org?from=a%40b.de%0ABcc%3Ax%40y.de", "single line"),
        ("smtp://mail.example.org?from=a%40b.de&tls=1", "unknown parameter 'tls'"),
        ("smtp://mail.example.org?from=a%40b.de&from=c%40d.de", "given twice"),
        ("smtp://mail.example.org?from=a%40b.de&starttls=maybe", "starttls must be true or"),
        ("smtps://mail.example.org?from=a%40b.de&ssl=false", "contradicts smtps"),
        ("smtps://mail.example.org?from=a%40b.de&starttls=true", "exclude each other"),
        ("smtp://mail.example.org?from=a%40b.de&timeout=soon", "timeout must be a number"),
        ("smtp://mail.example.org?from=a%40b.de&timeout=0", "timeout must be more than 0"),
        ("smtp://mail.example.org?from=a%40b.de&timeout=nan", "timeout must be more than 0"),
        ("smtp://:topsecret@mail.example.org?from=a%40b.de", "password needs a user"),
        ("smtps://user@mail.example.org?from=a%40b.de", "needs a password"),
        ("smtp://user:topsecret@mail.example.org?from=a%40b.de", "unencrypted"),
        ("smtps://user:t%C3%B6psecret@mail.example.org?from=a%40b.de", "must be ASCII"),
    ],
)
def test_invalid_urls_are_refused_clearly(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match="SMTP URL") as raised:
        SmtpSettings.from_url(url)
    message = str(raised.value)
    assert problem in message
    assert "topsecret" not in message and "töpsecret" not in message


def test_backoff_doubles_up_to_an_hour() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(8) == timedelta(hours=1)
    assert backoff(1000) == timedelta(hours=1)
