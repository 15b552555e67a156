"""convexnn.bench.datasets: autoregressive windows and standardised splits."""

import numpy as np
import pytest
from conftest import make_data

from convexnn.bench.datasets import autoregressive_windows, make_dataset


def test_autoregressive_windows():
    X, y = autoregressive_windows(np.arange(6.0), 2)
    np.testing.assert_array_equal(X, [[0, 1], [1, 2], [2, 3], [3, 4]])
    np.testing.assert_array_equal(y, [2, 3, 4, 5])


def test_features_standardised_on_train_split():
    X, y = make_data("squared", n=30, d=2, scales=[10.0, 0.1])
    ds = make_dataset("toy", "s", "regression", X[:20], 5 + 3 * y[:20], X[20:], 5 + 3 * y[20:])
    np.testing.assert_allclose(ds.X_train.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(ds.X_train.std(0), 1)
    np.testing.assert_allclose(ds.y_train.std(), 1)
    assert ds.y_scale == pytest.approx(np.std(5 + 3 * y[:20]))


@pytest.mark.parametrize("max_train", [0, -5])
def test_a_cap_of_no_training_samples_is_refused(max_train):
    """Regression: ``max_train=0`` left an empty training split, standardised by NumPy's mean of
    an empty slice (its RuntimeWarnings and NaN scales) before any model saw it."""
    X, y = make_data("squared", n=30, d=2)
    with pytest.raises(ValueError, match="max_train must be a positive number"):
        make_dataset("toy", "s", "regression", X[:20], y[:20], X[20:], y[20:], max_train=max_train)
