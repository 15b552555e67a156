"""Differential fuzzing (tests/fuzzing.py): the fast tier runs in the default suite; the long
campaign runs with ``pytest -m fuzz`` (or ``python tests/fuzzing.py --examples 20000``)."""

from __future__ import annotations

import os

import pytest
from fuzzing import REGRESSIONS, campaign, case_strategy, check, load_case
from hypothesis import HealthCheck, given, settings
from sklearn.exceptions import ConvergenceWarning

# deterministic: the same examples on every run, so the suite's verdict does not depend on chance;
# the campaign below draws fresh ones
FAST_TIER = settings(
    max_examples=int(os.environ.get("CONVEXNN_FUZZ_FAST_EXAMPLES", 120)),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@FAST_TIER
@given(case_strategy())
def test_every_fit_keeps_its_promises(case):
    outcome = check(case, repeat=False, certify=case.X.shape[0] <= 20)
    assert not outcome.failures, case.describe() + "\n" + "\n".join(outcome.failures)


@pytest.mark.fuzz
def test_long_campaign(tmp_path):
    examples = int(os.environ.get("CONVEXNN_FUZZ_EXAMPLES", 2000))
    summary = campaign(examples, int(os.environ.get("CONVEXNN_FUZZ_START", 0)), os.cpu_count(),
                       tmp_path / "campaign.json")
    assert summary["failing"] == 0, summary["failures"][:5]


@pytest.mark.parametrize(
    "path", sorted(REGRESSIONS.glob("*.npz")), ids=lambda path: path.stem
)
def test_fuzz_regression(path):
    """Every failing case the fuzzer found, kept under the name of its bug."""
    case = load_case(path)
    outcome = check(case, repeat=False, certify=False)
    assert not outcome.failures, case.describe() + "\n" + "\n".join(outcome.failures)


def test_scs_fallback_spends_a_bounded_budget():
    """Softmax on features spanning sixteen decades: Clarabel fails and SCS used to run 50,000
    iterations (90 s on 48 samples) before answering with a gap of 0.1. Its budget is now a small
    multiple of Clarabel's."""
    from convexnn.solvers.cvxpy import SCS_ITERATIONS_PER_CLARABEL

    case = load_case(REGRESSIONS / "scs-fallback-runs-for-minutes.npz")
    model = case.estimator(**{**case.params, "max_iter": 25}).set_params(solver="cvxpy")
    with pytest.warns(ConvergenceWarning, match="gap"):
        model.fit(case.X, case.y)
    assert model.solver_ == "cvxpy-scs"
    assert model.n_iter_ <= SCS_ITERATIONS_PER_CLARABEL * 25
