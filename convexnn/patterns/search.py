"""The search for violated patterns: those whose dual-constraint value is large for a dual point
``θ`` (:ref:`maths-gap`), which pattern generation adds and the heuristic certificate maximises
over."""

from __future__ import annotations

import numpy as np

from .core import add_bias_column, unique_patterns

__all__ = ["ascent_patterns"]


def ascent_patterns(X, theta, starts, n_iter=25):
    """Patterns visited by the alternating ascent ``u ← X̃ᵀDθ/‖·‖``, ``D ← 1[X̃u ≥ 0]`` (:ref:`maths-gap`).

    Run for ``θ`` and ``−θ`` from each start gate; a heuristic search for patterns with a large
    dual-constraint value.

    Parameters
    ----------
    X : ndarray (n_samples, n_features)
    theta : ndarray (n_samples,)
    starts : ndarray (n_features + 1, n_starts)
        Start gates in the input space.
    n_iter : int, default=25
        Ascent steps from each start and sign; every pattern visited on the way is kept.

    Returns
    -------
    Patterns
        Every distinct non-zero pattern visited (``masks`` of shape (n_samples, m)), with a gate
        reproducing it (``gates`` of shape (n_features + 1, m)).
    """
    X = np.asarray(X, dtype=np.float64)
    Xt = add_bias_column(X)
    theta = np.asarray(theta, dtype=np.float64)
    gates, masks = [], []
    for sign in (1.0, -1.0):
        U = np.asarray(starts, dtype=np.float64).copy()
        for _ in range(n_iter):
            D = Xt @ U >= 0
            gates.append(U)
            masks.append(D)
            U = Xt.T @ (D * (sign * theta)[:, None])
            norms = np.linalg.norm(U[:-1], axis=0)
            norms[norms == 0] = 1.0
            U = U / norms
    G, M = np.hstack(gates), np.hstack(masks)
    return unique_patterns(G, M)
