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


def test_warm_up_run_trains_on_a_few_rows_with_every_class(monkeypatch):
    """The first run of a method in a process is preceded by a discarded warm-up run; on a large
    set it trains on at most ``WARM_UP_ROWS`` rows (plus one of every class), not the whole set
    again (on the 86,393 windows of the ECG the warm-up doubled a fit of many minutes)."""
    import numpy as np

    from convexnn.bench import methods

    rng = np.random.default_rng(0)
    X = rng.standard_normal((600, 3))
    y = np.where(np.arange(600) < 450, np.arange(600) % 2, 2)  # class 2 only after row 450
    ds = make_dataset("toy", "s", "classification", X[:500], y[:500], X[500:], y[500:])
    seen = []
    monkeypatch.setitem(methods.METHODS, "lbfgs",
                        lambda data, alpha, config: seen.append(data) or {"method": "lbfgs"})
    monkeypatch.setattr(methods, "_WARM", set())
    methods.run_method("lbfgs", ds, 1e-3, MethodConfig())
    methods.run_method("lbfgs", ds, 1e-3, MethodConfig())
    assert [d.n_train for d in seen] == [methods.WARM_UP_ROWS + 1, 500, 500]
    assert set(seen[0].y_train) == {0, 1, 2}
