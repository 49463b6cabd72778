"""Whatever one member types never breaks the service for another: profiles and questions of
generated odd text (short, emoji only, punctuation only, combining marks, scripts without
spaces) are answered 2xx or 422, never 5xx, and a colleague's ordinary question still finds
the right colleague (the matching functions themselves: tests/matching/test_any_text.py)."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.helpers.api import EXPERTISE, QUESTION, CreatedMember, create_member
from tests.matching.test_any_text import ODD_TEXT

ODD_TAGS = st.lists(ODD_TEXT, max_size=3)


@pytest.fixture
async def people(client: httpx.AsyncClient) -> tuple[CreatedMember, CreatedMember, CreatedMember]:
    """A member who types odd things, an expert, and a colleague who asks ordinary questions."""
    odd = await create_member(client, municipality="Seltsamstadt")
    expert = await create_member(client, municipality="Losheim", expertise=EXPERTISE)
    asker = await create_member(client, municipality="Fragedorf")
    return odd, expert, asker


class TestAnyText:
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(expertise=ODD_TEXT, tags=ODD_TAGS, title=ODD_TEXT, body=ODD_TEXT)
    @example(expertise="🙂", tags=["🙂"], title="x", body="-")
    @example(expertise="x", tags=[], title="🙂", body="🙂")
    @example(expertise="...", tags=["-"], title="Ä", body="ab")
    async def test_odd_text_is_never_a_5xx_and_others_keep_asking(
        self,
        client: httpx.AsyncClient,
        people: tuple[CreatedMember, CreatedMember, CreatedMember],
        expertise: str,
        tags: list[str],
        title: str,
        body: str,
    ) -> None:
        odd, expert, asker = people
        changed = await client.patch(
            f"/v1/members/{odd.id}",
            json={"expertise": expertise, "tags": tags},
            headers=odd.headers,
        )
        assert changed.status_code in (200, 422), changed.text
        asked = await client.post(
            "/v1/questions", json={"title": title, "body": body}, headers=odd.headers
        )
        assert asked.status_code in (201, 422), asked.text
        ordinary = await client.post("/v1/questions", json=QUESTION, headers=asker.headers)
        assert ordinary.status_code == 201, ordinary.text
        assert ordinary.json()["suggestions"][0]["member"]["id"] == expert.id
