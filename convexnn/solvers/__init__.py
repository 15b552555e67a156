"""Solvers of the convex programs. Each takes a :class:`~convexnn.program.ConvexProgram` and
returns a :class:`~convexnn.solvers.base.SolverResult`; :func:`solve` picks one by name."""

from __future__ import annotations

import time

from .base import SolverResult
from .cvxpy_backend import solve_cvxpy
from .lasso_cd import solve_lasso_cd
from .lasso_ip import solve_lasso_ip

__all__ = ["SOLVERS", "SolverResult", "solve", "solve_cvxpy", "solve_lasso_cd", "solve_lasso_ip"]

SOLVERS = {"cvxpy": solve_cvxpy, "lasso_cd": solve_lasso_cd, "lasso_ip": solve_lasso_ip}


def _auto(program):
    if getattr(program, "formulation", None) == "lasso":  # groups of size one
        return "lasso_ip"
    return "cvxpy"


def solve(program, solver="auto", **options) -> SolverResult:
    """Solve ``program`` with the named solver (``"auto"`` picks one for the formulation).

    When ``program.alpha >= program.alpha_max()`` the all-zero blocks are optimal (MATH.md §5) and
    are returned exactly, without running a solver.
    """
    name = _auto(program) if solver == "auto" else solver
    try:
        fn = SOLVERS[name]
    except KeyError:
        raise ValueError(
            f"unknown solver {solver!r}; expected 'auto' or one of {sorted(SOLVERS)}"
        ) from None
    if program.alpha > 0 and program.alpha >= program.alpha_max():
        start = time.perf_counter()
        zero = program.zero_solution()
        gap = program.duality_gap(zero).gap
        return SolverResult(zero, "alpha_max", "optimal", gap, 0.0, 0, [gap], time.perf_counter() - start)
    return fn(program, **options)
