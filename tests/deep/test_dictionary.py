"""convexnn.deep.dictionary: the features of deep narrow networks on 1-D inputs."""

import numpy as np
import pytest

from convexnn.deep import build_dictionary
from convexnn.deep.dictionary import (
    chain_features,
    estimate_dictionary_features,
    estimate_dictionary_memory,
)


def _naive_feature(x, signs, anchors):
    """The paper's recursive definition, one point at a time."""

    def g(level, t):
        if level == 0:
            return t
        prev = g(level - 1, t)
        return max(signs[level - 1] * (prev - g(level - 1, anchors[level - 1])), 0.0)

    return np.array([g(len(signs), t) for t in x])


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_chain_features_follow_the_recursive_definition(depth):
    rng = np.random.default_rng(depth)
    x = rng.uniform(-3, 3, 9)
    signs = rng.choice([-1.0, 1.0], size=(20, depth - 1))
    anchors = rng.choice(x, size=(20, depth - 1))
    anchors[:10, 0] = 2 * anchors[:10, min(1, depth - 2)] - anchors[:10, 0]  # reflections
    values = chain_features(x, signs, anchors)
    for j in range(20):
        assert np.allclose(values[:, j], _naive_feature(x, signs[j], anchors[j]), atol=1e-14)


def test_depth_four_dictionary_has_reflection_breakpoints():
    x = np.array([0.0, 2.0, 6.0, 7.0])
    d3, d4 = build_dictionary(x, 3), build_dictionary(x, 4)
    assert set(np.unique(d3.anchors)) <= set(x)  # depth 3: training points only
    reflections = set(np.unique(d4.anchors[:, 0])) - set(x)
    assert 4.0 in reflections  # 2·2 − 0: the reflection of x=0 about x=2
    # the depth-4 dictionary spans features the depth-3 one does not
    assert d4.n_features > d3.n_features


def test_dictionary_drops_zero_and_repeated_features():
    x = np.array([0.0, 1.0, 3.0])
    d = build_dictionary(x, 3)
    V = d.values
    assert np.all(np.max(V, axis=0) > 0)
    assert np.unique(np.round(V, 12), axis=1).shape[1] == V.shape[1]
    # every ramp of depth 2 is among the depth-3 features
    ramps = build_dictionary(x, 2).values
    for j in range(ramps.shape[1]):
        assert np.min(np.abs(V - ramps[:, [j]]).max(axis=0)) < 1e-14


@pytest.mark.parametrize("depth, sizes", [(2, (7, 50, 300)), (3, (7, 50, 150)), (4, (7, 20, 45))])
def test_memory_estimate_counts_the_features_the_dictionary_keeps(depth, sizes):
    """The memory estimate counts the features the dictionary keeps: on inputs of several
    sizes and spreads (uniform, heavy-tailed, repeated integers) that count bounds the features
    built, and on uniform inputs of 20 points or more it is within a factor of 2 of them."""
    rng = np.random.default_rng(depth)
    for n in sizes:
        inputs = {"uniform": rng.uniform(-3, 3, n), "heavy-tailed": rng.standard_normal(n) ** 3,
                  "repeated integers": rng.integers(0, n, n)}
        for kind, x in inputs.items():
            dictionary = build_dictionary(x, depth)
            points = dictionary.points.shape[0]
            estimate = estimate_dictionary_features(points, depth)
            assert dictionary.n_features <= estimate, (kind, n)
            if kind == "uniform" and points >= 20:
                assert estimate <= 2 * dictionary.n_features, (kind, n)
            assert estimate_dictionary_memory(points, points, depth) >= 3 * dictionary.values.nbytes
    # the raw chains: (2B)^(L-1), twice that at depth 4, each with L - 1 anchors and signs
    assert estimate_dictionary_memory(10, 10, 4) >= 2 * 20**3 * 3 * 2 * 8
