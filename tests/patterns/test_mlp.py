"""convexnn.patterns.mlp: the patterns of a trained MLP contain that MLP."""

import warnings

import numpy as np
import pytest
from conftest import ESTIMATOR_CASES as CASES
from conftest import make_data
from sklearn.exceptions import ConvergenceWarning


@pytest.mark.parametrize("Estimator,kind", [CASES[0], CASES[2]])
def test_mlp_sampler_is_never_worse_than_its_mlp(Estimator, kind):
    # the exact ReLU program over a trained MLP's patterns contains that MLP (its weights map to a
    # feasible point), so the convex network is at least as good on the objective; single output
    # only: with several outputs the program's neurons each feed one output (:ref:`maths-programs`)
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    from convexnn import network_objective

    X, y = make_data(kind, n=60, d=3, seed=3)
    alpha, width = 1e-2, 8
    MLP = MLPRegressor if kind == "squared" else MLPClassifier
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLP(
            hidden_layer_sizes=(width,), alpha=alpha * len(X), solver="lbfgs", max_iter=2000,
            random_state=0,
        ).fit(X, y)  # fmt: skip
    J_mlp = network_objective(mlp.coefs_, mlp.intercepts_, X, y, alpha, kind)
    model = Estimator(alpha, n_gates=width, sampler="mlp", solver="cvxpy", random_state=0)
    model.fit(X, y)
    assert model.status_ == "optimal"
    assert model.n_patterns_ <= width
    assert model.objective_ <= J_mlp * (1 + 1e-7)


def test_the_mlp_is_trained_on_centred_targets_only_ten_spreads_out():
    """Targets more than ten spreads from the origin are centred for the MLP and its output
    biases shifted back (the same objective); nearer, the MLP is scikit-learn's on the targets
    as they are (the raw UCI targets lie 2-7 spreads out, where centring helped as often as it
    hurt)."""
    from sklearn.neural_network import MLPRegressor
    from threadpoolctl import threadpool_limits

    from convexnn.patterns.mlp import TARGET_SPREADS, fit_mlp

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
    alpha, n = 1e-3, len(X)
    for offset in (0.5 * TARGET_SPREADS * y.std(), 2 * TARGET_SPREADS * y.std()):
        far = offset > TARGET_SPREADS * y.std()
        shift = np.mean(y + offset) if far else 0.0
        mlp = fit_mlp(X, (y + offset)[:, None], "squared", alpha, 20, 0)
        with threadpool_limits(limits=1, user_api="blas"):  # as fit_mlp trains it
            plain = MLPRegressor(hidden_layer_sizes=(20,), alpha=alpha * n, solver="lbfgs",
                                 max_iter=2000, random_state=0).fit(X, y + offset - shift)
        for ours, theirs in zip(mlp.coefs_, plain.coefs_, strict=True):
            np.testing.assert_array_equal(ours, theirs)
        np.testing.assert_allclose(mlp.intercepts_[-1], plain.intercepts_[-1] + shift, rtol=1e-12)
        np.testing.assert_allclose(mlp.predict(X), plain.predict(X) + shift, rtol=1e-9)


def test_targets_of_small_spread_are_scaled_to_unit_spread_for_the_mlp():
    """Targets of spread ``s`` below one are scaled to unit spread for the MLP, with ``alpha / s``
    (the same objective times 1/s²), and its weights mapped back: every weight times √s, the
    output bias times s. The returned MLP is a network on the targets themselves."""
    from sklearn.neural_network import MLPRegressor
    from threadpoolctl import threadpool_limits

    from convexnn.patterns.mlp import fit_mlp

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    y = 0.05 * (np.sin(X[:, 0]) + X[:, 1] * X[:, 2])
    alpha, n, s = 1e-4, len(X), float(y.std())
    mlp = fit_mlp(X, y[:, None], "squared", alpha, 20, 0)
    with threadpool_limits(limits=1, user_api="blas"):
        plain = MLPRegressor(hidden_layer_sizes=(20,), alpha=alpha * n / s, solver="lbfgs",
                             max_iter=2000, random_state=0).fit(X, y / s)
    np.testing.assert_allclose(mlp.predict(X), s * plain.predict(X), rtol=1e-9, atol=1e-15)

    def objective(model, targets, weight_decay):  # scikit-learn's squared loss and penalty
        residual = model.predict(X) - targets
        penalty = sum(float(np.sum(W**2)) for W in model.coefs_)
        return 0.5 * np.mean(residual**2) + weight_decay * penalty / (2 * n)

    assert objective(mlp, y, alpha * n) == pytest.approx(
        s**2 * objective(plain, y / s, alpha * n / s), rel=1e-9)
