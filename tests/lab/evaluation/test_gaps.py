"""Gap detection, calibrated on the development set: questions taken out of reach (every
member judged relevant removed) are flagged, fully covered ones are not."""

from __future__ import annotations

import pytest

from lab.evaluation.gaps import calibrate
from service.embedding import Embedder
from service.insights.gaps import GAP_BELOW
from tests.helpers.data import DEV_SET, needs_dev_set


@needs_dev_set
def test_the_threshold_is_the_calibrated_one_and_holds_on_the_other_split(
    embedder: Embedder,
) -> None:
    measured = calibrate(str(DEV_SET), embedder)
    chosen = measured["chosen on the tuning split"]
    # The service's threshold is the one the tuning split chooses (rounded).
    assert chosen.threshold == pytest.approx(GAP_BELOW, abs=0.02)
    tuned = measured["service threshold, tuning split"]
    assert tuned.precision >= 0.9 and tuned.recall >= 0.9
    # The questions the choice did not see: most flags are right, most gaps are found.
    held_out = measured["service threshold, held-out split"]
    assert held_out.precision >= 0.75 and held_out.recall >= 0.5
