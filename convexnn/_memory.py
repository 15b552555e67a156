"""Memory estimates, so that a problem too large for the machine is refused before it is built.

The CVXPY reference backend forms dense ``n × P`` expressions for every output and every feature,
and its canonicalisation and the interior-point factorisation cost far more than the data: its peak
memory grows like ``n_outputs × n_samples × n_patterns × (n_features + 1)``. The constants below
were measured as the increase of the peak resident memory of ``solve_cvxpy`` (Clarabel, with the SCS
fallback) on random problems from 60,000 to 3.5 million such units, rounded up: about 110–170 bytes
per unit for the gated program and 760–1,060 for the exact ReLU program (two blocks per pattern and
``2 × n × P`` cone constraints), plus a fixed 50 MB. Other solvers are matrix-free: a few ``n × P``
arrays per output.
"""

from __future__ import annotations

import numbers
import os
from pathlib import Path

import numpy as np

from .solvers import resolve_solver

__all__ = [
    "estimate_memory",
    "estimate_sampling_memory",
    "available_memory",
    "check_memory",
    "check_sampling_memory",
    "check_program_memory",
]

_CVXPY_BYTES_PER_UNIT = {"gated": 200, "relu": 1100}
_CVXPY_FIXED_BYTES = 50 * 2**20
# n × P arrays per output that a matrix-free solver holds
_MATRIX_FREE_ARRAYS = {"gated": 6, "relu": 12}


