"""convexnn.generation: pattern generation reaches the certified global optimum."""

import warnings

import numpy as np
import pytest
from conftest import make_data
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from convexnn import ConvexReLUClassifier, ConvexReLURegressor, certify, network_objective


def _fit_mlps(kind, X, y, alpha, seed=0):
    """scikit-learn MLPs on the same objective (full batch, alpha_sklearn = alpha * n)."""
    n = X.shape[0]
    out = {}
    for solver in ("adam", "sgd", "lbfgs"):
        params = dict(alpha=alpha * n, solver=solver, max_iter=2000, random_state=seed)
        if solver != "lbfgs":
            params.update(batch_size=n, learning_rate_init=1e-2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            out[solver] = kind(hidden_layer_sizes=(50,), **params).fit(X, y)
    return out


@pytest.mark.parametrize("task", ["regression", "binary"])
def test_generated_network_is_certified_globally_optimal_and_mlps_are_not_better(task):
    X, y = make_data("squared" if task == "regression" else "logistic", n=40, d=2, seed=1)
    alpha = 1e-2
    kind = ConvexReLURegressor if task == "regression" else ConvexReLUClassifier
    est = kind(alpha, n_gates=20, solver="cvxpy", pattern_generation="exact", random_state=0)
    est.fit(X, y)
    assert est.generation_converged_
    ours = est.certify(X, y)
    assert ours.exact and ours.lower_bound <= ours.objective
    assert ours.objective == pytest.approx(est.objective_, rel=1e-12)
    # squared loss: certified global optimum to 1e-6. Logistic loss: the residual of Clarabel's
    # exponential-cone solution is the limit (about 1e-5 relative), not the search.
    assert ours.relative_gap <= (1e-6 if task == "regression" else 2e-5)
    loss = "squared" if task == "regression" else "logistic"
    mlps = _fit_mlps(MLPRegressor if task == "regression" else MLPClassifier, X, y, alpha)
    for mlp in mlps.values():
        theirs = certify(mlp.coefs_, mlp.intercepts_, X, y, alpha, loss)
        assert theirs.exact
        assert theirs.objective >= ours.objective - 1e-9 * abs(ours.objective)
        assert theirs.relative_gap >= ours.relative_gap - 1e-8
        assert theirs.lower_bound <= ours.objective + 1e-12


def test_heuristic_generation_starts_no_worse_than_its_quick_mlp(monkeypatch):
    """The quick fit's neurons join the first program, whose optimum is then at most that
    network's objective (its weights map to a feasible point of the convex program)."""
    import convexnn.generation as generation
    from convexnn import sample_patterns

    X, y = make_data("squared", n=60, d=3, seed=4)
    alpha = 1e-2
    mlp = MLPRegressor(
        hidden_layer_sizes=(8,), alpha=alpha * len(X), solver="lbfgs", max_iter=500, random_state=0
    ).fit(X, y)
    J = network_objective(mlp.coefs_, mlp.intercepts_, X, y, alpha, "squared")
    neurons = np.vstack([mlp.coefs_[0], mlp.intercepts_[0][None, :]])
    monkeypatch.setattr(generation, "mlp_gates", lambda *args: neurons)
    result = generation.generate_patterns(
        X, y[:, None], "squared", alpha, sample_patterns(X, 2, random_state=0),
        search="heuristic", solver="cvxpy", max_rounds=1, random_state=0,
    )  # fmt: skip
    first = result.history[0]
    assert first["objective"] <= J * (1 + 1e-7)
    masks = np.hstack([X, np.ones((len(X), 1))]) @ neurons >= 0
    known = {m.tobytes() for m in np.packbits(result.program.masks, axis=0).T}
    packed = np.packbits(masks, axis=0).T
    assert all(packed[j].tobytes() in known for j in range(masks.shape[1]) if masks[:, j].any())


def test_regression_exact_sampler_on_a_plane_is_certified_globally():
    """Regression: 200 points in the plane have 39,801 patterns; solving them all at once, the
    interior point stalled in their thin cones (gap inf, cone violation 0.04) and the estimator
    returned a network 10⁵ times worse than the zero network. Now the exact sampler solves by
    column generation priced over every pattern, and the fit is the certified global optimum."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (200, 2))
    y = np.sin(3 * X[:, 0]) * np.cos(2 * X[:, 1])
    model = ConvexReLURegressor(alpha=1e-2, sampler="exact", random_state=0).fit(X, y)
    assert model.generation_converged_ and model.gap_ <= 1e-6
    certificate = model.certify(X, y)
    assert certificate.exact and certificate.relative_gap <= 1e-6
    assert model.objective_ < 0.5 * np.var(y)  # far below the zero network
