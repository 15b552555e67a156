"""Regularisation path: a decreasing grid of ``alpha`` from ``alpha_max``, warm-started."""

from __future__ import annotations

import numpy as np

from ..program import ConvexProgram

__all__ = ["regularization_path"]


def regularization_path(
    program: ConvexProgram, alphas=None, *, n_alphas: int = 10, eps: float = 1e-3, solver="auto", **options
):
    """Solve ``program`` along a decreasing grid of ``alpha``, each solve warm-started at the last.

    Parameters
    ----------
    program : ConvexProgram
        Its own ``alpha`` is ignored.
    alphas : array-like, optional
        The grid (sorted decreasingly here). Default: ``n_alphas`` values spaced evenly on a log
        scale from ``alpha_max`` down to ``eps * alpha_max``, as scikit-learn's ``enet_path``.
    n_alphas : int, default=10
        Length of the default grid (ignored when ``alphas`` is given).
    eps : float, default=1e-3
        Ratio of the smallest to the largest ``alpha`` of the default grid, in ``(0, 1)``.
    solver : str
        Passed to :func:`convexnn.solvers.solve` with ``options``.
    **options
        Further keyword arguments of every solve (``tol``, ``max_iter``, ...); the path passes the
        previous solution as ``init`` itself wherever the solver takes it.

    Returns
    -------
    list of SolverResult
        One per ``alpha``, each with its ``alpha`` attribute set.
    """
    from . import solve, takes

    if alphas is None:
        if not 0 < eps < 1:
            raise ValueError(f"eps must lie in (0, 1), got {eps}")
        top = program.alpha_max()
        alphas = np.geomspace(top, eps * top, int(n_alphas))
    alphas = np.sort(np.asarray(alphas, dtype=float))[::-1]
    if alphas.size == 0 or np.any(alphas < 0):
        raise ValueError("alphas must be a non-empty list of non-negative values")
    results, init = [], None
    for alpha in alphas:
        warm = {"init": init} if takes(solver, "init") else {}  # a speed hint, where it applies
        result = solve(program.with_alpha(alpha), solver, **warm, **options)
        result.alpha = float(alpha)
        results.append(result)
        init = result.solution
    return results
