"""Questions over HTTP: suggestions obey the hard rules and see changes at once."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from service.questions import service as questions_service
from tests.helpers.api import CreatedMember, ask, assert_problem, create_member
from tests.helpers.database import TransactionPool

BUERGERHAUSHALT = (
    "Ich habe in unserer Stadt einen Bürgerhaushalt eingeführt: Einwohnerinnen und Einwohner "
    "schlagen online Projekte vor, stimmen darüber ab, und der Rat beschließt die Liste. "
    "Die Rechenschaft über umgesetzte Vorschläge war entscheidend für das Vertrauen."
)
JUGEND = (
    "Ich habe ein Jugendparlament aufgebaut und die Kinder- und Jugendbeteiligung in der "
    "Hauptsatzung verankert. Jugendliche haben Rede- und Antragsrecht im Ausschuss."
)
QUESTION = {
    "title": "Bürgerhaushalt einführen",
    "body": "Wie habt ihr einen Bürgerhaushalt mit Online-Abstimmung aufgebaut und "
    "dem Rat die Ergebnisse vorgelegt?",
}


async def network(client: httpx.AsyncClient) -> dict[str, CreatedMember]:
    """Two Bürgerhaushalt experts in two towns, one in the asker's town, one youth expert."""
    return {
        "asker": await create_member(client, municipality="Fragestadt", state="Hessen"),
        "colleague_same_town": await create_member(
            client, municipality="Fragestadt", state="Hessen", expertise=BUERGERHAUSHALT
        ),
        "expert_a": await create_member(
            client,
            municipality="Ahausen",
            state="Bayern",
            expertise=BUERGERHAUSHALT,
            tags=["Bürgerhaushalt"],
        ),
        "expert_a_twin": await create_member(
            client,
            municipality="Ahausen",
            state="Bayern",
            expertise=BUERGERHAUSHALT,
            tags=["Bürgerhaushalt"],
        ),
        "expert_b": await create_member(
            client,
            municipality="Bedorf",
            state="Sachsen",
            expertise=BUERGERHAUSHALT,
        ),
        "youth": await create_member(
            client,
            municipality="Cestadt",
            state="Berlin",
            expertise=JUGEND,
            tags=["Jugendbeteiligung"],
        ),
    }


def suggested_ids(question: dict[str, object]) -> list[str]:
    return [item["member"]["id"] for item in question["suggestions"]]  # type: ignore[attr-defined]


PARTNERSHIP = "Ich betreue die Partnerschaft mit unserer Partnerstadt in Frankreich."
SHELTER = "Wir haben eine Gemeinschaftsunterkunft mit den Nachbarn geplant."


async def pause(client: httpx.AsyncClient, member: CreatedMember) -> None:
    response = await client.patch(
        f"/v1/members/{member.id}", json={"accepting_requests": False}, headers=member.headers
    )
    assert response.status_code == 200


async def ask_with_tag(client: httpx.AsyncClient, asker: CreatedMember, tag: str) -> list[str]:
    """The suggested ids for a question on a Bürgerhaushalt that carries ``tag``."""
    question = await ask(
        client,
        asker,
        title="Bürgerhaushalt",
        body="Wie habt ihr den Bürgerhaushalt aufgebaut?",
        tags=[tag],
        limit=50,
    )
    return suggested_ids(question)


