"""Explanations that read well, measured over the development set through the question page:
the passage shown never starts by leaning on a sentence the reader cannot see, and the marked
words are never generic ones (words a fifth of the network's profiles use, or function words).

The counts are printed (``pytest -s``); docs/matching.md reports them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import httpx
import pytest

from api.web.auth import CSRF_FIELD
from tests.helpers.app import COORDINATOR
from tests.helpers.data import DEV_SET, needs_dev_set
from tests.helpers.web import csrf_of, sign_in

# Judged here independently of service/matching/explain.py: the words a sentence opens with
# when it refers to the one before, and function words.
POINTING_BACK = {
    "er", "sie", "es", "ihr", "ihre", "sein", "seine", "dabei", "dort", "dafür", "dazu",
    "damit", "daraus", "danach", "davon", "außerdem", "zudem", "seitdem", "diese", "dieser",
    "dieses", "dies", "deshalb", "daher",
}  # fmt: skip
FUNCTION_WORDS = {
    "der", "die", "das", "und", "oder", "mit", "für", "von", "bei", "den", "dem", "des", "ein",
    "eine", "einer", "ist", "sind", "wir", "ich", "sie", "auch", "nicht", "wie", "was", "wenn",
    "denen", "unseren", "unsere", "vielen", "viele", "alle",
}  # fmt: skip
GENERIC_SHARE = 0.2


@dataclass
class Counts:
    passages: int = 0
    leaning_passages: int = 0
    marked_words: int = 0
    generic_marks: int = 0


def _generic(word: str, profiles: list[str]) -> bool:
    lowered = word.lower()
    if lowered in FUNCTION_WORDS:
        return True
    stem = lowered[: max(5, len(lowered) - 2)]
    pattern = re.compile(rf"\b{re.escape(stem)}", re.IGNORECASE)
    share = sum(1 for profile in profiles if pattern.search(profile)) / len(profiles)
    return share >= GENERIC_SHARE


def count(pages: list[str], profiles: list[str]) -> Counts:
    counts = Counts()
    for page in pages:
        for quote in re.findall(r"<blockquote>(.*?)</blockquote>", page, re.DOTALL):
            counts.passages += 1
            text = re.sub(r"<[^>]+>", "", quote).strip()
            first = re.match(r"\W*(\w+)", text)
            if first and first.group(1).lower() in POINTING_BACK:
                counts.leaning_passages += 1
            for marked in re.findall(r"<mark>(.*?)</mark>", quote):
                for word in re.findall(r"\w+", marked):
                    counts.marked_words += 1
                    counts.generic_marks += _generic(word, profiles)
    return counts


@needs_dev_set
@pytest.mark.real_model
async def test_explanations_over_the_development_set(
    client: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    members = json.loads((DEV_SET / "members.json").read_text(encoding="utf-8"))
    questions = json.loads((DEV_SET / "questions.json").read_text(encoding="utf-8"))
    tokens: dict[str, str] = {}
    for member in members:
        created = await client.post(
            "/v1/members",
            headers=COORDINATOR,
            json={
                "name": member["name"],
                "email": f"{member['id']}@dev.example",
                "municipality": {
                    "name": member["municipality"],
                    "state": member["state"],
                    "kind": member.get("municipality_type"),
                },
                "role": member.get("role") or "",
                "expertise": member["expertise"],
                "tags": member.get("tags") or [],
                "languages": member.get("languages") or ["de"],
            },
        )
        assert created.status_code == 201, created.text
        tokens[member["id"]] = created.json()["token"]
    pages = []
    for question in questions:
        await sign_in(browser, tokens[question["asker_id"]])
        form = await browser.get("/fragen")
        asked = await browser.post(
            "/fragen",
            data={
                CSRF_FIELD: csrf_of(form.text),
                "title": question["title"],
                "body": question["body"],
                "tags": list(question.get("tags") or []),
            },
        )
        assert asked.status_code == 303, asked.text
        pages.append((await browser.get(asked.headers["location"])).text)
    counts = count(pages, [member["expertise"] for member in members])
    print(f"\nexplanations over the development set: {counts}")
    assert counts.passages >= 100
    assert counts.leaning_passages == 0
    assert counts.generic_marks == 0
    # Still worth reading: most questions mark something.
    assert counts.marked_words >= 40
