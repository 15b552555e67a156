"""convexnn.patterns.samplers: the Gaussian and data samplers and the sampler registry."""

import numpy as np
import pytest
from conftest import check_valid_patterns

from convexnn.patterns import SAMPLERS, add_bias_column, sample_patterns


def test_samplers_are_registered():
    assert {"gaussian", "data", "exact"} <= set(SAMPLERS)


def test_gaussian_patterns_are_distinct_nonzero_and_reproducible():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 4)) * [1, 1e3, 1e-3, 1] + 7
    p1 = sample_patterns(X, 300, random_state=3)
    p2 = sample_patterns(X, 300, random_state=3)
    assert np.array_equal(p1.masks, p2.masks) and np.array_equal(p1.gates, p2.gates)
    assert p1.masks.shape == (50, p1.n_patterns) and p1.gates.shape == (5, p1.n_patterns)
    assert 1 < p1.n_patterns <= 300
    assert p1.masks.any(axis=0).all()
    assert len({m.tobytes() for m in p1.masks.T}) == p1.n_patterns
    # the gates live in the input space: they reproduce the masks on X itself
    assert np.array_equal(add_bias_column(X) @ p1.gates >= 0, p1.masks)


def test_uneven_scales_do_not_collapse_the_patterns():
    # a feature of scale 1e-3 must still split the data: drawn in standardised space
    rng = np.random.default_rng(1)
    X = np.column_stack([1e4 * rng.standard_normal(60), 1e-3 * rng.standard_normal(60)])
    p = sample_patterns(X, 200, random_state=0)
    assert p.n_patterns > 60


def test_bad_sampler_arguments():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="n_gates must be at least 1"):
        sample_patterns(X, 0)
    with pytest.raises(ValueError, match="unknown sampler"):
        sample_patterns(X, 5, sampler="nope")


@pytest.mark.parametrize("d", [3, 60])
def test_data_sampler(d):
    rng = np.random.default_rng(d)
    X = rng.standard_normal((120, d)) * np.geomspace(1e-3, 1e3, d) - 2.0
    p1 = sample_patterns(X, 120, "data", random_state=5)
    p2 = sample_patterns(X, 120, "data", random_state=5)
    assert np.array_equal(p1.masks, p2.masks)
    assert 100 < p1.n_patterns <= 120
    check_valid_patterns(X, p1)


def test_data_gates_pass_close_to_data_points():
    # each gate is a hyperplane through d points, nudged: d points lie much closer than the rest
    rng = np.random.default_rng(2)
    X = rng.standard_normal((60, 3))
    p = sample_patterns(X, 50, "data", random_state=0)
    Z = np.abs(add_bias_column(X) @ p.gates) / np.linalg.norm(p.gates[:3], axis=0)
    Z.sort(axis=0)
    assert np.all(Z[2] <= 1e-2 * Z[3])
