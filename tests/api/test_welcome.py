"""The welcome e-mail the coordinator sends a member (POST /v1/members/{id}/welcome), and
optional fields sent as null."""

from __future__ import annotations

import httpx

from tests.helpers.api import (
    assert_problem,
    create_member,
    member_payload,
)
from tests.helpers.app import COORDINATOR
from tests.helpers.mail import (
    SIGN_IN_LINK,
    Mailed,
    link_in,
    wait_for_mail,
)
from tests.helpers.web import browser_of, follow_sign_in_link


class TestWelcome:
    async def test_the_welcome_link_signs_the_member_in_once(self, mailed: Mailed) -> None:
        app, client, mailbox = mailed
        member = await create_member(client, name="Wilma Neu", email="wilma@example.org")
        response = await client.post(f"/v1/members/{member.id}/welcome", headers=COORDINATOR)
        assert response.status_code == 202, response.text
        [welcome] = await wait_for_mail(mailbox, 1)
        assert welcome.recipients == ["wilma@example.org"]
        assert welcome.message["Subject"].startswith("Willkommen bei peerconsult")
        assert "Wilma Neu" in welcome.body
        link = link_in(welcome, SIGN_IN_LINK)
        signed_in = await follow_sign_in_link(app, link)
        assert signed_in.status_code == 303
        assert signed_in.headers["location"] == "/profil"
        async with browser_of(app) as browser:
            again = await browser.get(link)
        assert again.status_code == 410
        assert "Dieser Link gilt nicht mehr" in again.text
        shown = await client.get(f"/v1/members/{member.id}", headers=COORDINATOR)
        assert shown.json()["welcomed_at"] is not None
        assert shown.json()["signed_in_at"] is not None

    async def test_no_welcome_for_an_unknown_member(self, mailed: Mailed) -> None:
        _, client, _ = mailed
        response = await client.post(
            "/v1/members/00000000-0000-4000-8000-000000000000/welcome", headers=COORDINATOR
        )
        assert_problem(response, 404)

    async def test_optional_fields_sent_as_null_are_left_out(self, mailed: Mailed) -> None:
        _, client, _ = mailed
        payload = {**member_payload(), "role": None, "tags": None, "languages": None}
        response = await client.post("/v1/members", json=payload, headers=COORDINATOR)
        assert response.status_code == 201, response.text
        body = response.json()
        assert (body["role"], body["tags"], body["languages"]) == ("", [], ["de"])


class TestStates:
    async def test_abbreviations_are_written_out_and_anything_else_is_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        member = await create_member(client, state="RLP")
        assert member.body["municipality"]["state"] == "Rheinland-Pfalz"
        for written in ("NRW", "nordrhein-westfalen", "DE-NW"):
            again = await create_member(client, state=written)
            assert again.body["municipality"]["state"] == "Nordrhein-Westfalen"
        refused = await client.post(
            "/v1/members",
            json={
                "name": "X",
                "email": "x@example.org",
                "municipality": {"name": "Mainz", "state": "Rheinland"},
                "expertise": "Y",
            },
            headers=COORDINATOR,
        )
        body = assert_problem(refused, 422)
        assert "Rheinland-Pfalz" in str(body["errors"]) and "Zürich" in str(body["errors"])
