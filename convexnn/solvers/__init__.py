"""Solvers of the convex programs. Each takes a program (a :class:`~convexnn.program.Program`:
the two-layer :class:`~convexnn.program.ConvexProgram`, or a program an extension registers with
its own solvers, :func:`register_solver`) and returns a :class:`~convexnn.solvers.base.SolverResult`;
:func:`solve` picks one by name and checks its answer."""

from __future__ import annotations

import inspect
import time
import warnings
from dataclasses import replace

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ..program import ConvexProgram, Program, certified_bound, relative_gap
from ..shared import SharedNeuronProgram
from .al import solve_al
from .base import SolverResult
from .bcd import solve_bcd
from .cvxpy import solve_cvxpy
from .fista import solve_fista
from .ipm import LARGE_SAMPLES, DegenerateConeError, newton_form, solve_ipm
from .kernel_newton import solve_kernel_newton
from .path import regularization_path

__all__ = [
    "SOLVERS",
    "MemoryFallbackWarning",
    "SolverFailure",
    "SolverResult",
    "regularization_path",
    "resolve_solver",
    "solve",
    "solve_al",
    "solve_bcd",
    "solve_cvxpy",
    "solve_fista",
    "solve_ipm",
    "solve_kernel_newton",
    "register_solver",
    "solves_program",
    "takes",
]

SOLVERS = {
    "fista": solve_fista,
    "kernel_newton": solve_kernel_newton,
    "ipm": solve_ipm,
    "bcd": solve_bcd,
    "al": solve_al,
    "cvxpy": solve_cvxpy,
}
#: The program type (or tuple of types) each registered solver takes (ConvexProgram where a solver
#: is not listed).
SOLVER_PROGRAMS: dict[str, type | tuple[type, ...]] = {
    "ipm": (ConvexProgram, SharedNeuronProgram),
    "cvxpy": (ConvexProgram, SharedNeuronProgram),
}
#: For a program type other than ConvexProgram: the solver ``"auto"`` picks for it.
AUTO_SOLVERS: dict[type, str] = {SharedNeuronProgram: "ipm"}


def register_solver(name: str, function, program_type: type = ConvexProgram, auto: bool = False):
    """Make ``function`` the solver ``name`` of programs of ``program_type``.

    Parameters
    ----------
    name : str
        The registry key (``solve(program, name)``, the estimators' ``solver=``).
    function : callable
        ``function(program, *, tol, max_iter, verbose, ...) -> SolverResult``; the keywords it
        names are the options it takes (:func:`takes`).
    program_type : type, default=ConvexProgram
        A :class:`~convexnn.program.Program` subclass; :func:`solve` refuses other programs.
    auto : bool, default=False
        Whether ``"auto"`` picks this solver for ``program_type`` (programs other than
        :class:`~convexnn.program.ConvexProgram`, whose rules are this module's).
    """
    if not (isinstance(program_type, type) and issubclass(program_type, Program)):
        raise TypeError(f"program_type must be a Program subclass, not {program_type!r}")
    SOLVERS[name] = function
    SOLVER_PROGRAMS[name] = program_type
    if auto:
        AUTO_SOLVERS[program_type] = name


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
#: n·P·(d + 1) each); Newton needs under ten iterations where R-FISTA needs thousands (the
#: benchmark problems of benchmarks/solvers.py).
AUTO_KERNEL_NEWTON_ITERATIONS = 1000
#: ... and while its n × n matrices fit comfortably.
AUTO_KERNEL_NEWTON_MAX_SAMPLES = 10_000


#: The exact ReLU program goes to the interior-point method at every size up to the n bound of
#: kernel Newton (CVXPY is slower at every size measured: with exponential cones, minutes against
#: seconds on breast cancer), and for softmax while the K Gram matrices and factors of size n × n
#: (two per output, 8 bytes an entry) take at most this many bytes.
AUTO_IPM_SOFTMAX_BYTES = 4 * 2**30


def takes(solver, option) -> bool:
    """Whether the named solver accepts the keyword ``option`` (``"init"``, ``"callback"``, ...);
    ``"auto"`` accepts every option and drops a warm start the solver it picks cannot use.

    Parameters
    ----------
    solver : str
        ``"auto"`` or a key of :data:`SOLVERS`.
    option : str
        The keyword's name.

    Returns
    -------
    bool
    """
    if solver == "auto":
        return True
    keywords = _keywords(solver)
    return keywords is None or option in keywords


