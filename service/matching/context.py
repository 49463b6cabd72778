"""Context of a question that makes the asker's state or municipality size matter.

Only cues of the field, never words of particular questions: state law differs by Land
(Gemeindeordnung, Kommunalverfassung, Einwohnerantrag, Bürgerbegehren), so a colleague from the
same Land knows the asker's rules; "how does a small Gemeinde do this" asks for a colleague from a
municipality of similar size.
"""

from __future__ import annotations

import re
from enum import Enum

from service.text import fold


class SizeGroup(Enum):
    SMALL = "small"  # Gemeinde, Kleinstadt
    MEDIUM = "medium"  # Mittelstadt
    LARGE = "large"  # Großstadt, Stadtbezirk
    COUNTY = "county"  # Landkreis, Kreis


# Folded substrings; matched anywhere in the folded text, so compounds count too
# ("Gemeindeordnung Schleswig-Holstein", "Kommunalverfassungsgesetz").
STATE_LAW_CUES: tuple[str, ...] = (
    "gemeindeordnung",
    "kommunalverfassung",
    "kommunalordnung",
    "kommunalrecht",
    "kommunalgesetz",
    "kreisordnung",
    "landesrecht",
    "landesgesetz",
    "hauptsatzung",
    "einwohnerantra",
    "buergerantra",
    "buergerbegehr",
    "buergerentscheid",
    "einwohnerfragestunde",
    "einwohnerversammlung nach",
    "buergerversammlung nach",
    "state law",
    "municipal code",
    "local government act",
)

_SIZE_CUES: dict[SizeGroup, tuple[str, ...]] = {
    SizeGroup.SMALL: (
        "kleine gemeinde",
        "kleinen gemeinde",
        "kleiner gemeinde",
        "kleine kommune",
        "kleinen kommune",
        "kleiner kommune",
        "kleine stadt",
        "kleinen stadt",
        "kleiner stadt",
        "kleinstadt",
        "kleine verwaltung",
        "kleinen verwaltung",
        "kleiner verwaltung",
        "kleine orte",
        "kleinen orte",
        "laendliche gemeinde",
        "small town",
        "small municipalit",
        "small village",
        "small administration",
    ),
    SizeGroup.COUNTY: (
        "landkreis",
        "kreistag",
        "kreisebene",
        "kreisweit",
        "kreisverwaltung",
        "unseres kreises",
        "unserem kreis",
        "im kreis",
        "des kreises",
        "county",
    ),
    SizeGroup.LARGE: ("grossstadt", "grossen stadt", "stadtbezirk", "big city", "large city"),
}

# "mit 12.000 Einwohnern", "12 000 inhabitants": an explicit population also says the size.
_POPULATION = re.compile(r"(\d{1,3}(?:[ .,]\d{3})+|\d{3,7})\s*(?:einwohn|buerger|menschen|inhabit)")

_KINDS: dict[str, SizeGroup] = {
    "gemeinde": SizeGroup.SMALL,
    "kleinstadt": SizeGroup.SMALL,
    "dorf": SizeGroup.SMALL,
    "village": SizeGroup.SMALL,
    "town": SizeGroup.SMALL,
    "mittelstadt": SizeGroup.MEDIUM,
    "grosse kreisstadt": SizeGroup.MEDIUM,
    "grossstadt": SizeGroup.LARGE,
    "stadtbezirk": SizeGroup.LARGE,
    "bezirk": SizeGroup.LARGE,
    "city": SizeGroup.LARGE,
    "landkreis": SizeGroup.COUNTY,
    "kreis": SizeGroup.COUNTY,
    "county": SizeGroup.COUNTY,
}


def size_group(kind: str | None) -> SizeGroup | None:
    """The size group of a municipality kind ("Großstadt", "Gemeinde", "Landkreis", ...)."""
    if not kind:
        return None
    return _KINDS.get(fold(kind))


def _population_group(population: int) -> SizeGroup:
    if population < 20_000:
        return SizeGroup.SMALL
    if population < 100_000:
        return SizeGroup.MEDIUM
    return SizeGroup.LARGE


def asks_about_state_law(text: str) -> bool:
    """Whether the question turns on law that differs by Land."""
    folded = fold(text)
    return any(cue in folded for cue in STATE_LAW_CUES)


def size_cues(text: str) -> set[SizeGroup]:
    """The municipality sizes a question says matter ("in einer kleinen Gemeinde")."""
    folded = fold(text)
    groups = {group for group, cues in _SIZE_CUES.items() if any(cue in folded for cue in cues)}
    for match in _POPULATION.finditer(folded):
        digits = re.sub(r"\D", "", match.group(1))
        if digits:
            groups.add(_population_group(int(digits)))
    return groups
