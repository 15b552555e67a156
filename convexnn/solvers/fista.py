"""R-FISTA: accelerated proximal gradient with backtracking and adaptive restart (:ref:`solvers-guide`).

:func:`fista` minimises ``smooth(W, c) + penalty(W)`` for any :class:`Composite` — blocks ``W`` with
a group penalty and a free intercept ``c`` — and is shared by the gated solver
(:func:`solve_fista`) and the inner problems of the augmented Lagrangian (:mod:`.al`).
The outer logic (stopping on the certified gap, warnings) stays in Python; the masked products are
BLAS + numba (:mod:`convexnn.operators`).
"""

from __future__ import annotations

import time

import numpy as np

from ..kernels import group_soft_threshold
from ..operators import masked_adjoint, masked_forward
from ..program import ConvexProgram, ConvexSolution
from .base import SolverResult
from .extrapolation import DualExtrapolator, best_gap

__all__ = ["fista", "solve_fista", "GatedComposite", "initial_step"]


class GatedComposite:
    """The gated program ``(1/n) Σ ℓ(Σ_k D_k X̃ u_k + c) + alpha Σ ‖u_k‖`` as FISTA sees it.

    A composite splits the smooth part in two: :meth:`image`, linear in ``W`` (here the model
    output ``F``), and :meth:`smooth`, which evaluates the smooth part and its gradient from an
    image. FISTA extrapolates images along with iterates, so each iteration maps one point forward.

    Parameters
    ----------
    program : ConvexProgram
        The gated program.
    """

    def __init__(self, program: ConvexProgram):
        self.program = program
        self.Xt, self.masks = program.Xt, program.mask_matrix
        self.Y = program.Y.astype(np.float64)
        self.loss, self.n = program.loss_fn, program.n_samples

    def image(self, W):
        return masked_forward(self.Xt, self.masks, W, out_dtype=np.float64)

    def smooth(self, F, c, gradient=True):
        F = F + c
        value = self.loss.value(F, self.Y)
        if not gradient:
            return value, None, None
        # the gradient to each entry's own rounding (the dual point, negated): the prox
        # thresholds block gradients against alpha, and a confident softmax sample's
        # p_y − 1, off by 1e-16 of one and carried by features of 1e7, held the fuzz case
        # confident-softmax-residual-off-the-simplex at a certified gap of 6.9e-5
        G = -self.loss.dual_point(F, self.Y) / self.n
        return value, masked_adjoint(self.Xt, self.masks, G), G.sum(axis=0)

    def value_grad(self, W, c):
        return self.smooth(self.image(W), c)

    def prox(self, W, step):
        return group_soft_threshold(W, step * self.program.alpha, W.shape[1])

    def penalty(self, W):
        return self.program.alpha * float(np.sum(np.sqrt(np.sum(W.astype(np.float64) ** 2, axis=1))))


def _extrapolate(image, previous, beta):
    """``image + beta (image − previous)`` for an image that is an array or a tuple of arrays."""
    if isinstance(image, tuple):
        return tuple(_extrapolate(a, b, beta) for a, b in zip(image, previous, strict=True))
    return image + beta * (image - previous)


def initial_step(composite, W_shape, c_shape, dtype, n_power=8, seed=0):
    """``1 / L`` from a few power iterations on the smooth part's curvature (an estimate: FISTA's
    backtracking corrects it).

    Parameters
    ----------
    composite : GatedComposite or AugmentedComposite
        The problem whose smooth part is measured (:meth:`value_grad` is called).
    W_shape : tuple of int
        Shape of the blocks ``W``.
    c_shape : tuple of int
        Shape of the intercept ``c``.
    dtype : dtype
        The blocks' dtype (the data's).
    n_power : int, default=8
        Number of power iterations.
    seed : int, default=0
        Seed of the random start of the power iterations.

    Returns
    -------
    float
        ``0.9 / L`` for the estimate ``L``; 1 when the curvature is zero or not finite.
    """
    rng = np.random.default_rng(seed)
    W = rng.standard_normal(W_shape).astype(dtype)
    c = np.zeros(c_shape)
    W /= np.linalg.norm(W)
    f0, g0W, g0c = composite.value_grad(np.zeros_like(W), c)
    L = 1.0
    for _ in range(n_power):
        _, gW, _ = composite.value_grad(W, c)
        HW = (gW - g0W).astype(np.float64)
        L = float(np.linalg.norm(HW))
        if L == 0.0 or not np.isfinite(L):
            return 1.0
        W = (HW / L).astype(dtype)
    return 0.9 / L


#: How far above its starting value :func:`fista`'s step may grow.
MAX_STEP_GROWTH = 1e12


