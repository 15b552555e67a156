"""Working-set block coordinate descent with Anderson extrapolation, for the gated program.

The solution of the group-Lasso program is sparse in blocks (few neurons), so the solver works on a
small *working set* of blocks (skglm-style, :ref:`solvers-guide`):

1. compute the dual point ``θ`` from the residual and the certified gap on the *whole* program
   (one adjoint product); stop when the gap is below ``tol``;
2. score every block by how far it is from optimality (``‖A_kᵀθ‖ / (n·alpha)`` for a zero block) and
   take the worst ones, together with every non-zero block, as the working set (doubling its size);
3. run cyclic proximal block steps (step ``1/L_k``, ``L_k`` the block's Lipschitz constant) on the
   working set, with Anderson extrapolation every few epochs, until the working set's own gap is a
   fraction of the outer gap.

Only the epoch and the restricted forward map are numba kernels; the rest is NumPy.
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit

from ..kernels import logistic_intercept, softmax_intercept
from ..operators import masked_adjoint
from ..program import ConvexProgram, ConvexSolution, feasible_dual, relative_gap
from .base import SolverResult
from .extrapolation import DualExtrapolator, best_gap

__all__ = ["solve_bcd", "bcd_epoch", "working_set_forward"]

_LOSS_CODES = {"squared": 0, "logistic": 1, "softmax": 2}
_CURVATURE = {"squared": 1.0, "logistic": 0.25, "softmax": 0.25}


@njit(cache=True)
def _loss_derivative(F, Y, c, i, o, code):
    """``∂ℓ(F_i + c, Y_i)/∂F_io``."""
    if code == 0:
        return F[i, o] + c[o] - Y[i, o]
    if code == 1:
        z = F[i, 0] + c[0]
        if z >= 0:
            p = 1.0 / (1.0 + np.exp(-z))
        else:
            e = np.exp(z)
            p = e / (1.0 + e)
        return p - Y[i, 0]
    K = F.shape[1]
    top = F[i, 0] + c[0]
    for j in range(1, K):
        top = max(top, F[i, j] + c[j])
    total = 0.0
    for j in range(K):
        total += np.exp(F[i, j] + c[j] - top)
    return np.exp(F[i, o] + c[o] - top) / total - Y[i, o]


@njit(cache=True)
def bcd_epoch(Xt, row_ptr, rows, block_output, W, lipschitz, F, Y, c, alpha, n_penalised, code):
    """One cyclic pass of proximal block steps over the working set, in place.

    Block ``b`` acts on output ``block_output[b]`` through the rows
    ``rows[row_ptr[b]:row_ptr[b+1]]`` (its pattern); ``W[b]`` is its ``d + 1`` coefficients and
    ``F`` the model output without intercept, kept up to date.

    Parameters
    ----------
    Xt : ndarray of shape (n_samples, n_features + 1)
        Inputs with the bias column, in float64.
    row_ptr : ndarray of shape (n_blocks + 1,), int64
        Block ``b``'s rows are ``rows[row_ptr[b]:row_ptr[b + 1]]``.
    rows : ndarray of int64
        The samples of every block's pattern (its active rows), block after block.
    block_output : ndarray of shape (n_blocks,), int64
        The output each block feeds.
    W : ndarray of shape (n_blocks, n_features + 1)
        The coefficients of the working set's blocks, updated in place.
    lipschitz : ndarray of shape (n_blocks,)
        Lipschitz constant ``L_b`` of each block's gradient; the step is ``1/L_b``.
    F : ndarray of shape (n_samples, n_outputs)
        Model output without the intercept, updated in place.
    Y : ndarray of shape (n_samples, n_outputs)
        Targets encoded for the loss.
    c : ndarray of shape (n_outputs,)
        The output intercept (fixed during the pass).
    alpha : float
        Regularisation strength.
    n_penalised : int
        How many leading coefficients of a block the group norm takes (all ``n_features + 1``
        for the gated program).
    code : int
        The loss: 0 squared, 1 logistic, 2 softmax.
    """
    n, g = Xt.shape
    grad = np.empty(g)
    for b in range(W.shape[0]):
        o = block_output[b]
        for j in range(g):
            grad[j] = 0.0
        for idx in range(row_ptr[b], row_ptr[b + 1]):
            i = rows[idx]
            r = _loss_derivative(F, Y, c, i, o, code)
            for j in range(g):
                grad[j] += r * Xt[i, j]
        step = 1.0 / lipschitz[b]
        s = 0.0
        for j in range(g):
            grad[j] = W[b, j] - step * grad[j] / n  # the gradient step, reusing the buffer
            if j < n_penalised:
                s += grad[j] * grad[j]
        norm = np.sqrt(s)
        shrink = 1.0 - alpha * step / norm if norm > alpha * step else 0.0
        changed = False
        for j in range(g):
            new = grad[j] * shrink if j < n_penalised else grad[j]
            grad[j] = new - W[b, j]
            if grad[j] != 0.0:
                changed = True
            W[b, j] = new
        if changed:
            for idx in range(row_ptr[b], row_ptr[b + 1]):
                i = rows[idx]
                dot = 0.0
                for j in range(g):
                    dot += Xt[i, j] * grad[j]
                F[i, o] += dot


@njit(cache=True)
def working_set_forward(Xt, row_ptr, rows, block_output, W, n_outputs):
    """``F[:, o] = Σ_{b: output o} D_b X̃ w_b`` over the working set (no intercept).

    Parameters
    ----------
    Xt : ndarray of shape (n_samples, n_features + 1)
        Inputs with the bias column, in float64.
    row_ptr : ndarray of shape (n_blocks + 1,), int64
        Block ``b``'s rows are ``rows[row_ptr[b]:row_ptr[b + 1]]``.
    rows : ndarray of int64
        The samples of every block's pattern (its active rows), block after block.
    block_output : ndarray of shape (n_blocks,), int64
        The output each block feeds.
    W : ndarray of shape (n_blocks, n_features + 1)
        The coefficients of the working set's blocks.
    n_outputs : int
        Number of outputs (columns of the result).

    Returns
    -------
    ndarray of shape (n_samples, n_outputs)
    """
    n, g = Xt.shape
    F = np.zeros((n, n_outputs))
    for b in range(W.shape[0]):
        o = block_output[b]
        for idx in range(row_ptr[b], row_ptr[b + 1]):
            i = rows[idx]
            dot = 0.0
            for j in range(g):
                dot += Xt[i, j] * W[b, j]
            F[i, o] += dot
    return F


class _WorkingSet:
    """Blocks ``(o, k)`` of the working set with their rows and Lipschitz constants."""

    def __init__(self, program, blocks, curvature):
        self.blocks = blocks  # array of (o, k)
        Xt = program.Xt.astype(np.float64)
        masks = program.masks
        row_lists = [np.flatnonzero(masks[:, k]) for _, k in blocks]
        self.row_ptr = np.zeros(len(blocks) + 1, dtype=np.int64)
        self.row_ptr[1:] = np.cumsum([len(r) for r in row_lists])
        self.rows = np.concatenate(row_lists).astype(np.int64) if row_lists else np.zeros(0, np.int64)
        self.block_output = np.array([o for o, _ in blocks], dtype=np.int64)
        n = program.n_samples
        lips = np.empty(len(blocks))
        for b, r in enumerate(row_lists):
            A = Xt[r]
            top = np.linalg.eigvalsh(A.T @ A)[-1] if len(r) else 0.0
            lips[b] = max(curvature * top / n, 1e-12)
        self.lipschitz = lips


#: The whole solve's epoch budget, in units of ``max_epochs`` (one working set's): without it an
#: ill-conditioned program (a tiny ``alpha``) spent ``max_iter`` full budgets, minutes on 10 samples.
TOTAL_EPOCHS_FACTOR = 3


def solve_bcd(
    program: ConvexProgram,
    *,
    tol: float = 1e-6,
    max_iter: int = 100,
    verbose: bool = False,
    init: ConvexSolution | None = None,
    max_epochs: int = 10000,
    anderson: int = 5,
    initial_working_set: int = 10,
    callback=None,
) -> SolverResult:
    """Solve the gated program by working-set block coordinate descent.

    Parameters
    ----------
    program : ConvexProgram
        ``formulation="gated"``.
    tol : float
        Target relative duality gap of the whole program.
    max_iter : int
        Number of outer (working-set) iterations.
    verbose : bool
    init : ConvexSolution, optional
        Warm start.
    max_epochs : int
        Budget of block-coordinate epochs per working set; the whole solve stops (status
        ``"max_iter"``) once it has spent ``TOTAL_EPOCHS_FACTOR`` times this over all working sets.
    anderson : int
        Anderson extrapolation from the last ``anderson`` epochs (0 disables it).
    initial_working_set : int
        Size of the first working set (it doubles at each outer iteration).
    callback : callable, optional
        ``callback(solution)`` at each outer iteration.
    """
    if program.formulation != "gated":
        raise ValueError("solver 'bcd' solves the gated program; use 'al' for formulation='relu'")
    start = time.perf_counter()
    code, curvature = _LOSS_CODES[program.loss], _CURVATURE[program.loss]
    Xt = np.ascontiguousarray(program.Xt, dtype=np.float64)
    Y = np.ascontiguousarray(program.Y, dtype=np.float64)
    K, g, P = program.block_shape
    n, alpha = program.n_samples, program.alpha
    U = np.zeros((K, g, P)) if init is None else np.array(init.U, dtype=np.float64)
    c = np.asarray(program.zero_solution().intercept if init is None else init.intercept, dtype=np.float64)
    history, size, gap = [], initial_working_set, np.inf
    outer_extrapolator = DualExtrapolator(depth=3)
    n_iter, epochs_left = 0, TOTAL_EPOCHS_FACTOR * max_epochs
    for n_iter in range(1, max_iter + 1):
        solution = ConvexSolution(U.astype(program.X.dtype), None, c.astype(program.X.dtype))
        if callback is not None:
            callback(solution)
        F = program.predict(solution).astype(np.float64)
        theta = program.residual_at(F)
        correlations = np.linalg.norm(masked_adjoint(Xt, program.mask_matrix, theta), axis=1)  # (K, P)
        gap = best_gap(program, solution, theta, outer_extrapolator).gap
        history.append(gap)
        if verbose:
            print(f"[bcd] outer {n_iter:3d}  gap {gap:.3e}  working set {size}")
        if gap <= tol or epochs_left <= 0:
            break
        # blocks furthest from optimality first; non-zero blocks always belong
        norms = np.linalg.norm(U, axis=1)
        score = correlations / max(n * alpha, 1e-300)
        score[norms > 0] = np.inf
        n_nonzero = int(np.count_nonzero(norms))
        size = min(K * P, max(size, 2 * n_nonzero, initial_working_set))
        chosen = np.argsort(-score, axis=None, kind="stable")[:size]
        blocks = np.column_stack(np.unravel_index(chosen, (K, P)))
        ws = _WorkingSet(program, blocks, curvature)
        Wws = np.ascontiguousarray(U[blocks[:, 0], :, blocks[:, 1]])
        epochs_left -= _solve_working_set(
            program, ws, Wws, c, Xt, Y, code, gap, min(max_epochs, epochs_left), anderson
        )
        U[:] = 0.0
        U[blocks[:, 0], :, blocks[:, 1]] = Wws
        size *= 2
    solution = ConvexSolution(U.astype(program.X.dtype), None, c.astype(program.X.dtype))
    if gap > tol and (n_iter == max_iter or epochs_left <= 0):  # the last working set: uncertified
        gap = best_gap(program, solution, program.residual(solution)).gap
        history.append(gap)
    return SolverResult(
        solution=solution,
        solver="bcd",
        status="optimal" if gap <= tol else "max_iter",
        gap=gap,
        violation=0.0,
        n_iter=n_iter,
        gap_history=history,
        time=time.perf_counter() - start,
    )


def _minimise_intercept(program, F, Y, c):
    """Set ``c`` (in place) to the intercept minimising the loss of ``F + c``; for the logistic and
    softmax losses by the compiled Newton solves warm-started at ``c`` (the loss's own
    ``intercept_shift`` starts cold, and this runs after every epoch)."""
    if program.loss == "softmax":
        softmax_intercept(F, Y, c)
    elif program.loss == "logistic":
        c[0] = logistic_intercept(np.ascontiguousarray(F[:, 0]), float(Y.sum()), float(c[0]))
    else:
        c += program.loss_fn.intercept_shift(F + c, Y)


def _restricted_objective(program, ws, W, c, F, Y):
    return program.loss_fn.value(F + c, Y) + program.alpha * float(np.sum(np.linalg.norm(W, axis=1)))


def _solve_working_set(program, ws, W, c, Xt, Y, code, outer_gap, max_epochs, anderson, ratio=0.01):
    """Block coordinate epochs on the working set until its own gap is ``ratio`` of the outer gap,
    at most ``max_epochs`` of them; returns the number run."""
    K, alpha = program.n_outputs, program.alpha
    g = Xt.shape[1]
    F = working_set_forward(Xt, ws.row_ptr, ws.rows, ws.block_output, W, K)
    past = []
    extrapolator = DualExtrapolator()
    for epoch in range(1, max_epochs + 1):
        bcd_epoch(Xt, ws.row_ptr, ws.rows, ws.block_output, W, ws.lipschitz, F, Y, c, alpha, g, code)
        _minimise_intercept(program, F, Y, c)
        if anderson:
            past.append(np.concatenate([W.ravel(), c]))
            if len(past) == anderson + 1:
                _anderson_step(program, ws, W, c, F, Y, Xt, past)
                past = []
        if epoch % 10 == 0:
            F = working_set_forward(Xt, ws.row_ptr, ws.rows, ws.block_output, W, K)  # no drift
            # c minimises the loss of F + c (just above): the residual needs no intercept shift
            # (this test only stops the working set's epochs; the outer gap is certified apart)
            theta = program.loss_fn.dual_point(F + c, Y)
            primal = _restricted_objective(program, ws, W, c, F, Y)
            extrapolator.push(theta)
            candidates = [theta]
            extrapolated = extrapolator.extrapolate()
            if extrapolated is not None:
                implied = program.loss_fn.outputs_from_residual(extrapolated, Y)
                candidates.append(program.residual_at(implied))
            dual = max(_restricted_dual(program, ws, Xt, Y, t) for t in candidates)
            if relative_gap(primal, dual) <= ratio * outer_gap:
                break
    return epoch


def _restricted_dual(program, ws, Xt, Y, theta):
    """Dual objective of the working-set program at ``θ`` rescaled to feasibility."""
    norms = _working_set_correlations(Xt, ws, theta)
    return feasible_dual(program.loss_fn, theta, Y, norms, program.n_samples * program.alpha)[0]


def _working_set_correlations(Xt, ws, theta):
    return _correlations(Xt, ws.row_ptr, ws.rows, ws.block_output, np.ascontiguousarray(theta))


@njit(cache=True)
def _correlations(Xt, row_ptr, rows, block_output, theta):
    """``‖X̃_rᵀ θ_r‖`` for every block of the working set (``r`` its active rows)."""
    g = Xt.shape[1]
    out = np.empty(row_ptr.shape[0] - 1)
    v = np.empty(g)
    for b in range(out.shape[0]):
        v[:] = 0.0
        o = block_output[b]
        for t in range(row_ptr[b], row_ptr[b + 1]):
            i = rows[t]
            for j in range(g):
                v[j] += Xt[i, j] * theta[i, o]
        out[b] = np.sqrt(np.sum(v**2))
    return out


def _anderson_step(program, ws, W, c, F, Y, Xt, past):
    """Replace ``(W, c)`` by the Anderson extrapolation of the last iterates if it is better."""
    iterates = np.array(past)
    diffs = np.diff(iterates, axis=0)
    gram = diffs @ diffs.T
    try:
        z = np.linalg.solve(gram + 1e-12 * np.trace(gram) * np.eye(len(gram)), np.ones(len(gram)))
    except np.linalg.LinAlgError:
        return
    if not np.all(np.isfinite(z)) or z.sum() == 0:
        return
    weights = z / z.sum()
    candidate = weights @ iterates[1:]
    Wc = candidate[: W.size].reshape(W.shape)
    cc = candidate[W.size :]
    Fc = working_set_forward(Xt, ws.row_ptr, ws.rows, ws.block_output, Wc, F.shape[1])
    _minimise_intercept(program, Fc, Y, cc)
    if _restricted_objective(program, ws, Wc, cc, Fc, Y) < _restricted_objective(program, ws, W, c, F, Y):
        W[:] = Wc
        c[:] = cc
        F[:] = Fc
