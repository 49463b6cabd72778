"""The network's reach over HTTP with the real model: an open question is shown to the colleague
who fits it and to nobody it must not reach; offers of help follow the rules of invitations, and
the asker answers them; the digest carries the question to the colleague who fits it, and its
one-click unsubscribe works without a session."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from models.members import DigestFrequency
from service.digests import periods
from service.digests import service as digests_service
from service.embedding import Embedder
from service.notifications.mailing import Mailing
from tests.helpers.api import CreatedMember, assert_problem, create_member
from tests.helpers.app import COORDINATOR
from tests.helpers.database import TransactionPool
from tests.helpers.mail import PUBLIC_URL, api_client, mailing_app, settled
from tests.helpers.pages import EXPERT_PROFILE

ASSEMBLY = {
    "title": "Bürgerrat per Los in einer Kleinstadt",
    "body": "Wir möchten einen Bürgerrat mit ausgelosten Einwohnerinnen und Einwohnern zur "
    "Zukunft der Ortsmitte einberufen. Wie habt ihr die Zufallsauswahl aus dem Melderegister "
    "organisiert und die Empfehlungen in den Gemeinderat gebracht?",
    "open": True,
}
UNRELATED = (
    "Ich betreue den Seniorenbeirat unserer Stadt und organisiere die Sitzungen, die "
    "Barrierefreiheit der Räume und den jährlichen Seniorentag."
)


async def _open_for(client: httpx.AsyncClient, member: CreatedMember) -> list[str]:
    response = await client.get("/v1/questions/open", headers=member.headers)
    assert response.status_code == 200, response.text
    return [match["question"]["id"] for match in response.json()["questions"]]


async def _network(client: httpx.AsyncClient) -> dict[str, CreatedMember]:
    return {
        "asker": await create_member(client, name="Anna Asker", municipality="Aachen"),
        "expert": await create_member(
            client, name="Bernd Berater", municipality="Bonn", expertise=EXPERT_PROFILE,
            tags=["Bürgerrat", "Losverfahren"], email="bernd@bonn.example",
        ),
        "same_place": await create_member(
            client, name="Clara Aachen", municipality="Aachen", expertise=EXPERT_PROFILE,
            email="clara@aachen.example",
        ),
        "paused": await create_member(
            client, name="Paul Pause", municipality="Celle", expertise=EXPERT_PROFILE,
            accepting_requests=False, email="paul@celle.example",
        ),
        "unrelated": await create_member(
            client, name="Uta Unbeteiligt", municipality="Dresden", state="Sachsen",
            expertise=UNRELATED, tags=["Seniorenbeirat"], email="uta@dresden.example",
        ),
    }  # fmt: skip


@pytest.mark.real_model
async def test_an_open_question_reaches_who_fits_and_offers_follow_the_rules(
    db_pool: TransactionPool, embedder: Embedder
) -> None:
    async with mailing_app(db_pool, embedder) as (app, mailbox), api_client(app) as client:
        people = await _network(client)
        asker, expert = people["asker"], people["expert"]
        asked = await client.post("/v1/questions", json=ASSEMBLY, headers=asker.headers)
        assert asked.status_code == 201, asked.text
        question = asked.json()
        assert question["open"] is True
        assert await _open_for(client, expert) == [question["id"]]
        for nobody in ("same_place", "paused", "unrelated", "asker"):
            assert await _open_for(client, people[nobody]) == [], nobody
        [match] = (await client.get("/v1/questions/open", headers=expert.headers)).json()[
            "questions"
        ]
        assert match["question"]["asker"]["name"] == "Anna Asker"
        assert match["reasons"]["passage"] and 0 < match["score"] <= 1
        assert "email" not in str(match)

        # Closed, it leaves every list; opened again, it is back.
        path = f"/v1/questions/{question['id']}"
        closed = await client.patch(path, json={"open": False}, headers=asker.headers)
        assert closed.status_code == 200 and closed.json()["open"] is False
        assert await _open_for(client, expert) == []
        offer_path = f"{path}/offers"
        assert_problem(await client.post(offer_path, json={}, headers=expert.headers), 409)
        assert_problem(await client.patch(path, json={"open": True}, headers=expert.headers), 403)
        await client.patch(path, json={"open": True}, headers=asker.headers)
        assert await _open_for(client, expert) == [question["id"]]

        # Offers: the fitting colleague's is taken; the rules of invitations hold.
        assert_problem(
            await client.post(offer_path, json={}, headers=people["same_place"].headers), 422
        )
        assert_problem(
            await client.post(offer_path, json={}, headers=people["paused"].headers), 409
        )
        assert_problem(await client.post(offer_path, json={}, headers=asker.headers), 422)
        offered = await client.post(
            offer_path, json={"message": "Wir haben das 2025 gemacht."}, headers=expert.headers
        )
        assert offered.status_code == 201, offered.text
        offer = offered.json()
        assert (offer["kind"], offer["status"], offer["peer"]["id"]) == (
            "offer",
            "pending",
            expert.id,
        )
        assert offer["contact"] is None
        assert_problem(await client.post(offer_path, json={}, headers=expert.headers), 409)
        assert await _open_for(client, expert) == []
        incoming = await client.get("/v1/requests?direction=incoming", headers=asker.headers)
        assert [r["id"] for r in incoming.json()] == [offer["id"]]
        outgoing = await client.get("/v1/requests?direction=outgoing", headers=expert.headers)
        assert [r["id"] for r in outgoing.json()] == [offer["id"]]

        # The asker answers an offer; the colleague cannot.
        answer = f"/v1/requests/{offer['id']}/accept"
        assert_problem(await client.post(answer, headers=expert.headers), 403)
        accepted = await client.post(answer, headers=asker.headers)
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["contact"]["peer"]["email"] == "bernd@bonn.example"
        seen = await client.get(f"/v1/requests/{offer['id']}", headers=expert.headers)
        assert seen.json()["contact"]["asker"]["email"] == asker.body["email"]

        mail = await settled(mailbox, db_pool)
        subjects = {(m.recipients[0], m.message["Subject"]) for m in mail}
        assert (
            asker.body["email"],
            f"Angebot zur kollegialen Beratung: {ASSEMBLY['title']}",
        ) in subjects
        assert (
            "bernd@bonn.example",
            f"Ihr Angebot ist angenommen: {ASSEMBLY['title']}",
        ) in subjects
        flow = (await client.get("/v1/insights", headers=COORDINATOR)).json()["requests"]
        assert (flow["accepted"], flow["offers"], flow["offers_accepted"]) == (1, 1, 1)
        # Erasing the helper keeps the offer in the request flow, without their name.
        erased = await client.delete(f"/v1/members/{expert.id}", headers=COORDINATOR)
        assert erased.status_code == 204, erased.text
        flow = (await client.get("/v1/insights", headers=COORDINATOR)).json()["requests"]
        assert (flow["accepted"], flow["offers"], flow["offers_accepted"]) == (1, 1, 1)


def _unsubscribe_path(message: Any) -> str:
    header = message.message["List-Unsubscribe"].strip()
    found = re.fullmatch(rf"<{re.escape(PUBLIC_URL)}(/zusammenfassung/abbestellen/\S+)>", header)
    assert found, header
    return found.group(1)


@pytest.mark.real_model
async def test_the_digest_reaches_who_fits_once_and_unsubscribes_in_one_click(
    db_pool: TransactionPool, embedder: Embedder
) -> None:
    async with mailing_app(db_pool, embedder) as (app, mailbox), api_client(app) as client:
        people = await _network(client)
        asked = await client.post("/v1/questions", json=ASSEMBLY, headers=people["asker"].headers)
        question = asked.json()
        sent = await client.post("/v1/digests", json={"frequency": "weekly"}, headers=COORDINATOR)
        assert sent.status_code == 202 and sent.json() == {"members": 1}, sent.text
        [digest] = [
            m for m in await settled(mailbox, db_pool) if m.recipients == ["bernd@bonn.example"]
        ]
        assert all(m.recipients == ["bernd@bonn.example"] for m in mailbox.received)
        assert digest.message["Subject"] == "Neu für Sie im Netzwerk: 1 offene Frage"
        assert f"„{ASSEMBLY['title']}“ (Anna Asker, Aachen)" in digest.body
        assert f"{PUBLIC_URL}/offene-fragen/{question['id']}" in digest.body
        assert digest.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        # Once per period: sent again now, it reaches nobody.
        again = await client.post("/v1/digests", headers=COORDINATOR)
        assert again.json() == {"members": 0}

        # One click, without a session: the digest is off, and says so.
        path = _unsubscribe_path(digest)
        assert (await client.get(path)).status_code == 200  # a GET changes nothing
        me = await client.get("/v1/members/me", headers=people["expert"].headers)
        assert me.json()["digest"] == "weekly"
        unsubscribed = await client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert unsubscribed.status_code == 200
        assert "keine Zusammenfassungen mehr" in unsubscribed.text
        me = await client.get("/v1/members/me", headers=people["expert"].headers)
        assert me.json()["digest"] == "never"
        # The link does nothing else: with another member's id, its signature is no link.
        token = path.rsplit("/", 1)[1]
        forged = path.replace(token[:32], people["unrelated"].id.replace("-", ""))
        assert (await client.post(forged)).status_code == 404
        assert (await client.get("/v1/members/me", headers=people["unrelated"].headers)).json()[
            "digest"
        ] == "weekly"
        assert_problem(
            await client.post("/v1/digests", json={"frequency": "never"}, headers=COORDINATOR), 422
        )

        # A week later, with another open question: no digest reaches them.
        await client.post(
            "/v1/questions", json={**ASSEMBLY, "title": "Zweiter Bürgerrat per Los"},
            headers=people["asker"].headers,
        )  # fmt: skip
        before = len(mailbox.received)
        async with db_pool.acquire() as conn:
            later = datetime.now(UTC) + timedelta(days=7)
            queued = await digests_service.send_due(
                conn, Mailing(PUBLIC_URL), DigestFrequency.weekly, now=later
            )
        assert queued == 0
        assert len(await settled(mailbox, db_pool)) == before


async def test_digest_settings_are_the_members_own(client: httpx.AsyncClient) -> None:
    member = await create_member(client)
    assert member.body["digest"] == "weekly"
    changed = await client.patch(
        f"/v1/members/{member.id}", json={"digest": "daily"}, headers=member.headers
    )
    assert changed.status_code == 200 and changed.json()["digest"] == "daily"
    assert_problem(
        await client.patch(
            f"/v1/members/{member.id}", json={"digest": "hourly"}, headers=member.headers
        ),
        422,
    )
    assert_problem(
        await client.patch(
            f"/v1/members/{member.id}", json={"digest": None}, headers=member.headers
        ),
        422,
    )
    export = await client.get(f"/v1/members/{member.id}/export", headers=member.headers)
    assert export.json()["member"]["digest"] == "daily"
    assert export.json()["open_questions_shown"] == []


async def test_questions_open_or_closed_only_by_their_asker(client: httpx.AsyncClient) -> None:
    asker = await create_member(client, municipality="Aachen")
    other = await create_member(client, municipality="Bonn")
    question = (
        await client.post(
            "/v1/questions", json={"title": "Frage", "body": "Wie?"}, headers=asker.headers
        )
    ).json()
    assert question["open"] is False
    path = f"/v1/questions/{question['id']}"
    assert_problem(
        await client.patch(path, json={"open": "vielleicht"}, headers=asker.headers), 422
    )
    assert_problem(await client.patch(path, json={}, headers=asker.headers), 422)
    assert_problem(await client.patch(path, json={"open": True}, headers=other.headers), 403)
    assert_problem(await client.patch(path, json={"open": True}, headers=COORDINATOR), 403)
    assert_problem(
        await client.patch(
            "/v1/questions/00000000-0000-4000-8000-000000000000", json={"open": True},
            headers=asker.headers,
        ),
        404,
    )  # fmt: skip
    assert (await client.patch(path, json={"open": True}, headers=asker.headers)).json()["open"]


def test_the_period_is_german_time() -> None:
    # Monday 7 December 2026, 6:30 in Berlin (5:30 UTC): still last week's period.
    before = datetime(2026, 12, 7, 5, 30, tzinfo=UTC)
    assert periods.key(DigestFrequency.weekly, periods.start(DigestFrequency.weekly, before)) == (
        "weekly:2026-11-30"
    )
    after = datetime(2026, 12, 7, 6, 5, tzinfo=UTC)
    assert periods.key(DigestFrequency.weekly, periods.start(DigestFrequency.weekly, after)) == (
        "weekly:2026-12-07"
    )
    assert periods.key(DigestFrequency.daily, periods.start(DigestFrequency.daily, before)) == (
        "daily:2026-12-06"
    )
    # Summer time: 7:00 in Berlin is 5:00 UTC.
    summer = datetime(2026, 7, 1, 5, 1, tzinfo=UTC)
    assert periods.start(DigestFrequency.daily, summer).hour == 7