def fista(composite, W, c, *, step, max_iter, check=None, check_every=10, stop_grad=None,
          max_step=None):
    """Minimise ``composite.smooth + composite.penalty`` from ``(W, c)`` by R-FISTA.

    Momentum ``t⁺ = (1 + √(1 + 4t²))/2``; backtracking on the sufficient-decrease condition with
    a step that is allowed to grow again after each accepted step; the momentum restarts whenever
    the objective would increase (the iterate is then kept, so the objective never increases).
    The image of the extrapolated point is extrapolated from the images of the iterates, so an
    iteration costs one forward map (of the new iterate) and one gradient, plus one forward map per
    backtracking step.

    Parameters
    ----------
    composite : GatedComposite or AugmentedComposite
        The problem: ``image``, ``smooth``, ``prox`` and ``penalty``.
    W : ndarray
        The starting blocks (copied, not modified).
    c : ndarray of shape (n_outputs,)
        The starting intercept.
    step : float
        The initial step size (e.g. :func:`initial_step`); halved by backtracking, grown by 10 %
        after each iteration, up to ``max_step``.
    max_iter : int
        Most iterations.
    check : callable ``(W, c, it) -> bool``, optional
        Called every ``check_every`` iterations; returning True stops.
    check_every : int, default=10
        Iterations between checks.
    stop_grad : float, optional
        Also stop once the largest block of the prox-gradient mapping is below this value.
    max_step : float, optional
        The largest step (default: ``MAX_STEP_GROWTH`` times ``step``). A caller that chains
        calls, passing each one's final step to the next, passes one bound for all of them.

    Returns
    -------
    W, c, n_iter, step
    """
    W = W.copy()
    c = np.asarray(c, dtype=np.float64).copy()
    image = composite.image(W)
    W_prev, c_prev, image_prev = W, c, image
    t = 1.0
    objective = composite.smooth(image, c, gradient=False)[0] + composite.penalty(W)
    slack = 64 * np.finfo(W.dtype).eps
    # the step grows by 10 % after each accepted step: where every step is accepted (an objective
    # that no step changes) it overflowed after some 7,500 iterations, and the backtracking
    # halved an infinite step for ever (three samples at alpha 6e-19, tests/fuzz_regressions)
    largest_step = step * MAX_STEP_GROWTH if max_step is None else max_step
    it = 0
    for it in range(1, max_iter + 1):
        t_next = 0.5 * (1.0 + (1.0 + 4.0 * t * t) ** 0.5)
        beta = (t - 1.0) / t_next
        if beta > 0:
            Yw, Yc = W + beta * (W - W_prev), c + beta * (c - c_prev)
            image_y = _extrapolate(image, image_prev, beta)
        else:
            Yw, Yc, image_y = W, c, image
        fy, gW, gc = composite.smooth(image_y, Yc)
        while True:
            Wn = composite.prox(Yw - step * gW, step)
            cn = Yc - step * gc
            image_n = composite.image(Wn)
            fn = composite.smooth(image_n, cn, gradient=False)[0]
            dW = (Wn - Yw).astype(np.float64)
            dc = cn - Yc
            model = fy + float(np.vdot(gW, dW)) + float(dc @ gc)
            model += (float(np.vdot(dW, dW)) + float(dc @ dc)) / (2.0 * step)
            if fn <= model + slack * abs(fy) or step < 1e-20:
                break
            step *= 0.5
        new_objective = fn + composite.penalty(Wn)
        W_prev, c_prev, image_prev = W, c, image
        if new_objective > objective + slack * abs(objective):
            t = 1.0  # adaptive restart: drop the momentum, keep the iterate
        else:
            W, c, image = Wn, cn, image_n
            objective, t = new_objective, t_next
        step = min(1.1 * step, largest_step)
        if stop_grad is not None:
            mapping = float(np.sqrt(np.sum(dW**2, axis=-2)).max(initial=0.0)) / step
            if mapping <= stop_grad and np.abs(dc).max(initial=0.0) / step <= stop_grad:
                break
        if check is not None and it % check_every == 0 and check(W, c, it):
            break
    return W, c, it, step


def solve_fista(
    program: ConvexProgram,
    *,
    tol: float = 1e-6,
    max_iter: int = 10000,
    verbose: bool = False,
    init: ConvexSolution | None = None,
    check_every: int = 10,
    callback=None,
) -> SolverResult:
    """Solve the gated program by R-FISTA, stopping on the certified relative duality gap.

    Parameters
    ----------
    program : ConvexProgram
        ``formulation="gated"``.
    tol : float
        Target relative duality gap ``(P − D)/|P|``.
    max_iter : int
    verbose : bool
    init : ConvexSolution, optional
        Warm start.
    check_every : int
        Iterations between evaluations of the gap.
    callback : callable, optional
        ``callback(solution)`` at each evaluation of the gap (benchmarks record the trajectory).
    """
    if program.formulation != "gated":
        raise ValueError("solver 'fista' solves the gated program; use 'al' for formulation='relu'")
    start = time.perf_counter()
    composite = GatedComposite(program)
    if init is None:
        init = program.zero_solution()
    W = np.ascontiguousarray(init.U, dtype=program.X.dtype)
    c = np.asarray(init.intercept, dtype=np.float64)
    history = []
    extrapolator = DualExtrapolator()

    def check(W, c, it):
        sol = ConvexSolution(W, None, c.astype(W.dtype))
        if callback is not None:
            callback(sol)
        gap = best_gap(program, sol, program.residual(sol), extrapolator).gap
        history.append(gap)
        if verbose:
            print(f"[fista] iter {it:6d}  gap {gap:.3e}")
        return gap <= tol

    if not check(W, c, 0):  # the starting point is checked (and reported) first
        step = initial_step(composite, W.shape, c.shape, W.dtype)
        W, c, n_iter, step = fista(
            composite, W, c, step=step, max_iter=max_iter, check=check, check_every=check_every
        )
    else:
        n_iter = 0
    solution = ConvexSolution(W, None, c.astype(W.dtype))
    gap = history[-1]
    return SolverResult(
        solution=solution,
        solver="fista",
        status="optimal" if gap <= tol else "max_iter",
        gap=gap,
        violation=0.0,
        n_iter=n_iter,
        gap_history=history,
        time=time.perf_counter() - start,
    )
