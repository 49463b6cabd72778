"""Anmeldung and Abmeldung (api/web/routes/signin.py): the access token, links by e-mail,
sessions on the server, the CSRF token of every form, the cookie's secret."""

from __future__ import annotations

import httpx
import pytest
from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import ValidationError

from api.app import create_app
from api.web.auth import CSRF_FIELD
from api.web.cookie import COOKIE_NAME
from service.embedding import Embedder
from tests.helpers.api import create_member
from tests.helpers.app import ADMIN_TOKEN, make_settings
from tests.helpers.database import TransactionPool
from tests.helpers.mail import (
    SIGN_IN_LINK,
    Mailed,
    link_in,
    mail_to,
    settled,
    wait_for_mail,
)
from tests.helpers.pages import (
    QUESTION_WITH_TAG,
)
from tests.helpers.web import (
    browser_of,
    csrf_of,
    post_form,
    press_button,
    session_cookie,
    sign_in,
    text_of,
)


class TestSignIn:
    async def test_form_is_german_with_a_labelled_token_field(
        self, browser: httpx.AsyncClient
    ) -> None:
        page = await browser.get("/anmelden")
        assert page.status_code == 200
        assert '<html lang="de">' in page.text
        assert '<label for="token">Zugangsschlüssel' in page.text
        assert csrf_of(page.text)
        assert page.headers["cache-control"] == "no-store"

    async def test_member_signs_in_with_a_secure_http_only_cookie(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        response = await sign_in(browser, member.token)
        assert response.status_code == 303
        assert response.headers["location"] == "/fragen"
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE_NAME}=")
        assert "HttpOnly" in cookie and "Secure" in cookie and "samesite=lax" in cookie.lower()
        # The cookie holds neither the token nor anything that reveals it directly.
        value = session_cookie(browser)
        assert value and member.token not in value and member.token[3:] not in value
        page = await browser.get("/profil")
        assert page.status_code == 200
        assert "Mein Profil" in page.text

    async def test_coordinator_signs_in_with_the_admin_token(
        self, browser: httpx.AsyncClient
    ) -> None:
        response = await sign_in(browser, ADMIN_TOKEN)
        assert response.status_code == 303
        assert response.headers["location"] == "/koordination"
        assert ADMIN_TOKEN not in (session_cookie(browser) or "")

    async def test_wrong_token_is_refused_in_german(self, browser: httpx.AsyncClient) -> None:
        response = await sign_in(browser, "pc_not-a-token")
        assert response.status_code == 401
        assert "Dieser Zugangsschlüssel stimmt nicht" in text_of(response.text)
        assert 'aria-invalid="true"' in response.text
        assert (await browser.get("/profil")).status_code == 303

    async def test_empty_token_asks_for_one(self, browser: httpx.AsyncClient) -> None:
        response = await sign_in(browser, "  ")
        assert response.status_code == 422
        assert "Bitte geben Sie Ihren Zugangsschlüssel ein." in text_of(response.text)

    async def test_repeated_failures_are_throttled_and_a_valid_token_still_works(
        self, browser: httpx.AsyncClient
    ) -> None:
        statuses = [(await sign_in(browser, f"pc_wrong-{n}")).status_code for n in range(11)]
        assert statuses[-1] == 429
        wrong = await sign_in(browser, "pc_wrong-again")
        assert wrong.status_code == 429
        assert "Zu viele fehlgeschlagene Anmeldeversuche" in text_of(wrong.text)
        valid = await sign_in(browser, ADMIN_TOKEN)
        assert valid.status_code == 303
        assert valid.headers["location"] == "/koordination"

    async def test_next_page_after_sign_in(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        redirect = await browser.get("/anfragen")
        assert redirect.status_code == 303
        assert redirect.headers["location"] == "/anmelden?weiter=%2Fanfragen"
        form = await browser.get(redirect.headers["location"])
        assert 'name="weiter" value="/anfragen"' in form.text
        response = await browser.post(
            "/anmelden",
            data={CSRF_FIELD: csrf_of(form.text), "token": member.token, "weiter": "/anfragen"},
        )
        assert response.headers["location"] == "/anfragen"

    async def test_next_page_must_be_one_of_ours(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        form = await browser.get("/anmelden?weiter=//evil.example/")
        assert 'name="weiter" value=""' in form.text
        response = await browser.post(
            "/anmelden",
            data={
                CSRF_FIELD: csrf_of(form.text),
                "token": member.token,
                "weiter": "https://evil.example/",
            },
        )
        assert response.headers["location"] == "/fragen"

    async def test_sign_out_ends_the_session(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)
        response = await post_form(browser, "/profil", "/abmelden", {})
        assert response.status_code == 303
        assert response.headers["location"] == "/anmelden?hinweis=abgemeldet"
        assert session_cookie(browser) is None
        page = await browser.get(response.headers["location"])
        assert "Sie sind abgemeldet." in page.text
        assert (await browser.get("/profil")).status_code == 303

    async def test_a_new_token_ends_old_sessions(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient, coordinator: dict[str, str]
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)
        rotated = await client.post(f"/v1/members/{member.id}/token", headers=coordinator)
        assert rotated.status_code == 200
        assert (await browser.get("/profil")).status_code == 303

    async def test_erasure_ends_the_session(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient, coordinator: dict[str, str]
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)
        assert (
            await client.delete(f"/v1/members/{member.id}", headers=coordinator)
        ).status_code == 204
        assert (await browser.get("/fragen")).status_code == 303

    async def test_a_forged_cookie_is_no_session(self, browser: httpx.AsyncClient) -> None:
        browser.cookies.set(COOKIE_NAME, "eyJjIjoieCIsInMiOiJjb29yZGluYXRvciJ9.forged.sig")
        assert (await browser.get("/koordination")).status_code == 303

    async def test_start_page_leads_to_sign_in(self, browser: httpx.AsyncClient) -> None:
        response = await browser.get("/")
        assert response.status_code == 303
        assert response.headers["location"] == "/anmelden"


class TestCsrf:
    async def test_form_without_token_is_rejected(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)
        response = await browser.post("/profil", data={"name": "Eve"})
        assert response.status_code == 403
        assert "Formular abgelehnt" in response.text
        assert '<html lang="de">' in response.text
        profile = await client.get("/v1/members/me", headers=member.headers)
        assert profile.json()["name"] != "Eve"

    async def test_token_of_another_session_is_rejected(
        self,
        client: httpx.AsyncClient,
        browser: httpx.AsyncClient,
        second_browser: httpx.AsyncClient,
    ) -> None:
        member = await create_member(client)
        await sign_in(browser, member.token)
        other = await second_browser.get("/anmelden")
        response = await browser.post(
            "/fragen", data={CSRF_FIELD: csrf_of(other.text), **QUESTION_WITH_TAG}
        )
        assert response.status_code == 403
        assert "Formular abgelehnt" in response.text

    async def test_sign_in_needs_the_forms_token(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        response = await browser.post("/anmelden", data={"token": member.token})
        assert response.status_code == 403
        assert "Formular abgelehnt" in response.text
        assert (await browser.get("/profil")).status_code == 303

    async def test_sign_in_renews_the_csrf_token(
        self, client: httpx.AsyncClient, browser: httpx.AsyncClient
    ) -> None:
        member = await create_member(client)
        before = csrf_of((await browser.get("/anmelden")).text)
        await sign_in(browser, member.token)
        after = csrf_of((await browser.get("/profil")).text)
        assert before != after


class TestSessionSecret:
    async def test_configured_secret_signs_the_session(
        self, client: httpx.AsyncClient, db_pool: TransactionPool, fake_embedder: Embedder
    ) -> None:
        secret = "a-session-secret-of-the-operator-0123"
        member = await create_member(client)
        app = create_app(
            make_settings(session_secret=secret), embedder=fake_embedder, pool=db_pool.as_pool()
        )
        async with app.router.lifespan_context(app), browser_of(app) as browser:
            await sign_in(browser, member.token)
            cookie = session_cookie(browser)
        assert cookie
        body = URLSafeSerializer(secret, salt="peerconsult.web.cookie").loads(cookie)
        assert body["r"] == "member"
        assert member.id not in str(body) and member.token not in str(body)
        with pytest.raises(BadSignature):
            URLSafeSerializer(ADMIN_TOKEN, salt="peerconsult.web.cookie").loads(cookie)

    def test_short_secret_refuses_to_start(self) -> None:
        with pytest.raises(ValidationError, match="PEERCONSULT_SESSION_SECRET must be at least"):
            make_settings(session_secret="kurz")


async def ask_for_link(
    mailed_browser: httpx.AsyncClient, email: str, page: str = "/anmelden"
) -> str:
    """Ask for a sign-in link on the sign-in page; the text of the page that answers."""
    response = await press_button(
        mailed_browser, await mailed_browser.get(page), "/anmelden/link", email=email
    )
    assert response.status_code == 200, response.text
    return text_of(response.text)


class TestSignInByLink:
    async def test_a_member_asks_on_the_sign_in_page_and_signs_in(
        self, mailed: Mailed, mailed_browser: httpx.AsyncClient
    ) -> None:
        _, client, mailbox = mailed
        await create_member(client, name="Lotte Link", email="lotte@example.org")
        page = await mailed_browser.get("/anmelden")
        assert "Anmeldelink per E-Mail" in page.text
        assert 'name="email"' in page.text
        said = await ask_for_link(mailed_browser, "lotte@example.org")
        assert "lotte@example.org" in said
        [mail] = await wait_for_mail(mailbox, 1)
        link_page = await mailed_browser.get(link_in(mail, SIGN_IN_LINK))
        # Opening the link signs nobody in (a mail scanner may fetch it); the button does.
        assert (await mailed_browser.get("/profil")).status_code == 303
        signed_in = await press_button(mailed_browser, link_page)
        assert signed_in.status_code == 303
        profile = await mailed_browser.get("/profil")
        assert profile.status_code == 200
        assert "Lotte Link" in profile.text

    async def test_an_unknown_address_reads_the_same_and_gets_nothing(
        self,
        mailed: Mailed,
        mailed_browser: httpx.AsyncClient,
        db_pool: TransactionPool,
    ) -> None:
        _, client, mailbox = mailed
        await create_member(client, email="mitglied@example.org")
        known = await ask_for_link(mailed_browser, "mitglied@example.org")
        unknown = await ask_for_link(mailed_browser, "niemand@example.org")
        assert known.replace("mitglied@", "niemand@") == unknown
        await settled(mailbox, db_pool)
        assert mail_to(mailbox, "niemand@example.org") == []
        assert len(mail_to(mailbox, "mitglied@example.org")) == 1

    async def test_the_invitation_link_leads_a_signed_out_member_to_the_request(
        self, mailed: Mailed, mailed_browser: httpx.AsyncClient
    ) -> None:
        _, client, mailbox = mailed
        asker = await create_member(client, email="fragt@example.org", municipality="Astadt")
        peer = await create_member(client, email="kann@example.org", municipality="Bstadt")
        question = await client.post(
            "/v1/questions", json={"title": "Jugendforum", "body": "Wie?"}, headers=asker.headers
        )
        invited = await client.post(
            f"/v1/questions/{question.json()['id']}/requests",
            json={"member_ids": [peer.id]},
            headers=asker.headers,
        )
        request_id = invited.json()[0]["id"]
        [invitation] = await wait_for_mail(mailbox, 1)
        link_to_invitation = f"/anfragen/{request_id}"
        assert f"{link_to_invitation}\n" in invitation.body
        # Signed out, the link sends the member to sign in, and back to the invitation
        # afterwards: a path (a #fragment would not survive the sign-in page).
        opened = await mailed_browser.get(link_to_invitation)
        assert opened.headers["location"] == f"/anmelden?weiter=%2Fanfragen%2F{request_id}"
        await ask_for_link(mailed_browser, "kann@example.org", page=opened.headers["location"])
        link = link_in((await wait_for_mail(mailbox, 2))[1], SIGN_IN_LINK)
        assert f"weiter=%2Fanfragen%2F{request_id}" in link
        signed_in = await press_button(mailed_browser, await mailed_browser.get(link))
        assert signed_in.headers["location"] == link_to_invitation
        at_the_invitation = await mailed_browser.get(link_to_invitation)
        assert at_the_invitation.headers["location"] == f"/anfragen#anfrage-{request_id}"
        requests_page = await mailed_browser.get("/anfragen")
        assert f'id="anfrage-{request_id}"' in requests_page.text


class TestSessions:
    async def test_signing_out_everywhere_ends_the_other_devices_session(
        self, mailed: Mailed, mailed_browser: httpx.AsyncClient
    ) -> None:
        app, client, _ = mailed
        member = await create_member(client)
        await sign_in(mailed_browser, member.token)
        async with browser_of(app) as laptop:
            await sign_in(laptop, member.token)
            assert (await laptop.get("/profil")).status_code == 200
            ended = await post_form(mailed_browser, "/profil", "/abmelden/ueberall", {})
            assert ended.headers["location"] == "/anmelden?hinweis=ueberall-abgemeldet"
            assert (await laptop.get("/profil")).status_code == 303
        assert (await mailed_browser.get("/profil")).status_code == 303
        # The token itself still signs in: only the sessions ended.
        assert (await sign_in(mailed_browser, member.token)).status_code == 303

    async def test_a_question_typed_while_the_session_ended_is_kept(
        self, mailed: Mailed, mailed_browser: httpx.AsyncClient
    ) -> None:
        app, client, _ = mailed
        member = await create_member(client)
        await sign_in(mailed_browser, member.token)
        form = await mailed_browser.get("/fragen")
        # Meanwhile the session ends (here: signed out everywhere from another device).
        async with browser_of(app) as other:
            await sign_in(other, member.token)
            await post_form(other, "/profil", "/abmelden/ueberall", {})
        typed = {
            CSRF_FIELD: csrf_of(form.text),
            "title": "Bürgerhaushalt digital",
            "body": "Wie haben Sie die Online-Abstimmung zum Bürgerhaushalt organisiert?",
        }
        sent = await mailed_browser.post("/fragen", data=typed)
        assert sent.status_code == 303
        location = sent.headers["location"]
        assert location.startswith("/anmelden?")
        assert "entwurf" in location
        assert "aufbewahrt" in text_of((await mailed_browser.get(location)).text)
        back = await sign_in(mailed_browser, member.token, page=location)
        assert back.status_code == 303
        restored = await mailed_browser.get(back.headers["location"])
        assert "Bürgerhaushalt digital" in restored.text
        assert "Online-Abstimmung zum Bürgerhaushalt" in restored.text
