"""Numba kernels of the solvers: the masked parts of the linear maps and the group prox.

Each kernel has a plain NumPy twin in ``tests/naive.py`` that it is tested against. The matrix
products around them are left to BLAS. Kernels work for float32 and float64 alike (numba compiles
one version per dtype and caches it on disk).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "masked_rowsum",
    "group_soft_threshold",
    "cone_violation",
    "augmented_residual",
    "update_multipliers",
]


@njit(cache=True)
def masked_rowsum(Z, M):
    """``out[i] = Σ_k M[i, k] Z[i, k]`` for a boolean mask ``M``: the forward map after ``Z = X̃U``."""
    n, P = Z.shape
    out = np.zeros(n, dtype=Z.dtype)
    for i in range(n):
        s = 0.0
        for k in range(P):
            s += Z[i, k] * M[i, k]  # branch-free, so the loop vectorises
        out[i] = s
    return out


@njit(cache=True)
def group_soft_threshold(W, threshold, n_penalised):
    """In place, ``w ← (1 − threshold/‖w[:n_penalised]‖)_+ w[:n_penalised]`` for every block
    ``w = W[o, :, k]``; coordinates from ``n_penalised`` on (an unpenalised bias) pass unchanged.

    This is the proximal map of ``threshold · Σ ‖w[:n_penalised]‖``.
    """
    K, g, P = W.shape
    for o in range(K):
        for k in range(P):
            s = 0.0
            for j in range(n_penalised):
                s += W[o, j, k] * W[o, j, k]
            norm = np.sqrt(s)
            scale = 1.0 - threshold / norm if norm > threshold else 0.0
            for j in range(n_penalised):
                W[o, j, k] *= scale
    return W


@njit(cache=True)
def cone_violation(Z, M):
    """``max_{i,k} (−(2M − 1) ∘ Z)_+`` and ``max |Z|``: how far ``Z = X̃U`` leaves the cones."""
    n, P = Z.shape
    worst = 0.0
    size = 0.0
    for i in range(n):
        for k in range(P):
            z = Z[i, k]
            v = -z if M[i, k] else z
            if v > worst:
                worst = v
            if abs(z) > size:
                size = abs(z)
    return worst, size


@njit(cache=True)
def augmented_residual(Z, M, Lam, delta, g, sign, out):
    """Pieces of the augmented Lagrangian of the cone constraints for one block matrix.

    With ``S = 2M − 1`` and ``H = (Λ − δ S ∘ Z)_+``, writes ``out = sign · M ∘ g − S ∘ H`` (the
    matrix whose ``X̃ᵀ`` product is the gradient) and returns ``Σ H²`` (the penalty is
    ``Σ H² / (2δ)``). ``Z = X̃U`` (n × P), ``g`` the loss gradient of the output (n,).
    """
    n, P = Z.shape
    total = 0.0
    for i in range(n):
        gi = sign * g[i]
        for k in range(P):
            if M[i, k]:
                h = Lam[i, k] - delta * Z[i, k]
                if h > 0.0:
                    total += h * h
                    out[i, k] = gi - h
                else:
                    out[i, k] = gi
            else:
                h = Lam[i, k] + delta * Z[i, k]
                if h > 0.0:
                    total += h * h
                    out[i, k] = h
                else:
                    out[i, k] = 0.0
    return total


@njit(cache=True)
def update_multipliers(Z, M, Lam, delta):
    """``Λ ← (Λ − δ S ∘ Z)_+`` in place, ``S = 2M − 1``."""
    n, P = Z.shape
    for i in range(n):
        for k in range(P):
            h = Lam[i, k] - delta * Z[i, k] if M[i, k] else Lam[i, k] + delta * Z[i, k]
            Lam[i, k] = h if h > 0.0 else 0.0