class TestAskQuestion:
    async def test_suggests_experts_first_with_reasons(self, client: httpx.AsyncClient) -> None:
        people = await network(client)
        question = await ask(client, people["asker"], **QUESTION, tags=["Bürgerhaushalt"])
        first = question["suggestions"][0]
        assert first["member"]["id"] in {people["expert_a"].id, people["expert_a_twin"].id}
        assert 0.0 <= first["score"] <= 1.0
        assert "Bürgerhaushalt" in first["reasons"]["matched_tags"]
        assert "Bürgerhaushalt" in first["reasons"]["passage"]
        scores = [item["score"] for item in question["suggestions"]]
        assert scores == sorted(scores, reverse=True)

    async def test_the_question_keeps_the_suggestions_made_when_asked(
        self, client: httpx.AsyncClient
    ) -> None:
        people = await network(client)
        asked = await ask(client, people["asker"], **QUESTION, tags=["Bürgerhaushalt"], limit=3)
        response = await client.get(f"/v1/questions/{asked['id']}", headers=people["asker"].headers)
        assert response.status_code == 200
        kept = response.json()
        assert len(asked["suggestions"]) == 3
        for shown, stored in zip(asked["suggestions"], kept["suggestions"], strict=True):
            assert stored["member"] == shown["member"]
            assert stored["reasons"] == shown["reasons"]
            # Scores are stored as PostgreSQL reals.
            assert stored["score"] == pytest.approx(shown["score"], rel=1e-6)
        assert kept["tags"] == ["Bürgerhaushalt"]

    async def test_never_the_asker_nor_their_municipality(self, client: httpx.AsyncClient) -> None:
        people = await network(client)
        question = await ask(client, people["asker"], **QUESTION, limit=50)
        ids = suggested_ids(question)
        assert people["asker"].id not in ids
        assert people["colleague_same_town"].id not in ids
        assert people["expert_b"].id in ids

    async def test_one_suggestion_per_municipality(self, client: httpx.AsyncClient) -> None:
        people = await network(client)
        question = await ask(client, people["asker"], **QUESTION, limit=50)
        towns = [item["member"]["municipality"]["id"] for item in question["suggestions"]]
        assert len(towns) == len(set(towns))
        ids = suggested_ids(question)
        assert not {people["expert_a"].id, people["expert_a_twin"].id} <= set(ids)

    async def test_paused_and_erased_members_are_not_suggested(
        self, client: httpx.AsyncClient, coordinator: dict[str, str]
    ) -> None:
        people = await network(client)
        await pause(client, people["expert_b"])
        await client.delete(f"/v1/members/{people['youth'].id}", headers=coordinator)
        ids = suggested_ids(await ask(client, people["asker"], **QUESTION, limit=50))
        assert people["expert_b"].id not in ids
        assert people["youth"].id not in ids
        assert people["expert_a"].id in ids or people["expert_a_twin"].id in ids

    async def test_changed_expertise_counts_for_the_next_question(
        self, client: httpx.AsyncClient
    ) -> None:
        people = await network(client)
        youth_question = {
            "title": "Jugendparlament",
            "body": "Wie verankert man ein Jugendparlament mit Antragsrecht in der Satzung?",
        }
        before = suggested_ids(await ask(client, people["asker"], **youth_question, limit=1))
        assert before == [people["youth"].id]
        response = await client.patch(
            f"/v1/members/{people['expert_b'].id}",
            json={"expertise": JUGEND + " Außerdem betreue ich den Jugendbeirat seit 2015."},
            headers=people["expert_b"].headers,
        )
        assert response.status_code == 200
        await client.patch(
            f"/v1/members/{people['youth'].id}",
            json={"expertise": BUERGERHAUSHALT},
            headers=people["youth"].headers,
        )
        after = suggested_ids(await ask(client, people["asker"], **youth_question, limit=1))
        assert after == [people["expert_b"].id]

    @pytest.mark.real_model
    async def test_english_question_finds_german_profile(self, client: httpx.AsyncClient) -> None:
        people = await network(client)
        question = await ask(
            client,
            people["asker"],
            title="Youth parliament",
            body="How did you set up a youth parliament and give young people a right to "
            "speak in council committees?",
            limit=1,
        )
        assert suggested_ids(question) == [people["youth"].id]

    async def test_limit_is_respected_and_validated(self, client: httpx.AsyncClient) -> None:
        people = await network(client)
        question = await ask(client, people["asker"], **QUESTION, limit=2)
        assert len(question["suggestions"]) == 2
        for bad in (0, 51, "viele"):
            response = await client.post(
                "/v1/questions", json={**QUESTION, "limit": bad}, headers=people["asker"].headers
            )
            assert_problem(response, 422)

    async def test_bad_input_is_422(self, client: httpx.AsyncClient) -> None:
        people = await network(client)
        headers = people["asker"].headers
        for payload in (
            {"title": "", "body": "Frage"},
            {"title": "Frage"},
            {"title": "x" * 201, "body": "Frage"},
            {**QUESTION, "tags": [f"t{n}" for n in range(11)]},
            {**QUESTION, "unknown": 1},
        ):
            assert_problem(await client.post("/v1/questions", json=payload, headers=headers), 422)

    async def test_coordinator_cannot_ask(
        self, client: httpx.AsyncClient, coordinator: dict[str, str]
    ) -> None:
        assert_problem(await client.post("/v1/questions", json=QUESTION, headers=coordinator), 403)

    async def test_empty_network_gives_no_suggestions(self, client: httpx.AsyncClient) -> None:
        asker = await create_member(client)
        question = await ask(client, asker, **QUESTION)
        assert question["suggestions"] == []


