"""The gated program on data that outgrows one machine: row chunks, each pass a map-reduce.

Every quantity the solver and the certificate need is a sum over samples (:ref:`maths-gap`): for
row chunks ``X = [X_1; …; X_m]`` the masks ``M_c = 1[X̃_c G ≥ 0]``, the model outputs, the loss,
its gradient ``X̃_cᵀ(M_c ∘ ℓ')`` and the dual block norms are chunk-local, and their sums have the
size of the weights, ``P(d + 1)`` — never ``n``. The solver is a proximal Newton method on the
gated program with one output (squared or logistic loss):

- one pass computes, at the current point, the loss and its gradient;
- when a step is to be taken, one pass computes the Hessian ``(1/n) Zᵀ diag(ℓ'') Z`` of the
  masked design ``Z = [D_1 X̃, …, D_P X̃]`` (a ``P(d + 1)``-square matrix; from a fixed random
  subset of rows, scaled, when ``hessian_rows`` is given — those rows gathered once into one
  block per worker thread);
- the client solves the group-Lasso model of the objective (the quadratic model plus the exact
  penalty, a second-order cone program) with Clarabel, to a tolerance that tightens with the
  gap;
- one pass evaluates the objective along the step at several lengths (a backtracking search on
  the exact objective);
- the certified relative gap of the in-memory program (:meth:`convexnn.program.Program.duality_gap`)
  comes from the same sums, plus one light pass for the dual objective.

For the squared loss the model is exact: the first step lands on the optimum. The same code runs
on a NumPy array (one chunk, blocks of rows) and on a Dask array, whose chunks stay on the
workers (:func:`dask.persist`); the model outputs are kept there between passes.
"""

from __future__ import annotations

import os
import time
from operator import itemgetter

import numpy as np
import scipy.sparse as sp
from scipy.linalg import blas

from .losses import get_loss
from .patterns import add_bias_column
from .program import ConvexSolution, DualityGap, feasible_scale, relative_gap
from .solvers.base import SolverResult

__all__ = [
    "HESSIAN_BLOCK",
    "ROW_BLOCK",
    "default_hessian_rows",
    "hessian_rows_mask",
    "is_dask_array",
    "require_dask",
    "solve_chunked",
    "worker_memory",
]

#: The estimators build each Hessian of a chunked fit from a random sample of
#: ``max(HESSIAN_ROWS_PER_WEIGHT · p, HESSIAN_ROWS_MIN)`` rows (``p = P(d + 1)`` weights) when the
#: data has more than ``HESSIAN_SAMPLE_FACTOR`` times as many: the Hessian's pass then costs
#: ``m p²`` instead of ``n p²``, and Newton's iterations converge linearly instead of
#: quadratically (``docs/guide/dask.md``). The rate depends on the sample's size against ``p``: at
#: n = 100,000, 20 features, logistic loss, 100 gates (p = 2,100) took 8 iterations to 1e-6 with
#: 50,000 rows (24 per weight), 20–27 with 10,000–21,000 (5–10 per weight); 200 gates
#: (p = 4,200) with 20,000 rows took 33 iterations to reach 1e-2. With 60 rows for 12 weights a
#: fit to 1e-9 had not converged in 50 iterations: the sample needs a size of its own too.
HESSIAN_ROWS_PER_WEIGHT = 24
HESSIAN_ROWS_MIN = 10_000
HESSIAN_SAMPLE_FACTOR = 4
#: ... and only with at least this many weights: with fewer the Hessian's ``p²/2`` multiply-adds
#: a row are not far above the other passes' few ``p``, and a sample saves little time while
#: adding iterations.
HESSIAN_SAMPLE_MIN_WEIGHTS = 250
#: Rows of a chunk processed at once by the passes other than the Hessian's (their masks and
#: products take about ``17 · ROW_BLOCK · P`` bytes).
ROW_BLOCK = 2048
#: Entries of the masked design the Hessian's pass builds at once (32 MB: 998 rows of 200
#: patterns of 20 features).
HESSIAN_BLOCK = 2**22
#: Clarabel's tolerances (gap, relative gap, feasibility) on each Newton model: this fraction of
#: the square of the current certified gap, within ``MODEL_TOL`` (an inexact Newton method whose
#: models are solved more finely as it converges). The square: the gap falls with the distance
#: to the optimum, the model's objective with its square, so a model solved to ``ε`` moves the
#: point by about ``√ε``. Far from the optimum a fine solve only adds interior-point iterations:
#: at 200 gates of 20 features the first model took 12.2 s to 1e-8 and 19.2 s to 1e-12.
MODEL_TOL_FRACTION = 1e-3
MODEL_TOL = (1e-12, 1e-8)
#: Step lengths tried along each Newton direction, longest first.
STEPS = 0.5 ** np.arange(12)
#: Sufficient decrease asked of a step (Armijo), as a fraction of the model's decrease.
ARMIJO = 1e-4
#: Relative change of the objective below which two evaluations cannot tell it apart.
ROUNDING = 1e-13


