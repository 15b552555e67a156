import warnings

import numpy as np
import pytest
from conftest import make_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from convexnn import ConvexReLURegressor, certify, network_objective


def _random_network(rng, d, width, outputs, scale):
    coefs = [scale * rng.standard_normal((d, width)), scale * rng.standard_normal((width, outputs))]
    intercepts = [scale * rng.standard_normal(width), rng.standard_normal(outputs)]
    return coefs, intercepts


@settings(
    max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    n=st.integers(5, 12),
    d=st.integers(1, 2),
    loss=st.sampled_from(["squared", "logistic", "softmax", "multi"]),
    seed=st.integers(0, 2**31 - 1),
    scale=st.floats(1e-2, 3.0),
    alpha=st.floats(1e-4, 1.0),
    patterns=st.sampled_from(["exact", "heuristic"]),
)
def test_lower_bound_never_exceeds_the_objective_of_any_network(
    n, d, loss, seed, scale, alpha, patterns
):
    # weak duality: the bound from one network is below the objective of every other network
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.1, 10, d)
    if loss == "squared":
        y, K = rng.standard_normal(n), 1
    elif loss == "multi":
        y, K, loss = rng.standard_normal((n, 2)), 2, "squared"
    elif loss == "logistic":
        y, K = np.r_[0, 1, rng.integers(0, 2, n - 2)], 1
    else:
        y, K = np.r_[0, 1, 2, rng.integers(0, 3, n - 3)], 3
    coefs, intercepts = _random_network(rng, d, int(rng.integers(1, 6)), K, scale)
    cert = certify(coefs, intercepts, X, y, alpha, loss, patterns=patterns, random_state=0)
    assert cert.lower_bound <= cert.objective + 1e-12
    for _ in range(5):
        other = _random_network(rng, d, int(rng.integers(1, 8)), K, rng.uniform(0.01, 3))
        assert cert.lower_bound <= network_objective(*other, X, y, alpha, loss) + 1e-12
    # and below a trained network's objective (nearer the optimum, where it matters)
    kind = MLPRegressor if loss == "squared" else MLPClassifier
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = kind(
            hidden_layer_sizes=(8,), alpha=alpha * n, solver="lbfgs", max_iter=300, random_state=0
        ).fit(X, y)
    if loss == "squared" or len(mlp.classes_) == K:
        J = network_objective(mlp.coefs_, mlp.intercepts_, X, y, alpha, loss)
        assert cert.lower_bound <= J + 1e-12


def test_certificate_matches_brute_force_on_tiny_data():
    rng = np.random.default_rng(4)
    X = rng.uniform(-2, 2, (10, 1))
    y = np.sin(2 * X[:, 0]) + 0.1 * rng.standard_normal(10)
    alpha = 1e-2
    est = ConvexReLURegressor(alpha, n_gates=5, solver="cvxpy", pattern_generation="exact")
    cert = est.fit(X, y).certify(X, y)
    # exhaustive: the convex program over every pattern, solved by CVXPY
    full = ConvexReLURegressor(alpha, sampler="exact", solver="cvxpy").fit(X, y)
    # and the non-convex problem: best of many random restarts of L-BFGS
    best = np.inf
    for seed in range(15):
        mlp = MLPRegressor(
            hidden_layer_sizes=(20,),
            alpha=alpha * 10,
            solver="lbfgs",
            max_iter=5000,
            tol=1e-12,
            random_state=seed,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            mlp.fit(X, y)
        best = min(best, network_objective(mlp.coefs_, mlp.intercepts_, X, y, alpha, "squared"))
    assert cert.exact
    assert cert.lower_bound <= best + 1e-12
    assert cert.lower_bound <= full.objective_ + 1e-12
    assert cert.objective <= best + 1e-7 * best
    assert cert.objective == pytest.approx(full.objective_, rel=1e-6)
    assert cert.relative_gap <= 1e-6


def test_multi_output_structures():
    X, y = make_data("multi", n=12, d=2, seed=2)
    rng = np.random.default_rng(0)
    shared = _random_network(rng, 2, 4, 2, 1.0)
    cert = certify(*shared, X, y, 1e-2)
    assert cert.structure == "shared" and not cert.exact
    with pytest.raises(ValueError, match="feed at most one output"):
        certify(*shared, X, y, 1e-2, structure="per_output")
    coefs = [shared[0][0], shared[0][1] * np.array([[1, 0], [0, 1], [1, 0], [0, 1]])]
    cert_per = certify(coefs, [np.zeros(4), np.zeros(2)], X, y, 1e-2)
    assert cert_per.structure == "per_output" and cert_per.exact
    # the per-output bound uses max_o γ_o ≤ ‖γ‖₂: never lower than the shared one
    cert_shared = certify(coefs, [np.zeros(4), np.zeros(2)], X, y, 1e-2, structure="shared")
    assert cert_per.lower_bound >= cert_shared.lower_bound - 1e-15


def test_heuristic_certificate_is_a_valid_relaxation():
    X, y = make_data("squared", n=30, d=3, seed=0)
    est = ConvexReLURegressor(1e-2, n_gates=30, solver="cvxpy", random_state=0).fit(X, y)
    exact = est.certify(X, y)
    relaxed = est.certify(X, y, patterns="heuristic", random_state=0)
    assert exact.exact and not relaxed.exact
    assert relaxed.gamma >= exact.gamma  # a valid upper bound on γ
    assert relaxed.gamma_heuristic <= exact.gamma * (1 + 1e-9)  # found patterns are real ones
    assert relaxed.lower_bound <= exact.lower_bound + 1e-15


def test_bad_arguments():
    X, y = make_data("squared", n=10, d=2)
    rng = np.random.default_rng(0)
    coefs, intercepts = _random_network(rng, 2, 3, 1, 1.0)
    with pytest.raises(ValueError, match="two-layer"):
        certify(coefs + [np.ones((1, 1))], intercepts + [np.zeros(1)], X, y, 0.1)
    with pytest.raises(ValueError, match="does not match"):
        certify(coefs, intercepts, X[:, :1], y, 0.1)
    with pytest.raises(ValueError, match="patterns must be"):
        certify(coefs, intercepts, X, y, 0.1, patterns="all")
    gated = ConvexReLURegressor(1e-2, n_gates=10, formulation="gated", solver="cvxpy").fit(X, y)
    with pytest.raises(ValueError, match="formulation='relu'"):
        gated.certify(X, y)
    with pytest.raises(ValueError, match="formulation='relu'"):
        ConvexReLURegressor(formulation="gated", pattern_generation=True).fit(X, y)
