"""The dictionary of the deep 1-D Lasso (:mod:`convexnn.deep.oned`, :ref:`deep-networks`).

The dictionary (the paper's recursive definition): a feature is indexed by signs
``s ∈ {±1}^{L−1}``, training points ``x_{j_1}, …, x_{j_{L−1}}`` and, for ``L = 4``, ``k ∈ {0, 1}``:

    g_0(x) = x,   g_l(x) = (s_l (g_{l−1}(x) − g_{l−1}(a_l)))_+,   feature = g_{L−1},

with anchors ``a_l = x_{j_l}``, except ``a_1 = 2 x_{j_2} − x_{j_1}`` (the *reflection* of
``x_{j_1}`` about ``x_{j_2}``) when ``L = 4`` and ``k = 1``. Depth 3 gives ramps and capped
ramps, depth 4 adds features with breakpoints at reflections of training points about each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "DEPTHS",
    "Dictionary",
    "build_dictionary",
    "chain_features",
    "estimate_dictionary_features",
    "estimate_dictionary_memory",
]

DEPTHS = (2, 3, 4)
#: Raw chains evaluated at a time by :func:`build_dictionary` (and counted so by
#: :func:`estimate_dictionary_memory`).
CHUNK_SIZE = 200_000


@dataclass(frozen=True)
class Dictionary:
    """The Lasso dictionary of a deep narrow ReLU network on 1-D data.

    Each parameter is kept as the attribute of the same name.

    Parameters
    ----------
    depth : int
        Number of weight layers ``L`` (``L − 1`` hidden layers).
    signs : ndarray of shape (n_features, depth − 1)
        ``s_l`` of every feature (±1).
    anchors : ndarray of shape (n_features, depth − 1)
        ``a_l`` of every feature, points of the input line (training points or reflections).
    points : ndarray of shape (n_points,)
        The distinct training inputs, sorted.
    values : ndarray of shape (n_points, n_features)
        Every feature at every distinct training input (Fortran order).
    breakpoints : ndarray
        The training points the features were built from (all distinct inputs, or a subset).
    """

    depth: int
    signs: np.ndarray
    anchors: np.ndarray
    points: np.ndarray
    values: np.ndarray
    breakpoints: np.ndarray

    @property
    def n_features(self) -> int:
        return self.values.shape[1]


def chain_features(x, signs, anchors):
    """Evaluate the features ``g_{L−1}`` of scalar chains at the points ``x``.

    Parameters
    ----------
    x : ndarray of shape (n_points,)
    signs, anchors : ndarray of shape (n_features, depth − 1)

    Returns
    -------
    ndarray of shape (n_points, n_features)
    """
    x = np.asarray(x, dtype=np.float64)
    signs = np.asarray(signs, dtype=np.float64)
    anchors = np.asarray(anchors, dtype=np.float64)
    G = np.broadcast_to(x[:, None], (x.shape[0], signs.shape[0]))
    # g_{l−1} at every anchor a_{l'} (l' ≥ l) rides along with the points
    A = anchors.copy()
    for level in range(signs.shape[1]):
        s, a = signs[:, level], A[:, level].copy()
        G = np.maximum(s * (G - a), 0.0)
        A[:, level + 1 :] = np.maximum(s[:, None] * (A[:, level + 1 :] - a[:, None]), 0.0)
    return np.ascontiguousarray(G)


def n_raw_chains(n_breakpoints, depth):
    """Number of (signs, anchors) combinations of the dictionary of depth ``depth`` on
    ``n_breakpoints`` points: ``(2B)^{L−1}``, twice that at depth 4 (the reflections)."""
    return (2 * int(n_breakpoints)) ** (depth - 1) * (2 if depth == 4 else 1)


def estimate_dictionary_features(n_breakpoints, depth):
    """An upper estimate of the number of features :func:`build_dictionary` keeps (distinct,
    not vanishing on every input) on ``n_breakpoints`` anchors: ``2B`` at depth 2, ``B²`` at
    depth 3 (a quarter of the raw chains), ``0.5B³ + 2B²`` at depth 4. Measured at depth 4:
    0.29–0.34 B³ on uniform inputs of 7–45 points, 0.38–0.50 B³ on heavy-tailed ones (a
    standard normal cubed), fewer on evenly spaced ones, whose reflections coincide.

    Parameters
    ----------
    n_breakpoints : int
        The inputs the chains are anchored at (all distinct inputs for the full dictionary).
    depth : {2, 3, 4}

    Returns
    -------
    int
    """
    B = int(n_breakpoints)
    return {2: 2 * B, 3: B * B, 4: int(np.ceil(0.5 * B**3)) + 2 * B * B}[depth]


def estimate_dictionary_memory(n_points, n_breakpoints, depth, chunk_size=CHUNK_SIZE):
    """Peak bytes of :func:`build_dictionary` on ``n_points`` distinct inputs and
    ``n_breakpoints`` of them as anchors (an upper estimate): the raw chains' index arrays, one
    chunk of them evaluated at the points, and the kept features' values with the temporaries
    of their evaluation. Measured increases of the peak resident memory: 2.5 GiB for 400
    uniform points at depth 3 (estimate 3.3 GiB), 0.6 GiB for 60 at depth 4 (estimate 1.0 GiB).

    Parameters
    ----------
    n_points : int
        Distinct training inputs.
    n_breakpoints : int
        The inputs the chains are anchored at (all of them for the full dictionary).
    depth : {2, 3, 4}
    chunk_size : int
        Chains evaluated at a time (as in :func:`build_dictionary`).

    Returns
    -------
    int
    """
    raw = n_raw_chains(n_breakpoints, depth)
    levels = depth - 1
    chains = 6 * 8 * raw * levels  # indices, anchors, signs (and the reflected copies)
    keys = raw * (3 * 8 + 8)  # the random projections that find repeated features, indices
    chunk = 3 * 8 * int(n_points) * min(chunk_size, raw)
    values = 3 * 8 * int(n_points) * estimate_dictionary_features(n_breakpoints, depth)
    return chains + keys + chunk + values


def _raw_chains(breakpoints, depth):
    """All (signs, anchors) index combinations of the paper's dictionary on ``breakpoints``."""
    b = np.asarray(breakpoints, dtype=np.float64)
    B = b.shape[0]
    n_levels = depth - 1
    grids = np.meshgrid(*([np.arange(B)] * n_levels), indexing="ij")
    J = np.stack([g.ravel() for g in grids], axis=1)  # (B^{L-1}, L-1) indices j_1..j_{L-1}
    S = np.array(np.meshgrid(*([[-1.0, 1.0]] * n_levels), indexing="ij")).reshape(n_levels, -1).T
    anchors = np.repeat(b[J][None], S.shape[0], axis=0).reshape(-1, n_levels)
    signs = np.repeat(S[:, None, :], J.shape[0], axis=1).reshape(-1, n_levels)
    if depth == 4:  # k = 1: the first anchor is the reflection of x_{j1} about x_{j2}
        reflected = anchors.copy()
        reflected[:, 0] = 2.0 * anchors[:, 1] - anchors[:, 0]
        anchors = np.vstack([anchors, reflected])
        signs = np.vstack([signs, signs])
    return signs, anchors


