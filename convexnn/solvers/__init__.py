"""Solvers of the convex programs. Each takes a :class:`~convexnn.program.ConvexProgram` and
returns a :class:`~convexnn.solvers.base.SolverResult`; :func:`solve` picks one by name."""

from __future__ import annotations

import time

from .augmented import solve_al
from .base import SolverResult
from .bcd import solve_bcd
from .cvxpy_backend import solve_cvxpy
from .fista import solve_fista
from .interior_point import DegenerateConeError, solve_ipm
from .kernel_newton import solve_kernel_newton
from .lasso_cd import solve_lasso_cd
from .lasso_ip import solve_lasso_ip
from .path import regularization_path

__all__ = [
    "SOLVERS",
    "SolverResult",
    "regularization_path",
    "solve",
    "solve_al",
    "solve_bcd",
    "solve_cvxpy",
    "solve_fista",
    "solve_ipm",
    "solve_kernel_newton",
    "solve_lasso_cd",
    "solve_lasso_ip",
]

SOLVERS = {
    "fista": solve_fista,
    "kernel_newton": solve_kernel_newton,
    "ipm": solve_ipm,
    "bcd": solve_bcd,
    "al": solve_al,
    "cvxpy": solve_cvxpy,
    "lasso_cd": solve_lasso_cd,
    "lasso_ip": solve_lasso_ip,
}


#: Above this size of the masked design (n · P · (d + 1) · K) "auto" leaves CVXPY, whose dense
#: formulation grows with it, for the matrix-free solvers. Below it the interior-point method
#: certifies gaps of 1e-9 in fewer seconds than the first-order solvers on the problems measured
#: so far (benchmarks/solvers.py).
AUTO_CVXPY_SIZE = 2_000_000
#: The same for the exact ReLU program with a logistic or softmax loss, whose exponential cones
#: make Clarabel stall ("InsufficientProgress") on medium problems such as breast cancer.
AUTO_CVXPY_SIZE_EXP_CONE = 300_000


#: "auto" solves the gated squared-loss program by kernel Newton while one n × n factorisation
#: (n³/3 flops, a Newton iteration) costs less than this many R-FISTA iterations (two products of
#: n·P·(d + 1) each); Newton needs under ten iterations where R-FISTA needs thousands (W1, W2).
AUTO_KERNEL_NEWTON_ITERATIONS = 1000
#: ... and while its n × n matrices fit comfortably.
AUTO_KERNEL_NEWTON_MAX_SAMPLES = 10_000


#: The exact ReLU program with squared loss goes to the interior-point method above this size of
#: the masked design (below it CVXPY's interior point certifies 1e-9 in under a second or two, and
#: through a general-purpose code); up to the n bound of kernel Newton, since its systems are n × n.
AUTO_IPM_MIN_SIZE = 200_000


def _auto(program, interior_point=True):
    if program.formulation == "lasso":  # the 1-D deep dictionary: groups of size one
        return "lasso_ip"
    n, P, d = program.n_samples, program.n_patterns, program.n_features
    if (
        program.formulation == "gated" and program.loss == "squared" and program.alpha > 0
        and n <= AUTO_KERNEL_NEWTON_MAX_SAMPLES
        and n**3 / 3 <= AUTO_KERNEL_NEWTON_ITERATIONS * 4 * n * P * (d + 1)
    ):
        return "kernel_newton"
    if (
        interior_point and program.formulation == "relu" and program.loss == "squared"
        and program.alpha > 0 and n <= AUTO_KERNEL_NEWTON_MAX_SAMPLES
        and n * P * (d + 1) * program.n_outputs > AUTO_IPM_MIN_SIZE
    ):
        return "ipm"
    size = program.n_samples * program.n_patterns * (program.n_features + 1) * program.n_outputs
    exp_cone = program.formulation == "relu" and program.loss != "squared"
    if size <= (AUTO_CVXPY_SIZE_EXP_CONE if exp_cone else AUTO_CVXPY_SIZE):
        return "cvxpy"
    return "fista" if program.formulation == "gated" else "al"


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
    if program.zero_is_optimal():
        start = time.perf_counter()
        zero = program.zero_solution()
        gap = program.duality_gap(zero).gap
        return SolverResult(zero, "alpha_max", "optimal", gap, 0.0, 0, [gap], time.perf_counter() - start)
    try:
        return fn(program, **options)
    except DegenerateConeError:
        if solver != "auto":
            raise
        # a pattern's cone has an empty interior: the interior-point method cannot start there
        return SOLVERS[_auto(program, interior_point=False)](program, **options)
