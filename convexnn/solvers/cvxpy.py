"""The reference solver: the program of :class:`~convexnn.program.ConvexProgram` handed to CVXPY.

Clarabel (interior point) is tried first and SCS next. This is the backend every fast solver is
tested against; it forms dense ``n × P`` expressions and is meant for small and medium problems.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from ..program import ConvexProgram, ConvexSolution
from ..shared import SharedNeuronProgram
from .base import SolverResult

__all__ = ["solve_cvxpy", "build_cvxpy_problem"]

_ACCEPTED = ("optimal", "optimal_inaccurate")


def build_cvxpy_problem(program: ConvexProgram | SharedNeuronProgram):
    """The CVXPY problem of ``program``, its variables and the output constraint.

    Returns ``problem, (U_list, V_list, c, outputs)``: ``U_list[o]`` is the ``(d + 1) × P`` matrix
    of blocks of output ``o``; ``outputs`` is the equality ``Z == model outputs``, whose multiplier
    times ``n`` is the dual variable ``θ``.

    Parameters
    ----------
    program : ConvexProgram or SharedNeuronProgram
        The program to formulate (computed in float64, whatever the data's dtype); a shared-neuron
        program has one family of blocks (``U_list[0]``), its neurons feeding every output.
    """
    import cvxpy as cp

    X = program.X.astype(np.float64)
    Xt = np.hstack([X, np.ones((X.shape[0], 1))])
    M = program.patterns.masks.astype(np.float64)
    n, d, K, P = program.n_samples, program.n_features, program.n_outputs, program.n_patterns
    Y = program.Y.astype(np.float64)
    relu = program.formulation == "relu"
    families = program.block_shape[0]

    U = [cp.Variable((d + 1, P)) for _ in range(families)]
    V = [cp.Variable((d + 1, P)) for _ in range(families)] if relu else []
    c = cp.Variable(K)
    constraints, penalty, outputs = [], 0, []  # outputs: each family's (n, P) pattern outputs
    signs = 2.0 * M - 1.0
    for o in range(families):
        f = cp.multiply(M, Xt @ U[o])
        if relu:
            f = f - cp.multiply(M, Xt @ V[o])
            penalty += cp.sum(cp.norm(U[o][:d, :], 2, axis=0))
            penalty += cp.sum(cp.norm(V[o][:d, :], 2, axis=0))
            constraints += [cp.multiply(signs, Xt @ U[o]) >= 0, cp.multiply(signs, Xt @ V[o]) >= 0]
        else:
            penalty += cp.sum(cp.norm(U[o], 2, axis=0))
        outputs.append(f)
    if isinstance(program, SharedNeuronProgram):  # one family, each pattern along its direction
        model = outputs[0] @ program.directions.T
    else:  # a family per output
        model = cp.vstack([cp.sum(f, axis=1) for f in outputs]).T
    model = model + np.ones((n, 1)) @ cp.reshape(c, (1, K), order="C")

    # The model outputs as their own variable: the multiplier of this equality is θ/n (:ref:`maths-gap`),
    # a far more accurate dual point than the residual of an interior-point primal solution.
    Z = cp.Variable((n, K))
    constraints.append(Z == model)
    if program.loss == "squared":
        data = 0.5 * cp.sum_squares(Z - Y)
    elif program.loss == "logistic":
        data = cp.sum(cp.logistic(Z[:, 0]) - cp.multiply(Y[:, 0], Z[:, 0]))
    else:
        data = cp.sum(cp.log_sum_exp(Z, axis=1)) - cp.sum(cp.multiply(Y, Z))
    objective = cp.Minimize(data / n + program.alpha * penalty)
    return cp.Problem(objective, constraints), (U, V, c, constraints[-1])


def _solution_from(program, variables):
    U, V, c, _ = variables
    # float64 whatever the data's dtype, as ipm: blocks rounded to float32 leave their cones by
    # the rounding (3e-8), and a near-interpolating network then disagrees with its program
    dtype = np.float64
    Uarr = np.stack([u.value for u in U]).astype(dtype)
    Varr = np.stack([v.value for v in V]).astype(dtype) if V else None
    sol = ConvexSolution(Uarr, Varr, np.asarray(c.value, dtype=dtype).reshape(-1))
    _clean_small_blocks(program, sol)
    return sol


def _clean_small_blocks(program, sol, rtol=1e-9):
    """Zero the blocks an interior-point method leaves at round-off size instead of exactly zero:
    those whose contribution to the model output is below ``rtol`` times the output's size."""
    size = max(1.0, float(np.max(np.abs(program.predict(sol)))))
    masks = program.patterns.masks
    for blocks in (sol.U, sol.V):
        if blocks is None:
            continue
        for o in range(blocks.shape[0]):
            contribution = np.max(np.abs(masks * (program.Xt @ blocks[o])), axis=0)
            blocks[o][:, contribution <= rtol * size] = 0.0


#: Each backend's option for the seconds it may take (``time_limit``).
TIME_LIMIT_OPTIONS = {"CLARABEL": "time_limit", "SCS": "time_limit_secs"}

#: SCS's iteration budget as a multiple of Clarabel's (``max_iter``).
SCS_ITERATIONS_PER_CLARABEL = 1


def _certified_gap(program, sol, outputs):
    """The better of two certified gaps: from the residual of ``sol`` and from the multiplier."""
    gap = program.duality_gap(sol)
    if outputs.dual_value is not None:
        theta = program.n_samples * np.asarray(outputs.dual_value, dtype=np.float64)
        implied = program.loss_fn.outputs_from_residual(theta, program.Y.astype(np.float64))
        alternative = program.duality_gap(sol, theta=program.residual_at(implied))
        if alternative.dual > gap.dual:
            gap = alternative
    return gap


def solve_cvxpy(
    program: ConvexProgram,
    *,
    tol: float = 1e-6,
    max_iter: int = 500,
    verbose: bool = False,
    solvers=("CLARABEL", "SCS"),
    time_limit: float | None = None,
) -> SolverResult:
    """Solve ``program`` with CVXPY: Clarabel first, SCS if Clarabel fails.

    Parameters
    ----------
    program : ConvexProgram
    tol : float
        Passed to the backend as its (relative) accuracy; the certified gap is reported apart.
    max_iter : int
        Iteration budget of the backend.
    verbose : bool
    solvers : sequence of str
        CVXPY solver names, in the order tried.
    time_limit : float or None
        Seconds the whole solve may take, building the CVXPY problem included (None: no
        limit). A backend stopped by it hands back its last point, whose certified gap is
        reported as for any other; a backend with no time left is not started.

    Raises
    ------
    ValueError
        When ``time_limit`` is negative or not finite.
    RuntimeError
        When every backend fails, with each backend's status.
    """
    import cvxpy as cp

    if time_limit is not None and not (np.isfinite(time_limit) and time_limit >= 0):
        raise ValueError(
            f"time_limit must be a finite number of seconds >= 0, or None; got {time_limit!r}"
        )
    start = time.perf_counter()
    problem, variables = build_cvxpy_problem(program)
    failures = []
    for name in solvers:
        if name not in cp.installed_solvers():
            failures.append(f"{name}: not installed")
            continue
        left = None if time_limit is None else time_limit - (time.perf_counter() - start)
        if left is not None and left <= 0:
            failures.append(f"{name}: no time left of {time_limit:.3g} s")
            continue
        if name == "CLARABEL":
            opts = dict(
                max_iter=max_iter,
                tol_gap_abs=min(tol, 1e-8) * 1e-2,
                tol_gap_rel=min(tol, 1e-8) * 1e-2,
                tol_feas=1e-10,
            )
        elif name == "SCS":
            # SCS is the fallback for a program Clarabel could not solve, which is badly
            # conditioned: there a first-order method mostly burns time
            # there (tens of seconds on 50 samples, 5 ms an iteration on an 18-sample softmax
            # program), so it gets Clarabel's budget: 500 iterations by default
            opts = dict(
                max_iters=SCS_ITERATIONS_PER_CLARABEL * max_iter,
                eps_abs=min(tol, 1e-6),
                eps_rel=min(tol, 1e-6),
            )
        else:
            opts = {}
        if left is not None and name in TIME_LIMIT_OPTIONS:
            opts[TIME_LIMIT_OPTIONS[name]] = left
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                problem.solve(solver=name, verbose=verbose, **opts)
        except cp.error.SolverError as exc:
            failures.append(f"{name}: {exc}")
            continue
        accepted = _ACCEPTED + (("user_limit",) if left is not None else ())
        if problem.status in accepted and variables[2].value is not None:
            sol = _solution_from(program, variables)
            stats = problem.solver_stats
            gap = _certified_gap(program, sol, variables[3])
            violation = program.constraint_violation(sol)
            # the certificate, not the backend's own status, says whether the answer is optimal
            certified = gap.gap <= tol and violation <= tol
            return SolverResult(
                solution=sol,
                solver=f"cvxpy-{name.lower()}",
                status="optimal" if certified else "inaccurate",
                gap=gap.gap,
                violation=violation,
                n_iter=int(stats.num_iters or 0) if stats is not None else 0,
                gap_history=[gap.gap],
                time=time.perf_counter() - start,
            )
        failures.append(f"{name}: status {problem.status}")
    raise RuntimeError("CVXPY could not solve the convex program (" + "; ".join(failures) + ")")
