"""Samplers of activation patterns: random gates, hyperplanes through data points, and the
registry that names them (:ref:`maths-patterns`)."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from .core import (
    Patterns,
    add_bias_column,
    gate_patterns,
    standardisation,
    tie_breaking_steps,
    to_input_space,
)
from .exact import exact_patterns

__all__ = ["gaussian_patterns", "data_patterns", "SAMPLERS", "sample_patterns"]


def gaussian_patterns(X, n_gates, random_state=None):
    """Gaussian gates ``g ~ N(0, I)`` drawn for the standardised data, returned in the input space.

    Drawing in the standardised space keeps every feature in play when features have uneven
    scales; the returned gates reproduce exactly the same patterns on ``X`` itself.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The training inputs.
    n_gates : int
        Number of gates drawn; duplicates and all-zero patterns are removed, so at most this many
        patterns are returned.
    random_state : int, RandomState instance or None, default=None
        Seeds the draw.

    Returns
    -------
    Patterns
    """
    rng = check_random_state(random_state)
    X = np.asarray(X, dtype=float)
    d = X.shape[1]
    mean, scale = standardisation(X)
    G = rng.standard_normal((d + 1, n_gates))
    return gate_patterns(X, to_input_space(G, mean, scale))


def data_patterns(X, n_gates, random_state=None, *, sketch_dim=50):
    """Gates of hyperplanes through data points: the ``data`` sampler (:ref:`maths-patterns`).

    Each gate is the null vector of ``d`` randomly chosen rows of the standardised ``X̃`` (a
    hyperplane through ``d`` data points), with a random sign, nudged so that the points on the
    hyperplane fall on randomly chosen sides of it. When ``n_features > sketch_dim`` the hyperplane
    is found in a random Gaussian sketch of the features of dimension ``sketch_dim`` (through
    ``sketch_dim`` points), which keeps each gate's cost independent of ``n_features``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    n_gates : int
    random_state : int, RandomState instance or None
    sketch_dim : int, default=50

    Returns
    -------
    Patterns
    """
    rng = check_random_state(random_state)
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    mean, scale = standardisation(X)
    Z = (X - mean) / scale
    sketch = None
    if d > sketch_dim:
        sketch = rng.standard_normal((d, sketch_dim)) / np.sqrt(sketch_dim)
        Z = Z @ sketch
    C = add_bias_column(Z)
    k = min(C.shape[1] - 1, n)
    idx = np.array([rng.choice(n, k, replace=False) for _ in range(n_gates)]).reshape(n_gates, k)
    A = C[idx]
    Us, sv, Vt = np.linalg.svd(A)
    v = Vt[:, -1, :]
    ties = np.zeros((n, n_gates), dtype=bool)
    ties[idx, np.arange(n_gates)[:, None]] = True
    rho = np.linalg.pinv(A) @ rng.choice([-1.0, 1.0], size=(n_gates, k, 1))
    eps = tie_breaking_steps(C, v, rho, ties, fraction=1e-3)
    sigma = rng.choice([-1.0, 1.0], size=n_gates)
    G = (sigma[:, None] * v + eps * rho[:, :, 0]).T  # (k + 1, n_gates)
    if sketch is not None:
        G = np.vstack([sketch @ G[:-1], G[-1:]])
    return gate_patterns(X, to_input_space(G, mean, scale))


SAMPLERS = {"gaussian": gaussian_patterns, "data": data_patterns, "exact": exact_patterns}


def sample_patterns(X, n_gates=100, sampler="gaussian", random_state=None) -> Patterns:
    """Sample activation patterns of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    n_gates : int
        Number of gates drawn; duplicates and all-zero patterns are removed, so at most this many
        patterns are returned.
    sampler : {"gaussian", "data", "exact"}
        How gates are drawn (:ref:`maths-patterns`). ``"exact"`` ignores ``n_gates`` and returns every
        pattern (small rank only; see :func:`exact_patterns`).
    random_state : int, RandomState instance or None

    Returns
    -------
    Patterns
    """
    try:
        fn = SAMPLERS[sampler]
    except KeyError:
        raise ValueError(
            f"unknown sampler {sampler!r}; expected one of {sorted(SAMPLERS)}"
        ) from None
    if int(n_gates) < 1:
        raise ValueError(f"n_gates must be at least 1, got {n_gates}")
    return fn(X, int(n_gates), random_state=random_state)
