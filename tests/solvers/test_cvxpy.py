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


def test_a_time_limit_reaches_each_backend_and_one_spent_starts_none(monkeypatch):
    """``time_limit`` is handed to Clarabel and SCS as what is left of it (each backend's own
    option), a backend stopped by it hands back its last point (status ``"user_limit"``,
    reported as ``"inaccurate"`` with its certified gap), and with no time left no backend
    starts: the error says so."""
    import cvxpy as cp

    from convexnn.solvers.cvxpy import TIME_LIMIT_OPTIONS

    program = make_program("squared", "relu", n=40, d=3, n_gates=10, alpha=1e-2)
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="time_limit must be a finite number of seconds"):
            solve(program, "cvxpy", time_limit=bad)
    with pytest.raises(RuntimeError, match="CLARABEL: no time left of 0 s"):
        solve(program, "cvxpy", time_limit=0.0)
    passed, solve_problem = [], cp.Problem.solve

    def stopped_at_the_limit(problem, *args, **kwargs):
        passed.append(kwargs)
        solve_problem(problem, *args, **{**kwargs, "max_iter": 2})  # stopped early, as by time
        return problem.value

    monkeypatch.setattr(cp.Problem, "solve", stopped_at_the_limit)
    result = solve(program, "cvxpy", time_limit=60.0)
    assert len(passed) == 1 and 0 < passed[0][TIME_LIMIT_OPTIONS["CLARABEL"]] <= 60.0
    assert result.status == "inaccurate" and result.solver == "cvxpy-clarabel"
    assert 1e-6 < result.gap <= 1
    # without a time limit a backend's stop at its limit is no answer: SCS is asked next
    passed.clear()
    with pytest.raises(RuntimeError, match="CLARABEL: status user_limit"):
        solve(program, "cvxpy", solvers=("CLARABEL",))
    assert TIME_LIMIT_OPTIONS["CLARABEL"] not in passed[0]