def build_dictionary(x, depth, breakpoints=None, chunk_size=CHUNK_SIZE, random_state=0):
    """The dictionary of depth ``depth`` on the 1-D training inputs ``x`` (duplicates removed).

    Parameters
    ----------
    x : ndarray of shape (n_samples,)
        Training inputs.
    depth : {2, 3, 4}
        Number of weight layers of the network.
    breakpoints : ndarray, optional
        The training points the features are built from (default: every distinct input, the
        paper's full dictionary). A subset gives a sub-dictionary: the Lasso over it is the
        training problem restricted to paths anchored there (an upper bound on the full optimum).
    chunk_size : int
        Features evaluated at a time.
    random_state : int
        Seeds the random projections used to find repeated features.

    Returns
    -------
    Dictionary
        Features that vanish on every training input are dropped, and features equal on the
        training inputs are kept once (both change nothing in the Lasso's optimum).
    """
    if depth not in DEPTHS:
        raise ValueError(f"depth must be one of {DEPTHS}, got {depth!r}")
    points = np.unique(np.asarray(x, dtype=np.float64))
    b = points if breakpoints is None else np.unique(np.asarray(breakpoints, dtype=np.float64))
    signs, anchors = _raw_chains(b, depth)
    rng = np.random.default_rng(random_state)
    probes = rng.standard_normal((points.shape[0], 3))
    scale = max(1.0, float(np.max(np.abs(points))) - float(np.min(points)))
    keys, kept = [], []
    for start in range(0, signs.shape[0], chunk_size):
        stop = start + chunk_size
        V = chain_features(points, signs[start:stop], anchors[start:stop])
        nonzero = np.max(V, axis=0) > 1e-12 * scale
        K = np.round(V.T @ probes / (scale * np.linalg.norm(probes, axis=0)), 9)
        idx = np.flatnonzero(nonzero)
        keys.append(K[idx])
        kept.append(start + idx)
    keys, kept = np.vstack(keys), np.concatenate(kept)
    _, first = np.unique(keys, axis=0, return_index=True)
    index = kept[np.sort(first)]
    signs, anchors = signs[index], anchors[index]
    values = np.asfortranarray(chain_features(points, signs, anchors))
    return Dictionary(depth, signs, anchors, points, values, b)
