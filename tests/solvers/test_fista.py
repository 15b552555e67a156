"""convexnn.solvers.fista: R-FISTA on the gated program."""

import numpy as np
import pytest
from conftest import make_program

from convexnn import ConvexProgram, sample_patterns, solve


def test_float32_programs_are_solved_in_float32():
    program64 = make_program("squared", "gated", n=60, d=3, n_gates=20, alpha=1e-2)
    p = program64
    program32 = ConvexProgram(p.X.astype(np.float32), p.Y, p.patterns, p.loss, p.alpha, p.formulation)
    r32 = solve(program32, "fista", tol=1e-5)
    r64 = solve(program64, "fista", tol=1e-7)
    assert r32.solution.U.dtype == np.float32
    assert r32.gap <= 1e-5
    assert program64.objective(r32.solution) == pytest.approx(program64.objective(r64.solution), rel=1e-5)


def test_the_step_stops_growing_where_no_step_changes_the_objective():
    """Regression (tests/fuzz_regressions/fista-step-overflows-where-no-step-changes-the-objective:
    three samples, a constant feature, alpha 6e-19): every step was accepted, the step grew by
    10 % an iteration and overflowed after about 7,500, and the backtracking then halved an
    infinite step for ever; the fit hung. Here the zero blocks are optimal for a constant
    target: the step grew to 6e289 in 7,000 iterations, and now stops at ``MAX_STEP_GROWTH``
    times its start."""
    from convexnn.solvers.fista import MAX_STEP_GROWTH, GatedComposite, fista

    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    program = ConvexProgram(X, np.full((20, 1), 2.0), sample_patterns(X, 5, random_state=0),
                            "squared", 1e-3, "gated")
    W, c, n_iter, step = fista(GatedComposite(program), np.zeros(program.block_shape),
                               np.array([2.0]), step=1.0, max_iter=7000)
    assert n_iter == 7000
    assert step <= MAX_STEP_GROWTH
    assert not np.any(W) and c[0] == 2.0


def test_chained_calls_share_one_step_bound():
    """The augmented Lagrangian chains its inner solves, each starting from the step the last
    one ended with: a bound relative to each call's start let the step grow by
    ``MAX_STEP_GROWTH`` a call, towards the same overflow. ``max_step`` bounds them all."""
    from convexnn.solvers.fista import MAX_STEP_GROWTH, GatedComposite, fista

    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    program = ConvexProgram(X, np.full((20, 1), 2.0), sample_patterns(X, 5, random_state=0),
                            "squared", 1e-3, "gated")
    composite, W, c, step = GatedComposite(program), np.zeros(program.block_shape), [2.0], 1.0
    for _ in range(3):
        W, c, _, step = fista(composite, W, np.asarray(c), step=step, max_iter=400,
                              max_step=MAX_STEP_GROWTH)
        assert step <= MAX_STEP_GROWTH


def test_confident_softmax_samples_get_their_gradient_to_its_own_rounding():
    """Regression (tests/fuzz_regressions/confident-softmax-residual-off-the-simplex): three
    samples of three classes on features offset by 1e6-1e7, ``alpha = 1e-6``, every sample
    confident (J = 1.2e-11). The gradient's true-class entry ``p_y − 1`` (3e-13) kept an error
    of 1e-16 of one, which those features carried into the block gradients the prox thresholds
    against ``alpha``: ``fista`` ran to its budget at a certified gap of 6.9e-5. It now takes
    the gradient the dual point gives (the other classes' mass) and certifies."""
    import warnings

    from fuzzing import REGRESSIONS, load_case
    from sklearn.exceptions import ConvergenceWarning

    case = load_case(REGRESSIONS / "confident-softmax-residual-off-the-simplex.npz")
    assert case.params["solver"] == "fista"
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = case.estimator(**case.params).fit(case.X, case.y)
    assert model.status_ == "optimal" and 0 <= model.gap_ <= model.tol
