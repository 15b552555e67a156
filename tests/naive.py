"""Plain NumPy references of the numba kernels and operators (the tests compare against these)."""

import numpy as np


def masked_rowsum(Z, M):
    return np.sum(np.where(M, Z, 0.0), axis=1)


def group_soft_threshold(W, threshold, n_penalised):
    W = W.copy()
    norms = np.linalg.norm(W[:, :n_penalised, :], axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(norms > threshold, 1.0 - threshold / norms, 0.0)
    W[:, :n_penalised, :] *= scale
    return W


def explicit_design(Xt, M):
    """The n × P(d+1) design Σ_k D_k X̃ that the fast operators never form."""
    return np.hstack([M[:, [k]] * Xt for k in range(M.shape[1])])


def right_sandwich_rows(U, St, start, A):
    """``A[o, i, q, j] = Σ_b U[i − start, o, b, j] St[q, b, j]`` for ``q ≥ o``, in place."""
    rows, K = U.shape[:2]
    for r in range(rows):
        for o in range(K):
            for q in range(o, K):
                A[o, start + r, q] = np.einsum("bj,bj->j", U[r, o], St[q])


def pair_weights(A):
    """``A[i, k] · A[i, l]`` for the pairs ``k ≤ l`` of ``np.triu_indices``."""
    first, second = np.triu_indices(A.shape[1])
    return np.einsum("ika,ika->ik", A[:, first], A[:, second])
