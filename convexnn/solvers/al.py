"""Augmented Lagrangian solver of the exact ReLU program (:ref:`solvers-guide`).

The cone constraints ``(2D_k − I) X̃ u_k ≥ 0`` enter through the penalty

    (δ/2) Σ_k ‖(λ_k/δ − (2D_k − I) X̃ u_k)_+‖²      (likewise for v_k),

each inner problem — smooth loss plus this penalty, group norms on the weight coordinates — is solved
by the shared R-FISTA (:func:`convexnn.solvers.fista.fista`), and the multipliers are updated as
``λ ← (λ − δ(2D − I)X̃u)_+``. The solver stops when the certified relative duality gap *and* the
largest relative constraint violation are both below ``tol``; ``δ`` grows when the violation stalls.
"""

from __future__ import annotations

import time

import numpy as np

from ..kernels import (
    augmented_residual,
    augmented_residuals,
    group_soft_threshold,
    masked_rowsum,
    update_multipliers,
)
from ..program import ConvexProgram, ConvexSolution
from .base import SolverResult
from .extrapolation import best_gap
from .fista import MAX_STEP_GROWTH, fista, initial_step

__all__ = ["solve_al", "AugmentedComposite"]

#: Programs whose cone terms have at most this many entries (``2 K n P``) evaluate them in one
#: compiled call, with a buffer of that size.
FUSED_MAX_ENTRIES = 2**21


class AugmentedComposite:
    """Inner problem of the augmented Lagrangian over ``W = [U; V]`` (shape (2, K, d + 1, P)).

    Parameters
    ----------
    program : ConvexProgram
        The exact ReLU program.
    delta : float
        Penalty parameter ``δ > 0`` of the cone terms (the attribute ``delta``, which the solver
        raises when the violation stalls). The multipliers ``Lam`` start at zero.
    """

    def __init__(self, program: ConvexProgram, delta: float):
        self.program = program
        self.Xt, self.masks = program.Xt, program.masks
        self.Y = program.Y.astype(np.float64)
        self.loss, self.n = program.loss_fn, program.n_samples
        self.delta = delta
        K, P = program.n_outputs, program.n_patterns
        self.Lam = np.zeros((2, K, program.n_samples, P), dtype=program.X.dtype)
        # small programs take every block in one compiled call (the per-call overhead is most of
        # an inner iteration there); large ones one block at a time, with one block's buffer
        shape = (2, K) if 2 * K * program.n_samples * P <= FUSED_MAX_ENTRIES else ()
        self._buffer = np.empty((*shape, program.n_samples, P), dtype=program.X.dtype)

    def image(self, W):
        """``(Z, F)``: the products ``Z = X̃W`` (2, K, n, P) the cone terms need, and the outputs.

        Parameters
        ----------
        W : ndarray of shape (2, n_outputs, n_features + 1, n_patterns)
            The blocks ``[U; V]``.
        """
        Z = np.matmul(self.Xt, W)
        F = np.empty((self.n, W.shape[1]))
        for o in range(W.shape[1]):
            F[:, o] = masked_rowsum(Z[0, o] - Z[1, o], self.masks)
        return Z, F

    def smooth(self, image, c, gradient=True):
        Z, F = image
        F = F + c
        G = self.loss.gradient(F, self.Y) / self.n
        total = self.loss.value(F, self.Y)
        if self._buffer.ndim == 4:
            sq = augmented_residuals(Z, self.masks, self.Lam, self.delta, G, self._buffer)
            total += sq / (2.0 * self.delta)
            if not gradient:
                return total, None, None
            return total, np.matmul(self.Xt.T, self._buffer), G.sum(axis=0)
        shape = (2, Z.shape[1], self.Xt.shape[1], Z.shape[3])
        grad = np.empty(shape, dtype=Z.dtype) if gradient else None
        for s, sign in ((0, 1.0), (1, -1.0)):
            for o in range(Z.shape[1]):
                g = np.ascontiguousarray(G[:, o], dtype=Z.dtype)
                sq = augmented_residual(Z[s, o], self.masks, self.Lam[s, o], self.delta, g, sign, self._buffer)
                total += sq / (2.0 * self.delta)
                if gradient:
                    grad[s, o] = self.Xt.T @ self._buffer
        if not gradient:
            return total, None, None
        return total, grad, G.sum(axis=0)

    def value_grad(self, W, c):
        return self.smooth(self.image(W), c)

    def prox(self, W, step):
        K2 = W.shape[0] * W.shape[1]
        flat = W.reshape(K2, W.shape[2], W.shape[3])
        group_soft_threshold(flat, step * self.program.alpha, W.shape[2] - 1)
        return W

    def penalty(self, W):
        weights = W[..., :-1, :].astype(np.float64)
        return self.program.alpha * float(np.sum(np.sqrt(np.sum(weights**2, axis=-2))))

    def update_multipliers(self, W):
        Z = np.matmul(self.Xt, W)
        for s in range(2):
            for o in range(W.shape[1]):
                update_multipliers(Z[s, o], self.masks, self.Lam[s, o], self.delta)