class TestGetQuestion:
    async def test_asker_and_coordinator_see_it_others_do_not(
        self, client: httpx.AsyncClient, coordinator: dict[str, str]
    ) -> None:
        people = await network(client)
        question = await ask(client, people["asker"], **QUESTION)
        path = f"/v1/questions/{question['id']}"
        own = await client.get(path, headers=people["asker"].headers)
        assert own.status_code == 200
        assert suggested_ids(own.json()) == suggested_ids(question)
        assert (await client.get(path, headers=coordinator)).status_code == 200
        assert_problem(await client.get(path, headers=people["youth"].headers), 403)
        assert_problem(await client.get("/v1/questions/nope", headers=coordinator), 404)

    async def test_suggestions_follow_the_network_as_it_is_now(
        self, client: httpx.AsyncClient
    ) -> None:
        people = await network(client)
        question = await ask(client, people["asker"], **QUESTION, limit=50)
        assert people["expert_b"].id in suggested_ids(question)
        await pause(client, people["expert_b"])
        response = await client.get(
            f"/v1/questions/{question['id']}/suggestions?limit=10",
            headers=people["asker"].headers,
        )
        assert response.status_code == 200
        ids = [item["member"]["id"] for item in response.json()["suggestions"]]
        assert people["expert_b"].id not in ids
        assert ids
        bad_limit = await client.get(
            f"/v1/questions/{question['id']}/suggestions?limit=0",
            headers=people["asker"].headers,
        )
        assert_problem(bad_limit, 422)


def bounds(monkeypatch: pytest.MonkeyPatch, **changes: int) -> None:
    """The candidate channels' bounds changed for one test."""
    changed = replace(questions_service.RETRIEVAL, **changes)
    monkeypatch.setattr(questions_service, "RETRIEVAL", changed)


