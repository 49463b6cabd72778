"""The choices offered in forms about a municipality (free text is accepted as well)."""

from __future__ import annotations

MUNICIPALITY_KINDS = ("Großstadt", "Mittelstadt", "Kleinstadt", "Gemeinde", "Landkreis")
STATES = (
    "Baden-Württemberg",
    "Bayern",
    "Berlin",
    "Brandenburg",
    "Bremen",
    "Hamburg",
    "Hessen",
    "Mecklenburg-Vorpommern",
    "Niedersachsen",
    "Nordrhein-Westfalen",
    "Rheinland-Pfalz",
    "Saarland",
    "Sachsen",
    "Sachsen-Anhalt",
    "Schleswig-Holstein",
    "Thüringen",
)