def solves_program(solver, program_type) -> bool:
    """Whether the named solver takes programs of ``program_type`` (:data:`SOLVER_PROGRAMS`);
    ``"auto"`` takes :class:`~convexnn.program.ConvexProgram` and every type it has a solver for.

    Parameters
    ----------
    solver : str
        ``"auto"`` or a key of :data:`SOLVERS`.
    program_type : type
        A program class, e.g. :class:`~convexnn.shared.SharedNeuronProgram`.

    Returns
    -------
    bool
    """
    if solver == "auto":
        return issubclass(program_type, ConvexProgram) or any(
            t in AUTO_SOLVERS for t in program_type.__mro__
        )
    takes_type = SOLVER_PROGRAMS.get(solver, ConvexProgram)
    return solver in SOLVERS and issubclass(program_type, takes_type)


def _keywords(name):
    """The keywords solver ``name`` takes, or None when it takes any (``**options``)."""
    parameters = inspect.signature(SOLVERS[name]).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return None
    return set(parameters) - {"program"}


#: The tolerance of a solver that names none.
DEFAULT_TOL = 1e-6


def _tol(name, options):
    """The target gap solver ``name`` works to: the ``tol`` in ``options``, else the solver's own
    default (its signature's), else :data:`DEFAULT_TOL`. The checks of :func:`solve` judge its
    answer by the same target: a solver registered with a looser default is not held to 1e-6."""
    if "tol" in options:
        return options["tol"]
    parameter = inspect.signature(SOLVERS[name]).parameters.get("tol") if name in SOLVERS else None
    if parameter is None or parameter.default is inspect.Parameter.empty:
        return DEFAULT_TOL
    return parameter.default


def _options_for(name, options, auto):
    """``options`` as solver ``name`` takes them. A warm start (``init``) it cannot use is dropped
    under ``"auto"`` and refused otherwise; a ``callback`` it does not call during the solve is
    called once at the end (by :func:`solve`); any other option it does not take is refused."""
    taken = _keywords(name)
    kept = {}
    for key, value in options.items():
        if taken is None or key in taken:
            kept[key] = value
        elif key == "callback" or (auto and key == "init"):
            continue
        else:
            raise ValueError(
                f"solver {name!r} does not take {key}={type(value).__name__}"
                + (" (an interior point starts inside the cones, not from a given point)"
                   if key == "init" else "")
                + f"; it takes {sorted(taken)}"
            )
    return kept


def ipm_fits(program) -> bool:
    """Whether ``"auto"`` may give the exact ReLU program to the interior-point method: its
    Newton systems are factored in the primal form (few patterns and features, any ``n``), or its
    ``n × n`` matrices (one pair per output for softmax) fit."""
    n, d, P, K = program.n_samples, program.n_features, program.n_patterns, program.n_outputs
    if program.loss == "softmax":
        return n <= AUTO_KERNEL_NEWTON_MAX_SAMPLES and 16 * K * n * n <= AUTO_IPM_SOFTMAX_BYTES
    return n <= LARGE_SAMPLES or newton_form(n, d, P) == "primal"


def _auto(program, interior_point=True, max_memory="auto"):
    """The solver ``"auto"`` runs first on ``program``, passing over a Newton solver (kernel
    Newton, the interior point) and CVXPY where their memory estimates exceed ``max_memory``
    (:func:`fits_memory`; None: the choice by size alone) for the matrix-free solver, which
    needs ``O(nP)``."""
    if not isinstance(program, ConvexProgram):  # a program registered with its own solvers
        for program_type in type(program).__mro__:
            if program_type in AUTO_SOLVERS:
                name = AUTO_SOLVERS[program_type]
                if name == "ipm" and not interior_point:
                    # a pattern's cone has an empty interior: what follows ipm when it fails
                    name = _fallback(program, ["ipm"], max_memory)
                    if name is None:
                        raise ValueError(
                            f"solver 'ipm' cannot start on this {type(program).__name__} (a "
                            "pattern's cone has an empty interior) and no other solver takes it"
                        )
                return name
        raise ValueError(f"no solver is registered for {type(program).__name__} programs")
    n, P, d = program.n_samples, program.n_patterns, program.n_features

    def fits(name):
        return fits_memory(program, name, max_memory)

    if (
        program.formulation == "gated" and program.loss == "squared" and program.alpha > 0
        and n <= AUTO_KERNEL_NEWTON_MAX_SAMPLES
        and n**3 / 3 <= AUTO_KERNEL_NEWTON_ITERATIONS * 4 * n * P * (d + 1)
        and fits("kernel_newton")
    ):
        return "kernel_newton"
    if (
        interior_point and program.formulation == "relu" and program.alpha > 0
        and ipm_fits(program) and fits("ipm")
    ):
        # every loss and size: CVXPY, once preferred for small squared-loss programs, took 6-10 s
        # where the interior point took 0.4-0.6 s (default regressor, 496 samples, 5 features)
        return "ipm"
    if _cvxpy_is_small(program) and fits("cvxpy"):
        return "cvxpy"
    return "fista" if program.formulation == "gated" else "al"


