"""The fit model (service/matching/fit.py): probabilities rise with relevance and with how far a
colleague stands above the typical member; a gap is a question nobody fits at least partly."""

from __future__ import annotations

import numpy as np

from models.questions import Fit
from service.matching import fit


def test_fit_rises_with_relevance_and_with_distance_from_the_typical_member() -> None:
    relevance = np.array([0.05, 0.3, 0.9, 0.3])
    dense = np.array([0.30, 0.30, 0.30, 0.55])
    found = fit.fits(relevance, dense, typical=0.30)
    assert found.partly[0] < found.partly[1] < found.partly[2]
    assert found.partly[1] < found.partly[3]
    assert np.all(found.clearly <= found.partly)
    assert found.coverage() == found.partly.max()


def test_labels_and_gaps() -> None:
    model = fit.FIT_MODEL
    assert fit.fit_of(model.covered_from - 0.01, 0.9) is Fit.weak
    assert fit.fit_of(model.covered_from, model.strong_from - 0.01) is Fit.partial
    assert fit.fit_of(0.95, model.strong_from) is Fit.strong
    assert fit.is_gap(None) and fit.is_gap(model.covered_from - 0.01)
    assert not fit.is_gap(model.covered_from)


def test_odd_values_give_probabilities() -> None:
    found = fit.fits(np.array([0.0, 1.0, np.nan]), np.array([np.nan, 2.0, -1.0]), typical=0.3)
    assert np.all((found.partly >= 0) & (found.partly <= 1))
    assert fit.fits(np.array([]), np.array([]), typical=0.3).coverage() == 0.0
    # Too few candidates to tell what is typical: the prior.
    assert fit.typical_dense(np.array([0.9, 0.8])) == fit.DEFAULT_TYPICAL_DENSE
