"""The development set of ../shared/data/dev, where the checkout has it beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

DEV_SET = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "dev"

needs_dev_set = pytest.mark.skipif(
    not (DEV_SET / "members.json").exists(), reason=f"development set not found at {DEV_SET}"
)