def is_dask_array(X) -> bool:
    """Whether ``X`` is a Dask array (checked without importing Dask).

    Parameters
    ----------
    X : object
        Anything passed as data.
    """
    return type(X).__module__.split(".")[0] == "dask" and hasattr(X, "chunks")


def worker_memory(rows, n_features, n_patterns, itemsize=8):
    """Bytes a worker needs to hold a chunk of ``rows`` rows and run a pass of
    :func:`solve_chunked` over it.

    The chunk itself (``rows · n_features · itemsize``), its targets and model outputs (three
    float64 columns while a step is taken), the masks and products of one block of
    ``ROW_BLOCK`` rows, one block of the masked design (``HESSIAN_BLOCK`` floats) and three of
    the Hessian's ``(P(d + 1))²`` sums: the worker's own, accumulated in place, one received
    from another worker to be added to it, and one more should two of the Hessian's row blocks
    land on the same worker (an upper estimate). The client holds about three such Hessians
    while it solves the Newton model.

    Parameters
    ----------
    rows : int
        Rows of the largest chunk.
    n_features : int
        ``d``.
    n_patterns : int
        ``P``, the number of gates.
    itemsize : int, default=8
        Bytes per entry of the data (4 for float32).

    Returns
    -------
    int
    """
    p = n_patterns * (n_features + 1)
    chunk = rows * n_features * itemsize + 4 * rows * 8
    work = min(rows, ROW_BLOCK) * n_patterns * 17 + 8 * HESSIAN_BLOCK + 3 * p * p * 8
    return int(chunk + work)


def require_dask():
    """Dask, imported; an ``ImportError`` that names the extra to install when it is missing.

    Returns
    -------
    module
        The ``dask`` package.
    """
    try:
        import dask
        import dask.array  # noqa: F401
    except ImportError as error:  # pragma: no cover - the extra is installed in CI
        raise ImportError(
            "fitting on a Dask array needs Dask: pip install 'convexnn[dask]'"
        ) from error
    return dask


# -- chunk kernels (run where the chunk lives) ---------------------------------------------------
def _blocks(X):
    for start in range(0, X.shape[0], ROW_BLOCK):
        yield slice(start, min(start + ROW_BLOCK, X.shape[0]))


def _forward(X, gates, U, c):
    """Model outputs ``Σ_k D_k X̃ u_k + c`` of a chunk, shape (rows, 1)."""
    out = np.empty((X.shape[0], 1))
    for rows in _blocks(X):
        Xt = add_bias_column(np.asarray(X[rows], dtype=np.float64))
        out[rows, 0] = np.sum((Xt @ gates >= 0) * (Xt @ U), axis=1) + c
    return out