def fits_memory(program, solver, max_memory="auto") -> bool:
    """Whether ``solver``'s estimate of the memory it needs for ``program`` (the one the
    estimators' ``max_memory`` check uses) fits ``max_memory``.

    Parameters
    ----------
    program : ConvexProgram or SharedNeuronProgram
    solver : str
        A key of :data:`SOLVERS`.
    max_memory : "auto", float or None, default="auto"
        The budget, as the estimators' ``max_memory``: ``"auto"`` for 90 % of the memory
        available to this process (every estimate fits where that cannot be found), a number of
        bytes, or None for no budget (every estimate fits).

    Returns
    -------
    bool
    """
    from .._memory import estimate_memory, memory_budget

    budget = memory_budget(max_memory)
    return budget is None or estimate_memory(
        program.n_samples, program.n_features, program.n_patterns, program.n_outputs,
        program.formulation, solver, program.X.dtype, program.loss,
        shared=isinstance(program, SharedNeuronProgram),
    ) <= budget


def resolve_solver(program, solver: str = "auto", max_memory="auto") -> str:
    """The solver :func:`solve` runs first for ``program`` when asked for ``solver`` (``"auto"``
    resolved by the rules above; any other name is returned as it is).

    Parameters
    ----------
    program : ConvexProgram
        The program to solve (its formulation, loss, ``alpha`` and sizes decide ``"auto"``).
    solver : str, default="auto"
        ``"auto"`` or a solver name.
    max_memory : "auto", float or None, default="auto"
        ``"auto"`` passes over the solvers whose memory would not fit in this budget
        (:func:`fits_memory`: ``"auto"`` for 90 % of the memory available, a number of bytes);
        None: the choice by size alone.

    Returns
    -------
    str
    """
    return _auto(program, max_memory=max_memory) if solver == "auto" else solver


class MemoryFallbackWarning(UserWarning):
    """``solver="auto"`` runs a slower solver than it prefers for the program, whose memory
    would not fit (:func:`fits_memory`)."""


def _cvxpy_is_small(program):
    """Whether the program is small enough for CVXPY's dense formulation (``"auto"``'s rule)."""
    exp_cone = program.formulation == "relu" and program.loss != "squared"
    return program.size <= (AUTO_CVXPY_SIZE_EXP_CONE if exp_cone else AUTO_CVXPY_SIZE)


class SolverFailure(RuntimeError):
    """A solver returned no usable point (non-finite values, no certified gap, violated cone
    constraints, or a point worse than the zero network), and no other solver was left to try."""


#: A returned point whose relative cone-constraint violation exceeds this is not a ReLU network
#: of the program (its mapped network would not reproduce the solver's outputs).
MAX_VIOLATION = 1e-3


def _finite(solution):
    """Whether every weight and intercept of ``solution`` is finite."""
    blocks = [solution.U, solution.intercept] + ([] if solution.V is None else [solution.V])
    return all(np.all(np.isfinite(b)) for b in blocks)


