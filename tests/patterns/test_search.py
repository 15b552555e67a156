"""convexnn.patterns.search: the ascent on a dual point that finds violated patterns."""

import numpy as np

from convexnn.patterns import add_bias_column
from convexnn.patterns.search import ascent_patterns


def test_ascent_patterns_are_the_activations_of_their_gates_and_climb_the_dual_value():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((50, 2))
    theta = np.sin(3 * X[:, 0]) - np.sin(3 * X[:, 0]).mean()
    starts = rng.standard_normal((3, 4))
    patterns = ascent_patterns(X, theta, starts, n_iter=10)
    Xt = add_bias_column(X)
    np.testing.assert_array_equal(Xt @ patterns.gates >= 0, patterns.masks)
    # the best pattern found is at least as good as the best starting pattern for ‖X̃ᵀD θ‖
    def value(masks):
        return np.linalg.norm(Xt.T @ (masks * theta[:, None]), axis=0).max()

    assert value(patterns.masks) >= value(Xt @ starts >= 0) - 1e-12
