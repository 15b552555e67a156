"""The linear maps of the convex programs, through the pattern masks (:ref:`solvers-guide`).

The block variable of a program with ``K`` outputs, ``P`` patterns and ``d`` features is an array
``U`` of shape ``(K, d + 1, P)``: column ``U[o, :, k]`` is the block ``u_{k,o}``. The model output
is

    F[:, o] = Σ_k D_k X̃ U[o, :, k] = rowsum(X̃ ∘ (M U[o]ᵀ))

and the adjoint of that map sends a residual ``R`` (n × K) to ``(R[:, o] ∘ X̃)ᵀ M`` for each
output. With the masks ``M`` (n × P) held as numbers, each map is a single BLAS product of the size
of ``X̃U`` and an ``n × K(d + 1)`` elementwise step; neither forms the ``n × P(d + 1)`` design nor
an ``n × P`` temporary. The masked block operations of the exact ReLU program (cone violations,
augmented Lagrangian terms) are numba kernels (:mod:`convexnn.kernels`).
"""

from __future__ import annotations

import numpy as np

from .kernels import cone_violation

__all__ = ["numeric_masks", "masked_forward", "masked_adjoint", "max_cone_violation"]


def numeric_masks(masks, dtype) -> np.ndarray:
    """The masks as a C-contiguous ``dtype`` matrix of zeros and ones (no copy when they are).

    Parameters
    ----------
    masks : ndarray of shape (n_samples, n_patterns)
        The patterns, boolean or numeric.
    dtype : dtype
        The dtype of the result (that of the data it will multiply).

    Returns
    -------
    ndarray of shape (n_samples, n_patterns)
    """
    return np.ascontiguousarray(masks, dtype=dtype)


def masked_forward(Xt, masks, U, out_dtype=None):
    """``F[:, o] = Σ_k D_k X̃ U[o, :, k]``; returns shape ``(n_samples, n_outputs)``.

    ``masks`` may be boolean; pass :func:`numeric_masks` in ``Xt``'s dtype to avoid a conversion
    on every call. The result has the data's dtype unless ``out_dtype`` says otherwise (the
    solvers ask for float64 outputs of float32 data).

    Parameters
    ----------
    Xt : ndarray of shape (n_samples, n_features + 1)
        Inputs with the bias column, ``X̃ = [X, 1]``.
    masks : ndarray of shape (n_samples, n_patterns)
        The patterns ``D_k``, one per column: boolean, or zeros and ones (:func:`numeric_masks`).
    U : ndarray of shape (n_outputs, n_features + 1, n_patterns)
        The blocks ``u_{k,o} = U[o, :, k]``.
    out_dtype : dtype, optional
        The dtype of the result; by default the common dtype of ``Xt`` and ``U``.

    Returns
    -------
    ndarray of shape (n_samples, n_outputs)
    """
    K, g, P = U.shape
    dtype = np.result_type(Xt, U)
    M = numeric_masks(masks, dtype)
    MU = M @ np.ascontiguousarray(U.transpose(2, 0, 1), dtype=dtype).reshape(P, K * g)
    # the short sums over the d + 1 features in float64: float32 data keeps float64-accurate outputs
    F = np.einsum("ikj,ij->ik", MU.reshape(-1, K, g), Xt, dtype=np.float64)
    return F.astype(out_dtype or dtype, copy=False)


def masked_adjoint(Xt, masks, R):
    """``G[o][:, k] = X̃ᵀ D_k R[:, o]`` for every pattern ``k``: shape ``(n_outputs, d + 1, P)``, in
    ``Xt``'s dtype.

    Parameters
    ----------
    Xt : ndarray of shape (n_samples, n_features + 1)
        Inputs with the bias column, ``X̃ = [X, 1]``.
    masks : ndarray of shape (n_samples, n_patterns)
        The patterns ``D_k``, one per column: boolean, or zeros and ones (:func:`numeric_masks`).
    R : ndarray of shape (n_samples, n_outputs)
        A residual (or dual point), one column per output.

    Returns
    -------
    ndarray of shape (n_outputs, n_features + 1, n_patterns)
    """
    dtype = Xt.dtype
    M = numeric_masks(masks, dtype)
    n, K = R.shape
    S = (np.asarray(R, dtype=dtype)[:, :, None] * Xt[:, None, :]).reshape(n, -1)
    return (S.T @ M).reshape(K, Xt.shape[1], M.shape[1])


def max_cone_violation(Xt, masks, U):
    """``max (−(2D_k − I) X̃ u_k)_+`` over all blocks, and ``max |X̃ u_k|`` for scale.

    Parameters
    ----------
    Xt : ndarray of shape (n_samples, n_features + 1)
        Inputs with the bias column, ``X̃ = [X, 1]``.
    masks : ndarray of shape (n_samples, n_patterns)
        The patterns ``D_k``, one per column: boolean, or zeros and ones (:func:`numeric_masks`).
    U : ndarray of shape (n_outputs, n_features + 1, n_patterns)
        The blocks ``u_{k,o} = U[o, :, k]``.

    Returns
    -------
    worst, size : float
    """
    masks = np.asarray(masks, dtype=bool)
    worst, size = 0.0, 0.0
    for o in range(U.shape[0]):
        w, s = cone_violation(Xt @ U[o], masks)
        worst, size = max(worst, w), max(size, s)
    return worst, size