def _failure(program, result):
    """Why ``result`` is no usable answer to ``program`` (None when it is). A missing gap is
    computed here first, at the returned point."""
    solution = result.solution
    if not _finite(solution):
        return "non-finite weights"
    objective = program.objective(solution)
    if not np.isfinite(objective):
        return "a non-finite objective"
    if result.violation > MAX_VIOLATION and result.status == "optimal":
        # (an iteration budget may end at an infeasible iterate: that is a stop, not a failure)
        return f"cone constraints violated by {result.violation:.2g} (relative)"
    zero = program.objective(program.zero_solution())
    if objective > zero + 1e-9 * max(abs(zero), 1e-300):
        return f"objective {objective:.6g} above the zero network's {zero:.6g}"
    if result.gap < -1e-12 and result.status != "optimal":
        # only a point outside the cones can score below a dual bound: a budget stop there has
        # no certificate (an optimal point holds its cones to tol, and its gap to rounding)
        result.gap, result.gap_history = np.inf, [*result.gap_history, np.inf]
        return None
    if not np.isfinite(result.gap):
        result.gap = program.duality_gap(solution).gap
        result.gap_history = [*result.gap_history, result.gap]
        if not np.isfinite(result.gap):
            return "no finite duality gap at its point"
    return None


#: The promise: the mapped network's objective and the convex objective agree to this (relative);
#: a returned point where they do not is moved into its cones first.
AGREEMENT = 1e-8
#: A certified gap below minus this (relative) is not rounding: the point is outside its cones.
GAP_ROUNDING = 1e-10


def _into_cones(program, result, tol):
    """``result``, or, when its network does not reproduce the program's objective, its gap is
    negative (a solver stopped outside the cones) or it is certified while outside its cones by
    more than ``tol``, the point with its blocks projected onto their cones
    (:meth:`~convexnn.program.ConvexProgram.feasible`), its gap certified anew: by the better of
    its own dual bound and the solver's, where the projected point clears the latter."""
    if program.formulation != "relu":
        return result
    # a negative gap beyond rounding also proves the point lies outside its cones. A point
    # stopped short of tol is projected at a tenth of the promised agreement, which leaves room
    # for the rounding between two evaluations of the network's objective; a certified point
    # only past the agreement itself (its projection can cost it the certificate). An optimal
    # point holds its cones to tol: the interior point's polish, on five samples two of which
    # are 1e-9 apart with different labels (logistic, alpha 2e-6, the exact sampler), certified
    # 1.5e-10 at a point outside them by 4.6e-6 whose network still agreed to 1e-8; projected,
    # it is outside by 1.5e-12 and certifies 3.6e-9 (fuzzing seed 1,388,644)
    agreement = AGREEMENT if result.status == "optimal" else AGREEMENT / 10
    outside = result.status == "optimal" and result.violation > tol
    if (_disagreement(program, result, agreement) is None and result.gap >= -GAP_ROUNDING
            and not outside):
        return result
    solution = program.feasible(result.solution, tol=1e-12)
    found = program.duality_gap(solution)
    gap = found.gap
    if np.isfinite(result.gap):
        # the dual bound the solver certified holds for every point of the program, the
        # projected one too: where it is the better one and the projection clears it (a point
        # outside its cones by 2e-10 on features of scales 1e-8 to 1e8, whose constant feature's
        # weights were folded into the biases, scored 5e-9 below it; projected, 4.7e-9 above,
        # where its own residual certifies 1.8e-3; fuzzing seed 1,345,454)
        bound = certified_bound(program.objective(result.solution), result.gap)
        against = relative_gap(found.primal, bound)
        if -GAP_ROUNDING <= against < gap:
            gap = against
    status = "inaccurate" if result.status == "optimal" and not gap <= tol else result.status
    projected = replace(
        result, solution=solution, gap=gap, status=status,
        violation=program.constraint_violation(solution), gap_history=[*result.gap_history, gap],
    )
    if (_disagreement(program, projected) is not None and result.gap >= -GAP_ROUNDING
            and _disagreement(program, result) is None):
        # the projection of a block onto a thin cone (two rows 1e-8 apart on either side of
        # its hyperplane) can move it far and leave it outside all the same: the point within
        # the promised agreement is kept (8 samples with near-duplicate rows, fuzzing seed
        # 1213491; tests/solvers/test_solve.py)
        return result
    return projected


