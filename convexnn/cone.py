"""The dual norm of one pattern's cone, by non-negative least squares (MATH.md §5).

For a pattern ``D`` with cone ``K = {u : (2D − I) X̃ u ≥ 0}`` and a dual vector ``θ``,

    γ(θ) = max { θᵀ D X̃ u : u ∈ K, ‖u[:d]‖ ≤ 1 }
         = min { ‖q(λ)[:d]‖ : λ ≥ 0, q(λ)[d] = 0 },   q(λ) = X̃ᵀDθ + X̃ᵀ(2D − I)λ,

(the bias coordinate is free, hence the equality). The equality is imposed by a heavily weighted
row in :func:`scipy.optimize.nnls`; the multiplier is then moved onto the equality exactly, so the
returned value is that of a feasible ``λ``: an upper bound on ``γ``, tight to the NNLS precision, and
``inf`` when the equality cannot be met (the maximum is unbounded).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

from .operators import masked_adjoint

__all__ = ["cone_value", "relu_block_norms", "gated_block_norms"]


def cone_value(X, mask, theta):
    """Upper bound, tight to solver precision, on ``max_{u ∈ K, ‖u[:d]‖ ≤ 1} θᵀ D X̃ u``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs without the bias column.
    mask : ndarray of shape (n_samples,), bool
        The pattern ``D``.
    theta : ndarray of shape (n_samples,)
    """
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return 0.0
    signs = np.where(mask, 1.0, -1.0)
    g_w = X.T @ np.where(mask, theta, 0.0)
    g_b = float(np.sum(theta[mask]))
    B = X.T * signs  # column i is (2D − I)_ii x_i
    scale = max(1.0, float(np.max(np.abs(X), initial=0.0)), abs(g_b))
    weight = 1e4 * scale
    A = np.vstack([B, weight * signs[None, :]])
    rhs = np.concatenate([-g_w, [-weight * g_b]])
    lam, _ = nnls(A, rhs, maxiter=50 * A.shape[1])
    q = g_w + B @ lam
    excess = -g_b - float(signs @ lam)  # what s·λ still lacks for the equality
    if excess == 0.0:
        return float(np.linalg.norm(q))
    # Move λ onto the equality, keeping λ ≥ 0: raise one λ_i of the needed sign, or shrink the
    # λ_i of the opposite sign proportionally; keep whichever leaves the smaller norm.
    sign, need = np.sign(excess), abs(excess)
    options = []
    raise_ = np.flatnonzero(signs == sign)
    if raise_.size:
        options.append(np.min(np.linalg.norm(q[:, None] + need * B[:, raise_], axis=0)))
    shrink = (signs == -sign) & (lam > 0)
    total = float(np.sum(lam[shrink]))
    # 1ᵀθ = 0 holds only to rounding: a shortfall of that size is not an unbounded direction
    roundoff = 1e-12 * float(np.sum(np.abs(theta)))
    if total > 0 and total >= need - roundoff:
        shrunk = min(1.0, need / total) * (B[:, shrink] @ lam[shrink])
        options.append(np.linalg.norm(q - shrunk))
    elif need <= roundoff:
        options.append(np.linalg.norm(q))
    return float(min(options)) if options else np.inf


def relu_block_norms(X, masks, Theta, threshold=None):
    """Upper bounds on ``max(γ_k(θ_o), γ_k(−θ_o))`` for every output ``o`` and pattern ``k``: (K, P).

    First the cheap bound ``‖XᵀD_kθ‖ + R |1ᵀD_kθ|`` (``R = max_i ‖x_i‖``; valid because a
    hyperplane that splits the data has ``|b| ≤ R‖w‖``, MATH.md §5), exact for the all-ones
    pattern. The NNLS value replaces it where the bound exceeds ``threshold`` (everywhere when
    ``threshold`` is None), so every entry above ``threshold`` is the tight value.
    """
    masks = np.asarray(masks, dtype=bool)
    Xt = np.hstack([X, np.ones((X.shape[0], 1))])
    G = masked_adjoint(Xt, masks, Theta)  # (K, d + 1, P): [XᵀD_kθ; 1ᵀD_kθ]
    radius = float(np.max(np.linalg.norm(X, axis=1), initial=0.0))
    weight_part = np.linalg.norm(G[:, :-1, :], axis=1)
    out = weight_part + radius * np.abs(G[:, -1, :])
    all_ones = masks.all(axis=0)
    out[:, all_ones] = weight_part[:, all_ones]
    for o, k in zip(*np.nonzero(out > (-np.inf if threshold is None else threshold)), strict=True):
        if all_ones[k] or not masks[:, k].any():
            continue
        exact = max(cone_value(X, masks[:, k], Theta[:, o]), cone_value(X, masks[:, k], -Theta[:, o]))
        out[o, k] = min(out[o, k], exact)
    return out


def gated_block_norms(Xt, masks, Theta):
    """``‖(D_k X̃)ᵀ θ_o‖`` for every output and pattern: shape (K, P)."""
    return np.linalg.norm(masked_adjoint(Xt, masks, Theta), axis=1)
