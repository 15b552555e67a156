"""Every activation pattern of the data (small rank): the ``exact`` sampler
(:ref:`maths-patterns`)."""

from __future__ import annotations

from itertools import combinations, islice
from math import comb

import numpy as np

from .core import (
    add_bias_column,
    standardisation,
    tie_breaking_steps,
    to_input_space,
    unique_patterns,
)

__all__ = ["cover_count", "exact_arrangement", "exact_patterns", "DEFAULT_MAX_PATTERNS"]


def _first_unique_columns(packed):
    """Indices of the first occurrence of each distinct column of a packed bit matrix."""
    rows = np.ascontiguousarray(packed.T)
    keys = rows.view(np.dtype((np.void, rows.shape[1]))).ravel()
    _, first = np.unique(keys, return_index=True)
    return np.sort(first)


def _min_norm_solutions(U, sv, Vt, rhs):
    """``pinv(A) @ rhs`` for a batch of ``A = U diag(sv) Vt[:, :k]`` (k × (k + 1)) from its SVD."""
    inv = np.where(sv > 1e-12 * sv[:, :1], 1.0 / np.where(sv > 0, sv, 1.0), 0.0)
    k = sv.shape[1]
    return np.transpose(Vt[:, :k, :], (0, 2, 1)) @ (
        inv[:, :, None] * (np.transpose(U, (0, 2, 1)) @ rhs)
    )


def _sign_vectors(k):
    """All ``2^k`` vectors of ``{−1, +1}^k`` as the columns of a (k, 2^k) array."""
    codes = np.arange(2**k)[None, :] >> np.arange(k)[:, None]
    return np.where(codes & 1, 1.0, -1.0)


def _arrangement_cells(C, chunk_size=2048, tie_tol=1e-10):
    """Every open cell of the central arrangement of the rows of ``C`` (:ref:`maths-patterns`, exact sampler).

    ``C`` (n × r) has rank ``r``. Every closed cell is a pointed cone and so has an extreme ray,
    the null vector ``v`` of ``r − 1`` linearly independent rows ``S``. The cells around the ray
    ``±v`` have the sign of ``±C v`` on the rows off the ray, and on the rows ``T`` through it
    (``T = S`` in general position) the sign patterns of the cells of the arrangement of ``C_T``
    restricted to ``v^⊥`` (all ``2^(r−1)`` of them in general position; found recursively
    otherwise). A gate inside each cell is ``±v + ε ρ`` with ``ρ`` a direction realising the signs
    on ``T`` and ``ε`` small enough to keep every other sign.

    Returns
    -------
    gates : ndarray (r, m)
        One gate inside each cell (``C @ gates`` has no zero entry on rows that are not zero).
    masks : ndarray (n, m), bool
        ``C @ gates > 0``, the cells' patterns, deduplicated.
    """
    n, r = C.shape
    if r == 1:
        gates = np.array([[1.0, -1.0]])
        return gates, C @ gates > 0
    row_norm = np.linalg.norm(C, axis=1)
    row_norm[row_norm == 0] = 1.0
    signs = _sign_vectors(r - 1)
    all_gates, all_packed = [], []
    seen_degenerate = set()
    subsets = combinations(range(n), r - 1)
    while True:
        idx = np.array(list(islice(subsets, chunk_size)), dtype=np.intp).reshape(-1, r - 1)
        if idx.shape[0] == 0:
            break
        A = C[idx]  # (m, r − 1, r)
        Us, sv, Vt = np.linalg.svd(A)
        independent = sv[:, -1] > 1e-9 * sv[:, 0]
        Us, sv, Vt = Us[independent], sv[independent], Vt[independent]
        v = Vt[:, -1, :]
        ties = np.abs(C @ v.T) <= tie_tol * row_norm[:, None]
        general = ties.sum(axis=0) == r - 1
        gates = []
        if general.any():
            # (m, r, 2^(r−1)): C_S rho = signs
            rho = _min_norm_solutions(Us[general], sv[general], Vt[general], signs)
            eps = tie_breaking_steps(C, v[general], rho, ties[:, general])
            for sigma in (1.0, -1.0):
                G = sigma * v[general][:, :, None] + eps[:, None, :] * rho
                gates.append(np.transpose(G, (1, 0, 2)).reshape(r, -1))
        for j in np.flatnonzero(~general):
            T = np.flatnonzero(ties[:, j])
            key = T.tobytes()
            if key in seen_degenerate:
                continue
            seen_degenerate.add(key)
            basis = Vt[j, :-1, :]  # orthonormal basis of v^⊥, (r − 1, r)
            sub_gates, _ = _arrangement_cells(C[T] @ basis.T, chunk_size, tie_tol)
            rho = (basis.T @ sub_gates)[None]  # (1, r, q)
            eps = tie_breaking_steps(C, v[j][None], rho, ties[:, [j]])
            for sigma in (1.0, -1.0):
                gates.append(sigma * v[j][:, None] + eps[0][None, :] * rho[0])
        if gates:
            G = np.hstack(gates)
            packed = np.packbits(C @ G > 0, axis=0)
            first = _first_unique_columns(packed)
            all_gates.append(G[:, first])
            all_packed.append(packed[:, first])
    if not all_gates:
        raise ValueError(
            "the exact sampler found no hyperplane through the points in general position (the "
            "data are degenerate at its tolerance, e.g. rows 1e-9 apart): use the 'gaussian' or "
            "'data' sampler"
        )
    G = np.hstack(all_gates)
    G = G[:, _first_unique_columns(np.hstack(all_packed))]
    return G, C @ G > 0