def _best_instead(program, result, incumbent=None, tol=1e-6, failed=False):
    """The best point seen instead of ``result``, or None when ``result`` is it.

    ``incumbent`` (a feasible point known before the solve) replaces any point that stopped
    short of ``tol`` with a higher objective, and any failed one (``failed``: no usable point,
    or none at all). Without an incumbent, the zero network replaces a point stopped by its
    budget (``max_iter``, or a backend's own inaccurate stop) that is worse than it. The point
    handed back keeps the solver's status (so the fit warns), ``"stalled"`` after a failure; its
    gap is certified by the better of its own dual bound and the one the solver's point
    certified (any dual feasible point bounds the optimum), and the status becomes
    ``"optimal"`` when that gap is at most ``tol``."""
    solution = None if result is None else result.solution
    finite = solution is not None and _finite(solution)
    usable = finite and not failed
    if incumbent is None:
        if not finite or result.status not in ("max_iter", "inaccurate"):
            return None
        best = program.zero_solution()
    else:
        if usable and result.status == "optimal":
            return None
        best = min((incumbent, program.zero_solution()), key=program.objective)
    objective = program.objective(best)
    P = program.objective(solution) if finite else None
    if (usable or incumbent is None) and not P > objective:
        return None
    dual = program.duality_gap(best).dual
    if usable and np.isfinite(result.gap):  # the dual bound the solver's point certified
        dual = max(dual, certified_bound(P, result.gap))
    gap = relative_gap(objective, dual)
    status = result.status if result is not None and (usable or incumbent is None) else "stalled"
    status = "optimal" if gap <= tol else status
    if result is None:
        result = SolverResult(best, "incumbent", status, gap, 0.0, 0, [], 0.0)
    return replace(result, solution=best, gap=gap, status=status, objective=None,
                   violation=program.constraint_violation(best),
                   gap_history=[*result.gap_history, gap])


def _disagreement(program, result, agreement=AGREEMENT):
    """Why the network of ``result`` does not reproduce the program's objective to ``agreement``
    (None when it does): blocks still outside their cones after the projection (features of
    wildly different scales leave the projection itself inexact)."""
    if program.formulation != "relu":
        return None
    # to AGREEMENT relative to the objective or, for an objective near zero (an interpolating
    # fit), to a millionth of the zero network's
    objective = program.objective(result.solution)
    network = program.network_objective(result.solution)
    zero = program.objective(program.zero_solution())
    if abs(network - objective) <= agreement * max(abs(objective), 1e-6 * abs(zero), 1e-300):
        return None
    return (f"its network's objective {network:.6g} differs from the program's {objective:.6g} "
            "(blocks outside their cones)")


def _second_opinion(program, name, result, options, max_memory="auto"):
    """Under ``"auto"``: the solver to ask when ``result`` (solver ``name``'s) stopped short of
    ``tol`` by its own rule (stalled, a backend's inaccurate stop, or the solver's own iteration
    budget; not one the caller set), or None. The interior points of CVXPY and of ``ipm`` fail
    on different problems (badly scaled features, degenerate cones, tiny ``alpha``); after CVXPY
    a gated program goes to ``fista``. An interior point that runs out of its own budget has
    stalled as surely as one that stops early: on house prices as published (R's
    ``Ecdat::Housing``, 409 training rows, lot sizes of order 1e4 beside counts of rooms) the
    default regressor stalled in three fits of four, each certified by CVXPY, and in the fourth
    ran out of its budget at a certified gap of 8.8e-6, a program CVXPY certifies in 0.1 s."""
    own_budget = result.status == "max_iter" and options.get("max_iter") is None
    stopped = result.status in ("stalled", "inaccurate") or own_budget
    if not stopped or result.gap <= _tol(name, options):
        return None
    if not solves_program("cvxpy", type(program)):
        return None  # a program with solvers of its own (the deep 1-D Lasso): none to ask
    if result.solver.startswith("cvxpy"):
        if program.alpha <= 0:
            return None
        if program.formulation == "gated":
            # a first-order solver does not share an interior point's limits: on three confident
            # softmax samples of features offset by 1e6-1e7 (tests/fuzz_regressions) Clarabel
            # stopped 'inaccurate' at a certified gap of 0.86, and fista certifies 9.9e-7
            return "fista"
        return "ipm" if ipm_fits(program) and fits_memory(program, "ipm", max_memory) else None
    return "cvxpy" if _cvxpy_seconds(program, max_memory) else None


def _cvxpy_seconds(program, max_memory="auto"):
    """Whether CVXPY gives ``"auto"``'s second opinion on ``program`` after another solver
    stopped short of ``tol``: a program it solves, small enough for its dense formulation, whose
    memory fits ``max_memory``."""
    return (solves_program("cvxpy", type(program)) and _cvxpy_is_small(program)
            and fits_memory(program, "cvxpy", max_memory))