def estimate_memory(
    n_samples: int,
    n_features: int,
    n_patterns: int,
    n_outputs: int = 1,
    formulation: str = "relu",
    solver: str = "cvxpy",
    dtype=np.float64,
    loss: str = "squared",
    shared: bool = False,
) -> int:
    """Bytes needed to build and solve a convex program of this size (an upper estimate).

    Parameters
    ----------
    n_samples, n_features, n_patterns, n_outputs : int
        Size of the program: ``n``, ``d``, ``P`` and ``K`` (one block per pattern and output).
    formulation : {"relu", "gated"}
    solver : str
        ``"cvxpy"`` (dense: grows like ``K n P (d + 1)``), ``"kernel_newton"`` and ``"ipm"`` (grow like ``n²``)
        or the name of a matrix-free solver (grows like ``K n P``). Resolve ``"auto"`` before calling (:func:`resolve_solver`).
    dtype : dtype
        Floating-point type of the data.
    loss : {"squared", "logistic", "softmax"}
        With ``"softmax"`` the interior-point method couples the ``K`` outputs in ``nK × nK``
        systems.
    shared : bool, default=False
        The shared-neuron program (:mod:`convexnn.shared`): one block per pattern, feeding the
        ``K`` outputs.

    Returns
    -------
    int
        Estimated peak memory in bytes, the data and the pattern masks included.
    """
    n, d, P, K = int(n_samples), int(n_features), int(n_patterns), int(n_outputs)
    itemsize = np.dtype(dtype).itemsize
    data = n * (d + 1) * itemsize + n * P * (1 + itemsize)  # X̃, boolean and numeric masks
    if solver == "ipm" and d > n:  # it works in the row space of X (an SVD of X): n features
        data, d = data + 3 * 8 * n * d, n
    if shared and solver == "ipm":
        # float64: S_i e_k (nKP), the curvature roots and the intercepts' basis (nK²), slacks
        # and multipliers of the rows (n × 2P), the data term over the P(d + 1) differences, the
        # primal matrix and its factor, chunks of S J; the Woodbury form where chosen: D_k X̃ and
        # D_k X̃ C_k (2nP(d + 1)) and five (nK)² arrays at the peak (the pattern sums and their
        # products with the curvature roots, then the matrix and its Cholesky factor)
        # (the primal matrices only where the primal form is taken first or in a repeat)
        from .solvers.ipm import SHARED_CHUNK_ENTRIES, shared_newton_form, shared_other_form

        m, q = n * K, P * (d + 1)
        first = shared_newton_form(n, d, P, K)
        forms = {first, shared_other_form(first, n, d, P, K)}
        common = m * P + 2 * m * K + 20 * n * P + n * (d + 1) ** 2
        primal = q * q + 2 * (2 * P * (d + 2)) ** 2 + 2 * SHARED_CHUNK_ENTRIES
        dual = 2 * n * q + 5 * m * m
        return data + 8 * (common + primal * ("primal" in forms) + dual * ("dual" in forms))
    if shared:  # one family of blocks feeding every output
        K = 1
    if solver == "cvxpy":
        per_unit = _CVXPY_BYTES_PER_UNIT.get(formulation, max(_CVXPY_BYTES_PER_UNIT.values()))
        return data + _CVXPY_FIXED_BYTES + per_unit * K * n * P * (d + 1)
    if solver == "kernel_newton":  # float64: the Gram matrix, B and its factor, masks, Hessian
        return data + 8 * (3 * n * n + 2 * n * P + P * P) + 8 * K * (d + 1) * P
    if solver == "ipm":  # float64: Z = [D_k X̃ L_k] and its product, n × n matrices, slacks and
        # multipliers of the rows of both block families, the outer products x̃x̃ᵀ, barrier blocks
        from .solvers.ipm import newton_form, other_form

        if loss != "softmax":  # one output at a time: three n × n matrices, or in the primal
            # form the dense matrix over 2P(d + 2) unknowns and its factor; a solve that stalls
            # is repeated in the other form where that fits
            sizes = {"primal": 2 * (2 * P * (d + 2)) ** 2, "dual": 3 * n * n, None: 0}
            first = newton_form(n, d, P)
            second = other_form(first, n, d, P)
            system = max(sizes[first], sizes[second])
            # n × P(d + 1) arrays and n × P arrays: the primal form holds the design and its
            # projected, scaled copy while it forms its data term (counted as three of the
            # first, for the temporaries) and 45 of the second, calibrated on peaks of
            # 325-636 MiB on 12,000-40,000 samples (tests/test_memory.py); the Woodbury form
            # holds two and 20
            designs, rows = (3, 45) if "primal" in (first, second) else (2, 20)
            return data + 8 * (designs * n * P * (d + 1) + system + rows * n * P
                               + n * (d + 1) ** 2 + 6 * P * (d + 2) ** 2) + 8 * K * (d + 1) * P
        m = n * K  # the K outputs together: one nK × nK system and K Gram matrices, or, above
        # COUPLED_MAX_ROWS, conjugate gradients with one n × n factor per output
        system = 2 * m * m + (K + 1) * n * n if newton_form(n, d, P, K) == "dual" else 2 * K * n * n
        return data + 8 * (2 * n * P * (d + 1) + system + 20 * m * P + n * (d + 1) ** 2
                           + 6 * K * P * (d + 2) ** 2)
    arrays = _MATRIX_FREE_ARRAYS.get(formulation, max(_MATRIX_FREE_ARRAYS.values()))
    blocks = 8 * K * (d + 1) * P * itemsize  # iterates, gradients, momentum, Anderson history
    return data + arrays * K * n * P * itemsize + blocks


def estimate_sampling_memory(n_samples: int, n_features: int, n_gates: int) -> int:
    """Bytes needed to draw ``n_gates`` gates and their patterns on ``n_samples`` points: the
    ``n × n_gates`` products ``X̃G`` (float64), their boolean masks and the deduplication."""
    n, d, g = int(n_samples), int(n_features), int(n_gates)
    return n * g * (8 + 1 + 1) + 2 * (d + 1) * g * 8


def available_memory() -> int | None:
    """Memory available to this process in bytes, or ``None`` when it cannot be found.

    The smallest of: the room left under a cgroup (v2) memory limit, ``MemAvailable`` from
    ``/proc/meminfo``, and the physical memory reported by ``os.sysconf``.
    """
    found = []
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
            found.append(int(limit) - used)
    except (OSError, ValueError):
        pass
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
                break
    except (OSError, ValueError, IndexError):
        pass
    if not found:
        try:
            found.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (AttributeError, ValueError, OSError):
            pass
    positive = [m for m in found if m > 0]
    return min(positive) if positive else None


