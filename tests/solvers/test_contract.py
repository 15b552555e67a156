"""What every solver of the registry promises (the contract), and that they agree with CVXPY."""

import warnings

import pytest
from conftest import LOSS_CASES, make_program
from sklearn.exceptions import ConvergenceWarning

from convexnn import ConvexSolution, solve

FAST = {"gated": ["fista", "bcd", "kernel_newton"], "relu": ["al", "ipm"]}
SQUARED_ONLY = {"kernel_newton"}


@pytest.mark.parametrize("formulation", ["gated", "relu"])
@pytest.mark.parametrize("kind", [k for k, _ in LOSS_CASES])
def test_fast_solvers_agree_with_cvxpy(kind, formulation):
    program = make_program(kind, formulation, n=40, d=3, n_gates=15, alpha=1e-2)
    reference = program.objective(solve(program, "cvxpy").solution)
    for name in FAST[formulation]:
        if name in SQUARED_ONLY and program.loss != "squared":
            with pytest.raises(ValueError, match="squared loss"):
                solve(program, name)
            continue
        budget = {
            "fista": {"max_iter": 20000}, "bcd": {"max_iter": 200}, "kernel_newton": {"max_iter": 100},
            "al": {"max_iter": 200, "max_inner": 2000}, "ipm": {},
        }
        result = solve(program, name, tol=1e-7, **budget[name])
        assert result.status == "optimal", (name, result.gap)
        assert 0 <= result.gap <= 1e-7 + 1e-12
        assert result.violation <= 1e-7
        assert program.objective(result.solution) == pytest.approx(reference, rel=1e-6)
        assert result.gap_history[-1] == result.gap


def test_solver_for_the_wrong_formulation_is_refused():
    gated = make_program("squared", "gated")
    relu = make_program("squared", "relu")
    with pytest.raises(ValueError, match="use 'al'"):
        solve(relu, "fista")
    with pytest.raises(ValueError, match="use 'al'"):
        solve(relu, "bcd")
    with pytest.raises(ValueError, match="use 'fista' or 'bcd'"):
        solve(gated, "al")


CONTRACT = [  # every two-layer solver of the registry, on a program it accepts
    (name, loss, formulation)
    for name, formulations in [
        ("fista", ["gated"]), ("bcd", ["gated"]), ("kernel_newton", ["gated"]),
        ("ipm", ["relu"]), ("al", ["relu"]), ("cvxpy", ["gated", "relu"]),
    ]
    for formulation in formulations
    for loss in (["squared"] if name == "kernel_newton" else ["squared", "logistic", "softmax"])
]


@pytest.mark.parametrize("name,kind,formulation", CONTRACT)
def test_solver_contract(name, kind, formulation):
    """What every solver of the registry promises: a status from the closed set that agrees with
    the certified gap, the iteration budget respected (for CVXPY: Clarabel's iterations, or 100
    times as many of SCS's), a callback called with points of the program, a warm start honoured
    or refused, and an option it does not take refused instead of ignored."""
    from convexnn.solvers import SOLVERS, takes
    from convexnn.solvers.base import STATUSES

    program = make_program(kind, formulation, n=30, d=2, n_gates=8, alpha=1e-2)
    seen = []
    options = {"callback": seen.append}  # CVXPY calls it once, at the end
    generous = {"max_iter": 200, "max_inner": 2000} if name == "al" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        budget = solve(program, name, max_iter=2, **options)
        full = SOLVERS[name](program, tol=1e-6, **generous)
    for result in (budget, full):
        assert result.status in STATUSES
        assert result.gap >= -1e-12  # a negative gap (an infeasible point) is reported as inf
        assert result.status != "optimal" or result.gap <= 1e-6 + 1e-15
    assert budget.n_iter <= (200 if name == "cvxpy" else 2)
    assert full.status == "optimal"
    assert seen and all(isinstance(s, ConvexSolution) for s in seen)
    assert seen[-1].U.shape == program.block_shape
    # a warm start is honoured (started at the optimum, the solve takes no more iterations than
    # from cold, and ends as low) or refused with an error that says so; an option no solver
    # takes is refused by name
    if takes(name, "init"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            again = solve(program, name, tol=1e-6, init=full.solution, **generous)
        assert again.n_iter <= full.n_iter
        assert program.objective(again.solution) <= program.objective(full.solution) * (1 + 1e-6)
    else:
        with pytest.raises(ValueError, match="does not take init"):
            solve(program, name, init=full.solution)
    with pytest.raises(ValueError, match="does not take max_iters"):
        solve(program, name, max_iters=3)


@pytest.mark.parametrize("name,kind,formulation", CONTRACT + [
    ("auto", kind, formulation) for kind in ("squared", "logistic", "softmax")
    for formulation in ("gated", "relu")
])
def test_an_option_set_to_none_is_the_solvers_default(name, kind, formulation):
    """``tol=None``, ``max_iter=None`` and the like mean the default, as the docstring of
    ``solve`` says (``tol=None`` raised a TypeError, a gap compared with None)."""
    program = make_program(kind, formulation, n=30, d=2, n_gates=8, alpha=1e-2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        default = solve(program, name)
        nones = solve(program, name, tol=None, max_iter=None, verbose=None, init=None,
                      callback=None)
    assert (nones.solver, nones.status, nones.n_iter) == (default.solver, default.status,
                                                         default.n_iter)
    assert nones.gap == pytest.approx(default.gap, rel=1e-6, abs=1e-12)
