"""Gaps over HTTP with the real model, on the development network: questions every one of which
has a colleague judged highly relevant are not reported as gaps, English ones neither; three
questions on a topic nobody covers are one gap named by its topic, and tell their asker so; the
coordinator writes to the closest colleagues from the gap; a colleague who joins closes it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
import pytest

from service.embedding import Embedder
from tests.helpers.api import CreatedMember, assert_problem, create_member
from tests.helpers.api import ask as ask_api
from tests.helpers.app import COORDINATOR
from tests.helpers.data import needs_dev_set
from tests.helpers.database import TransactionPool
from tests.helpers.mail import PUBLIC_URL, Mailed, api_client, mailing_app, wait_for_mail
from tests.helpers.network import (
    BROADBAND,
    BROADBAND_EXPERTISE,
    development_network,
    development_questions,
)


async def _insights(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/v1/insights", headers=COORDINATOR)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


@needs_dev_set
@pytest.mark.real_model
async def test_the_development_questions_are_no_gaps(client: httpx.AsyncClient) -> None:
    members = await development_network(client)
    asked = {
        key: await ask_api(
            client, members[question["asker_id"]], title=question["title"], body=question["body"],
            tags=question["tags"],
        )
        for key, question in development_questions().items()
    }  # fmt: skip
    flagged = {key for key, question in asked.items() if question["gap"]}
    assert len(flagged) <= 1, flagged
    assert not flagged & {"q004", "q005"}  # the English questions
    # Every question has someone who fits it at least partly among its suggestions.
    for key, question in asked.items():
        if key not in flagged:
            assert {s["fit"] for s in question["suggestions"]} & {"strong", "partial"}, key
    # The insights make the same decision.
    in_gaps = {qid for gap in (await _insights(client))["gaps"] for qid in gap["question_ids"]}
    assert in_gaps == {asked[key]["id"] for key in flagged}


async def _broadband_gap(client: httpx.AsyncClient, asker: CreatedMember) -> dict[str, Any]:
    asked = [await ask_api(client, asker, title=t, body=b) for t, b in BROADBAND]
    for question in asked:
        assert question["gap"] is True
        assert "strong" not in {s["fit"] for s in question["suggestions"]}
        again = await client.get(f"/v1/questions/{question['id']}", headers=asker.headers)
        assert again.json()["gap"] is True
    ids = {question["id"] for question in asked}
    [gap] = [g for g in (await _insights(client))["gaps"] if ids & set(g["question_ids"])]
    assert set(gap["question_ids"]) == ids
    found: dict[str, Any] = gap
    return found


@needs_dev_set
@pytest.mark.real_model
async def test_a_gap_is_named_written_about_and_closed_by_a_colleague_who_joins(
    db_pool: TransactionPool, embedder: Embedder
) -> None:
    async with mailing_app(db_pool, embedder) as (app, mailbox), api_client(app) as client:
        members = await development_network(client)
        gap = await _broadband_gap(client, members["m001"])
        label = str(gap["label"])
        assert any(term in label for term in ("Glasfaser", "Breitband")), label
        assert len(label.split(", ")) <= 3

        closest = [member["id"] for member in gap["closest"]]
        assert closest
        written = await client.post(
            "/v1/insights/gaps/contacts",
            json={
                "question_ids": gap["question_ids"],
                "member_ids": closest[:2],
                "message": "Vielleicht haben Sie dazu doch Erfahrung?",
            },
            headers=COORDINATOR,
        )
        assert written.status_code == 202, written.text
        assert [m["id"] for m in written.json()["contacted"]] == closest[:2]
        mail = await wait_for_mail(mailbox, 2)
        assert len(mail) == 2
        for message in mail:
            assert message.message["Subject"].startswith("Können Sie helfen?")
            assert label.split(", ")[0] in message.message["Subject"]
            assert "„Glasfaser: Anschlussquote erhöhen“" in message.body
            assert "Vielleicht haben Sie dazu doch Erfahrung?" in message.body
            assert f"{PUBLIC_URL}/profil" in message.body
            # Who asked stays with the coordinator.
            assert members["m001"].body["name"] not in message.body
        still = [g for g in (await _insights(client))["gaps"] if g["label"] == label]
        assert [c["member"]["id"] for c in still[0]["contacted"]] == closest[:2]

        # Someone who has done exactly this joins: the gap is closed without anyone asking again.
        joined = await create_member(
            client, name="Greta Glas", municipality="Glasstadt", state="Niedersachsen",
            expertise=BROADBAND_EXPERTISE, tags=["Breitbandausbau"],
        )  # fmt: skip
        after = await _insights(client)
        assert not set(gap["question_ids"]) & {
            qid for g in after["gaps"] for qid in g["question_ids"]
        }
        [closed] = after["closed_gaps"]
        assert set(closed["question_ids"]) == set(gap["question_ids"])
        assert closed["covered_by"][0]["id"] == joined.id
        assert len(closed["contacted"]) == 2


async def test_writing_about_a_gap_needs_questions_and_members_that_exist(
    mailed: Mailed, db_pool: TransactionPool
) -> None:
    client = mailed.client
    asker = await create_member(client, municipality="Aachen")
    colleague = await create_member(client, municipality="Bonn")
    question = await ask_api(client, asker, title="Glasfaser", body="Wer hat Erfahrung?")
    unknown = "00000000-0000-4000-8000-000000000000"
    for body, status in (
        ({"question_ids": [question["id"]], "member_ids": [unknown]}, 404),
        ({"question_ids": [unknown], "member_ids": [colleague.id]}, 404),
        ({"question_ids": [question["id"]], "member_ids": []}, 422),
        ({"question_ids": [], "member_ids": [colleague.id]}, 422),
        ({"question_ids": ["Glasfaser"], "member_ids": [colleague.id]}, 422),
    ):
        response = await client.post("/v1/insights/gaps/contacts", json=body, headers=COORDINATOR)
        assert_problem(response, status)
    without_mail = await create_member(client, municipality="Celle")
    await db_pool.execute("UPDATE member SET email = NULL WHERE id = $1", UUID(without_mail.id))
    response = await client.post(
        "/v1/insights/gaps/contacts",
        json={"question_ids": [question["id"]], "member_ids": [colleague.id, without_mail.id]},
        headers=COORDINATOR,
    )
    assert response.status_code == 202
    assert [m["id"] for m in response.json()["contacted"]] == [colleague.id]
    assert [m["id"] for m in response.json()["without_email"]] == [without_mail.id]
