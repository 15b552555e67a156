"""convexnn.dual: the screening bounds, the bound on gamma and the best dual scale."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convexnn.cone import cone_value
from convexnn.dual import (
    best_dual_scale,
    pattern_value_bounds,
    pattern_values,
    valid_gamma_bound,
)
from convexnn.losses import get_loss
from convexnn.patterns import exact_arrangement


def _centred_theta(rng, n):
    theta = rng.standard_normal(n)
    return theta - theta.mean()


def test_screening_bounds_are_upper_bounds_and_the_maximum_is_exact():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((25, 2)) * [3.0, 0.2] + 1.0
    theta = _centred_theta(rng, 25)
    _, masks, _ = exact_arrangement(X)
    plus, minus = pattern_value_bounds(X, masks, theta)
    exact_plus = np.array([cone_value(X, m, theta) for m in masks.T])
    exact_minus = np.array([cone_value(X, m, -theta) for m in masks.T])
    assert np.all(plus >= exact_plus - 1e-10) and np.all(minus >= exact_minus - 1e-10)
    values, exact = pattern_values(X, masks, theta)
    brute = np.maximum(exact_plus, exact_minus)
    assert values.max() == pytest.approx(brute.max(), rel=1e-12)
    assert np.all(values >= brute - 1e-10)  # unevaluated patterns keep an upper bound
    assert exact.sum() < masks.shape[1]  # the screening skipped most of the NNLS


@settings(
    max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    n=st.integers(4, 14),
    d=st.integers(1, 2),
    seed=st.integers(0, 2**31 - 1),
    scale=st.floats(1e-2, 1e2),
)
def test_valid_gamma_bound_is_never_below_the_exact_value(n, d, seed, scale):
    rng = np.random.default_rng(seed)
    X = scale * rng.standard_normal((n, d)) + rng.standard_normal(d)
    theta = _centred_theta(rng, n)
    _, masks, _ = exact_arrangement(X)
    gamma = np.max(pattern_values(X, masks, theta)[0])
    assert valid_gamma_bound(X, theta) >= gamma * (1 - 1e-9)


def test_best_dual_scale_maximises_the_dual():
    rng = np.random.default_rng(3)
    grid = np.linspace(0, 0.7, 7001)
    Y = rng.standard_normal((30, 1))
    Theta = Y - 0.3 * rng.standard_normal((30, 1))
    Theta -= Theta.mean()
    s, value = best_dual_scale("squared", Theta, Y, 0.7)
    assert value >= max(get_loss("squared").dual(g * Theta, Y) for g in grid) - 1e-15
    assert value == pytest.approx(get_loss("squared").dual(s * Theta, Y), rel=1e-14)
    Yb = rng.integers(0, 2, (30, 1)).astype(float)
    Theta = Yb - rng.uniform(0.05, 0.95, (30, 1))
    s, value = best_dual_scale("logistic", Theta, Yb, 0.7)
    assert 0 <= s <= 0.7
    assert value >= max(get_loss("logistic").dual(g * Theta, Yb) for g in grid) - 1e-9