def default_hessian_rows(n_samples, n_features, n_patterns):
    """The Hessian's row sample the estimators use on chunked data: ``None`` (every row) unless
    there are at least ``HESSIAN_SAMPLE_MIN_WEIGHTS`` weights ``p = P(d + 1)`` and the data has
    more than ``HESSIAN_SAMPLE_FACTOR`` times ``m = max(HESSIAN_ROWS_PER_WEIGHT · p,
    HESSIAN_ROWS_MIN)`` rows; then ``m``.

    Parameters
    ----------
    n_samples, n_features, n_patterns : int
        ``n``, ``d`` and ``P``.

    Returns
    -------
    int or None
    """
    weights = n_patterns * (n_features + 1)
    rows = max(HESSIAN_ROWS_PER_WEIGHT * weights, HESSIAN_ROWS_MIN)
    sample = weights >= HESSIAN_SAMPLE_MIN_WEIGHTS and n_samples > HESSIAN_SAMPLE_FACTOR * rows
    return rows if sample else None


def hessian_rows_mask(first, stop, fraction, seed):
    """Whether each row ``first..stop-1`` (indices in the whole data) is one of the Hessian's: a
    hash of the index, so that the same rows are drawn whatever the chunking.

    Parameters
    ----------
    first, stop : int
        The rows ``first, …, stop − 1`` of the data.
    fraction : float
        The share of rows drawn.
    seed : int
        Seeds the hash.

    Returns
    -------
    ndarray of bool, shape (stop − first,)
    """
    index = np.arange(first, stop, dtype=np.uint64)
    mixed = (index * np.uint64(2654435761) + np.uint64(seed)) % np.uint64(2**32)
    return mixed < fraction * 2**32


def _stats(X, Y, F, gates, loss):
    """The sums a Newton iteration needs from a chunk at its model outputs ``F``: the loss,
    ``Σℓ'``, ``Σℓ''``, ``Zᵀℓ'`` and ``Zᵀℓ''``."""
    loss_fn = get_loss(loss)
    Y = np.asarray(Y, dtype=np.float64).reshape(-1, 1)
    p = gates.shape[0] * gates.shape[1]
    out = dict(value=0.0, grad_sum=0.0, curv_sum=0.0, grad=np.zeros(p), curv=np.zeros(p))
    for rows in _blocks(X):
        Xt = add_bias_column(np.asarray(X[rows], dtype=np.float64))
        f, y = F[rows], Y[rows]
        out["value"] += loss_fn.value(f, y) * f.shape[0]
        g = loss_fn.gradient(f, y)[:, 0]
        h = loss_fn.hessian_root(f, y)[:, 0, 0] ** 2
        M = Xt @ gates >= 0
        out["grad_sum"] += g.sum()
        out["curv_sum"] += h.sum()
        # Zᵀv = X̃ᵀ(M ∘ v) per pattern, ordered (k, j) as the design's columns
        out["grad"] += (Xt.T @ (M * g[:, None])).T.ravel()
        out["curv"] += (Xt.T @ (M * h[:, None])).T.ravel()
    return out