#: The seconds CVXPY may take as a second opinion: ``SECOND_OPINION_TIME_FACTOR`` times the
#: first solve's, and at least ``SECOND_OPINION_MIN_TIME``. Unbounded, it cost more than the
#: first solve where it helped no more: on R's ``Ecdat::Treatment`` as published (2,006 rows,
#: earnings of order 1e4) the default regressor's interior point ran out of its budget in 8 s
#: and Clarabel took 185–330 s to stop uncertified at a gap of 0.85–0.90. Where it helps it
#: took 0.1–71 s after interior points of 1–140 s (``docs/guide/solvers.md``); the floor is
#: for the slowest of those: ``make_friedman3(1000, random_state=2)`` as generated, where
#: Clarabel needs about 70 s after an interior point of about 20 s (at 30 s it stopped at a
#: certified gap of 0.1 on a busy machine).
SECOND_OPINION_TIME_FACTOR, SECOND_OPINION_MIN_TIME = 3.0, 120.0


def _second_options(second, result, options):
    """``options`` for the second opinion ``second`` after ``result``: CVXPY's time bounded."""
    if second != "cvxpy":
        return options
    limit = max(SECOND_OPINION_MIN_TIME, SECOND_OPINION_TIME_FACTOR * result.time)
    return dict(options, time_limit=limit)


def _called_back(result, name, options):
    """``result``, after calling the callback once with its point if solver ``name`` did not call
    it along the way (CVXPY: one call at the end; ``name`` None: a point no solver reported)."""
    callback = options.get("callback")
    if callback is not None and (name is None or not takes(name, "callback")):
        callback(result.solution)
    return result


def _auto_options(program, name, options, auto, failed, max_memory="auto"):
    """``options`` for solver ``name`` under ``"auto"``: where CVXPY's second opinion would
    follow a stall of ``ipm`` (a program small enough for it, CVXPY not yet failed), ``ipm``
    does not repeat the stalled solve in a form of far greater cost (``ipm.REPEAT_COST_RATIO``):
    on such programs CVXPY answers in seconds where those repeats took minutes. A
    ``costly_repeats`` the caller gave is kept."""
    if "costly_repeats" in options or not (
        auto and name == "ipm" and "cvxpy" not in failed
        and _cvxpy_seconds(program, max_memory)
    ):
        return options
    return {**options, "costly_repeats": False}


def _attempt(program, name, options, auto):
    """Run solver ``name`` and check its answer: ``(result, None)``, or ``(result or None, why it
    is no usable point)``. A point outside its cones is projected first (:func:`_into_cones`) and
    checked again; a numerical breakdown, and CVXPY's ``RuntimeError`` when none of its backends
    returns a point, are failed answers. ``DegenerateConeError`` (``ipm`` cannot start) is left
    to the caller."""
    try:
        result = SOLVERS[name](program, **_options_for(name, options, auto))
    except (np.linalg.LinAlgError, FloatingPointError) as error:
        # a factorisation or a step broke down (an ill-conditioned system): no point
        return None, f"numerical breakdown, {type(error).__name__}: {error}"
    except RuntimeError as error:
        if name != "cvxpy":
            raise
        # every backend failed (or had no time left): under "auto" the next solver is tried
        return None, str(error)
    reason = _failure(program, result)
    if reason is None:
        # folded first: a fold whose objective falls below the solver's dual bound shows the
        # point outside its cones as much as a negative gap of the solver's own does
        result = _into_cones(program, _constants_folded(program, result), _tol(name, options))
        reason = _failure(program, result) or _disagreement(program, result)
    return result, reason


def _constants_folded(program, result):
    """``result`` with the input weights of constant features moved into the hidden biases.

    On the data ``w_c x_c + b`` is the bias ``b + w_c x_c``, which the penalty does not charge:
    the optimum gives constant features no weight, but a solver stopped at ``tol`` leaves them
    small and non-zero (an interior point: 1.8e-6 of the largest weight). Folding them keeps
    every block's products (its pattern and cone) and lowers the objective; the gap is taken
    against the dual bound the solver certified."""
    if not isinstance(program, (ConvexProgram, SharedNeuronProgram)):
        return result
    X = program.X
    constant = np.flatnonzero(np.all(X == X[:1], axis=0)) if len(X) else np.array([], int)
    if constant.size == 0:
        return result
    solution = result.solution.copy()
    for blocks in (solution.U, solution.V):
        if blocks is None:
            continue
        blocks[:, -1, :] += np.einsum("c,ocp->op", X[0, constant].astype(blocks.dtype),
                                      blocks[:, constant, :])
        blocks[:, constant, :] = 0.0
    before, after = program.objective(result.solution), program.objective(solution)
    if not after <= before:  # rounding in the bias: keep the solver's point
        return result
    gap = (relative_gap(after, certified_bound(before, result.gap))
           if np.isfinite(result.gap) else result.gap)
    return replace(result, solution=solution, gap=gap, objective=None,
                   violation=program.constraint_violation(solution),
                   gap_history=[*result.gap_history, gap])


