"""The choices offered in forms about a municipality: the kinds (free text is accepted as
well) and the states (``models/states.py``: written out, or a usual abbreviation)."""

from __future__ import annotations

from models.states import STATES

MUNICIPALITY_KINDS = ("Großstadt", "Mittelstadt", "Kleinstadt", "Gemeinde", "Landkreis")

__all__ = ["MUNICIPALITY_KINDS", "STATES"]
