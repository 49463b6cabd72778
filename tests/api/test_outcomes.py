"""The network's memory over HTTP with the real model: an outcome is seen only where it may be;
shared, it answers a differently worded question on the same topic (and not an unrelated one),
with the helper who chose to be named; the named helper's advice counts as their expertise;
erasure, export and the reminder."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from service.notifications.mailing import Mailing
from service.outcomes import service as outcomes_service
from tests.helpers.api import CreatedMember, ask, assert_problem, create_member, invite
from tests.helpers.app import COORDINATOR
from tests.helpers.database import TransactionPool
from tests.helpers.mail import PUBLIC_URL, api_client, mail_to, mailing_app, settled

pytestmark = pytest.mark.real_model

STATUTE: dict[str, Any] = {
    "title": "Beteiligungssatzung erarbeiten",
    "body": "Unser Rat will eine Satzung für Bürgerbeteiligung beschließen. Was regelt man "
    "darin verbindlich, und wie kommt eine Vorhabenliste zustande?",
    "tags": ["Beteiligungssatzung"],
}
OUTCOME = (
    "Wir haben mit Hans die Mindeststandards unserer Beteiligungssatzung durchgesprochen: eine "
    "Vorhabenliste, die der Stadtrat jährlich beschließt, ein Beteiligungsbeirat aus Rat, "
    "Verwaltung und Einwohnerschaft, und ein Antragsrecht für Beteiligung ab 300 Unterschriften."
)
# The same topic, worded otherwise, by someone else.
LATER = {
    "title": "Leitlinien für Bürgerbeteiligung verbindlich machen",
    "body": "Wir wollen unsere Leitlinien als Satzung beschließen lassen. Wie habt ihr "
    "Mindeststandards und eine Liste der geplanten Vorhaben festgelegt?",
}
UNRELATED = {
    "title": "Glasfaser für alle Ortsteile",
    "body": "Wie habt ihr den Ausbau des Breitbandnetzes in den Dörfern organisiert?",
}


async def _network(client: httpx.AsyncClient) -> dict[str, CreatedMember]:
    return {
        "asker": await create_member(
            client, name="Anna Asker", municipality="Aachen", email="anna@aachen.example",
            expertise="Ich organisiere Bürgerversammlungen zur Stadtentwicklung.",
        ),
        # Hans advised on the statute; his own profile is about youth participation.
        "helper": await create_member(
            client, name="Hans Helfer", municipality="Hamm", email="hans@hamm.example",
            expertise="Ich baue die Jugendbeteiligung auf: ein Jugendforum und Projekte mit "
            "Schulen.", tags=["Jugendbeteiligung"],
        ),
        "other": await create_member(
            client, name="Otto Anders", municipality="Osnabrück", state="Niedersachsen",
            expertise="Ich betreue den Bürgerhaushalt und die Abstimmung über Vorschläge.",
            tags=["Bürgerhaushalt"],
        ),
        "later": await create_member(client, name="Carla Später", municipality="Celle",
                                     state="Niedersachsen"),
    }  # fmt: skip


def _related(question: dict[str, Any]) -> list[str]:
    return [item["question"]["id"] for item in question["related"]]


async def test_an_outcome_is_found_where_it_may_be_and_names_who_chose_so(
    db_pool: TransactionPool, embedder: Any
) -> None:
    async with mailing_app(db_pool, embedder) as (app, mailbox), api_client(app) as client:
        people = await _network(client)
        asker, helper, later = people["asker"], people["helper"], people["later"]
        question = await ask(client, asker, **STATUTE)
        outcome_path = f"/v1/questions/{question['id']}/outcome"
        write = {"text": OUTCOME, "shared": False}
        # Nothing to record before a colleague accepted.
        assert_problem(await client.put(outcome_path, json=write, headers=asker.headers), 409)
        [request] = (await invite(client, asker, question, helper.id)).json()
        accept = await client.post(f"/v1/requests/{request['id']}/accept", headers=helper.headers)
        assert accept.status_code == 200, accept.text
        assert_problem(await client.put(outcome_path, json=write, headers=helper.headers), 403)
        recorded = await client.put(outcome_path, json=write, headers=asker.headers)
        assert recorded.status_code == 200, recorded.text
        assert (recorded.json()["shared"], recorded.json()["helpers"]) == (False, [])

        # Not shared: the asker, the helper and the coordinator see it; nobody else finds it.
        for who in (asker.headers, helper.headers, COORDINATOR):
            assert (await client.get(outcome_path, headers=who)).status_code == 200
        assert_problem(await client.get(outcome_path, headers=later.headers), 404)
        assert _related(await ask(client, later, **LATER)) == []
        search = await client.get("/v1/outcomes", params={"q": LATER["title"]},
                                  headers=later.headers)  # fmt: skip
        assert search.json()["outcomes"] == []

        # Shared: found by the differently worded question, first; the helper is asked by
        # e-mail, and appears nowhere until they choose to be named.
        shared = await client.put(
            outcome_path, json={**write, "shared": True}, headers=asker.headers
        )
        assert shared.status_code == 200, shared.text
        found = await ask(client, later, **LATER)
        assert _related(found)[0] == question["id"]
        assert found["related"][0]["outcome"]["helpers"] == []
        # The coordinator sees it by topic; nobody covered the question, and now the network
        # worked something out on it.
        insights = (await client.get("/v1/insights", headers=COORDINATOR)).json()
        [topic] = [t for t in insights["topics"] if t["topic"] == "Beteiligungssatzung"]
        assert (topic["questions"], topic["outcomes"]) == (1, 1)
        [gap] = [g for g in insights["gaps"] if question["id"] in g["question_ids"]]
        assert gap["shared_outcomes"] == 1
        assert all(s["reasons"]["consulted_on"] == [] for s in found["suggestions"])
        assert _related(await ask(client, later, **UNRELATED)) == []
        await settled(mailbox, db_pool)
        [choice] = [m for m in mail_to(mailbox, "hans@hamm.example")
                    if m.message["Subject"].startswith("Mit Namen genannt")]  # fmt: skip
        assert f"{PUBLIC_URL}/anfragen/{request['id']}/nennung?wahl=ja" in choice.body

        # Named: on the outcome, and his advice counts as his expertise.
        named = await client.put(
            f"/v1/requests/{request['id']}/named", json={"named": True}, headers=helper.headers
        )
        assert named.status_code == 200 and named.json()["named"] is True
        assert_problem(
            await client.put(f"/v1/requests/{request['id']}/named", json={"named": True},
                             headers=asker.headers), 403,
        )  # fmt: skip
        found = await ask(client, later, **LATER)
        assert [h["name"] for h in found["related"][0]["outcome"]["helpers"]] == ["Hans Helfer"]
        first = found["suggestions"][0]
        assert first["member"]["id"] == helper.id
        assert first["reasons"]["consulted_on"] == [STATUTE["title"]]
        search = await client.get("/v1/outcomes", params={"q": "Satzung mit Vorhabenliste"},
                                  headers=later.headers)  # fmt: skip
        assert [r["question"]["id"] for r in search.json()["outcomes"]][:1] == [question["id"]], (
            search.text
        )

        export = (await client.get(f"/v1/members/{helper.id}/export",
                                   headers=helper.headers)).json()  # fmt: skip
        assert [(o["question_id"], o["role"]) for o in export["outcomes"]] == [
            (question["id"], "named")
        ]
        # The asker's erasure takes the outcome with it.
        erased = await client.delete(f"/v1/members/{asker.id}", headers=COORDINATOR)
        assert erased.status_code == 204, erased.text
        assert _related(await ask(client, later, **LATER)) == []
        newest = await client.get("/v1/outcomes", headers=later.headers)
        assert newest.json()["outcomes"] == []


async def test_the_reminder_goes_out_once_a_week_after_acceptance(
    db_pool: TransactionPool, embedder: Any
) -> None:
    async with mailing_app(db_pool, embedder) as (app, mailbox), api_client(app) as client:
        people = await _network(client)
        asker, helper = people["asker"], people["helper"]
        question = await ask(client, asker, **STATUTE)
        [request] = (await invite(client, asker, question, helper.id)).json()
        await client.post(f"/v1/requests/{request['id']}/accept", headers=helper.headers)
        mailing = Mailing(PUBLIC_URL)
        async with db_pool.acquire() as conn:
            assert await outcomes_service.remind(conn, mailing) == 0  # not a week yet
            await conn.execute(
                "UPDATE consultation_request SET responded_at = now() - interval '8 days'"
            )
            assert await outcomes_service.remind(conn, mailing) == 1
            assert await outcomes_service.remind(conn, mailing) == 0
        await settled(mailbox, db_pool)
        [reminder] = [m for m in mail_to(mailbox, "anna@aachen.example")
                      if m.message["Subject"].startswith("Wie war die Beratung?")]  # fmt: skip
        assert f"{PUBLIC_URL}/anfragen/{request['id']}" in reminder.body
        assert f"{PUBLIC_URL}/fragen/{question['id']}#ergebnis" in reminder.body
