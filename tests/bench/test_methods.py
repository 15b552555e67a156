"""convexnn.bench.methods: a run scored by the objective of record, and a failed run recorded."""

import math

import pytest
from conftest import make_data

from convexnn.bench.datasets import make_dataset
from convexnn.bench.methods import MethodConfig, run_lbfgs, run_method


def test_objective_of_record_matches_sklearn_lbfgs_loss():
    # scikit-learn's full-batch objective with alpha_sklearn = alpha * n is J (:ref:`maths-objective`)
    X, y = make_data("softmax", n=50, d=3)
    ds = make_dataset("toy", "s", "classification", X[:40], y[:40], X[40:], y[40:])
    from sklearn.neural_network import MLPClassifier

    config = MethodConfig(hidden=7, lbfgs_max_iter=30)
    record = run_lbfgs(ds, 1e-2, config)
    mlp = MLPClassifier((7,), solver="lbfgs", alpha=1e-2 * 40, max_iter=30, random_state=0)
    with pytest.warns(Warning):
        mlp.fit(ds.X_train, ds.y_train)
    assert record["objective"] == pytest.approx(mlp.loss_, rel=1e-10)


def test_failed_run_becomes_an_error_record():
    X, y = make_data("squared", n=20, d=2)
    ds = make_dataset("toy", "s", "regression", X[:15], y[:15], X[15:], y[15:])
    record = run_method("convex-gated", ds, 1e-3, MethodConfig(solver="no-such-solver"))
    assert record["status"].startswith("error: InvalidParameterError")
    assert record["objective"] == math.inf
