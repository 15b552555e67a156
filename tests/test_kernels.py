"""convexnn.kernels: the compiled kernels against their plain NumPy twins (tests/naive.py)."""

import naive
import numpy as np
import pytest

from convexnn.kernels import (
    augmented_residual,
    group_soft_threshold,
    masked_rowsum,
    pair_weights,
    right_sandwich_rows,
    update_multipliers,
)

DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
def test_kernels_match_numpy_reference(dtype):
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((30, 7)).astype(dtype)
    M = rng.random((30, 7)) < 0.5
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert np.allclose(masked_rowsum(Z, M), naive.masked_rowsum(Z, M), rtol=rtol)
    W = rng.standard_normal((2, 4, 7)).astype(dtype)
    W[0, :, 3] *= 1e-3  # a block below the threshold
    for n_pen in (4, 3):
        expected = naive.group_soft_threshold(W, 0.3, n_pen)
        assert np.allclose(group_soft_threshold(W.copy(), 0.3, n_pen), expected, rtol=rtol, atol=1e-7)
    assert not np.any(group_soft_threshold(W.copy(), 0.3, 4)[0, :, 3])


@pytest.mark.parametrize("dtype", DTYPES)
def test_augmented_lagrangian_kernels_match_numpy_reference(dtype):
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((20, 6)).astype(dtype)
    M = rng.random((20, 6)) < 0.5
    Lam = np.abs(rng.standard_normal((20, 6))).astype(dtype)
    g = rng.standard_normal(20).astype(dtype)
    S = np.where(M, 1.0, -1.0)
    H = np.maximum(Lam - 0.7 * S * Z, 0.0)
    out = np.empty_like(Z)
    total = augmented_residual(Z, M, Lam, 0.7, g, -1.0, out)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert total == pytest.approx(np.sum(H**2), rel=rtol)
    assert np.allclose(out, M * (-g[:, None]) - S * H, rtol=rtol, atol=1e-6)
    update_multipliers(Z, M, Lam, 0.7)
    assert np.allclose(Lam, H, rtol=rtol)


def test_right_sandwich_rows_match_numpy_reference():
    rng = np.random.default_rng(3)
    n, K, rows, start = 11, 4, 5, 3
    U = rng.standard_normal((rows, K, K, n))
    St = rng.standard_normal((K, K, n))
    A = np.full((K, n, K, n), np.nan)
    expected = A.copy()
    right_sandwich_rows(U, St, start, A)
    naive.right_sandwich_rows(U, St, start, expected)
    # the blocks q < o and the rows outside the block are left as they were
    assert np.array_equal(np.isnan(A), np.isnan(expected))
    assert np.allclose(A[~np.isnan(A)], expected[~np.isnan(expected)], rtol=1e-12, atol=0)


def test_pair_weights_match_numpy_reference():
    rng = np.random.default_rng(2)
    A = rng.standard_normal((9, 7, 3))
    A[rng.random((9, 7)) < 0.5] = 0.0  # inactive patterns
    A[4] = 0.0  # a sample with none
    out = np.full((9, 28), np.nan)
    pair_weights(A, out)
    assert np.allclose(out, naive.pair_weights(A), rtol=1e-12, atol=0)


def test_compiled_softmax_intercept_is_optimal_by_a_numpy_check():
    """The compiled intercept solve (bcd's, and SoftmaxLoss.intercept_shift's) ends where the
    plain NumPy gradient of the mean softmax loss over the intercept vanishes."""
    from scipy.special import softmax

    from convexnn.kernels import softmax_intercept
    from convexnn.losses import SoftmaxLoss

    rng = np.random.default_rng(0)
    for scale in (0.1, 5.0, 40.0):
        F = scale * rng.standard_normal((30, 4))
        Y = np.eye(4)[rng.integers(0, 4, 30)]
        Y[:4] = np.eye(4)
        c = rng.standard_normal(4)
        c[-1] = 0.0
        softmax_intercept(F, Y, c)
        gradient = softmax(F + c, axis=1).sum(axis=0) - Y.sum(axis=0)
        assert np.abs(gradient).max() <= 1e-10
        shift = SoftmaxLoss.intercept_shift(F, Y)
        gradient = softmax(F + shift, axis=1).sum(axis=0) - Y.sum(axis=0)
        assert np.abs(gradient).max() <= 1e-10 and shift[-1] == 0.0