def cover_count(n_samples: int, rank: int) -> int:
    """Number of activation patterns of ``n_samples`` points in general position: Cover's count.

    ``2 Σ_{k<r} C(n − 1, k)`` for ``r = rank X̃`` (:ref:`maths-patterns`), the all-zero pattern included; an
    upper bound on the count for points in any position.

    Parameters
    ----------
    n_samples : int
        Number of points ``n``.
    rank : int
        Rank ``r`` of the data with the bias column, ``X̃ = [X, 1]``.

    Returns
    -------
    int
    """
    return 2 * sum(comb(n_samples - 1, k) for k in range(rank))


DEFAULT_MAX_PATTERNS = 100_000


def _augmented_rank_coordinates(X):
    """Coordinates ``C`` (n × r) of the standardised ``X̃`` in its row space, and the map back.

    Returns ``C, basis, mean, scale`` with ``[(X − mean)/scale, 1] = C @ basis``.
    """
    mean, scale = standardisation(X)
    Z = add_bias_column((X - mean) / scale)
    U, s, Vt = np.linalg.svd(Z, full_matrices=False)
    r = int(np.sum(s > s[0] * max(Z.shape) * np.finfo(float).eps))
    return U[:, :r] * s[:r], Vt[:r], mean, scale


def exact_arrangement(X, max_patterns=DEFAULT_MAX_PATTERNS):
    """Every activation pattern of ``X``, with gates in the input space (:ref:`maths-patterns`, ``exact``).

    Unlike :func:`exact_patterns` this keeps every pattern, including any whose gate does not
    reproduce it to floating-point precision in the input space (for certificates, which need the
    patterns only). The all-zero pattern is dropped.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The training inputs.
    max_patterns : int, default=100_000
        Refuse (``ValueError`` with the expected count) when Cover's count, less the all-zero
        pattern, exceeds this.

    Returns
    -------
    gates : ndarray (n_features + 1, m)
    masks : ndarray (n_samples, m), bool
        The patterns, computed in well-conditioned coordinates of the data.
    realised : ndarray (m,), bool
        Whether ``add_bias_column(X) @ gates >= 0`` reproduces each pattern.
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    C, basis, mean, scale = _augmented_rank_coordinates(X)
    r = C.shape[1]
    expected = cover_count(n, r)
    if expected - 1 > max_patterns:
        raise ValueError(
            f"the exact sampler would enumerate up to {expected - 1} patterns (Cover's count for "
            f"n_samples={n}, rank={r}), more than max_patterns={max_patterns}; use the "
            "'gaussian' or 'data' sampler, or raise max_patterns"
        )
    # duplicate rows share every pattern, and a subset of rows holding two of them is never
    # independent: enumerate over the distinct rows
    distinct, inverse = np.unique(C, axis=0, return_inverse=True)
    G, masks = _arrangement_cells(distinct)
    masks = masks[inverse.ravel()]
    gates = to_input_space(basis.T @ G, mean, scale)
    nonzero = masks.any(axis=0)
    gates, masks = gates[:, nonzero], masks[:, nonzero]
    realised = np.all((add_bias_column(X) @ gates >= 0) == masks, axis=0)
    return gates, masks, realised


def exact_patterns(X, n_gates=None, random_state=None, *, max_patterns=DEFAULT_MAX_PATTERNS):
    """Every activation pattern of ``X`` (small rank only): the ``exact`` sampler (:ref:`maths-patterns`).

    For each ``(r − 1)``-subset of rows of ``X̃`` with full rank, its null vector ``±v`` and every
    assignment of the rows through it; each pattern gets a gate inside its cell. On points in
    general position the count is Cover's ``2 Σ_{k<r} C(n − 1, k)`` minus the all-zero pattern.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    n_gates : ignored
        Present for the sampler interface; the exact sampler returns every pattern.
    random_state : ignored
    max_patterns : int, default=100_000
        Refuse (``ValueError`` with the expected count) when Cover's count exceeds this.

    Returns
    -------
    Patterns
        Patterns whose gate reproduces them in the input space (a pattern whose cell is too thin
        for floating point is dropped with a warning).
    """
    gates, masks, realised = exact_arrangement(X, max_patterns)
    if not realised.all():
        import warnings

        warnings.warn(
            f"{int(np.sum(~realised))} of {realised.size} patterns have cells too thin for a gate "
            "to reproduce them in floating point; they were dropped",
            RuntimeWarning,
            stacklevel=2,
        )
    return unique_patterns(gates[:, realised], masks[:, realised])
