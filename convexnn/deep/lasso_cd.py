"""Coordinate descent for Lasso programs (groups of size one), through scikit-learn's ``Lasso``.

For the squared loss the program of :class:`~convexnn.deep.oned.DictionaryProgram`,
``(1/n) Σ_i ½((Φ z)_i + c − y_i)² + alpha ‖z‖₁``, is exactly the objective of
:class:`sklearn.linear_model.Lasso` with the same ``alpha`` and ``fit_intercept=True``. Samples
sharing an input share a dictionary row: the solver works on the distinct inputs, with their
counts as sample weights and the mean target of each (scikit-learn's weighted objective then
differs from ours by a constant only). scikit-learn's own stopping test is not our certificate:
its ``tol`` is tightened, warm-starting, until the certified gap of :ref:`maths-gap` reaches ``tol``.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from ..program import ConvexSolution
from ..solvers.base import SolverResult

__all__ = ["solve_lasso_cd"]


def solve_lasso_cd(
    program,
    *,
    tol: float = 1e-8,
    max_iter: int = 10_000,
    verbose: bool = False,
    init: ConvexSolution | None = None,
    max_rounds: int = 8,
) -> SolverResult:
    """Solve a Lasso program (squared loss) by coordinate descent to a certified gap.

    Parameters
    ----------
    program : DictionaryProgram
        Any program with a ``dictionary`` (``values``, distinct ``points``), ``inverse``,
        ``counts`` and the certificate methods of :class:`~convexnn.program.ConvexProgram`.
    tol : float
        Target relative duality gap ``(P − D)/|P|`` (:ref:`maths-gap`).
    max_iter : int
        Epoch budget of each call to scikit-learn.
    verbose : bool
    init : ConvexSolution, optional
        Warm start.
    max_rounds : int
        How many times scikit-learn's ``tol`` is divided by 100 before giving up.

    Returns
    -------
    SolverResult
        ``status`` is ``"optimal"`` when the certified gap is at most ``tol``, else ``"max_iter"``.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import Lasso

    if program.loss != "squared":
        raise ValueError(
            f"the coordinate-descent Lasso solver takes the squared loss, not {program.loss!r}"
        )
    start = time.perf_counter()
    Phi = program.dictionary.values
    counts = program.counts
    K = program.n_outputs
    means = program.mean_targets
    solution = program.zero_solution() if init is None else init.copy()
    models = [
        Lasso(alpha=program.alpha, fit_intercept=True, warm_start=True, max_iter=max_iter, tol=1e-4)
        for _ in range(K)
    ]
    for o, model in enumerate(models):
        model.coef_ = solution.U[o, 0, :].astype(np.float64).copy()
    history, n_iter, sk_tol = [], 0, 1e-4
    gap = program.duality_gap(solution)
    for _ in range(max_rounds):
        for o, model in enumerate(models):
            model.set_params(tol=sk_tol)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(Phi, means[:, o], sample_weight=counts)
            solution.U[o, 0, :] = model.coef_
            solution.intercept[o] = model.intercept_
            n_iter += int(np.max(model.n_iter_))
        gap = program.duality_gap(solution)
        history.append(gap.gap)
        if verbose:
            print(
                f"[lasso_cd] sklearn tol {sk_tol:.0e}: certified gap {gap.gap:.3e}, {n_iter} epochs"
            )
        if gap.gap <= tol:
            break
        sk_tol *= 1e-2
    status = "optimal" if gap.gap <= tol else "max_iter"
    return SolverResult(
        solution, "lasso_cd", status, gap.gap, 0.0, n_iter, history, time.perf_counter() - start
    )
