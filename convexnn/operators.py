"""The linear maps of the convex programs, through the pattern masks (MATH.md §6).

The block variable of a program with ``K`` outputs, ``P`` patterns and ``d`` features is an array
``U`` of shape ``(K, d + 1, P)``: column ``U[o, :, k]`` is the block ``u_{k,o}``. The model output is

    F[:, o] = Σ_k D_k X̃ U[o, :, k] = rowsum(M ∘ (X̃ U[o]))

and the adjoint of that map sends a residual ``R`` (n × K) to ``X̃ᵀ (M ∘ R[:, o])`` for each output.
Neither map forms the ``n × P(d + 1)`` design: each is one BLAS product and one numba kernel
(:mod:`convexnn.kernels`) over the boolean masks ``M`` (n × P).
"""

from __future__ import annotations

import numpy as np

from .kernels import cone_violation, masked_rowsum, masked_scale

__all__ = ["masked_forward", "masked_adjoint", "max_cone_violation"]


def masked_forward(Xt, masks, U):
    """``F[:, o] = rowsum(M ∘ (X̃ U[o]))``; returns shape ``(n_samples, n_outputs)``."""
    masks = np.asarray(masks, dtype=bool)
    out = np.empty((Xt.shape[0], U.shape[0]), dtype=np.result_type(Xt, U))
    for o in range(U.shape[0]):
        out[:, o] = masked_rowsum(Xt @ U[o], masks)
    return out


def masked_adjoint(Xt, masks, R):
    """``G[o] = X̃ᵀ (M ∘ R[:, o])``; returns shape ``(n_outputs, d + 1, n_patterns)``."""
    masks = np.asarray(masks, dtype=bool)
    dtype = Xt.dtype
    G = np.empty((R.shape[1], Xt.shape[1], masks.shape[1]), dtype=dtype)
    buffer = np.empty(masks.shape, dtype=dtype)
    for o in range(R.shape[1]):
        masked_scale(masks, np.ascontiguousarray(R[:, o], dtype=dtype), buffer)
        G[o] = Xt.T @ buffer
    return G


def max_cone_violation(Xt, masks, U):
    """``max (−(2D_k − I) X̃ u_k)_+`` over all blocks, and ``max |X̃ u_k|`` for scale."""
    masks = np.asarray(masks, dtype=bool)
    worst, size = 0.0, 0.0
    for o in range(U.shape[0]):
        w, s = cone_violation(Xt @ U[o], masks)
        worst, size = max(worst, w), max(size, s)
    return worst, size
