"""convexnn.solvers.cvxpy: the CVXPY reference solver and its fallback to SCS."""

import pytest
from conftest import make_program
from fuzzing import REGRESSIONS, load_case
from sklearn.exceptions import ConvergenceWarning

from convexnn import solve


def test_solver_failure_names_the_statuses(monkeypatch):
    program = make_program("squared", "gated")
    with pytest.raises(RuntimeError, match="NOPE: not installed"):
        solve(program, "cvxpy", solvers=("NOPE",))
    with pytest.raises(ValueError, match="unknown solver"):
        solve(program, "magic")


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
