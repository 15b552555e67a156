"""convexnn.solvers.solve: the choice of "auto", the checks of every answer, and the fallbacks."""

import re
import warnings

import numpy as np
import pytest
from conftest import make_data, make_program
from sklearn.exceptions import ConvergenceWarning

from convexnn import ConvexProgram, ConvexReLUClassifier, ConvexReLURegressor, solve

FAST = dict(n_gates=20, random_state=0)


def test_auto_sends_gated_squared_programs_to_kernel_newton_while_factorising_is_cheap():
    from convexnn.solvers import resolve_solver

    program = make_program("squared", "gated", n=60, d=3, n_gates=20)
    assert resolve_solver(program) == "kernel_newton"
    assert solve(program).solver == "kernel_newton"
    assert resolve_solver(make_program("logistic", "gated", n=60, d=3, n_gates=20)) == "cvxpy"
    assert resolve_solver(program.with_alpha(0.0)) != "kernel_newton"
    # many samples, few small patterns: a factorisation costs more than R-FISTA's whole budget
    wide = make_program("squared", "gated", n=3000, d=1, n_gates=2)
    assert resolve_solver(wide) != "kernel_newton"


def test_auto_passes_over_the_newton_solvers_where_their_memory_would_not_fit(monkeypatch):
    """A machine short of memory for the interior point's n × n matrices: ``"auto"`` solves the
    program matrix-free, with a warning that says so, where the size check refused the fit."""
    import convexnn._memory
    from convexnn._memory import estimate_memory
    from convexnn.solvers import MemoryFallbackWarning, resolve_solver

    n, d = 600, 5
    program = make_program("logistic", "relu", n=n, d=d, n_gates=40)
    assert resolve_solver(program) == "ipm"
    P = program.n_patterns
    newton = estimate_memory(n, d, 1, 1, "relu", "ipm", loss="logistic")
    # the machine below fits the one and not the other (100 patterns: the MLP's at most)
    assert estimate_memory(n, d, max(P, 100), 1, "relu", "al", loss="logistic") < 0.9 * newton
    monkeypatch.setattr(convexnn._memory, "available_memory", lambda: newton)
    assert resolve_solver(program) == "al"
    assert resolve_solver(program, max_memory=None) == "ipm"
    with pytest.warns(MemoryFallbackWarning, match="'ipm' would need more memory .* 'al' solves"):
        result = solve(program, max_iter=1)
    assert result.solver == "al"
    with warnings.catch_warnings():  # no solver runs where the zero network is optimal
        warnings.simplefilter("error", MemoryFallbackWarning)
        assert solve(program.with_alpha(10 * program.alpha_max())).solver == "alpha_max"
    squared = make_program("squared", "gated", n=n, d=d, n_gates=40)
    monkeypatch.setattr(convexnn._memory, "available_memory", lambda: 10**12)
    assert resolve_solver(squared) == "kernel_newton"
    monkeypatch.setattr(convexnn._memory, "available_memory", lambda: 3 * 8 * n * n)
    assert resolve_solver(squared) == "fista"
    # the default estimator with its size check at max_memory='auto' (before: a MemoryError)
    monkeypatch.setattr(convexnn._memory, "available_memory", lambda: newton)
    X, y = make_data("logistic", n=n, d=d)
    with pytest.warns(MemoryFallbackWarning, match="'al' solves it instead"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = ConvexReLUClassifier(max_iter=1, random_state=0).fit(X, y)
    assert clf.solver_ == "al" and np.isfinite(clf.gap_)
    # a pattern search solves a program each round: the fallback is said once (one feature,
    # where its candidates are few and cheap to price)
    X, y = make_data("logistic", n=n, d=1)
    newton = estimate_memory(n, 1, 1, 1, "relu", "ipm", loss="logistic")
    monkeypatch.setattr(convexnn._memory, "available_memory", lambda: newton)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search = ConvexReLUClassifier(max_iter=1, pattern_generation="heuristic",
                                      max_pattern_rounds=3, random_state=0).fit(X, y)
    assert search.n_generation_rounds_ >= 2 and search.solver_ == "al"
    assert sum(issubclass(w.category, MemoryFallbackWarning) for w in caught) == 1


def test_auto_chooses_its_solver_within_a_numeric_max_memory(monkeypatch):
    """A ``max_memory`` in bytes below the interior point's estimate, on a machine with room for
    it: ``"auto"`` chooses the matrix-free solver within the budget, as it does for the memory
    available, where the size check refused the fit with a ``MemoryError`` (``"auto"`` looked
    at the machine's memory alone). ``max_memory=None`` chooses by size alone."""
    import convexnn._memory
    from convexnn._memory import estimate_memory
    from convexnn.solvers import MemoryFallbackWarning, fits_memory, resolve_solver

    monkeypatch.setattr(convexnn._memory, "available_memory", lambda: 10**12)
    n, d = 600, 5
    program = make_program("logistic", "relu", n=n, d=d, n_gates=40)
    budget = 0.9 * estimate_memory(n, d, program.n_patterns, 1, "relu", "ipm", loss="logistic")
    assert not fits_memory(program, "ipm", budget) and fits_memory(program, "al", budget)
    assert fits_memory(program, "ipm") and fits_memory(program, "ipm", None)
    assert resolve_solver(program) == resolve_solver(program, max_memory=None) == "ipm"
    assert resolve_solver(program, max_memory=budget) == "al"
    with pytest.warns(MemoryFallbackWarning, match=re.escape(f"than max_memory={budget:g} bytes")):
        assert solve(program, max_iter=1, max_memory=budget).solver == "al"
    with pytest.raises(ValueError, match="max_memory must be"):
        solve(program, max_memory="lots")
    for bad in ("lots", -1.0, True):  # the shared rule, whichever function reads the budget
        with pytest.raises(ValueError, match="max_memory must be"):
            fits_memory(program, "ipm", bad)
        with pytest.raises(ValueError, match="max_memory must be"):
            resolve_solver(program, max_memory=bad)
    X, y = make_data("logistic", n=n, d=d)
    with pytest.warns(MemoryFallbackWarning, match="'al' solves it instead"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = ConvexReLUClassifier(max_iter=1, max_memory=budget, random_state=0).fit(X, y)
    assert clf.solver_ == "al" and np.isfinite(clf.gap_)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MemoryFallbackWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = ConvexReLUClassifier(max_iter=1, max_memory=None, random_state=0).fit(X, y)
    assert clf.solver_ == "ipm"


def test_interior_point_needs_cones_with_an_interior_and_auto_falls_back(monkeypatch):
    import convexnn._memory
    from convexnn.patterns import Patterns
    from convexnn.solvers import resolve_solver
    from convexnn.solvers.ipm import DegenerateConeError

    # the rules by size alone, whatever memory the machine has (the largest below needs 5 GiB)
    monkeypatch.setattr(convexnn._memory, "available_memory", lambda: None)
    program = make_program("squared", "relu", n=30, d=2, n_gates=8, alpha=1e-2)
    # every loss: the interior point at every size (CVXPY is slower even on small programs)
    assert resolve_solver(program) == "ipm"
    assert resolve_solver(make_program("squared", "relu", n=700, d=9, n_gates=40)) == "ipm"
    assert resolve_solver(make_program("logistic", "relu", n=30, d=2, n_gates=8)) == "ipm"
    assert resolve_solver(make_program("softmax", "relu", n=700, d=9, n_gates=40)) == "ipm"
    assert resolve_solver(make_program("softmax", "relu", n=3000, d=9, n_gates=40)) == "ipm"
    # beyond n = 10,000: ipm while its Newton matrix over the blocks fits (the primal form, up
    # to 16,000 unknowns 2P(d + 2): 12,800 here, where the augmented Lagrangian was chosen)
    assert resolve_solver(make_program("logistic", "relu", n=12_000, d=3, n_gates=5)) == "ipm"
    assert resolve_solver(make_program("logistic", "relu", n=12_000, d=30, n_gates=200)) == "ipm"
    assert resolve_solver(make_program("logistic", "relu", n=12_000, d=30, n_gates=300)) != "ipm"
    # a duplicated sample on both sides of pattern 0: its cone lies in the hyperplane x̃ᵀu = 0.
    # The interior point cannot start there, and leaves it out (a thin cone): the solve without
    # it certifies the whole program here. With every cone so, it cannot start at all
    X = np.vstack([program.X, program.X[:1]])
    Y = np.vstack([program.Y, program.Y[:1]])
    masks = np.vstack([program.masks, program.masks[:1]])
    masks[-1, 0] = ~masks[-1, 0]
    one = ConvexProgram(X, Y, Patterns(program.patterns.gates, masks), "squared", 1e-2, "relu")
    result = solve(one, "ipm")
    assert result.status == "optimal" and result.gap <= 1e-6
    assert not np.any(result.solution.U[..., 0]) and not np.any(result.solution.V[..., 0])
    # every pattern k with its own such pair: the sample nearest its hyperplane, duplicated and
    # flipped in k alone (each cone then keeps the hyperplanes through that sample)
    gates = program.patterns.gates
    nearest = np.argmin(np.abs(program.Xt @ gates), axis=0)
    flipped = program.masks[nearest]
    flipped[np.arange(gates.shape[1]), np.arange(gates.shape[1])] ^= True
    degenerate = ConvexProgram(
        np.vstack([program.X, program.X[nearest]]), np.vstack([program.Y, program.Y[nearest]]),
        Patterns(gates, np.vstack([program.masks, flipped])), "squared", 1e-2, "relu",
    )
    with pytest.raises(DegenerateConeError, match="empty interior"):
        solve(degenerate, "ipm")
    from unittest import mock

    def auto(program, interior_point=True, max_memory="auto"):
        return "ipm" if interior_point else "cvxpy"

    with mock.patch("convexnn.solvers._auto", side_effect=auto):
        result = solve(degenerate, tol=1e-6)
    assert result.solver.lower() != "ipm" and result.gap <= 1e-6


def _broken_solver(kind):
    """A solver that returns a wrong point of the given kind, with a claim of optimality."""
    from convexnn.solvers.base import SolverResult

    def broken(program, **options):
        solution = program.zero_solution()
        if kind == "worse-than-zero":
            solution.U[...] = 1e3  # far from optimal, and far above the zero network
        elif kind == "non-finite":
            solution.U[..., 0] = np.nan
        return SolverResult(solution, "broken", "optimal", 0.0, 0.0, 1, [0.0])

    return broken


@pytest.mark.parametrize("kind", ["worse-than-zero", "non-finite"])
def test_solve_never_returns_a_point_worse_than_the_zero_network(kind, monkeypatch):
    import convexnn.solvers as solvers

    program = make_program("logistic", "relu", n=40, d=3, n_gates=10, alpha=1e-2)
    monkeypatch.setitem(solvers.SOLVERS, "broken", _broken_solver(kind))
    # a named solver that fails raises, and says why
    with pytest.raises(solvers.SolverFailure, match="'broken' returned no usable point"):
        solve(program, "broken")
    # "auto" falls back to the next solver, with a warning, and certifies
    monkeypatch.setattr(solvers, "_auto", lambda program, **rules: "broken")
    with pytest.warns(UserWarning, match="falling back to 'cvxpy'"):
        result = solve(program, tol=1e-6)
    assert result.solver != "broken" and result.gap <= 1e-6
    zero = program.objective(program.zero_solution())
    assert program.objective(result.solution) < zero


def test_a_budget_stop_worse_than_the_zero_network_returns_the_zero_network():
    """Two iterations of Clarabel, then two of SCS (its fallback gets the same budget), leave a
    point worse than the zero network: the fit hands back the zero network (the best point seen)
    and warns with its gap, instead of returning that point or raising."""
    X, y = make_data("squared", n=40, d=2)
    with pytest.warns(ConvergenceWarning, match=r"relative duality gap .* \(tol=1e-06"):
        model = ConvexReLURegressor(
            solver="cvxpy", max_iter=2, sampler="gaussian", **FAST
        ).fit(X, y)
    assert model.n_neurons_ == 0 and model.status_ != "optimal"
    assert np.allclose(model.predict(X), np.mean(y))
    # with the default sampler the MLP that gave the patterns is a better point than the zero
    # network: that MLP's network comes back instead
    with pytest.warns(ConvergenceWarning, match=r"relative duality gap .* \(tol=1e-06"):
        model = ConvexReLURegressor(solver="cvxpy", max_iter=2, **FAST).fit(X, y)
    assert 0 < model.n_neurons_ and model.status_ != "optimal"
    assert np.mean((model.predict(X) - y) ** 2) < np.var(y)


def test_a_solver_is_judged_by_its_own_default_tolerance(monkeypatch):
    """A registered solver with a looser default ``tol`` than 1e-6: the checks of ``solve``
    judge its answer against that default, not against 1e-6 (an incumbent certified to 1e-3
    handed back for a budget stop is "optimal" for a solver that works to 1e-2)."""
    from convexnn.solvers import SOLVERS
    from convexnn.solvers.ipm import solve_ipm

    def loose(program, *, tol=1e-2, max_iter=None, verbose=False):
        return solve_ipm(program, tol=tol, max_iter=1, verbose=verbose)

    monkeypatch.setitem(SOLVERS, "loose", loose)
    program = make_program("logistic", "relu", n=60, d=3, n_gates=10, alpha=1e-3)
    incumbent = solve(program, "ipm", tol=1e-3).solution
    gap = program.duality_gap(incumbent).gap
    assert 1e-6 < gap <= 1e-2
    with warnings.catch_warnings():
        # the solver's own stop is not reported beside a certified point
        warnings.simplefilter("error", ConvergenceWarning)
        result = solve(program, "loose", incumbent=incumbent)
    assert result.solution is incumbent and result.status == "optimal"
    # a tolerance the caller gives is the target
    with pytest.warns(ConvergenceWarning, match="stopped after 1 Newton iteration"):
        assert solve(program, "loose", incumbent=incumbent, tol=1e-6).status == "max_iter"


def test_a_budget_stop_worse_than_the_incumbent_returns_the_incumbent(monkeypatch):
    """``incumbent``, a feasible point known before the solve, is the callback's first point and
    is handed back, with its certified gap and the solver's status, when the solver stops short
    of tol at a worse point; a point that is not feasible is refused."""
    import convexnn.solvers.ipm as interior_point
    from convexnn.solvers.ipm import solve_ipm

    program = make_program("logistic", "relu", n=60, d=3, n_gates=10, alpha=1e-3)
    optimum = solve(program, "ipm", tol=1e-8).solution
    # the stop after 2 Newton iterations, unpolished: the polish of a solve short of tol now
    # takes that point below the incumbent's objective (0.337 against 0.362)
    monkeypatch.setattr(interior_point, "_polished", lambda problem, W, Z: None)
    incumbent = optimum.copy()
    incumbent.U *= 0.9  # feasible: the cones are cones
    incumbent.V *= 0.9
    stopped = solve_ipm(program, max_iter=2)
    assert program.objective(stopped.solution) > program.objective(incumbent)
    seen = []
    result = solve(program, "ipm", max_iter=2, incumbent=incumbent, callback=seen.append)
    assert result.status == "max_iter" and result.solution is incumbent
    # certified by the better of its own dual bound and the one the stopped point certified
    assert 0 <= result.gap <= program.duality_gap(incumbent).gap
    assert seen[0] is incumbent and seen[-1] is incumbent
    # a certified solve is not replaced by a worse incumbent
    result = solve(program, "ipm", incumbent=incumbent)
    assert result.status == "optimal" and result.solution is not incumbent
    outside = incumbent.copy()
    outside.U[..., 0] = -outside.U[..., 0] - 1.0
    with pytest.raises(ValueError, match="incumbent must be a feasible point"):
        solve(program, "ipm", incumbent=outside)


@pytest.mark.parametrize("kind", ["stalled", "non-finite", "breakdown"])
def test_a_stalled_or_failed_solve_hands_back_the_incumbent(kind, monkeypatch):
    """A solver that stops by its own rule (``"stalled"``) at a point better than the zero
    network but worse than the incumbent, or that returns no usable point (non-finite, or a
    numerical breakdown), under a named solver with no fallback: the incumbent comes back (with
    a warning for a failure) instead of that point or an error."""
    import warnings

    import convexnn.solvers as solvers
    from convexnn.solvers.base import SolverResult

    program = make_program("logistic", "relu", n=40, d=3, n_gates=10, alpha=1e-2)
    optimum = solve(program, "ipm", tol=1e-8).solution
    incumbent = optimum.copy()
    incumbent.U *= 0.95
    incumbent.V *= 0.95

    def broken(program, **options):
        if kind == "breakdown":
            raise np.linalg.LinAlgError("not positive definite")
        solution = optimum.copy()
        solution.U *= 0.3
        solution.V *= 0.3
        # with its optimal intercept: better than the zero network wherever the biases sit (a
        # block active on every sample may carry any bias above its least, the intercept
        # absorbing it)
        F = program.predict(solution)
        solution.intercept += program.loss_fn.intercept_shift(F, program.Y)
        if kind == "non-finite":
            solution.U[..., 0] = np.nan
        return SolverResult(solution, "broken", "stalled", 0.5, 0.0, 3, [0.5])

    monkeypatch.setitem(solvers.SOLVERS, "broken", broken)
    if kind == "stalled":
        stalled = broken(program).solution
        zero = program.zero_solution()
        assert program.objective(zero) > program.objective(stalled) > program.objective(incumbent)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = solve(program, "broken", incumbent=incumbent)
        assert solve(program, "broken").solution is not incumbent  # without it: its own point
    else:
        with pytest.warns(UserWarning, match="the incumbent .* is returned"):
            result = solve(program, "broken", incumbent=incumbent)
        with pytest.raises(solvers.SolverFailure):
            solve(program, "broken")
    assert result.solution is incumbent and result.status == "stalled"
    assert result.gap <= program.duality_gap(incumbent).gap


def test_an_interior_point_out_of_its_own_budget_gets_a_second_opinion(monkeypatch):
    """Under ``"auto"``, ``ipm`` that runs out of its own iteration budget short of ``tol`` has
    stalled as surely as one that stops early: CVXPY is asked, as for a stall, and its certified
    answer comes back (on house prices as published, lot sizes of order 1e4 beside counts of rooms,
    the default regressor ended at a certified gap of 8.8e-6 with its budget spent, a program
    CVXPY certifies in 0.1 s). A budget the caller set is the caller's: the
    interior point's own answer comes back, with the warning."""
    import warnings

    import convexnn.solvers.ipm as ipm

    program = make_program("squared", "relu", n=40, d=3, n_gates=10, alpha=1e-2)
    monkeypatch.setattr(ipm, "MAX_ITER", 2)
    monkeypatch.setattr(ipm, "SMALL_MAX_ITER", 2)
    monkeypatch.setattr(ipm, "FINISHING_ITER", 0)
    with pytest.warns(ConvergenceWarning):
        assert solve(program, "ipm").status == "max_iter"
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        result = solve(program)
    assert result.solver.startswith("cvxpy") and result.status == "optimal"
    assert result.gap <= 1e-6
    with pytest.warns(ConvergenceWarning, match="stopped after 2 Newton iterations"):
        result = solve(program, max_iter=2)
    assert result.solver == "ipm" and result.status == "max_iter"


def test_a_gated_program_cvxpy_leaves_short_goes_to_fista():
    """Regression (tests/fuzz_regressions/confident-softmax-residual-off-the-simplex, gated, the
    default solver): three confident softmax samples of features offset by 1e6-1e7, small
    enough that ``"auto"`` asks CVXPY first. Clarabel stopped 'inaccurate' at a certified gap of
    0.86 and the fit kept it, with the warning: a gated program had no second opinion. It now
    goes to ``fista``, which certifies it."""
    import warnings

    from fuzzing import REGRESSIONS, load_case

    case = load_case(REGRESSIONS / "confident-softmax-residual-off-the-simplex.npz")
    params = {**case.params, "solver": "auto"}
    assert params["formulation"] == "gated"
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = case.estimator(**params).fit(case.X, case.y)
    assert model.solver_ == "fista" and model.status_ == "optimal"
    assert 0 <= model.gap_ <= model.tol


def test_the_second_opinion_is_bounded_in_time_and_its_failure_costs_nothing(monkeypatch):
    """CVXPY asked for a second opinion gets ``SECOND_OPINION_TIME_FACTOR`` times the first
    solve's time, at least ``SECOND_OPINION_MIN_TIME`` (unbounded it took 185–330 s after an
    interior point of 8 s, to stop uncertified all the same). Where it answers nothing in that
    time the first solve's answer comes back, with its warning."""
    import convexnn.solvers as solvers
    import convexnn.solvers.ipm as ipm

    program = make_program("squared", "relu", n=40, d=3, n_gates=10, alpha=1e-2)
    monkeypatch.setattr(ipm, "MAX_ITER", 2)
    monkeypatch.setattr(ipm, "SMALL_MAX_ITER", 2)
    monkeypatch.setattr(ipm, "FINISHING_ITER", 0)
    limits, cvxpy = [], solvers.SOLVERS["cvxpy"]

    def timed(program, *, time_limit=None, **options):
        limits.append(time_limit)
        return cvxpy(program, time_limit=time_limit, **options)

    monkeypatch.setitem(solvers.SOLVERS, "cvxpy", timed)
    assert solve(program).solver.startswith("cvxpy")
    assert limits == [solvers.SECOND_OPINION_MIN_TIME]  # the first solve took far less
    monkeypatch.setattr(solvers, "SECOND_OPINION_MIN_TIME", 0.0)
    monkeypatch.setattr(solvers, "SECOND_OPINION_TIME_FACTOR", 0.0)
    with pytest.warns(ConvergenceWarning, match="stopped after 2 Newton iterations"):
        result = solve(program)
    assert limits[-1] == 0.0
    assert result.solver == "ipm" and result.status == "max_iter"
    assert solve(program, "cvxpy").status == "optimal"  # named, CVXPY has no limit
    assert limits[-1] is None


def test_a_cvxpy_that_solves_nothing_is_a_failed_answer(monkeypatch):
    """CVXPY raises ``RuntimeError`` when none of its backends returns a point. Named, that is a
    :class:`SolverFailure` that says so; as ``"auto"``'s fallback it is a failed answer like any
    other, and the next solver is tried (before, the error escaped ``solve`` from the fallback,
    where the augmented Lagrangian was still left to try)."""
    import convexnn.solvers as solvers

    program = make_program("squared", "relu", n=40, d=3, n_gates=10, alpha=1e-2)

    def fails(program, **options):
        raise RuntimeError("CVXPY could not solve the convex program (CLARABEL: status "
                           "NumericalError; SCS: status infeasible_inaccurate)")

    monkeypatch.setitem(solvers.SOLVERS, "cvxpy", fails)
    with pytest.raises(solvers.SolverFailure,
                       match=r"'cvxpy' returned no usable point \(CVXPY could not solve"):
        solve(program, "cvxpy")
    monkeypatch.setitem(solvers.SOLVERS, "broken", _broken_solver("non-finite"))
    monkeypatch.setattr(solvers, "_auto", lambda program, **rules: "broken")
    fell_back = r"'cvxpy' returned no usable point .*falling back to 'al'"
    with pytest.warns(UserWarning, match=fell_back):
        result = solve(program, tol=1e-6)
    assert result.solver == "al" and np.isfinite(result.gap)
    assert program.objective(result.solution) < program.objective(program.zero_solution())


def test_a_point_within_the_agreement_is_kept_when_its_projection_is_not(monkeypatch):
    """Regression (fuzzing seed 1213491: 8 samples, two near-duplicate rows, the exact sampler,
    alpha 2e-7). A point stopped short of ``tol`` is moved into its cones where its network and
    the program disagree by more than a tenth of ``AGREEMENT``. On a cone as thin as two rows
    1e-8 apart on either side of its hyperplane the projection's NNLS moved the interior
    point's blocks far (J 0.0015 → 0.0035) and left them outside all the same (4e-9 → 3.5e-7
    relative), so every solver's answer was refused and ``"auto"`` raised after 41 s. The point
    that meets the promised agreement itself is now kept (``stalled``, with its warning). The
    thin cone's projection is simulated here: one that leaves a block farther outside."""
    from dataclasses import replace

    import convexnn.solvers as driver
    from convexnn.solvers import AGREEMENT

    program = make_program("squared", "relu", n=30, d=2, n_gates=8, alpha=1e-2)
    result = solve(program, "ipm")
    assert driver._disagreement(program, result, AGREEMENT / 1e3) is None
    Xt = program.Xt
    k = int(np.flatnonzero(np.linalg.norm(result.solution.U[0, :-1], axis=0) > 0)[0])
    off = np.flatnonzero(~program.masks[:, k])[0]

    def pushed(epsilon):  # block k moved along a row by epsilon of its size, out of its cone
        solution = result.solution.copy()
        u = solution.U[0, :, k]
        solution.U[0, :, k] = u + epsilon * np.linalg.norm(u) * Xt[off] / (Xt[off] @ Xt[off])
        return replace(result, solution=solution, status="stalled")

    def relative(candidate):
        o, n = program.objective(candidate.solution), program.network_objective(candidate.solution)
        return abs(n - o) / abs(o)

    for epsilon in np.geomspace(1e-10, 1e-1, 200):
        if AGREEMENT / 10 < relative(pushed(epsilon)) <= AGREEMENT / 2:
            break
    else:
        pytest.fail("no push between a tenth and a half of the agreement")
    candidate = pushed(epsilon)
    monkeypatch.setattr(type(program), "feasible",
                        lambda self, solution, tol=1e-10: pushed(100 * epsilon).solution)
    assert driver._into_cones(program, candidate, 1e-6) is candidate
    # a projection that meets the agreement is taken, as before
    monkeypatch.setattr(type(program), "feasible",
                        lambda self, solution, tol=1e-10: result.solution)
    assert driver._into_cones(program, candidate, 1e-6).solution is result.solution


def test_a_zero_network_certified_only_to_rounding_is_not_called_optimal():
    """At an ``alpha`` as small as the rounding of the dual norms (``n·alpha`` = 1e-15, one
    constant feature) the all-zero blocks pass the ``alpha_max`` test by rounding alone, while
    their certified gap is 4e-3 (0.03 for the fuzz case's own digits, seed 1244580,
    ``zero-network-certified-only-to-rounding-softmax``): ``solve`` returned them as optimal with
    that gap. A solver now answers."""
    from convexnn import sample_patterns

    y = np.array([4, 0, 4, 2, 0, 1, 2, 3, 3, 2, 4, 2, 1, 0, 3, 3, 0, 4, 1, 4, 1])
    X = np.full((21, 1), 1.55092867)
    program = ConvexProgram(
        X, np.eye(5)[y], sample_patterns(X, 6, "data", 0), "softmax", 5.3e-17, "gated"
    )
    assert program.zero_is_optimal()  # the premise: passed by rounding
    assert program.duality_gap(program.zero_solution()).gap > 1e-6
    result = solve(program)
    assert result.solver != "alpha_max"
    assert result.status != "optimal" or result.gap <= 1e-6
