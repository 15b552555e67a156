"""Linear algebra that the solvers and the losses share."""

from __future__ import annotations

import numpy as np
from scipy import linalg

__all__ = ["eigh"]


def eigh(A):
    """``np.linalg.eigh`` of a symmetric matrix or of a stack of them. LAPACK's divide and
    conquer (``syevd``, numpy's driver) can fail to converge on a finite, well-conditioned
    block: on 150 samples of 30 features of scales 1e-3–1e3 at ``alpha=1e-4`` it did so on one
    31 × 31 block of eigenvalues 4e4–4e7, and the default classifier stopped at a certified gap
    of 0.97 (``tests/solvers/test_ipm.py``). Such a block is decomposed again by relatively
    robust representations (``syevr``, :func:`scipy.linalg.eigh`); the others keep numpy's
    result. The interior point's block inverses and roots and the softmax loss's curvature
    roots (``tests/test_losses.py``) go through it."""
    try:
        return np.linalg.eigh(A)
    except np.linalg.LinAlgError:
        if A.ndim == 2:
            return linalg.eigh(A, driver="evr", check_finite=False)
    values, vectors = np.empty(A.shape[:-1]), np.empty(A.shape)
    for b, block in enumerate(A):
        try:
            values[b], vectors[b] = np.linalg.eigh(block)
        except np.linalg.LinAlgError:
            values[b], vectors[b] = linalg.eigh(block, driver="evr", check_finite=False)
    return values, vectors
