"""Working-set interior-point solver for Lasso programs (groups of size one, squared loss).

Dictionaries of the deep 1-D programs hold tens of thousands of strongly correlated features;
coordinate descent (:mod:`.lasso_cd`) then needs very many epochs to reach a certified gap of
``1e-8``. Here the Lasso is solved on a *working set* of features by Clarabel's interior-point
method, as the quadratic program (distinct inputs ``u``, their counts ``w_u`` and mean targets
``ȳ_u``)

    min  (1/(2n)) Σ_u w_u r_u² + alpha 1ᵀ(p + q)
    s.t. r + Φ_W (p − q) + c 1 = ȳ,   p, q ≥ 0,

then the certificate of :ref:`maths-gap` is computed over the *whole* dictionary; features whose dual
constraint ``|φ_jᵀθ| ≤ n·alpha`` is violated join the working set, until the certified relative gap
reaches ``tol``. The answer is therefore certified for the full program, not only the working set.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from ..program import ConvexSolution
from ..solvers.base import SolverResult

__all__ = ["solve_lasso_ip"]


def _restricted_qp(Phi, counts, means, n, alpha, tol):
    """Solve the Lasso on the columns ``Phi`` with Clarabel.

    Returns ``(z, c, residual, status)``; ``residual`` (per distinct input) is read from the
    multiplier of the equality constraint.
    """
    import clarabel

    U, W = Phi.shape
    # variables x = [p (W), q (W), c (1), r (U)]
    size = 2 * W + 1 + U
    P = sp.diags(np.concatenate([np.zeros(2 * W + 1), counts / n]), format="csc")
    q = np.concatenate([np.full(2 * W, alpha), np.zeros(1 + U)])
    A_eq = sp.hstack(
        [sp.csc_matrix(Phi), sp.csc_matrix(-Phi), sp.csc_matrix(np.ones((U, 1))), sp.identity(U)],
        format="csc",
    )
    A_pos = sp.hstack([-sp.identity(2 * W), sp.csc_matrix((2 * W, 1 + U))], format="csc")
    A = sp.vstack([A_eq, A_pos], format="csc")
    b = np.concatenate([means, np.zeros(2 * W)])
    cones = [clarabel.ZeroConeT(U), clarabel.NonnegativeConeT(2 * W)]
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.tol_gap_abs = settings.tol_gap_rel = min(tol, 1e-8) * 1e-3
    settings.tol_feas = 1e-12
    settings.max_iter = 200
    result = clarabel.DefaultSolver(sp.triu(P, format="csc"), q, A, b, cones, settings).solve()
    x = np.asarray(result.x)
    if x.shape[0] != size:
        return None, None, None, str(result.status)
    # stationarity in r: (w_u/n) r_u + multiplier_u = 0, a more accurate residual than x's own
    residual = -n * np.asarray(result.z)[:U] / counts
    return x[:W] - x[W : 2 * W], float(x[2 * W]), residual, str(result.status)


def solve_lasso_ip(
    program,
    *,
    tol: float = 1e-8,
    max_iter: int = 30,
    verbose: bool = False,
    init: ConvexSolution | None = None,
    working_set_size: int = 200,
) -> SolverResult:
    """Solve a Lasso program (squared loss) to a certified relative gap ``tol``.

    Parameters
    ----------
    program : DictionaryProgram
        A program with a ``dictionary`` (``values`` on the distinct inputs), ``inverse``,
        ``counts`` and the certificate methods.
    tol : float
        Target relative duality gap over the whole dictionary (:ref:`maths-gap`).
    max_iter : int
        Working-set rounds.
    verbose : bool
    init : ConvexSolution, optional
        Its support starts the working set.
    working_set_size : int
        Features added per round (the most violated dual constraints).

    Returns
    -------
    SolverResult
        ``status`` is ``"optimal"`` when the certified gap is at most ``tol``; ``"max_iter"``
        when the rounds ran out; ``"stalled"`` when no feature outside the working set violates
        its dual constraint but the gap is still above ``tol`` (the interior-point precision).

    Raises
    ------
    RuntimeError
        When Clarabel returns no point.
    """
    if program.loss != "squared":
        raise ValueError(
            f"the interior-point Lasso solver takes the squared loss, not {program.loss!r}"
        )
    start = time.perf_counter()
    Phi, counts, n = program.dictionary.values, program.counts, program.n_samples
    K = program.n_outputs
    means = program.mean_targets
    solution = program.zero_solution() if init is None else init.copy()
    bound = n * program.alpha
    history, status, rounds = [], "max_iter", 0
    working = [np.flatnonzero(solution.U[o, 0]) for o in range(K)]
    gap = program.duality_gap(solution)
    implied = np.zeros((n, K))  # model outputs implied by the QP's multipliers
    for rounds in range(1, max_iter + 1):
        scores = program.dual_block_norms(program.residual(solution)) / max(bound, 1e-300)
        grown = False
        for o in range(K):
            order = np.argsort(-scores[o])
            fresh = order[~np.isin(order, working[o])][:working_set_size]
            if rounds > 1:
                fresh = fresh[scores[o, fresh] > 1.0]
            grown = grown or fresh.shape[0] > 0
            working[o] = np.union1d(working[o], fresh)
        if rounds > 1 and not grown:
            status = "stalled"  # no violated constraint outside the working set, gap above tol
            break
        for o in range(K):
            z, c, residual, qp_status = _restricted_qp(
                np.asfortranarray(Phi[:, working[o]]), counts, means[:, o], n, program.alpha, tol
            )
            if z is None:
                raise RuntimeError(f"Clarabel failed on the working set (status {qp_status})")
            # interior points leave round-off-sized coefficients instead of zeros
            z[np.abs(z) <= 1e-12 * max(1.0, float(np.max(np.abs(z), initial=0.0)))] = 0.0
            solution.U[o, 0, :] = 0.0
            solution.U[o, 0, working[o]] = z
            solution.intercept[o] = c
            implied[:, o] = means[program.inverse, o] - residual[program.inverse]
        # the optimal intercept for these coefficients (exact; the QP's is within its tolerance)
        F = program.predict(solution) - solution.intercept
        solution.intercept = np.asarray(program.loss_fn.intercept_shift(F, program.Y), dtype=float)
        gap = program.duality_gap(solution)
        from_multiplier = program.duality_gap(solution, theta=program.residual_at(implied))
        if from_multiplier.dual > gap.dual:
            gap = from_multiplier
        history.append(gap.gap)
        if verbose:
            sizes = [w.shape[0] for w in working]
            print(f"[lasso_ip] round {rounds}: working set {sizes}, certified gap {gap.gap:.3e}")
        if gap.gap <= tol:
            status = "optimal"
            break
    return SolverResult(
        solution, "lasso_ip", status, gap.gap, 0.0, rounds, history, time.perf_counter() - start
    )
