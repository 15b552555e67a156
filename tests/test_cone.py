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


def _multiplier_bound_one_at_a_time(X, mask, theta, lam):
    """The bound of :func:`multiplier_bounds` for one pattern, written out plainly: move ``λ`` onto
    the bias equality by raising one multiplier of the needed sign, or by shrinking those of the
    other sign, and keep the smaller norm of the weights of ``q(λ)``."""
    signs = np.where(mask, 1.0, -1.0)
    q = X.T @ (np.where(mask, theta, 0.0) + signs * lam)
    excess = -(np.sum(theta[mask]) + signs @ lam)
    if excess == 0.0:
        return float(np.linalg.norm(q))
    sign, need = np.sign(excess), abs(excess)
    options = [np.linalg.norm(q + excess * X[i]) for i in range(len(X)) if signs[i] == sign]
    against = (signs == -sign) & (lam > 0)
    total = lam[against].sum()
    roundoff = 1e-12 * np.abs(theta).sum()
    if total > 0 and total >= need - roundoff:
        moved = X[against].T @ (signs[against] * lam[against])
        options.append(np.linalg.norm(q - min(1.0, need / total) * moved))
    elif need <= roundoff:
        options.append(np.linalg.norm(q))
    return float(min(options)) if options else np.inf


def test_multiplier_bounds_match_the_scalar_move_and_never_undercut_the_cone_values():
    from convexnn.cone import multiplier_bounds

    rng = np.random.default_rng(4)
    X = rng.standard_normal((30, 3))
    p = sample_patterns(X, 25, random_state=5)
    P = p.n_patterns
    Theta = rng.standard_normal((30, P))
    Theta -= Theta.mean(axis=0)
    Lam = np.abs(rng.standard_normal((30, P))) * (rng.random((30, P)) < 0.3)
    Lam[:, 0] = 0.0  # no multiplier: the raise alone meets the equality
    masks = p.masks.copy()
    masks[:, 1] = False  # an empty pattern
    ours = multiplier_bounds(X, masks, Theta, Lam)
    reference = np.array(
        [_multiplier_bound_one_at_a_time(X, masks[:, k], Theta[:, k], Lam[:, k]) for k in range(P)]
    )
    assert np.allclose(ours, reference, rtol=1e-10, atol=1e-12)
    exact = np.array([cone_value(X, masks[:, k], Theta[:, k]) for k in range(P)])
    assert np.all(ours >= exact * (1 - 1e-9) - 1e-12)  # the value of a feasible λ: an upper bound


def test_interior_point_certificates_take_the_iterates_multipliers_before_any_nnls(monkeypatch):
    """The certificate of ``ipm`` bounds every block by the iterate's own row multipliers and runs
    the NNLS only on blocks those bounds leave above ``n·alpha``: on this 60-pattern program its
    three certificates ran 487 NNLS before (one per block and sign, and again on every row where
    the restricted support fell short), 80 now; the full certificate agrees with the gap."""
    import convexnn.cone as cone
    from convexnn import ConvexProgram
    from convexnn.solvers import solve

    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 6))
    y = (X[:, 0] + 0.5 * np.abs(X[:, 1]) + 0.3 * rng.standard_normal(80) > 0).astype(float)
    program = ConvexProgram(X, y[:, None], sample_patterns(X, 60, random_state=0), "logistic",
                            1e-3, "relu")
    calls = []
    original = cone.cone_value

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(cone, "cone_value", counted)
    result = solve(program, "ipm", tol=1e-7)
    monkeypatch.setattr(cone, "cone_value", original)
    assert result.gap <= 1e-7
    certificates = len(result.gap_history)
    assert len(calls) <= certificates * program.n_patterns / 2
    assert program.duality_gap(result.solution).gap <= 1e-7