class TestRetrievalAtScale:
    """Large networks retrieve candidates through bounded channels (nearest passages through
    the HNSW index, rare tags) instead of ranking everyone; the rules must hold there too."""

    @pytest.fixture(autouse=True)
    def as_if_large(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # Below any size: the network's size is PostgreSQL's estimate, which is 0 once the
        # (rolled-back) churn of earlier tests had the member table analyzed.
        bounds(monkeypatch, bounded_above=-1)

    @pytest.fixture
    def tag_channel(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """One nearest passage only, no lexical channel: whoever else is suggested came
        through the tag channel."""
        bounds(monkeypatch, dense_passages=1, lexical_members=0)

    async def test_hard_rules_and_the_best_expert(self, client: httpx.AsyncClient) -> None:
        people = await network(client)
        await pause(client, people["expert_b"])
        question = await ask(client, people["asker"], **QUESTION, limit=50)
        ids = suggested_ids(question)
        assert ids[0] in {people["expert_a"].id, people["expert_a_twin"].id}
        for excluded in ("asker", "colleague_same_town", "expert_b"):
            assert people[excluded].id not in ids
        towns = [item["member"]["municipality"]["id"] for item in question["suggestions"]]
        assert len(towns) == len(set(towns))

    @pytest.mark.usefixtures("tag_channel")
    async def test_a_rare_tag_brings_its_members_in(self, client: httpx.AsyncClient) -> None:
        people = await network(client)
        specialist = await create_member(
            client,
            municipality="Seltenstadt",
            expertise=PARTNERSHIP,
            tags=["Städtepartnerschaft"],
        )
        ids = await ask_with_tag(client, people["asker"], "Städtepartnerschaft")
        assert specialist.id in ids
        assert len(ids) == 2  # the nearest passage's owner and the specialist

    @pytest.mark.usefixtures("tag_channel")
    async def test_a_common_tag_brings_nobody_in(
        self, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # A tag held by more members than the bound says nothing about which of them to ask.
        bounds(monkeypatch, tag_members=2)
        people = await network(client)
        holders = [
            await create_member(
                client,
                municipality=f"Partnerort {index}",
                expertise=PARTNERSHIP,
                tags=["Städtepartnerschaft"],
            )
            for index in range(3)
        ]
        ids = await ask_with_tag(client, people["asker"], "Städtepartnerschaft")
        assert not {holder.id for holder in holders} & set(ids)
        assert len(ids) == 1  # the nearest passage's owner only

    @pytest.mark.usefixtures("tag_channel")
    async def test_the_tag_channel_keeps_the_hard_rules(self, client: httpx.AsyncClient) -> None:
        people = await network(client)
        same_town = await create_member(
            client,
            municipality="Fragestadt",
            state="Hessen",
            expertise=PARTNERSHIP,
            tags=["Städtepartnerschaft"],
        )
        paused = await create_member(
            client, municipality="Pausenhof", expertise=PARTNERSHIP, tags=["Städtepartnerschaft"]
        )
        await pause(client, paused)
        eligible = await create_member(
            client, municipality="Seltenstadt", expertise=PARTNERSHIP, tags=["Städtepartnerschaft"]
        )
        ids = await ask_with_tag(client, people["asker"], "Städtepartnerschaft")
        assert eligible.id in ids
        assert same_town.id not in ids
        assert paused.id not in ids
        assert people["asker"].id not in ids

    async def test_a_distinctive_word_brings_its_members_in(
        self, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # No nearest passages, no tags: whoever is suggested came through the words.
        bounds(monkeypatch, dense_passages=0)
        people = await network(client)
        specialist = await create_member(
            client,
            municipality="Seltenstadt",
            expertise=(
                "Für die neue Gemeinschaftsunterkunft haben wir Informationsabende im Ortsteil "
                "organisiert und einen Runden Tisch mit den Nachbarn eingerichtet."
            ),
            tags=[],
        )
        question = await ask(
            client,
            people["asker"],
            title="Informationsabend",
            body="Wie kündigen wir eine Gemeinschaftsunterkunft im Dorf an?",
            limit=50,
        )
        assert suggested_ids(question) == [specialist.id]
        by_id = {item["member"]["id"]: item for item in question["suggestions"]}
        assert "Gemeinschaftsunterkunft" in by_id[specialist.id]["reasons"]["passage"]

    async def test_a_common_word_brings_nobody_in(
        self, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # A word more members use than the bound says nothing about which of them to ask.
        bounds(monkeypatch, dense_passages=0, term_members=2)
        people = await network(client)
        for index in range(3):
            await create_member(
                client,
                municipality=f"Unterkunftsort {index}",
                expertise=SHELTER,
                tags=[],
            )
        question = await ask(
            client,
            people["asker"],
            title="Unterkunft",
            body="Wie kündigen wir eine Gemeinschaftsunterkunft an?",
            limit=50,
        )
        assert suggested_ids(question) == []

    async def test_the_word_channel_keeps_the_hard_rules_and_its_bound(
        self, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        bounds(monkeypatch, dense_passages=0, lexical_members=2)
        people = await network(client)
        evening = SHELTER + " Dazu gab es einen Infoabend im Dorfgemeinschaftshaus."
        festival = evening + " Ein Nachbarschaftsfest folgte."
        # Four words of the question for the two who may not be asked, three for the next two,
        # one for the third. The rules apply before the channel's bound, so its two places go
        # to the two with three.
        same_town = await create_member(
            client, municipality="Fragestadt", state="Hessen", expertise=festival, tags=[]
        )
        paused = await create_member(client, municipality="Pausenhof", expertise=festival, tags=[])
        await pause(client, paused)
        closest = [
            await create_member(
                client, municipality=f"Nachbarort {index}", expertise=evening, tags=[]
            )
            for index in range(2)
        ]
        third = await create_member(client, municipality="Drittort", expertise=SHELTER, tags=[])
        question = await ask(
            client,
            people["asker"],
            title="Infoabend im Dorfgemeinschaftshaus",
            body="Wie kündigen wir eine Gemeinschaftsunterkunft an? Hilft ein Nachbarschaftsfest?",
            limit=50,
        )
        # At most two, those who share the most distinctive words; never the ineligible.
        ids = set(suggested_ids(question))
        assert ids == {member.id for member in closest}
        assert not {third.id, same_town.id, paused.id} & ids

    async def test_the_words_follow_a_changed_expertise(
        self, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        bounds(monkeypatch, dense_passages=0)
        people = await network(client)
        member = await create_member(
            client,
            municipality="Wandelstadt",
            expertise=SHELTER,
            tags=[],
        )
        changed = await client.patch(
            f"/v1/members/{member.id}",
            json={"expertise": "Ich moderiere Stadtteilkonferenzen im Quartier."},
            headers=member.headers,
        )
        assert changed.status_code == 200
        before = await ask(
            client,
            people["asker"],
            title="Unterkunft",
            body="Wie kündigen wir eine Gemeinschaftsunterkunft an?",
            limit=50,
        )
        assert suggested_ids(before) == []
        after = await ask(
            client,
            people["asker"],
            title="Konferenz",
            body="Wer hat Erfahrung mit Stadtteilkonferenzen?",
            limit=50,
        )
        assert suggested_ids(after) == [member.id]


class TestPassagesSplitEarlier:
    async def test_reasons_quote_the_stored_passages(
        self, client: httpx.AsyncClient, db_pool: TransactionPool
    ) -> None:
        """Passages stored by an earlier version of the splitter (before ``reindex``) are shown
        as stored: the matched passage is one the member's vectors were computed from."""
        people = await network(client)
        async with db_pool.acquire() as conn:
            # As if split otherwise: one passage, the whole expertise on one line.
            await conn.execute(
                "DELETE FROM passage WHERE member_id = $1 AND position > 0", people["expert_b"].id
            )
            await conn.execute(
                "UPDATE passage SET text = $2 WHERE member_id = $1",
                people["expert_b"].id,
                "Früher gespeichert: " + BUERGERHAUSHALT,
            )
        question = await ask(client, people["asker"], **QUESTION, limit=50)
        by_id = {item["member"]["id"]: item for item in question["suggestions"]}
        assert by_id[people["expert_b"].id]["reasons"]["passage"].startswith("Früher gespeichert")
        others = [item for key, item in by_id.items() if key != people["expert_b"].id]
        assert others
        for item in others:
            assert item["reasons"]["passage"] in BUERGERHAUSHALT + JUGEND
