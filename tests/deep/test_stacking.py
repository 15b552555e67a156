"""convexnn.deep.stacking: layer-wise convex stacking of two-layer blocks."""

import warnings

import numpy as np
import pytest
from conftest import make_data
from sklearn.exceptions import ConvergenceWarning

from convexnn import ConvexDeepReLUClassifier, ConvexDeepReLURegressor, forward, network_objective


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return model.fit(X, y)


@pytest.mark.parametrize("sizes", [(6,), (8, 5), (6, 5, 4)])
def test_stacking_depth_and_width_controls(sizes):
    X, y = make_data("squared", n=50, d=3, seed=1)
    model = _fit(ConvexDeepReLURegressor(sizes, alpha=1e-2, n_gates=25, random_state=0), X, y)
    assert len(model.coefs_) == len(sizes) + 1 and model.n_layers_ == len(sizes) + 2
    assert len(model.hidden_layer_sizes_) == len(sizes)
    assert all(1 <= m <= cap for m, cap in zip(model.hidden_layer_sizes_, sizes, strict=True))
    assert all(g <= 1e-6 for g in model.block_gaps_)
    # to_mlp: same architecture, same predictions
    mlp = model.to_mlp()
    assert mlp.hidden_layer_sizes == model.hidden_layer_sizes_
    X_new = np.random.default_rng(0).standard_normal((30, 3))
    assert np.array_equal(mlp.predict(X_new), model.predict(X_new))


def test_stacked_network_reproduces_the_last_block():
    X, y = make_data("squared", n=50, d=3, seed=4)
    model = _fit(ConvexDeepReLURegressor((7, 5), alpha=1e-2, n_gates=25, random_state=1), X, y)
    # the last block's two-layer network on the previous activations is the deep network
    H = np.maximum(X @ model.coefs_[0] + model.intercepts_[0], 0.0)
    last = forward(model.coefs_[1:], model.intercepts_[1:], H)
    assert np.abs(forward(model.coefs_, model.intercepts_, X) - last).max() <= 1e-12
    # and its objective equals the last block's convex objective, to the solver's feasibility
    J_last = network_objective(model.coefs_[1:], model.intercepts_[1:], H, y, 1e-2, "squared")
    assert J_last == pytest.approx(model.block_objectives_[-1], rel=1e-7)


def test_stacking_truncates_to_the_maximum_width_and_resolves():
    X, y = make_data("squared", n=60, d=3, seed=6)
    wide = _fit(ConvexDeepReLURegressor((100,), alpha=1e-3, n_gates=40, random_state=0), X, y)
    cap = max(2, wide.hidden_layer_sizes_[0] // 2)
    narrow = _fit(ConvexDeepReLURegressor((cap,), alpha=1e-3, n_gates=40, random_state=0), X, y)
    assert narrow.blocks_[0].restricted and narrow.hidden_layer_sizes_[0] <= cap
    assert narrow.block_gaps_[0] <= 1e-6
    assert narrow.block_objectives_[0] >= wide.block_objectives_[0] * (1 - 1e-7)


def test_stacked_classifier_to_mlp_and_probabilities():
    X, y = make_data("softmax", n=60, d=3, seed=2)
    model = _fit(ConvexDeepReLUClassifier((12, 12), alpha=1e-2, n_gates=20, random_state=0), X, y)
    assert len(model.coefs_) == 3 and model.coefs_[-1].shape[1] == 3
    mlp = model.to_mlp()
    assert np.array_equal(mlp.predict_proba(X), model.predict_proba(X))
    assert np.array_equal(mlp.predict(X), model.predict(X))
