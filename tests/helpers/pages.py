"""What the web page tests share: a colleague who has done what the question asks, and asking it
on the page."""

from __future__ import annotations

import re

import httpx

from tests.helpers.api import CreatedMember, create_member
from tests.helpers.web import post_form

EXPERT_PROFILE = (
    "Wir haben einen Bürgerrat per Los in einer Kleinstadt organisiert. Die Auslosung lief über "
    "das Melderegister, die Moderation hat ein externes Büro übernommen."
)
QUESTION_WITH_TAG = {
    "title": "Bürgerrat per Los",
    "body": "Wie habt ihr in einer Kleinstadt die Teilnehmenden für einen Bürgerrat ausgelost?",
    "tags": ["Bürgerrat"],
}


async def asker_and_expert(client: httpx.AsyncClient) -> tuple[CreatedMember, CreatedMember]:
    """An asker in Aachen and an expert in Bonn who will be suggested to them."""
    asker = await create_member(
        client, name="Anna Asker", municipality="Aachen", tags=["Jugendbeteiligung"]
    )
    expert = await create_member(
        client,
        name="Bernd Berater",
        email="bernd@bonn.example",
        municipality="Bonn",
        expertise=EXPERT_PROFILE,
        tags=["Bürgerrat", "Losverfahren"],
    )
    return asker, expert


async def ask_on_the_page(browser: httpx.AsyncClient) -> str:
    """Ask QUESTION_WITH_TAG on /fragen; returns the question page's path."""
    response = await post_form(browser, "/fragen", "/fragen", QUESTION_WITH_TAG)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert re.fullmatch(r"/fragen/[0-9a-f-]{36}", location)
    return location
