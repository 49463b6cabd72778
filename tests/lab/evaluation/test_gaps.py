"""The fit model, calibrated on the development set: the service's coefficients and threshold
are the ones the set fits, and on questions they were not fitted on (leave one question out) gap
flags are right and out-of-reach questions are found, the English ones included."""

from __future__ import annotations

import pytest

from lab.evaluation.gaps import calibrate, wilson
from service.embedding import Embedder
from service.matching.fit import FIT_MODEL
from tests.helpers.data import DEV_SET, needs_dev_set


@needs_dev_set
def test_the_service_model_is_the_fitted_one_and_holds_on_unseen_questions(
    embedder: Embedder,
) -> None:
    found = calibrate(str(DEV_SET), embedder)
    for fitted, service in ((found.fitted.partly, FIT_MODEL.partly),
                            (found.fitted.clearly, FIT_MODEL.clearly)):  # fmt: skip
        assert fitted.relevance_logit == pytest.approx(service.relevance_logit, abs=0.01)
        assert fitted.above_typical == pytest.approx(service.above_typical, abs=0.1)
        assert fitted.bias == pytest.approx(service.bias, abs=0.01)
    assert found.fitted.covered_from == pytest.approx(FIT_MODEL.covered_from, abs=0.005)

    detection = found.validation.detection
    assert detection.precision >= 0.9 and detection.recall >= 0.8
    # Every development question has a colleague judged highly relevant; asked in the whole
    # network, at most one is flagged, and neither English one (q004, q005).
    assert len(found.validation.flagged_covered) <= 1
    assert not {"q004", "q005"} & set(found.validation.flagged_covered)
    assert found.service_flagged_covered == ()
    # A strong fit is mostly a colleague judged clearly helpful.
    shown = found.validation.shown
    assert shown.strong_helpful / shown.strong >= 0.7


def test_wilson_intervals_hold_the_share_and_stay_in_bounds() -> None:
    assert wilson(0, 0) == (0.0, 1.0)
    low, high = wilson(22, 23)
    assert 0.75 < low < 22 / 23 < high <= 1.0
    low, high = wilson(0, 10)
    assert low == 0.0 and 0.2 < high < 0.35