def _hessian(X, Y, gates, U, c, loss):
    """The Hessian's sums over a block of rows (a chunk, or rows drawn for the Hessian) at the
    weights ``(U, c)``: the upper triangle of ``ZᵀHZ``, ``ZᵀH1`` and ``1ᵀH1``, with ``H`` the
    loss's curvatures ``ℓ''``."""
    loss_fn = get_loss(loss)
    Y = np.asarray(Y, dtype=np.float64).reshape(-1, 1)
    p = gates.shape[0] * gates.shape[1]
    out = dict(hess=np.zeros((p, p), order="F"), hess_curv=np.zeros(p), hess_sum=0.0)
    block = max(64, HESSIAN_BLOCK // p)
    for start in range(0, X.shape[0], block):
        Xt = add_bias_column(np.asarray(X[start : start + block], dtype=np.float64))
        M = Xt @ gates >= 0
        f = np.sum(M * (Xt @ U), axis=1, keepdims=True) + c
        h = loss_fn.hessian_root(f, Y[start : start + block])[:, 0, 0] ** 2
        out["hess_curv"] += (Xt.T @ (M * h[:, None])).T.ravel()
        out["hess_sum"] += h.sum()
        # the rows of the masked design [D_1 X̃, …, D_P X̃] scaled by √h, columns ordered (k, j);
        # the upper triangle of its Gram added in place: half the flops of a full product and no
        # second p × p array (the transpose of the C-ordered block is the Fortran array BLAS
        # reads: no copy)
        Z = ((M * np.sqrt(h)[:, None])[:, :, None] * Xt[:, None, :]).reshape(Xt.shape[0], p)
        out["hess"] = blas.dsyrk(1.0, Z.T, trans=0, beta=1.0, c=out["hess"], overwrite_c=True)
    return out


def _rows_drawn(X, Y, offset, fraction, seed):
    """The rows of a chunk (its first row being row ``offset`` of the data) drawn for the
    Hessian, and their targets."""
    chosen = hessian_rows_mask(offset, offset + X.shape[0], fraction, seed)
    return np.asarray(X)[chosen], np.asarray(Y)[chosen]


def _stacked(pieces, which):
    return np.concatenate([piece[which] for piece in pieces])


def _dual_sum(Y, F, loss, lam, scale):
    """``n_c`` times the dual objective of a chunk at ``θ = scale·(−ℓ'(F) − λ ℓ''(F))``."""
    loss_fn = get_loss(loss)
    Y = np.asarray(Y, dtype=np.float64).reshape(-1, 1)
    theta = -loss_fn.gradient(F, Y) - lam * loss_fn.hessian_root(F, Y)[:, :, 0] ** 2
    return loss_fn.dual(scale * theta, Y) * F.shape[0]


def _trial_values(X, Y, F, gates, dU, dc, loss):
    """``n_c`` times the mean loss at ``F + t(ΔF)`` for every step length ``t`` of ``STEPS``."""
    loss_fn = get_loss(loss)
    Y = np.asarray(Y, dtype=np.float64).reshape(-1, 1)
    dF = _forward(X, gates, dU, dc)
    return np.array([loss_fn.value(F + t * dF, Y) * F.shape[0] for t in STEPS]), dF


def _moved(F, dF, t):
    return F + t * dF


# -- where the chunks live -----------------------------------------------------------------------
class _InMemory:
    """One chunk, on this machine."""

    def __init__(self, X, Y):
        self.X, self.Y = [X], [Y]
        self.offsets = [0]  # the first row of each chunk in the data
        self.HX, self.HY = self.X, self.Y  # the rows the Hessian is built from

    def draw_hessian_rows(self, fraction, seed):
        """Build the Hessian from the rows :func:`hessian_rows_mask` draws (all when
        ``fraction`` is 1)."""
        if fraction < 1.0:
            X, Y = _rows_drawn(self.X[0], self.Y[0], 0, fraction, seed)
            self.HX, self.HY = [X], [Y]

    def each(self, fn, *per_chunk, **shared):
        return [fn(*args, **shared) for args in zip(*per_chunk, strict=True)]

    @staticmethod
    def sum(parts):
        return _total(parts)

    @staticmethod
    def keep(parts):
        return parts


class _OnDask:
    """Row chunks of Dask arrays: per-chunk calls are delayed, their sums computed on the
    scheduler in use (a ``distributed.Client`` when one is active); arrays derived per chunk
    (the model outputs) are persisted where their chunk lives."""

    def __init__(self, X, Y):
        dask = require_dask()
        self.dask = dask
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-D Dask array; got {X.ndim} dimensions")
        X = X.rechunk({1: -1})  # features in one chunk, rows as they are
        Y = Y.rechunk((X.chunks[0],) + ((-1,) if Y.ndim == 2 else ()))
        X, Y = dask.persist(X, Y)
        self.arrays = (X, Y)  # holds the persisted chunks on the workers while the solve runs
        self.X = list(X.to_delayed().ravel())
        self.Y = list(Y.to_delayed().ravel())
        self.offsets = [int(v) for v in np.cumsum((0,) + X.chunks[0][:-1])]
        self.HX, self.HY = self.X, self.Y

    def draw_hessian_rows(self, fraction, seed):
        """Gather the rows drawn for the Hessian into one block per worker thread, persisted:
        each Hessian pass then reads only them, and a worker holds one ``p × p`` sum per block
        instead of one per chunk."""
        if fraction >= 1.0:
            return
        drawn = self.each(_rows_drawn, self.X, self.Y, self.offsets, fraction=fraction, seed=seed)
        stacked = self.dask.delayed(_stacked, pure=True)
        groups = np.array_split(np.arange(len(drawn)), min(len(drawn), _parallelism()))
        pieces = [[drawn[i] for i in group] for group in groups]
        # persisted together, so that each chunk's rows are drawn once
        kept = self.keep([stacked(piece, 0) for piece in pieces]
                         + [stacked(piece, 1) for piece in pieces])  # fmt: skip
        self.HX, self.HY = kept[: len(pieces)], kept[len(pieces) :]

    def each(self, fn, *per_chunk, **shared):
        call = self.dask.delayed(fn, pure=True)
        shared = {k: self.dask.delayed(v) if isinstance(v, np.ndarray) and v.size > 1000 else v
                  for k, v in shared.items()}  # fmt: skip
        return [call(*args, **shared) for args in zip(*per_chunk, strict=True)]

    def sum(self, parts):
        """The sum of per-chunk results, added pairwise where they are (a tree): the client and
        each worker hold a few partial sums at a time, not one per chunk."""
        add = self.dask.delayed(_total, pure=True)
        while len(parts) > 1:
            parts = [add(parts[i : i + 2]) for i in range(0, len(parts), 2)]
        return self.dask.compute(parts[0])[0]

    def keep(self, parts):
        return list(self.dask.persist(*parts))


def _parallelism():
    """Threads of the active ``distributed.Client``'s workers; else this machine's cores."""
    try:
        from distributed import get_client

        return max(1, sum(get_client().nthreads().values()))
    except (ImportError, ValueError):  # no distributed, or no client: the local scheduler
        return os.cpu_count() or 1


def _total(parts, in_place=False):
    """Sum per-chunk results (numbers, arrays, or dicts of them). The arrays of dicts are added
    into the first dict's: each dict is made by one call for this sum alone (``_stats``,
    ``_hessian``, or a step of the reduction), and a second ``p × p`` array on a worker is what
    its memory limit would feel."""
    first = parts[0]
    if isinstance(first, dict):
        return {key: _total([p[key] for p in parts], in_place=True) for key in first}
    total = first
    for part in parts[1:]:
        if in_place and isinstance(total, np.ndarray) and total.flags.writeable:
            total += part
        else:
            total = total + part
    return total


# -- the solver ----------------------------------------------------------------------------------
def _newton_step(stats, U, c, alpha, n, scale, model_tol):
    """The minimiser of the quadratic model plus the exact group penalty (Clarabel, to
    ``model_tol``), as ``(ΔU, Δc, model decrease)``. ``stats`` are sums over the data;
    ``scale`` rescales the Hessian's rows (``n / newton rows``)."""
    import clarabel

    p1, P = U.shape
    p = p1 * P
    u = U.T.ravel()  # ordered (k, j), as the design's columns
    g = np.append(stats["grad"], stats["grad_sum"]) / n
    # variables x = [Δ (p), Δc, t (P)]: min gᵀ[Δ, Δc] + ½ [Δ, Δc]ᵀ H [Δ, Δc] + alpha Σ t_k,
    # (t_k, u_k + Δ_k) in the second-order cone
    size = p + 1 + P
    Pm = _upper_hessian(stats, scale / n, size)
    q = np.concatenate([g, np.full(P, alpha)])
    rows, cols, vals, b = [], [], [], np.zeros(P * (p1 + 1))
    for k in range(P):
        top = k * (p1 + 1)
        rows.append(top)
        cols.append(p + 1 + k)
        vals.append(-1.0)
        for j in range(p1):
            rows.append(top + 1 + j)
            cols.append(k * p1 + j)
            vals.append(-1.0)
            b[top + 1 + j] = u[k * p1 + j]
    A = sp.csc_matrix((vals, (rows, cols)), shape=(P * (p1 + 1), size))
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.tol_gap_abs = settings.tol_gap_rel = settings.tol_feas = model_tol
    settings.max_iter = 200
    cones = [clarabel.SecondOrderConeT(p1 + 1)] * P
    result = clarabel.DefaultSolver(Pm, q, A, b, cones, settings).solve()
    x = np.asarray(result.x)
    if x.shape[0] != size or not np.all(np.isfinite(x)):
        raise FloatingPointError(f"Clarabel failed on the Newton model ({result.status})")
    step = x[: p + 1]
    if model_tol <= MODEL_TOL[0]:  # Clarabel's finest: its step floors the gap, polish it
        step = _polished(Pm[: p + 1, : p + 1].tocsc(), g, u, step, alpha, p1)
    dU = step[:p].reshape(P, p1).T
    penalty = alpha * (np.linalg.norm(U + dU, axis=0).sum() - np.linalg.norm(U, axis=0).sum())
    decrease = float(g @ step + penalty)  # the first-order model's change (Armijo's reference)
    return dU, float(step[p]), decrease


def _model_value(upper, g, u, x, alpha, p1):
    """``gᵀx + ½xᵀHx + alpha Σ_k ‖u_k + x_k‖``: the Newton model at the step ``x`` (``H``
    given by its sparse upper triangle)."""
    groups = (u + x[:-1]).reshape(-1, p1)
    return float(g @ x + 0.5 * x @ _times(upper, x) + alpha * np.linalg.norm(groups, axis=1).sum())


def _times(upper, x):
    """``H x`` for the symmetric ``H`` whose upper triangle ``upper`` holds (no dense copy)."""
    return upper @ x + upper.T @ x - upper.diagonal() * x


def _polished(upper, g, u, x, alpha, p1):
    """The Newton model's minimiser from Clarabel's ``x``, polished: on the groups ``x`` keeps
    non-zero the model is smooth, and a few Newton steps on them (the others held at zero) reach
    it to rounding, where an interior point stops at ``√tol`` from it (a point that floors the
    certified gap near 1e-9). Kept only when the polished step lowers the model and the groups
    held at zero stay optimal (``‖(g + Hx)_k‖ ≤ alpha``); else Clarabel's ``x``."""
    P = u.shape[0] // p1
    norms = np.linalg.norm((u + x[:-1]).reshape(P, p1), axis=1)
    active = norms > POLISH_ZERO * max(float(norms.max(initial=0.0)), 1e-300)
    free = np.append(np.flatnonzero(np.repeat(active, p1)), u.shape[0])  # and the intercept
    y = x.copy()
    y[:-1] = np.where(np.repeat(active, p1), y[:-1], -u)  # the other groups at zero
    for _ in range(POLISH_STEPS):
        v = (u + y[:-1]).reshape(P, p1)[active]
        size = np.linalg.norm(v, axis=1)
        if not np.all(size > 0):
            return x
        unit = v / size[:, None]
        grad = (g + _times(upper, y))[free]
        grad[:-1] += alpha * unit.ravel()
        hess = upper[free][:, free].toarray()  # free is sorted: still the upper triangle
        hess += np.triu(hess, 1).T
        for i, (w, r) in enumerate(zip(unit, size, strict=True)):
            block = slice(i * p1, (i + 1) * p1)
            hess[block, block] += alpha * (np.eye(p1) - np.outer(w, w)) / r
        try:
            delta = np.linalg.solve(hess, -grad)
        except np.linalg.LinAlgError:
            return x
        y[free] += delta
        if np.linalg.norm(delta) <= 1e-15 * max(np.linalg.norm(y[free]), 1e-300):
            break
    if not np.all(np.isfinite(y)):
        return x
    held = (g + _times(upper, y))[:-1].reshape(P, p1)[~active]
    if np.any(np.linalg.norm(held, axis=1) > alpha * (1 + 1e-9)):
        return x
    lower = _model_value(upper, g, u, y, alpha, p1) <= _model_value(upper, g, u, x, alpha, p1)
    return y if lower else x


#: Groups of a Newton step below this fraction of the largest are held at zero by the polish.
POLISH_ZERO = 1e-7
#: Most Newton steps of the polish (it starts within √tol of the minimiser: two or three do).
POLISH_STEPS = 5


def _upper_hessian(stats, factor, size):
    """The Newton model's Hessian ``factor · [[ZᵀHZ, ZᵀH1], [1ᵀHZ, 1ᵀH1]]`` as the upper
    triangle Clarabel reads, in compressed columns, padded with zero columns to ``size``; built
    from the sums' upper triangle without a dense copy."""
    hess = stats["hess"]
    m = hess.shape[0] + 1
    # column j of the upper triangle holds rows 0..j: the lower triangle of hessᵀ, row by row
    data = np.concatenate([hess.T[np.tri(m - 1, dtype=bool)], stats["hess_curv"],
                           [stats["hess_sum"]]]) * factor  # fmt: skip
    counts = np.arange(1, m + 1)
    indptr = np.zeros(size + 1, dtype=np.int64)
    indptr[1 : m + 1] = np.cumsum(counts)
    indptr[m + 1 :] = indptr[m]
    indices = np.arange(indptr[m]) - np.repeat(indptr[:m], counts)
    return sp.csc_matrix((data, indices, indptr), shape=(size, size))


def solve_chunked(
    X, Y, gates, loss, alpha, *, tol=1e-6, max_iter=50, hessian_rows=None, random_state=0,
    verbose=False,
) -> SolverResult:  # fmt: skip
    """Solve the gated program with one output over row chunks by proximal Newton steps.

    Parameters
    ----------
    X : ndarray or dask array of shape (n_samples, n_features)
        Training inputs; a Dask array is processed chunk by chunk where its chunks live.
    Y : ndarray or dask array of shape (n_samples,) or (n_samples, 1)
        Targets encoded for the loss (values; labels in {0, 1} for the logistic loss), chunked
        as ``X``'s rows.
    gates : ndarray of shape (n_features + 1, n_patterns)
        The gates; the patterns are ``1[X̃ G ≥ 0]`` on every chunk.
    loss : {"squared", "logistic"}
        The loss (one output).
    alpha : float
        Regularisation, Lasso convention (positive).
    tol : float, default=1e-6
        Target certified relative duality gap.
    max_iter : int, default=50
        Most Newton iterations.
    hessian_rows : int, optional
        Build each Hessian from about this many rows drawn at random (once), scaled to the whole
        data; by default from every row. The gap is certified on every row either way.
    random_state : int, default=0
        Seeds the draw of the Hessian's rows.
    verbose : bool, default=False
        Print one line per iteration.

    Returns
    -------
    SolverResult
        Its solution has ``U`` of shape (1, n_features + 1, n_patterns) and ``V = None``.
    """
    start = time.perf_counter()
    if loss not in ("squared", "logistic"):
        raise ValueError(
            f"the chunked solver takes the squared and logistic losses, not {loss!r} "
            "(softmax is not supported on chunked data)"
        )
    if not alpha > 0:
        raise ValueError(f"the chunked solver needs alpha > 0, got {alpha}")
    gates = np.asarray(gates, dtype=np.float64)
    chunks = _OnDask(X, Y) if is_dask_array(X) else _InMemory(np.asarray(X), np.asarray(Y))
    n = int(X.shape[0])
    p1, P = gates.shape
    fraction = 1.0 if hessian_rows is None else min(1.0, hessian_rows / n)
    scale = 1.0 / fraction
    U, c = np.zeros((p1, P)), 0.0
    # start at the zero network's optimal intercept (one light pass gives the label mean)
    mean = float(chunks.sum(chunks.each(_label_sum, chunks.Y))) / n
    if loss == "logistic":
        if not 0.0 < mean < 1.0:
            raise ValueError("the logistic loss needs both classes among the targets")
        c = float(np.log(mean / (1.0 - mean)))
    else:
        c = mean
    chunks.draw_hessian_rows(fraction, int(random_state))
    F = chunks.keep(chunks.each(_forward, chunks.X, gates=gates, U=U, c=c))
    history, status, gap = [], "max_iter", None
    for it in range(max_iter + 1):
        stats = chunks.sum(chunks.each(_stats, chunks.X, chunks.Y, F, gates=gates, loss=loss))
        if not (np.isfinite(stats["value"]) and np.all(np.isfinite(stats["grad"]))):
            raise ValueError(
                "the loss or its gradient is not finite: X or y contains NaN or infinity"
                if it == 0 else f"the loss became non-finite at Newton iteration {it}"
            )
        gap = _certified_gap(chunks, stats, F, U, loss, alpha, n)
        history.append(gap.gap)
        if verbose:
            print(f"[chunked] iteration {it}: objective {gap.primal:.10g}, gap {gap.gap:.3e}")
        if gap.gap <= tol:
            status = "optimal"
            break
        if it == max_iter:
            break
        # the Hessian only when a step is to be taken: it is the pass's costliest part
        stats |= chunks.sum(chunks.each(_hessian, chunks.HX, chunks.HY, gates=gates, U=U, c=c,
                                        loss=loss))  # fmt: skip
        model_tol = float(np.clip(MODEL_TOL_FRACTION * gap.gap**2, *MODEL_TOL))
        dU, dc, decrease = _newton_step(stats, U, c, alpha, n, scale, model_tol)
        trials = chunks.each(_trial_values, chunks.X, chunks.Y, F, gates=gates, dU=dU, dc=dc,
                             loss=loss)  # fmt: skip
        trials = chunks.keep(trials)  # computed once: their values here, their ΔF below
        values = chunks.sum(chunks.each(itemgetter(0), trials)) / n
        penalties = np.array([np.linalg.norm(U + t * dU, axis=0).sum() for t in STEPS]) * alpha
        objectives = values + penalties
        # near the optimum the objective changes at the level of its own rounding (sums of n
        # terms) while the dual point still gains: a step within that rounding is taken
        slack = ROUNDING * abs(gap.primal)
        ok = np.flatnonzero(objectives <= gap.primal + ARMIJO * STEPS * min(decrease, 0.0) + slack)
        if ok.shape[0] == 0:
            status = "stalled"  # no step decreases the objective: rounding level
            break
        t = float(STEPS[ok[0]])
        U, c = U + t * dU, c + t * dc
        F = chunks.keep(chunks.each(_moved, F, chunks.each(itemgetter(1), trials), t=t))
    solution = ConvexSolution(U[None].copy(), None, np.array([c]))
    return SolverResult(solution, "chunked_newton", status, gap.gap, 0.0, it, history,
                        time.perf_counter() - start, objective=gap.primal)  # fmt: skip


def _label_sum(Y):
    return float(np.sum(np.asarray(Y, dtype=np.float64)))


def _certified_gap(chunks, stats, F, U, loss, alpha, n):
    """The certified relative gap at the current point from ``stats`` (the sums at ``F``) and
    one light pass for the dual objective: the dual point is the residual ``θ = −ℓ'(F)`` moved
    by the linearised intercept step to ``1ᵀθ = 0``, then shrunk into the feasible set."""
    primal = stats["value"] / n + alpha * float(np.linalg.norm(U, axis=0).sum())
    lam = -stats["grad_sum"] / stats["curv_sum"] if stats["curv_sum"] > 0 else 0.0
    if not abs(lam) <= 0.5:
        return DualityGap(primal, -np.inf, np.inf, 0.0)
    # X̃ᵀ D_k θ for θ = −ℓ' − λℓ'', per pattern k
    correlations = (-stats["grad"] - lam * stats["curv"]).reshape(U.shape[1], U.shape[0])
    scale = feasible_scale(np.linalg.norm(correlations, axis=1), n * alpha)
    parts = chunks.each(_dual_sum, chunks.Y, F, loss=loss, lam=lam, scale=scale)
    dual = float(chunks.sum(parts)) / n
    return DualityGap(primal, dual, relative_gap(primal, dual), scale)
