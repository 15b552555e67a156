"""Activation patterns of the data: hyperplane arrangements ``D(g) = diag(1[X̃g ≥ 0])`` (:ref:`maths-patterns`).

A sampler returns :class:`Patterns`: the gates ``g`` (in the *original* input space, bias last) and the
boolean masks of the training points, with duplicate and all-zero patterns removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations, islice
from math import comb

import numpy as np
from sklearn.utils import check_random_state

__all__ = [
    "Patterns",
    "sample_patterns",
    "SAMPLERS",
    "add_bias_column",
    "unique_patterns",
    "gate_patterns",
    "gaussian_patterns",
    "data_patterns",
    "exact_patterns",
    "cover_count",
    "DEFAULT_MAX_PATTERNS",
]


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


def gate_patterns(X, gates) -> Patterns:
    """The distinct non-zero patterns ``1[X̃g ≥ 0]`` that ``gates`` (bias last) induce on ``X``.

    A sample within rounding of a gate's hyperplane (``|x̃ᵀg|`` below ``1e-10 Σ_j |x̃_j g_j|``) would
    take either side depending on how the product is summed, and a gated network evaluated on its
    own training data could then disagree with its program: such a gate's bias is raised by half
    the smallest clear ``|x̃ᵀg|``, which moves the ties clearly onto the active side and no other
    sample across (a gate with no such room is dropped).
    """
    Xt = add_bias_column(np.asarray(X))
    gates = np.asarray(gates, dtype=np.float64)
    Z = Xt @ gates
    bound = 1e-10 * (np.abs(Xt) @ np.abs(gates))
    ties = np.abs(Z) <= bound
    if ties.any():
        gates = gates.copy()
        keep = np.ones(gates.shape[1], dtype=bool)
        for k in np.flatnonzero(ties.any(axis=0)):
            clear = np.abs(Z[~ties[:, k], k])
            step = 0.5 * float(clear.min()) if clear.size else 1e3 * float(bound[:, k].max())
            if step > 10 * float(bound[ties[:, k], k].max()):
                gates[-1, k] += step
            else:  # no room between the ties and the other samples: the gate is not usable
                keep[k] = False
        gates = gates[:, keep]
        Z = Xt @ gates
    return unique_patterns(gates, Z >= 0)


def _standardisation(X):
    """Mean and scale of every feature. The scale is at least ``1e-4 |mean|``: a gate drawn for
    the standardised data is used on ``X`` itself, where its bias carries ``mean/scale`` times its
    weights, and that cancellation loses ``eps·|mean|/scale`` of every product (dividing by the
    rounding noise of a constant feature made gates of ±1e15 whose masks were noise; at
    ``|mean|/scale = 1e8`` the ``data`` sampler's tie-breaking nudges were lost). A constant
    feature keeps scale 1."""
    X = np.asarray(X, dtype=np.float64)
    mean = X.mean(axis=0)
    scale = np.maximum(X.std(axis=0), 1e-4 * np.abs(mean))
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
    return gate_patterns(X, _to_input_space(G, mean, scale))


def _to_input_space(G, mean, scale):
    """Gates for the standardised data ``[(X − mean)/scale, 1]`` as gates for ``[X, 1]``."""
    d = mean.shape[0]
    gates = np.empty_like(G)
    gates[:d] = G[:d] / scale[:, None]
    gates[d] = G[d] - (mean / scale) @ G[:d]
    return gates


def _tie_breaking_steps(C, v, rho, ties, fraction=0.5):
    """A safe step along ``rho`` from the rays ``v``: ``fraction`` of the largest one.

    For ray ``v_j`` (rows of ``C`` with ``C_i v_j = 0`` are the ties) and direction ``rho_j``, a
    step ``ε < min_{i not a tie} |C_i v_j| / |C_i rho_j|`` keeps the sign of every other row;
    ``fraction`` of it leaves a margin of at least ``(1 − fraction)|C_i v_j|`` on them.

    Parameters
    ----------
    C : ndarray (n, r)
    v : ndarray (m, r)
    rho : ndarray (m, r, q)
    ties : ndarray (n, m), bool

    Returns
    -------
    ndarray (m, q)
    """
    proj = np.abs(C @ v.T)  # (n, m)
    step = np.abs(np.einsum("nr,mrq->nmq", C, rho))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ties[:, :, None] | (step == 0), np.inf, proj[:, :, None] / step)
    eps = fraction * np.min(ratio, axis=0, initial=np.inf)
    return np.where(np.isfinite(eps), eps, 1.0)


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
            eps = _tie_breaking_steps(C, v[general], rho, ties[:, general])
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
            eps = _tie_breaking_steps(C, v[j][None], rho, ties[:, [j]])
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
    """
    return 2 * sum(comb(n_samples - 1, k) for k in range(rank))


def _augmented_rank_coordinates(X):
    """Coordinates ``C`` (n × r) of the standardised ``X̃`` in its row space, and the map back.

    Returns ``C, basis, mean, scale`` with ``[(X − mean)/scale, 1] = C @ basis``.
    """
    mean, scale = _standardisation(X)
    Z = add_bias_column((X - mean) / scale)
    U, s, Vt = np.linalg.svd(Z, full_matrices=False)
    r = int(np.sum(s > s[0] * max(Z.shape) * np.finfo(float).eps))
    return U[:, :r] * s[:r], Vt[:r], mean, scale


DEFAULT_MAX_PATTERNS = 100_000


def exact_arrangement(X, max_patterns=DEFAULT_MAX_PATTERNS):
    """Every activation pattern of ``X``, with gates in the input space (:ref:`maths-patterns`, ``exact``).

    Unlike :func:`exact_patterns` this keeps every pattern, including any whose gate does not
    reproduce it to floating-point precision in the input space (for certificates, which need the
    patterns only). The all-zero pattern is dropped.

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
    gates = _to_input_space(basis.T @ G, mean, scale)
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
    mean, scale = _standardisation(X)
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
    eps = _tie_breaking_steps(C, v, rho, ties, fraction=1e-3)
    sigma = rng.choice([-1.0, 1.0], size=n_gates)
    G = (sigma[:, None] * v + eps * rho[:, :, 0]).T  # (k + 1, n_gates)
    if sketch is not None:
        G = np.vstack([sketch @ G[:-1], G[-1:]])
    return gate_patterns(X, _to_input_space(G, mean, scale))


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