def _try(program, name, options):
    """``name``'s answer to ``program`` when it passes the checks (None otherwise, CVXPY's
    failure included), its warnings silenced (the caller warns for the fit)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result, reason = _attempt(program, name, options, auto=True)
        except (DegenerateConeError, RuntimeError):
            return None
    return result if reason is None else None


def _fallback(program, failed, max_memory="auto"):
    """The solver to try after the solvers in ``failed`` (CVXPY only where its memory fits
    ``max_memory``), or None."""
    shared = isinstance(program, SharedNeuronProgram)
    if not (isinstance(program, ConvexProgram) or shared):
        return None  # a registered program's own solvers: no general-purpose one to fall back to
    fits = fits_memory(program, "cvxpy", max_memory)
    # the shared-neuron program has no matrix-free solver: CVXPY is its only fallback, where
    # "auto" would give it to CVXPY (exponential cones of large programs take many minutes)
    fits = fits and (not shared or _cvxpy_is_small(program))
    matrix_free = [] if shared else ["fista" if program.formulation == "gated" else "al"]
    for name in (["cvxpy"] if fits else []) + matrix_free:
        if name not in failed:
            return name
    return None


def solve(
    program, solver="auto", *, incumbent=None, max_memory="auto", **options
) -> SolverResult:
    """Solve ``program`` with the named solver (``"auto"`` picks one for the formulation).

    When ``program.alpha >= program.alpha_max()`` the all-zero blocks are optimal
    (:ref:`maths-gap`) and are returned exactly, without running a solver, if their certified gap
    is at most ``tol``. At an ``alpha`` as small as the rounding of the dual norms (``n·alpha``
    near 1e-15) the test may pass by rounding alone, with a certified gap above ``tol``; a solver
    then answers.

    A solver's answer is checked before it is returned: finite weights and objective, cone
    constraints that hold, an objective no worse than the zero network's, and a finite certified
    gap. With ``solver="auto"`` a failed check moves on to the next solver (CVXPY where its memory
    fits, then the matrix-free solver), with a warning that says what failed; a named solver that
    fails raises :class:`SolverFailure` instead of returning the point. A solver stopped by its
    iteration budget at a point worse than the zero network hands back the zero network instead
    (with its gap and the solver's status), and one given an ``incumbent`` hands that back
    instead of any worse point short of ``tol`` or of a failure: never a point worse than the
    best one seen (an incumbent certified to ``tol`` comes back ``"optimal"``, without the
    solver's warning). Without a ``tol`` in ``options`` the checks hold the answer to the
    solver's own default (1e-6 for every built-in solver).

    Parameters
    ----------
    program : ConvexProgram
        The program to solve (a deep dictionary program goes straight to its solver, without
        these checks).
    solver : str, default="auto"
        ``"auto"`` or a key of :data:`SOLVERS`; an unknown name raises ``ValueError``.
        ``"auto"`` passes over a Newton solver or CVXPY whose memory estimate exceeds
        ``max_memory`` (:func:`fits_memory`), with a :class:`MemoryFallbackWarning`.
    incumbent : ConvexSolution, optional
        A feasible point known before the solve (the estimators pass the MLP whose patterns the
        program has, :func:`~convexnn.network.network_to_solution`): the ``callback`` is called
        with it first, and it is handed back instead of a point stopped short of ``tol`` that is
        worse, and instead of an error when no solver returns a usable point.
    max_memory : "auto", float or None, default="auto"
        The memory ``"auto"`` chooses its solvers in, as the estimators' ``max_memory``:
        ``"auto"`` for 90 % of the memory available, a number of bytes, or None for the choice
        by size alone. A named solver is run whatever its memory.
    **options
        Keyword arguments of the solver, such as ``tol``, ``max_iter``, ``verbose``, ``init`` (a
        :class:`~convexnn.program.ConvexSolution` to start from) and ``callback`` (called with
        the current solution). An option set to None is the solver's default. An option the
        solver does not take raises ``ValueError``, except a ``callback`` (then called once with
        the final point) and, under ``"auto"``, an ``init`` (dropped).

    Returns
    -------
    SolverResult
    """
    from .._memory import memory_budget

    # None is the solver's default: every rule below reads the options through their defaults
    # (``tol=None`` compared gaps with None)
    options = {key: value for key, value in options.items() if value is not None}
    memory_budget(max_memory)  # a bad max_memory raises here, whichever solver runs
    name = _auto(program, max_memory=max_memory) if solver == "auto" else solver
    if name not in SOLVERS:
        raise ValueError(
            f"unknown solver {solver!r}; expected 'auto' or one of {sorted(SOLVERS)}"
        )
    takes_type = SOLVER_PROGRAMS.get(name, ConvexProgram)
    if not isinstance(program, takes_type):
        types = takes_type if isinstance(takes_type, tuple) else (takes_type,)
        raise ValueError(
            f"solver {name!r} solves {' or '.join(t.__name__ for t in types)} programs, not "
            f"{type(program).__name__}"
        )
    if program.zero_is_optimal():
        start = time.perf_counter()
        zero = program.zero_solution()
        gap = program.duality_gap(zero).gap
        if gap <= _tol(name, options):
            return SolverResult(zero, "alpha_max", "optimal", gap, 0.0, 0, [gap],
                                time.perf_counter() - start)
    auto = solver == "auto"
    if auto and name != (preferred := _auto(program, max_memory=None)):
        budget = ("this machine has available" if max_memory == "auto"
                  else f"max_memory={max_memory:g} bytes allows")
        warnings.warn(
            f"solver {preferred!r} would need more memory than {budget} for this program; "
            f"{name!r} solves it instead, which can take far longer and stop short of tol "
            "(fewer gates or fewer samples bring it back)", MemoryFallbackWarning,
            stacklevel=2,
        )
    _options_for(name, options, auto)  # refuse what the named solver cannot take, before any work
    if incumbent is not None:
        if not _finite(incumbent) or program.constraint_violation(incumbent) > MAX_VIOLATION:
            raise ValueError(
                "incumbent must be a feasible point of the program (finite blocks inside their "
                "cones)"
            )
        if options.get("callback") is not None:
            options["callback"](incumbent)  # the first point in hand
    failed = []
    while True:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result, reason = _attempt(program, name, _auto_options(
                    program, name, options, auto, failed, max_memory), auto)
            except DegenerateConeError:
                if not auto:
                    raise
                # a pattern's cone has an empty interior: the interior-point method cannot start
                name = _auto(program, interior_point=False, max_memory=max_memory)
                continue
        second = None
        if reason is None and auto:
            second = _second_opinion(program, name, result, options, max_memory)
        if second is not None:
            # the solver gave up short of tol: the other interior point may still certify the
            # program; the better certified point of the two is returned
            other = _try(program, second, _second_options(second, result, options))
            if other is not None and other.gap < result.gap:
                result, name, caught = other, second, []
        if reason is None:
            better = _best_instead(program, result, incumbent, _tol(name, options))
            for w in caught:
                if better is not None and better.status == "optimal" and issubclass(
                    w.category, ConvergenceWarning
                ):
                    continue  # the point handed back is certified: the solver's stop is moot
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            if better is not None:
                return _called_back(better, None, options)
            return _called_back(result, name, options)
        failed.append(name)
        following = _fallback(program, failed, max_memory) if auto else None
        if following is None:
            if incumbent is not None:
                warnings.warn(
                    f"solver {name!r} returned no usable point ({reason}); the incumbent (the "
                    "point known before the solve) is returned", UserWarning, stacklevel=2,
                )
            best = _best_instead(program, result, incumbent, _tol(name, options),
                                 failed=True)  # fmt: skip
            if best is not None:
                return _called_back(best, None, options)
            raise SolverFailure(
                f"solver {name!r} returned no usable point ({reason})"
                + (f" after {', '.join(map(repr, failed[:-1]))} failed" if len(failed) > 1 else "")
                + "; try another solver, fewer patterns or a larger alpha"
            )
        warnings.warn(
            f"solver {name!r} returned no usable point ({reason}); falling back to {following!r}",
            UserWarning, stacklevel=2,
        )
        name = following
