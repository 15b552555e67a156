import numpy as np
import pytest
from conftest import LOSS_CASES, make_program

from convexnn import ConvexProgram, ConvexSolution, sample_patterns, solve


@pytest.mark.parametrize("formulation", ["relu", "gated"])
@pytest.mark.parametrize("kind", [k for k, _ in LOSS_CASES])
def test_alpha_max_separates_zero_and_nonzero_solutions(kind, formulation):
    program = make_program(kind, formulation)
    amax = program.alpha_max()
    assert amax > 0
    at = solve(program.with_alpha(amax * 1.0001), "cvxpy").solution
    below = solve(program.with_alpha(amax * 0.9), "cvxpy").solution
    assert np.abs(at.net).max() < 1e-7 * (1 + np.abs(below.net).max())
    assert np.linalg.norm(below.net) > 1e-3


@pytest.mark.parametrize("formulation", ["relu", "gated"])
@pytest.mark.parametrize("kind", [k for k, _ in LOSS_CASES])
def test_gap_is_small_at_the_reference_optimum_and_nonnegative_elsewhere(kind, formulation):
    program = make_program(kind, formulation)
    result = solve(program, "cvxpy")
    assert result.status == "optimal"
    assert 0 <= result.gap < 1e-6 + 1e-7
    assert result.violation < 1e-7
    rng = np.random.default_rng(0)
    for _ in range(3):  # weak duality: any feasible point has a non-negative gap
        U = rng.standard_normal(program.block_shape) * 0.1
        V = None
        if formulation == "relu":  # a feasible relu point: each block along its own gate
            U = np.abs(U[:, :1, :]) * program.patterns.gates[None]
            V = 0.5 * U
        point = ConvexSolution(U, V, rng.standard_normal(program.n_outputs))
        assert program.constraint_violation(point) == 0
        assert program.duality_gap(point).gap >= -1e-12


def test_program_rejects_inconsistent_input():
    X = np.zeros((5, 2))
    p = sample_patterns(np.random.default_rng(0).standard_normal((5, 2)), 5, random_state=0)
    with pytest.raises(ValueError, match="unknown formulation"):
        ConvexProgram(X, np.zeros((5, 1)), p, "squared", 1.0, "convex")
    with pytest.raises(ValueError, match="non-negative"):
        ConvexProgram(X, np.zeros((5, 1)), p, "squared", -1.0)
    with pytest.raises(ValueError, match="single output"):
        ConvexProgram(X, np.zeros((5, 2)), p, "logistic", 1.0)
    with pytest.raises(ValueError, match="shape"):
        ConvexProgram(X, np.zeros(5), p, "squared", 1.0)


def test_with_outputs_is_the_program_of_those_outputs():
    program = make_program("multi", "gated", n=30, d=2, n_gates=10)
    masks = program.mask_matrix  # computed once, then shared
    single = program.with_outputs([1])
    assert np.array_equal(single.Y, program.Y[:, [1]]) and single.mask_matrix is masks
    fresh = ConvexProgram(program.X, program.Y[:, [1]], program.patterns, "squared", program.alpha, "gated")
    assert single.alpha_max() == pytest.approx(fresh.alpha_max(), rel=1e-12)
    with pytest.raises(ValueError, match="only the squared loss"):
        make_program("softmax", "gated").with_outputs([0])


def test_zero_solution_is_recomputed_for_a_subset_of_outputs():
    # the zero solution's intercept is computed once per program; a program of other outputs
    # must not inherit it, and callers may modify what they get
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 2))
    Y = np.column_stack([rng.standard_normal(30), 5.0 + rng.standard_normal(30)])
    program = ConvexProgram(X, Y, sample_patterns(X, 5, random_state=0), "squared", 1e-2, "gated")
    first = program.zero_solution()
    first.intercept[:] = 99.0
    assert np.allclose(program.zero_solution().intercept, Y.mean(axis=0))
    assert np.allclose(program.with_outputs([1]).zero_solution().intercept, [Y[:, 1].mean()])


@pytest.mark.parametrize("formulation", ["gated", "relu"])
def test_squared_loss_gap_shrinks_each_output_by_its_own_factor(formulation):
    # the squared-loss program separates over outputs, and so does its dual: each output's
    # residual is shrunk by its own factor. One factor for all (the worst output's) gave a
    # program certificate above the per-output ones a solver had certified (ipm at tol 1e-9
    # reported 1e-9 while the program said 1.09e-9)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    # the second output's residual is far larger at zero: its factor is far below the first's
    Y = np.column_stack([0.1 * rng.standard_normal(40), 10.0 * np.sin(3 * X[:, 0])])
    program = ConvexProgram(X, Y, sample_patterns(X, 8, random_state=0), "squared", 1e-2,
                            formulation)
    zero = program.zero_solution()
    whole = program.duality_gap(zero)
    parts = [program.with_outputs([o]).duality_gap(
        ConvexSolution(zero.U[[o]], None if zero.V is None else zero.V[[o]], zero.intercept[[o]]))
        for o in range(2)]
    assert whole.primal == pytest.approx(sum(p.primal for p in parts), rel=1e-12)
    assert whole.dual == pytest.approx(sum(p.dual for p in parts), rel=1e-12)
    assert parts[0].dual_scale > 2 * parts[1].dual_scale
    assert whole.dual_scale == pytest.approx(parts[1].dual_scale, rel=1e-12)


def test_the_certified_bound_inverts_the_relative_gap():
    from convexnn.program import certified_bound, relative_gap

    for primal, dual in ((2.0, 1.5), (-3.0, -3.5), (1e-15, -1e-13)):
        gap = relative_gap(primal, dual)
        assert gap == pytest.approx((primal - dual) / max(abs(primal), 1e-12))
        assert certified_bound(primal, gap) == pytest.approx(dual, rel=1e-14, abs=1e-28)
