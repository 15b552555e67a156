"""convexnn.patterns.mlp: the patterns of a trained MLP contain that MLP."""

import warnings

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
