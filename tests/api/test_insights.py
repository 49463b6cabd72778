"""The coordinator's insights over HTTP, on a network built from the development set: a topic
no profile covers forms one gap, well-answered questions are in none, the request counts are
what happened, and members may not look."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers.api import (
    EXPERTISE,
    QUESTION,
    assert_problem,
    create_member,
    invite,
)
from tests.helpers.api import ask as ask_api
from tests.helpers.app import COORDINATOR
from tests.helpers.data import needs_dev_set
from tests.helpers.network import BROADBAND, development_network, development_questions

# Development questions the network answers well (best relevance near 1).
WELL_ANSWERED = ("q003", "q021", "q024")


@needs_dev_set
@pytest.mark.real_model
async def test_insights_over_the_development_network(client: httpx.AsyncClient) -> None:
    members = await development_network(client)
    questions = development_questions()
    asker = members["m001"]
    broadband = [await ask_api(client, asker, title=t, body=b) for t, b in BROADBAND]
    answered = {
        key: await ask_api(
            client, members[questions[key]["asker_id"]], title=questions[key]["title"],
            body=questions[key]["body"],
        )
        for key in WELL_ANSWERED
    }  # fmt: skip

    # What happened to invitations: one accepted, one declined, one withdrawn, one pending.
    first = answered["q003"]
    peers = [s["member"]["id"] for s in first["suggestions"][:4]]
    owner = members[questions["q003"]["asker_id"]]
    invited = await client.post(
        f"/v1/questions/{first['id']}/requests", json={"member_ids": peers}, headers=owner.headers
    )
    assert invited.status_code == 201, invited.text
    by_peer = {r["peer"]["id"]: r["id"] for r in invited.json()}
    token_of = {m.id: m for m in members.values()}
    await client.post(
        f"/v1/requests/{by_peer[peers[0]]}/accept", headers=token_of[peers[0]].headers
    )
    await client.post(
        f"/v1/requests/{by_peer[peers[1]]}/decline", headers=token_of[peers[1]].headers
    )
    await client.post(f"/v1/requests/{by_peer[peers[2]]}/withdraw", headers=owner.headers)

    response = await client.get("/v1/insights", headers=COORDINATOR)
    assert response.status_code == 200, response.text
    insights = response.json()
    in_gaps = {qid for gap in insights["gaps"] for qid in gap["question_ids"]}
    broadband_ids = {q["id"] for q in broadband}
    together = [gap for gap in insights["gaps"] if broadband_ids <= set(gap["question_ids"])]
    assert len(together) == 1, insights["gaps"]
    gap = together[0]
    assert gap["questions"] >= 3
    assert any(word in gap["label"] for word in ("Glasfaser", "Breitband", "Breitbandausbau"))
    assert len(gap["closest"]) >= 1
    assert not {q["id"] for q in answered.values()} & in_gaps

    flow = insights["requests"]
    assert (flow["accepted"], flow["declined"], flow["withdrawn"], flow["pending"]) == (1, 1, 1, 1)
    assert flow["acceptance_rate"] == 0.5
    assert flow["top5_share"] == 1.0
    reach = insights["members"]
    assert reach["total"] == 40 and reach["never_signed_in"] == 40
    assert sum(s["members"] for s in reach["by_state"]) == 40
    # No personal data beyond names of the closest members: no e-mail addresses.
    assert "@dev.example" not in response.text


async def test_only_the_coordinator_sees_insights(client: httpx.AsyncClient) -> None:
    member = await create_member(client)
    assert_problem(await client.get("/v1/insights"), 401)
    assert_problem(await client.get("/v1/insights", headers=member.headers), 403)
    empty = await client.get("/v1/insights", headers=COORDINATOR)
    assert empty.status_code == 200
    assert empty.json()["gaps"] == []
    assert_problem(
        await client.get(
            "/v1/insights?since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z",
            headers=COORDINATOR,
        ),
        422,
    )
    assert_problem(await client.get("/v1/insights?since=gestern", headers=COORDINATOR), 422)


async def test_times_without_a_utc_equivalent_are_invalid(client: httpx.AsyncClient) -> None:
    for query in ("until=0001-01-01T00:00:00%2B14:00", "since=9999-12-31T23:59:59-14:00"):
        response = await client.get(f"/v1/insights?{query}", headers=COORDINATOR)
        assert "out of range" in str(assert_problem(response, 422)["detail"])


async def test_an_erasure_does_not_rewrite_the_request_flow(client: httpx.AsyncClient) -> None:
    asker = await create_member(client, municipality="Aachen")
    helpful = await create_member(client, municipality="Bonn", expertise=EXPERTISE)
    busy = await create_member(client, municipality="Celle", expertise=EXPERTISE)
    question = await ask_api(client, asker, **QUESTION)
    invited = await invite(client, asker, question, helpful.id, busy.id)
    by_peer = {request["peer"]["id"]: request["id"] for request in invited.json()}
    await client.post(f"/v1/requests/{by_peer[helpful.id]}/accept", headers=helpful.headers)
    await client.post(f"/v1/requests/{by_peer[busy.id]}/decline", headers=busy.headers)
    before = (await client.get("/v1/insights", headers=COORDINATOR)).json()["requests"]
    assert (before["accepted"], before["declined"], before["acceptance_rate"]) == (1, 1, 0.5)
    assert (await client.delete(f"/v1/members/{helpful.id}", headers=COORDINATOR)).status_code
    after = (await client.get("/v1/insights", headers=COORDINATOR)).json()["requests"]
    assert after == before
    # The asker leaves too: their question goes, the counts stay.
    assert (await client.delete(f"/v1/members/{asker.id}", headers=COORDINATOR)).status_code
    assert (await client.get("/v1/insights", headers=COORDINATOR)).json()["requests"] == before
