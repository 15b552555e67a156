"""convexnn.cone: the value of a pattern's cone, against the second-order cone program."""

import cvxpy as cp
import numpy as np
import pytest

from convexnn import sample_patterns
from convexnn.cone import cone_value
from convexnn.patterns import add_bias_column


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