def solve_al(
    program: ConvexProgram,
    *,
    tol: float = 1e-6,
    max_iter: int = 20,
    verbose: bool = False,
    init: ConvexSolution | None = None,
    max_inner: int = 500,
    delta: float | None = None,
    callback=None,
) -> SolverResult:
    """Solve the exact ReLU program by an augmented Lagrangian with R-FISTA inner solves.

    Parameters
    ----------
    program : ConvexProgram
        ``formulation="relu"``.
    tol : float
        Target for both the relative duality gap and the relative constraint violation.
    max_iter : int
        Number of multiplier updates (outer iterations).
    verbose : bool
    init : ConvexSolution, optional
        Warm start.
    max_inner : int
        FISTA iterations per inner problem.
    delta : float, optional
        Initial penalty parameter (default ``10 / n_samples``).
    callback : callable, optional
        ``callback(solution)`` after each outer iteration (benchmarks record the trajectory).
    """
    if program.formulation != "relu":
        raise ValueError("solver 'al' solves the exact ReLU program; use 'fista' or 'bcd' for 'gated'")
    start = time.perf_counter()
    n = program.n_samples
    composite = AugmentedComposite(program, 10.0 / n if delta is None else delta)
    if init is None:
        init = program.zero_solution()
    dtype = program.X.dtype
    W = np.ascontiguousarray(np.stack([init.U, init.V]), dtype=dtype)
    c = np.asarray(init.intercept, dtype=np.float64)
    step = initial_step(composite, W.shape, c.shape, dtype)
    # one bound for every inner solve: each starts from the step the last one ended with
    max_step = step * MAX_STEP_GROWTH
    history, inner_tol, previous_violation = [], 1e-2, np.inf
    gap, violation, n_iter = np.inf, np.inf, 0
    for n_iter in range(1, max_iter + 1):
        W, c, _, step = fista(
            composite, W, c, step=step, max_iter=max_inner,
            stop_grad=max(inner_tol * max(program.alpha, 1e-12), 1e-14), max_step=max_step,
        )
        composite.update_multipliers(W)
        solution = ConvexSolution(W[0].copy(), W[1].copy(), c.astype(dtype))
        violation = program.constraint_violation(solution)
        if callback is not None:
            callback(solution)
        if violation <= tol:
            gap = best_gap(program, solution, program.residual(solution)).gap
            history.append(gap)
        if verbose:
            print(f"[al] outer {n_iter:3d}  violation {violation:.2e}  gap {gap:.2e}  delta {composite.delta:.2e}")
        if violation <= tol and gap <= tol:
            break
        if violation > 0.25 * previous_violation and violation > tol:
            composite.delta *= 5.0  # the violation stalls: stiffen the penalty
            step = step / 5.0
        previous_violation = violation
        inner_tol = max(inner_tol * 0.2, 1e-3 * tol)
    solution = ConvexSolution(W[0], W[1], c.astype(dtype))
    if not history:
        gap = best_gap(program, solution, program.residual(solution)).gap
        history.append(gap)
    return SolverResult(
        solution=solution,
        solver="al",
        status="optimal" if (gap <= tol and violation <= tol) else "max_iter",
        gap=gap,
        violation=violation,
        n_iter=n_iter,
        gap_history=history,
        time=time.perf_counter() - start,
    )
