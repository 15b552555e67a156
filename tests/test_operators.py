"""convexnn.operators: the masked products against the explicit design they never form."""

import naive
import numpy as np
import pytest

from convexnn import sample_patterns
from convexnn.operators import masked_adjoint, masked_forward, numeric_masks
from convexnn.patterns import add_bias_column

DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
def test_operators_match_the_explicit_design(dtype):
    rng = np.random.default_rng(2)
    Xt = add_bias_column(rng.standard_normal((25, 3))).astype(dtype)
    M = rng.random((25, 5)) < 0.5
    U = rng.standard_normal((2, 4, 5)).astype(dtype)
    R = rng.standard_normal((25, 2)).astype(dtype)
    design = naive.explicit_design(Xt.astype(float), M.astype(float))
    rtol = 1e-4 if dtype == np.float32 else 1e-12
    for masks in (M, numeric_masks(M, dtype)):  # boolean, or the numeric matrix programs hold
        F, G = masked_forward(Xt, masks, U), masked_adjoint(Xt, masks, R)
        assert F.dtype == G.dtype == dtype
        for o in range(2):
            assert np.allclose(F[:, o], design @ U[o].T.ravel(), rtol=rtol, atol=1e-5)
            assert np.allclose(G[o].T.ravel(), design.T @ R[:, o], rtol=rtol, atol=1e-5)


def test_masked_operators_match_the_explicit_design():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    p = sample_patterns(X, 10, random_state=0)
    Xt, M = add_bias_column(X), p.masks.astype(float)
    U = rng.standard_normal((2, 4, p.n_patterns))
    design = np.hstack([M[:, [k]] * Xt for k in range(p.n_patterns)])  # n × P(d+1)
    F = masked_forward(Xt, M, U)
    for o in range(2):
        assert np.allclose(F[:, o], design @ U[o].T.ravel())
    R = rng.standard_normal((20, 2))
    G = masked_adjoint(Xt, M, R)
    for o in range(2):
        assert np.allclose(G[o].T.ravel(), design.T @ R[:, o])
