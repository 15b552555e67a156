import cvxpy as cp
import numpy as np
import pytest
from conftest import make_data

from convexnn import ConvexProgram, ConvexSolution, sample_patterns, solve
from convexnn.cone import cone_value
from convexnn.losses import encode_targets
from convexnn.operators import masked_adjoint, masked_forward
from convexnn.patterns import add_bias_column

LOSS_CASES = [("squared", "squared"), ("multi", "squared"), ("logistic", "logistic"), ("softmax", "softmax")]


def make_program(kind, formulation, n=30, d=2, n_gates=25, alpha=1e-2, scales=None, seed=0):
    loss = dict(LOSS_CASES)[kind]
    X, y = make_data(kind, n=n, d=d, scales=scales, seed=seed)
    patterns = sample_patterns(X, n_gates, random_state=seed)
    return ConvexProgram(X, encode_targets(y, loss), patterns, loss, alpha, formulation)


def test_masked_operators_match_the_explicit_design():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    p = sample_patterns(X, 10, random_state=0)
    Xt, M = add_bias_column(X), p.masks.astype(float)
    U = rng.standard_normal((2, 4, p.n_patterns))
    design = np.hstack([M[:, [k]] * Xt for k in range(p.n_patterns)])  # n × P(d+1)
    F = masked_forward(Xt, M, U)
    for o in range(2):
        assert np.allclose(F[:, o], design @ U[o].T.ravel())
    R = rng.standard_normal((20, 2))
    G = masked_adjoint(Xt, M, R)
    for o in range(2):
        assert np.allclose(G[o].T.ravel(), design.T @ R[:, o])


def _cone_value_socp(X, mask, theta):
    Xt = add_bias_column(X)
    u = cp.Variable(X.shape[1] + 1)
    signs = np.where(mask, 1.0, -1.0)
    prob = cp.Problem(
        cp.Maximize((mask * theta) @ Xt @ u),
        [cp.multiply(signs, Xt @ u) >= 0, cp.norm(u[:-1]) <= 1],
    )
    prob.solve(solver="CLARABEL")
    return prob.value


def test_cone_value_matches_the_second_order_cone_program():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((25, 3))
    theta = rng.standard_normal(25)
    theta -= theta.mean()
    p = sample_patterns(X, 40, random_state=1)
    for k in range(12):
        for sign in (1, -1):
            ours = cone_value(X, p.masks[:, k], sign * theta)
            ref = _cone_value_socp(X, p.masks[:, k], sign * theta)
            assert ours >= ref - 1e-7
            assert ours == pytest.approx(ref, rel=1e-6, abs=1e-8)
    all_ones = np.ones(25, dtype=bool)
    assert cone_value(X, all_ones, theta) == pytest.approx(np.linalg.norm(X.T @ theta), rel=1e-9)


def test_supported_bounds_never_undercut_the_cone_values_and_relu_exceeds_agrees():
    from convexnn.cone import relu_block_norms, relu_exceeds, supported_block_norms

    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, 3))
    theta = rng.standard_normal(30)
    theta -= theta.mean()
    p = sample_patterns(X, 20, random_state=2)
    exact = relu_block_norms(X, p.masks, theta[:, None])[0]
    P = p.n_patterns
    for rows in (np.arange(30), np.arange(5), np.array([], dtype=int)):  # all, some, no rows
        supports = [[rows] * P, [rows] * P]
        bound = supported_block_norms(X, p.masks, theta, supports, threshold=0.0)[0]
        assert np.all(bound >= exact * (1 - 1e-9) - 1e-12)  # a valid upper bound, always
        assert np.allclose(bound, exact, rtol=1e-7, atol=1e-10)  # tight: it falls back to all rows
    # above a threshold the restricted values may stay loose, below it they are never trusted
    loose = supported_block_norms(X, p.masks, theta, [[np.arange(3)] * P] * 2, np.median(exact))[0]
    assert np.all(loose >= exact * (1 - 1e-9) - 1e-12)
    for bound in (0.5 * exact.max(), exact.max() * (1 + 1e-6)):
        assert relu_exceeds(X, p.masks, theta[:, None], bound) == bool(exact.max() > bound)


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


def test_solver_failure_names_the_statuses(monkeypatch):
    program = make_program("squared", "gated")
    with pytest.raises(RuntimeError, match="NOPE: not installed"):
        solve(program, "cvxpy", solvers=("NOPE",))
    with pytest.raises(ValueError, match="unknown solver"):
        solve(program, "magic")


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
