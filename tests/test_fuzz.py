"""Differential fuzzing (tests/fuzzing.py): the fast tier runs in the default suite; the long
campaign runs with ``pytest -m fuzz`` (or ``python tests/fuzzing.py --examples 20000``)."""

from __future__ import annotations

import os

import pytest
from fuzzing import REGRESSIONS, campaign, case_strategy, check, load_case
from hypothesis import HealthCheck, given, settings

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


def test_certify_is_checked_against_j_to_the_rounding_of_its_products():
    """Fuzzing seed 1382362: one feature offset by 4.8e6 with a spread of 1e-3, so the network's
    hidden biases are -5.4e8. ``J`` as evaluated is 1.2e-4 below ``J`` in extended precision,
    and ``certify()``'s bound (valid: 2e-5 below the latter) sat 1.0e-4 above it. The check allows
    ``J`` the rounding of its products, as its gap check does."""
    case = load_case(REGRESSIONS / "certify-beside-hidden-biases-of-5e8.npz")
    outcome = check(case, repeat=False, certify=True)
    assert not outcome.failures, case.describe() + "\n" + "\n".join(outcome.failures)


def test_a_solve_that_stalls_with_the_selected_barrier_rows_is_repeated_with_every_row():
    """Regression (fuzzing seed 1,394,683): the default-``"auto"`` softmax fit of 40 samples of
    3 features (duplicate rows, a constant feature, one sample of a class) at alpha 1.4e-6, MLP
    patterns, stalled at a certified gap of 6.2e-6 with the rows the interior point's barrier
    starts with; with every row in it the solve certifies 1e-11. A stalled solve is now repeated
    with every row before any other form."""
    name = "ipm-softmax-tiny-alpha-stalls-with-the-selected-barrier-rows"
    case = load_case(REGRESSIONS / f"{name}.npz")
    outcome = check(case, reference=False, repeat=False, certify=False)
    assert outcome.solver == "ipm" and outcome.status == "optimal" and outcome.gap <= 1e-6
