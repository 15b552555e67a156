"""Column generation of activation patterns for the exact ReLU program (:ref:`maths-gap`).

A pattern whose dual constraint is violated at the current solution — ``γ_k(±θ_o) > n·alpha`` for
the residual ``θ`` — is a neuron worth adding: add it (with zero blocks), re-solve warm-started,
repeat until no pattern violates its constraint by more than the tolerance. With
``search="exact"`` the candidates are *every* pattern of the data (small rank): when the loop stops
no pattern is violated, so the solution is optimal for the program over all patterns and the mapped
network is a certified global optimum of the non-convex training problem. With
``search="heuristic"`` candidates come from an alternating ascent (:func:`~convexnn.patterns.search.
ascent_patterns`) started from random gates, hyperplanes through data points, the current neurons
and the hidden neurons of a quick scikit-learn MLP fit.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from functools import partial

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from .dual import pattern_values
from .patterns import (
    DEFAULT_MAX_PATTERNS,
    Patterns,
    add_bias_column,
    data_patterns,
    exact_arrangement,
    gaussian_patterns,
    unique_patterns,
)
from .patterns.mlp import mlp_gates
from .patterns.search import ascent_patterns
from .program import ConvexProgram, ConvexSolution
from .solvers import MemoryFallbackWarning, resolve_solver, solve, takes
from .solvers.base import SolverResult

__all__ = ["GenerationResult", "generate_patterns", "SEARCHES"]

SEARCHES = ("exact", "heuristic")


@dataclass
class GenerationResult:
    """The outcome of :func:`generate_patterns`.

    Each parameter is kept as the attribute of the same name.

    Parameters
    ----------
    program : ConvexProgram
        The program over the final pattern set.
    result : SolverResult
        Its solution (warm-started from the previous round).
    n_rounds : int
        Number of solves.
    converged : bool
        True when the last search found no violated pattern at a solution the solver certified
        (with ``search="exact"``: the global optimum of the program over every pattern).
    search : str
    history : list of dict
        Per round: ``n_patterns``, ``objective``, ``gap`` (of the restricted program),
        ``max_value`` (largest ``γ/(n·alpha)`` among the candidates examined, an upper bound),
        ``n_added``, ``time``.
    time : float
    """

    program: ConvexProgram
    result: SolverResult
    n_rounds: int
    converged: bool
    search: str
    history: list = field(default_factory=list)
    time: float = 0.0


def _pad(solution: ConvexSolution, n_new: int) -> ConvexSolution:
    """The solution with ``n_new`` zero blocks appended (the new patterns start inactive)."""

    def grow(B):
        return (
            None if B is None else np.concatenate([B, np.zeros(B.shape[:2] + (n_new,), B.dtype)], 2)
        )

    return ConvexSolution(grow(solution.U), grow(solution.V), solution.intercept.copy())


def _subset(solution: ConvexSolution, keep) -> ConvexSolution:
    def pick(B):
        return None if B is None else np.ascontiguousarray(B[:, :, keep])

    return ConvexSolution(pick(solution.U), pick(solution.V), solution.intercept.copy())


def _significant(program, solution, rtol):
    """Patterns whose blocks carry more than ``rtol`` times the largest block norm."""
    norms = program.block_norms(solution.U)
    if solution.V is not None:
        norms = np.maximum(norms, program.block_norms(solution.V))
    norms = norms.max(axis=0)
    return norms > rtol * max(float(norms.max(initial=0.0)), np.finfo(float).tiny)


def _diverse(masks, order, count):
    """Up to ``count`` of the patterns ``order`` (best first), skipping any that differs from an
    already chosen one in a single sample (neighbouring cells of one violated direction), unless
    too few remain."""
    chosen, rest = [], []
    for k in order:
        if len(chosen) >= count:
            break
        if chosen and np.min(np.sum(masks[:, chosen] != masks[:, [k]], axis=0)) <= 1:
            rest.append(k)
        else:
            chosen.append(k)
    return chosen + rest[: max(0, count - len(chosen))]


def _keys(masks):
    packed = np.packbits(np.asarray(masks, dtype=bool), axis=0)
    return [packed[:, k].tobytes() for k in range(packed.shape[1])]


def generate_patterns(
    X,
    Y,
    loss,
    alpha,
    patterns: Patterns,
    *,
    search="exact",
    solver="auto",
    tol=1e-6,
    max_iter=None,
    max_rounds=20,
    max_new=None,
    violation_tol=None,
    max_patterns=DEFAULT_MAX_PATTERNS,
    n_starts=100,
    mlp_width=50,
    prune_tol=1e-5,
    random_state=None,
    verbose=False,
    callback=None,
    max_memory="auto",
) -> GenerationResult:
    """Solve the exact ReLU program, growing the pattern set by its violated dual constraints.

    Parameters
    ----------
    X : ndarray (n_samples, n_features)
    Y : ndarray (n_samples, n_outputs)
        Targets encoded for the loss.
    loss : {"squared", "logistic", "softmax"}
    alpha : float
    patterns : Patterns
        The starting pattern set.
    search : {"exact", "heuristic"}
        ``"exact"``: candidates are every pattern (raises ``ValueError`` when Cover's count exceeds
        ``max_patterns``); ``"heuristic"``: alternating ascent from many starts.
    solver : str
        Passed to :func:`convexnn.solve`, with ``init`` the previous solution padded with zeros.
    tol, max_iter :
        Passed to the solver.
    max_rounds : int, default=20
        Most solves; a :class:`~sklearn.exceptions.ConvergenceWarning` says when violations remain.
    max_new : int, optional
        Most patterns added per round and output (default 50), the most violated first.
    violation_tol : float, optional
        A pattern is violated when ``γ > n·alpha (1 + violation_tol)`` (default: ``tol``).
    max_patterns : int
        Limit of the exact enumeration.
    n_starts : int, default=100
        Heuristic search: Gaussian and data-point start gates, each.
    mlp_width : int, default=50
        Heuristic search: width of the quick Adam-trained MLP whose neurons' patterns join the
        first program and serve as start gates (0 to skip it).
    prune_tol : float, default=1e-5
        When no pattern is violated, patterns whose blocks are below ``prune_tol`` times the
        largest are dropped and the program re-solved (then searched once more): interior-point
        solutions spread round-off weights over equivalent patterns, which blurs the residual.
    random_state : int, RandomState instance or None
    verbose : bool
    callback : callable, optional
        ``callback(program, solution)``, passed to every solve of the rounds.
    max_memory : "auto", float or None, default="auto"
        Passed to :func:`convexnn.solve`: the memory ``solver="auto"`` chooses its solvers in.

    Returns
    -------
    GenerationResult
    """
    if search not in SEARCHES:
        raise ValueError(f"search must be one of {SEARCHES}; got {search!r}")
    start = time.perf_counter()
    rng = check_random_state(random_state)
    X = np.asarray(X)
    Xf = X.astype(np.float64)
    n, d = Xf.shape
    K = Y.shape[1]
    max_new = 50 if max_new is None else int(max_new)
    violation_tol = tol if violation_tol is None else float(violation_tol)
    threshold = n * alpha * (1.0 + violation_tol)

    if search == "exact":
        all_gates, all_masks, _ = exact_arrangement(Xf, max_patterns)
        extra_starts = None
    else:
        all_gates = all_masks = None
        starts = [
            gaussian_patterns(Xf, n_starts, rng).gates,
            data_patterns(Xf, n_starts, rng).gates,
        ]
        if mlp_width:
            neurons = mlp_gates(Xf, Y, loss, alpha, mlp_width, rng.randint(2**31 - 1))
            starts.append(neurons)
            # the quick fit's own patterns join the first program: its optimum is then no worse
            # than that network's objective (its weights map to a feasible point)
            seeded = unique_patterns(
                np.hstack([patterns.gates.astype(np.float64), neurons]),
                np.hstack([patterns.masks, add_bias_column(Xf) @ neurons >= 0]),
            )
            patterns = Patterns(seeded.gates.astype(patterns.gates.dtype), seeded.masks)
        extra_starts = np.hstack(starts)

    init, history = None, []
    program = result = None
    converged = pruned = False
    before_prune = None
    told = False  # whether a round has warned that "auto" runs a slower solver for memory
    for rnd in range(max_rounds):
        program = ConvexProgram(X, Y, patterns, loss, alpha, "relu")
        budget = {} if max_iter is None else {"max_iter": max_iter}
        if callback is not None:
            budget["callback"] = partial(callback, program)
        warm = {"init": init} if takes(solver, "init") else {}  # a speed hint, where it applies
        fallback = (resolve_solver(program, solver, max_memory)
                    != resolve_solver(program, solver, None))
        with warnings.catch_warnings():
            if told:  # said once for the search, not at every round
                warnings.simplefilter("ignore", MemoryFallbackWarning)
            result = solve(program, solver, tol=tol, max_memory=max_memory, **warm, **budget)
        told = told or fallback
        Theta = program.residual(result.solution)
        known = set(_keys(patterns.masks))
        if search == "exact":
            fresh = np.array([k not in known for k in _keys(all_masks)], dtype=bool)
            cand = Patterns(all_gates[:, fresh], all_masks[:, fresh])
        else:
            active = np.flatnonzero(
                np.any(program.block_norms(result.solution.U) > 0, axis=0)
                | np.any(program.block_norms(result.solution.V) > 0, axis=0)
            )
            S = np.hstack([extra_starts, patterns.gates[:, active].astype(np.float64)])
            found = [ascent_patterns(Xf, Theta[:, o], S) for o in range(K)]
            found = unique_patterns(
                np.hstack([f.gates for f in found]), np.hstack([f.masks for f in found])
            )
            fresh = np.array([k not in known for k in _keys(found.masks)], dtype=bool)
            cand = found.subset(np.flatnonzero(fresh))
        chosen, worst = set(), 0.0
        for o in range(K):
            values, exact = pattern_values(
                Xf, cand.masks, Theta[:, o], above=threshold, limit=4 * max_new
            )
            hit = np.flatnonzero(exact & (values > threshold))
            worst = max(worst, float(np.max(values, initial=0.0)))
            chosen.update(_diverse(cand.masks, hit[np.argsort(-values[hit])], max_new))
        history.append(
            dict(
                n_patterns=program.n_patterns,
                objective=program.objective(result.solution),
                gap=result.gap,
                max_value=worst / (n * alpha) if alpha > 0 else np.inf,
                n_added=len(chosen),
                time=time.perf_counter() - start,
            )
        )
        if verbose:
            h = history[-1]
            print(
                f"[convexnn] generation round {rnd}: {h['n_patterns']} patterns, objective "
                f"{h['objective']:.8g}, gap {h['gap']:.2e}, max γ/(nα) {h['max_value']:.6f}, "
                f"adding {h['n_added']}"
            )
        if not chosen:
            significant = _significant(program, result.solution, prune_tol)
            if pruned or significant.all():
                converged = True
                # the backend may do worse on the pruned program (status, accuracy): keep
                # whichever of the two solutions has the lower objective
                if pruned and history[-2]["objective"] < history[-1]["objective"]:
                    program, result = before_prune
                break
            # an interior-point solution spreads tiny weights over many equivalent patterns, and
            # its residual (the certificate's dual point) is then only roughly optimal: re-solve on
            # the patterns that matter and search again
            pruned = True
            before_prune = (program, result)
            keep = np.flatnonzero(significant)
            patterns = patterns.subset(keep)
            init = _subset(result.solution, keep)
            continue
        if rnd == max_rounds - 1:
            break
        pruned = False
        new = cand.subset(np.array(sorted(chosen)))
        patterns = Patterns(
            np.hstack([patterns.gates, new.gates.astype(patterns.gates.dtype)]),
            np.hstack([patterns.masks, new.masks]),
        )
        init = _pad(result.solution, new.n_patterns)
    if converged and result.status != "optimal":
        # no violator was found, but at a solution the backend could not certify: the search
        # used an inaccurate residual
        converged = False
        warnings.warn(
            f"pattern generation found no violated pattern, but the last solve ended with status "
            f"{result.status!r} (relative gap {result.gap:.3g}): the result is not certified",
            ConvergenceWarning,
            stacklevel=2,
        )
    elif not converged:
        warnings.warn(
            f"pattern generation stopped after {max_rounds} rounds with dual constraints still "
            f"violated (largest γ/(n·alpha) = {history[-1]['max_value']:.6g} > 1 + "
            f"{violation_tol:g}); increase max_pattern_rounds",
            ConvergenceWarning,
            stacklevel=2,
        )
    return GenerationResult(
        program, result, len(history), converged, search, history, time.perf_counter() - start
    )


def has_all_patterns(X, max_patterns=DEFAULT_MAX_PATTERNS) -> bool:
    """Whether the exact sampler can enumerate the patterns of ``X`` within ``max_patterns``."""
    from .patterns import cover_count

    X = np.asarray(X, dtype=np.float64)
    rank = np.linalg.matrix_rank(add_bias_column(X))
    return cover_count(X.shape[0], rank) - 1 <= max_patterns
