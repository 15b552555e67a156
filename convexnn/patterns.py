"""Activation patterns of the data: hyperplane arrangements ``D(g) = diag(1[X̃g ≥ 0])`` (MATH.md §2).

A sampler returns :class:`Patterns`: the gates ``g`` (in the *original* input space, bias last) and the
boolean masks of the training points, with duplicate and all-zero patterns removed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["Patterns", "sample_patterns", "SAMPLERS", "add_bias_column", "unique_patterns"]


def add_bias_column(X):
    """``X̃ = [X, 1]``."""
    X = np.asarray(X)
    return np.hstack([X, np.ones((X.shape[0], 1), dtype=X.dtype)])


@dataclass(frozen=True)
class Patterns:
    """Gates and their activation patterns on the training data.

    Attributes
    ----------
    gates : ndarray of shape (n_features + 1, n_patterns)
        Gate vectors ``g = [w, b]`` in the original input space; pattern ``k`` is ``X̃ gates[:, k] ≥ 0``.
    masks : ndarray of shape (n_samples, n_patterns), bool
        The patterns on the training data.
    """

    gates: np.ndarray
    masks: np.ndarray

    @property
    def n_patterns(self) -> int:
        return self.masks.shape[1]

    def subset(self, index) -> Patterns:
        return Patterns(self.gates[:, index], self.masks[:, index])


def unique_patterns(gates, masks):
    """Drop all-zero patterns and repeated patterns (keeping the first gate of each)."""
    masks = np.asarray(masks, dtype=bool)
    keep = masks.any(axis=0)
    gates, masks = gates[:, keep], masks[:, keep]
    if masks.shape[1] == 0:
        return Patterns(gates, masks)
    packed = np.packbits(masks, axis=0)
    _, first = np.unique(packed, axis=1, return_index=True)
    first = np.sort(first)
    return Patterns(np.ascontiguousarray(gates[:, first]), np.ascontiguousarray(masks[:, first]))


def _standardisation(X):
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    return mean, scale


def gaussian_patterns(X, n_gates, random_state=None):
    """Gaussian gates ``g ~ N(0, I)`` drawn for the standardised data, returned in the input space.

    Drawing in the standardised space keeps every feature in play when features have uneven
    scales; the returned gates reproduce exactly the same patterns on ``X`` itself.
    """
    rng = check_random_state(random_state)
    X = np.asarray(X, dtype=float)
    d = X.shape[1]
    mean, scale = _standardisation(X)
    G = rng.standard_normal((d + 1, n_gates))
    gates = np.empty_like(G)
    gates[:d] = G[:d] / scale[:, None]
    gates[d] = G[d] - (mean / scale) @ G[:d]
    masks = add_bias_column(X) @ gates >= 0
    return unique_patterns(gates, masks)


SAMPLERS = {"gaussian": gaussian_patterns}


def sample_patterns(X, n_gates=100, sampler="gaussian", random_state=None) -> Patterns:
    """Sample activation patterns of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    n_gates : int
        Number of gates drawn; duplicates and all-zero patterns are removed, so at most this many
        patterns are returned.
    sampler : {"gaussian"}
        How gates are drawn (MATH.md §2).
    random_state : int, RandomState instance or None

    Returns
    -------
    Patterns
    """
    try:
        fn = SAMPLERS[sampler]
    except KeyError:
        raise ValueError(f"unknown sampler {sampler!r}; expected one of {sorted(SAMPLERS)}") from None
    if int(n_gates) < 1:
        raise ValueError(f"n_gates must be at least 1, got {n_gates}")
    return fn(X, int(n_gates), random_state=random_state)
