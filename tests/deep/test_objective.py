"""convexnn.deep.objective: the objective of deep networks under the l_L penalty, and the
rebalancing that keeps a network's function while lowering its penalty."""

import numpy as np
import pytest
from conftest import make_data

from convexnn import forward, network_objective
from convexnn.deep import deep_objective, rebalance


def test_two_layer_deep_objective_is_the_objective_of_record():
    X, y = make_data("squared", n=30, d=2, seed=2)
    rng = np.random.default_rng(0)
    coefs = [rng.standard_normal((2, 5)), rng.standard_normal((5, 1))]
    intercepts = [rng.standard_normal(5), rng.standard_normal(1)]
    J = deep_objective(coefs, intercepts, X, y[:, None], 0.1)
    assert J == pytest.approx(network_objective(coefs, intercepts, X, y, 0.1, "squared"), rel=1e-14)


def test_rebalance_keeps_the_function_and_lowers_the_penalty():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((20, 2))
    coefs = [
        rng.standard_normal((2, 4)) * [[3.0, 0.1, 1, 1]],
        rng.standard_normal((4, 3)),
        rng.standard_normal((3, 1)) * 5,
    ]
    intercepts = [rng.standard_normal(4), rng.standard_normal(3), rng.standard_normal(1)]
    new_coefs, new_intercepts = rebalance(coefs, intercepts)
    assert np.allclose(
        forward(new_coefs, new_intercepts, X), forward(coefs, intercepts, X), atol=1e-10
    )
    before = sum(np.sum(np.abs(W) ** 3) for W in coefs)
    after = sum(np.sum(np.abs(W) ** 3) for W in new_coefs)
    assert after < 0.9 * before
