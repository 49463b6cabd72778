"""The development network over the API, and questions on a topic nobody in it covers."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.helpers.api import CreatedMember, create_member
from tests.helpers.data import DEV_SET

# Three questions on broadband roll-out: no development profile covers it.
BROADBAND = [
    (
        "Breitbandausbau in den Ortsteilen",
        "Bei uns soll Glasfaser in alle Ortsteile verlegt werden. Wie habt ihr die Bürger über "
        "die Verlegung der Glasfaserleitungen und die Baustellen informiert?",
    ),
    (
        "Glasfaser: Anschlussquote erhöhen",
        "Der Glasfaserausbau lohnt sich nur mit genug Vorverträgen. Wie habt ihr Haushalte "
        "überzeugt, einen Glasfaseranschluss zu bestellen?",
    ),
    (
        "Breitband-Förderprogramm und Bürgerinformation",
        "Wir beantragen Fördermittel für den Breitbandausbau in weißen Flecken. Wer hat eine "
        "Informationskampagne zum schnellen Internet und Glasfasernetz gemacht?",
    ),
]

# A colleague who has done exactly that.
BROADBAND_EXPERTISE = (
    "Ich habe den Glasfaserausbau in unseren Ortsteilen mit Bürgerversammlungen und einer "
    "Informationskampagne begleitet. Wir haben Haushalte zu Vorverträgen für den "
    "Glasfaseranschluss beraten und die Anschlussquote so über 40 Prozent gebracht. Für das "
    "Breitband-Förderprogramm habe ich die Bürgerinformation zu den Baustellen organisiert."
)


def development_questions() -> dict[str, dict[str, Any]]:
    questions = json.loads((DEV_SET / "questions.json").read_text(encoding="utf-8"))
    return {question["id"]: question for question in questions}


async def development_network(client: httpx.AsyncClient) -> dict[str, CreatedMember]:
    """The development set's 40 members, created by the coordinator; by their set ids."""
    members = json.loads((DEV_SET / "members.json").read_text(encoding="utf-8"))
    created = {}
    for member in members:
        created[member["id"]] = await create_member(
            client,
            name=member["name"],
            email=f"{member['id']}@dev.example",
            municipality=member["municipality"],
            state=member["state"],
            kind=member.get("municipality_type"),
            role=member.get("role") or "",
            expertise=member["expertise"],
            tags=member.get("tags") or [],
        )
    return created
