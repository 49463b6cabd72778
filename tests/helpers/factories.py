"""Members in bulk for tests, as import records (the schema of shared/data/dev/members.json):
deterministic, plain and small, independent of the bench's generator (lab/bench/synthetic.py),
whose realism the bench tunes for its own ends.

Member ``n`` is ``member-00000n``, in a municipality of their own (every third in the same
state), with an expertise of three to five German sentences drawn from ``SENTENCES``, so that
every profile has windows of several sentences as well as sentences of their own."""

from __future__ import annotations

import random
from typing import Any

SENTENCES = (
    "Ich habe einen Bürgerhaushalt mit Abstimmung im Rathaus eingeführt.",
    "Wir haben einen Bürgerrat per Los aus dem Melderegister zusammengestellt.",
    "Die Jugendbeteiligung läuft über ein gewähltes Jugendforum.",
    "Für den Gemeinderat haben wir Leitlinien für Bürgerbeteiligung geschrieben.",
    "Die Online-Beteiligung zur Verkehrsplanung hatte über tausend Kommentare.",
    "Ein Seniorenbeirat berät die Verwaltung bei allen Bauvorhaben.",
    "Bei der Quartiersentwicklung haben wir Werkstätten vor Ort moderiert.",
    "Die Beteiligungssatzung regelt, wann Einwohnerinnen und Einwohner mitreden.",
    "Wir haben eine Vorhabenliste veröffentlicht, die jedes Quartal aktualisiert wird.",
    "Planungszellen haben Empfehlungen zum Klimaschutz erarbeitet.",
)
TAGS = ("Bürgerhaushalt", "Bürgerrat", "Jugendbeteiligung", "Leitlinien", "Online-Beteiligung")
STATES = ("Hessen", "Bayern", "Sachsen", "Niedersachsen")


def member_record(number: int, *, sentences: int | None = None) -> dict[str, Any]:
    """Member ``number`` of a test network; ``sentences`` fixes how many their expertise has."""
    draw = random.Random(number)
    count = sentences if sentences is not None else draw.randint(3, 5)
    return {
        "id": f"member-{number:06d}",
        "name": f"Mitglied {number}",
        "email": f"mitglied-{number}@example.org",
        "municipality": f"Teststadt {number}",
        "state": STATES[number % 3],
        "municipality_type": "Mittelstadt",
        "role": "Beauftragte für Bürgerbeteiligung",
        # Each member's sentences are their own (no two passages alike, no ties in a search).
        "expertise": " ".join(
            f"{sentence[:-1]} in Teststadt {number} und Umgebung."
            for sentence in draw.sample(SENTENCES, count)
        ),
        "tags": draw.sample(TAGS, 2),
    }


def network(size: int, *, start: int = 0) -> list[dict[str, Any]]:
    """Import records of ``size`` members, numbered from ``start``."""
    return [member_record(number) for number in range(start, start + size)]