def _format_bytes(n_bytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n_bytes) < 1024 or unit == "TiB":
            return f"{n_bytes:.3g} {unit}" if unit != "B" else f"{int(n_bytes)} B"
        n_bytes /= 1024
    raise AssertionError("unreachable")


def memory_budget(max_memory):
    """The bytes ``max_memory`` allows: 90 % of :func:`available_memory` for ``"auto"``, the
    number itself, or None for no budget (``None``, or ``"auto"`` where the memory available
    cannot be found). Anything else raises ``ValueError``."""
    if max_memory is None:
        return None
    if isinstance(max_memory, str) and max_memory == "auto":
        available = available_memory()
        return None if available is None else 0.9 * available
    if isinstance(max_memory, numbers.Real) and not isinstance(max_memory, bool) and max_memory > 0:
        return float(max_memory)
    raise ValueError(
        f"max_memory must be 'auto', a positive number of bytes or None; got {max_memory!r}"
    )


def check_memory(estimate: int, max_memory, what: str, hint: str = "") -> None:
    """Raise :class:`MemoryError` when ``estimate`` bytes exceed the budget.

    Parameters
    ----------
    estimate : int
        Bytes the step is expected to need.
    max_memory : "auto", float or None
        The budget: a number of bytes, ``"auto"`` for 90 % of :func:`available_memory` (no check
        when that is unknown), or ``None`` for no check.
    what : str
        The step and its size, for the message.
    hint : str
        Ways to make the step smaller, for the message.
    """
    budget = memory_budget(max_memory)
    if budget is None:
        return
    if isinstance(max_memory, str):
        source = f"max_memory='auto': 90% of the {_format_bytes(budget / 0.9)} available"
    else:
        source = f"max_memory={max_memory:g} bytes"
    if estimate > budget:
        raise MemoryError(
            f"{what} needs about {_format_bytes(estimate)} ({estimate} bytes), more than "
            f"{_format_bytes(budget)} ({source}). {hint}Set max_memory to a larger number of "
            "bytes, or to None, to try anyway."
        )


def check_sampling_memory(X, n_gates: int, max_memory, owner: str, draws: int = 1) -> None:
    """Refuse (:class:`MemoryError`) to sample ``draws`` times ``n_gates`` gates on ``X`` beyond
    ``max_memory`` (``draws``: the MLPs of ``sampler="mlp"`` whose gates are stacked)."""
    n_samples, n_features = X.shape
    times = f"{draws} × " if draws > 1 else ""
    check_memory(
        estimate_sampling_memory(n_samples, n_features, draws * n_gates),
        max_memory,
        f"{owner}: sampling {times}n_gates={n_gates} gates on {n_samples} samples",
        "Use fewer gates (n_gates). ",
    )


def check_program_memory(program, solver: str, max_memory, owner: str, gated=True) -> str:
    """Refuse (:class:`MemoryError`) to solve ``program`` with ``solver`` beyond ``max_memory``;
    ``gated``: whether the owner can take ``formulation='gated'`` (a remedy the message names).
    Returns the solver checked (``"auto"`` resolved)."""
    from .shared import SharedNeuronProgram
    from .solvers import SOLVERS

    solver = resolve_solver(program, solver, max_memory)
    estimate = estimate_memory(
        program.n_samples,
        program.n_features,
        program.n_patterns,
        program.n_outputs,
        program.formulation,
        solver,
        program.X.dtype,
        program.loss,
        shared=isinstance(program, SharedNeuronProgram),
    )
    remedies = ["fewer gates (n_gates)", "fewer samples"]
    if program.formulation == "relu" and gated:
        remedies.append("formulation='gated'")
    if solver == "cvxpy" and len(SOLVERS) > 1:
        remedies.append("a matrix-free solver")
    check_memory(
        estimate,
        max_memory,
        f"{owner}: the {program.formulation!r} program on {program.n_samples} samples, "
        f"{program.n_features} features, {program.n_patterns} patterns and "
        f"{program.n_outputs} output(s) with solver {solver!r}",
        "Use " + ", ".join(remedies[:-1]) + " or " + remedies[-1] + ". ",
    )
    return solver
