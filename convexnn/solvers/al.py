"""Augmented Lagrangian solver of the exact ReLU program (:ref:`solvers-guide`).

The cone constraints ``(2D_k − I) X̃ u_k ≥ 0`` enter through the penalty

    (δ/2) Σ_k ‖(λ_k/δ − (2D_k − I) X̃ u_k)_+‖²      (likewise for v_k),

each inner problem — smooth loss plus this penalty, group norms on the weight coordinates — is solved
by the shared R-FISTA (:func:`convexnn.solvers.fista.fista`), and the multipliers are updated as
``λ ← (λ − δ(2D − I)X̃u)_+``. The solver stops when the certified relative duality gap *and* the
largest relative constraint violation are both below ``tol``; ``δ`` grows when the violation
stalls, and falls back towards its start when the iterate is far inside its cones while the gap
stalls.
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

#: ``δ`` is multiplied by ``PENALTY_FACTOR`` when the violation falls less than fourfold in an
#: outer iteration, and divided by it (down to its starting value) when the violation is below
#: ``FEASIBLE_MARGIN * tol`` while the certified gap fell less than ``GAP_FALL`` times. A large
#: ``δ`` makes every inner problem stiff (R-FISTA's steps scale as ``1/δ``) long after the cones
#: no longer need it: on a 30-sample logistic program (``tests/solvers/test_al.py``) ``δ`` reached
#: 8.3 while the violation stalled near 7e-4, the violation then fell to 1e-9, and every inner
#: solve ran out of its 2,000 iterations; the gap crawled from 3.1e-5 to 1.7e-5 in 200 outer
#: iterations. Lowered again, it certifies 1.5e-7 in 33.
PENALTY_FACTOR, FEASIBLE_MARGIN, GAP_FALL = 5.0, 1e-2, 2.0


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


def _certified_inside(program, solution):
    """``solution`` with its blocks projected onto their cones (the point the solver returns:
    its network reproduces its objective), that point's certified gap and its violation."""
    inside = program.feasible(solution, tol=1e-12)
    gap = best_gap(program, inside, program.residual(inside)).gap
    return inside, gap, program.constraint_violation(inside)


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
        Warm start; returned as it is, after no iteration, where it is already certified to
        ``tol`` inside its cones.
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
    dtype = program.X.dtype
    if init is not None:
        # a warm start already certified is the answer: the multipliers start at zero, so the
        # first inner solve would leave the cones and the iterations start over (from the
        # optimum, 7 to 33 outer iterations on 30-sample programs, as many as from zero)
        point = ConvexSolution(*(np.array(a, dtype=dtype)
                                 for a in (init.U, init.V, init.intercept)))
        gap = np.inf
        if program.constraint_violation(point) <= tol:  # certified inside its cones (below)
            point, gap, violation = _certified_inside(program, point)
        if gap <= tol:
            if callback is not None:
                callback(point)
            return SolverResult(
                solution=point, solver="al", status="optimal", gap=gap, violation=violation,
                n_iter=0, gap_history=[gap], time=time.perf_counter() - start,
            )
    n = program.n_samples
    composite = AugmentedComposite(program, 10.0 / n if delta is None else delta)
    lowest_delta = composite.delta
    if init is None:
        init = program.zero_solution()
    W = np.ascontiguousarray(np.stack([init.U, init.V]), dtype=dtype)
    c = np.asarray(init.intercept, dtype=np.float64)
    step = initial_step(composite, W.shape, c.shape, dtype)
    # one bound for every inner solve: each starts from the step the last one ended with
    max_step = step * MAX_STEP_GROWTH
    history, inner_tol, previous_violation = [], 1e-2, np.inf
    gap, violation, n_iter, certified = np.inf, np.inf, 0, False
    solution = ConvexSolution(W[0].copy(), W[1].copy(), c.astype(dtype))
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
            # the point may still be outside its cones by up to tol, where the network does not
            # reproduce its objective: what is returned is its projection onto them, certified
            # anew (the projection cost 5e-5 of gap on 60 samples of make_friedman1, where the
            # solve had stopped at 1e-6 and the caller got "inaccurate")
            inside, inside_gap, inside_violation = _certified_inside(program, solution)
            if inside_gap <= tol:
                solution, gap, violation, certified = inside, inside_gap, inside_violation, True
                history.append(gap)
                break
        if violation > 0.25 * previous_violation and violation > tol:
            composite.delta *= PENALTY_FACTOR  # the violation stalls: stiffen the penalty
            step = step / PENALTY_FACTOR
        elif (violation <= FEASIBLE_MARGIN * tol and composite.delta > lowest_delta
              and len(history) > 1 and history[-1] * GAP_FALL > history[-2]):
            # well inside the cones, the gap stalls: the penalty only slows the inner solves
            composite.delta /= PENALTY_FACTOR
            step = step * PENALTY_FACTOR
        previous_violation = violation
        inner_tol = max(inner_tol * 0.2, 1e-3 * tol)
    if not history:
        gap = best_gap(program, solution, program.residual(solution)).gap
        history.append(gap)
    return SolverResult(
        solution=solution,
        solver="al",
        status="optimal" if certified else "max_iter",
        gap=gap,
        violation=violation,
        n_iter=n_iter,
        gap_history=history,
        time=time.perf_counter() - start,
    )
