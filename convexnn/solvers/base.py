"""What every solver returns."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import ThreadpoolController

from ..program import ConvexSolution

__all__ = ["SolverResult", "STATUSES", "numpy_blas_single_threaded"]

#: Every status a solver reports: the stopping rule was met; the iteration budget ran out first; the
#: solver could make no more progress; the backend stopped at a point whose gap is above ``tol``.
STATUSES = ("optimal", "max_iter", "stalled", "inaccurate")


@dataclass
class SolverResult:
    """The outcome of solving a :class:`~convexnn.program.ConvexProgram`.

    Each parameter is kept as the attribute of the same name.

    Parameters
    ----------
    solution : ConvexSolution
    solver : str
        Name of the solver (for CVXPY, the backend that produced the answer).
    status : str
        One of :data:`STATUSES`: ``"optimal"`` when the stopping rule was met (certified gap at
        most ``tol``), ``"max_iter"`` when the iteration budget ran out first, ``"stalled"`` when
        the solver could make no more progress, ``"inaccurate"`` when a backend stopped (by its
        own rule) at a point whose certified gap is above ``tol``.
    gap : float
        Relative duality gap certified at ``solution`` (:ref:`maths-gap`).
    violation : float
        Largest relative cone-constraint violation (0 for the gated program).
    n_iter : int
    gap_history : list of float
        The certified gap after each outer iteration where the solver tracks it.
    time : float
        Wall time in seconds.
    alpha : float or None
        The regularisation the program was solved at (set by :func:`regularization_path`).
    objective : float or None
        The objective at ``solution``, where the solver evaluated it without the program in
        memory (:func:`convexnn.distributed.solve_chunked`).
    """

    solution: ConvexSolution
    solver: str
    status: str
    gap: float
    violation: float
    n_iter: int
    gap_history: list = field(default_factory=list)
    time: float = 0.0
    alpha: float | None = None
    objective: float | None = None


def numpy_blas_single_threaded():
    """A context in which numpy's BLAS pool runs one thread, when scipy brings its own BLAS.

    The factorisations and the large products of the second-order solvers (``kernel_newton``,
    ``ipm``) run in scipy's BLAS; numpy's is left
    with the masked maps of single vectors. Two pools that each take every core slow each other
    down: on two cores the solver ran 3× slower with both at two threads (1,500 samples, 500 patterns: 1.5 s against 0.5 s).
    Where numpy and scipy share one library nothing is changed."""
    controller = ThreadpoolController()
    root = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy")
    blas_libs = [lib for lib in controller.lib_controllers if lib.user_api == "blas"]
    numpy_libs = [lib.filepath for lib in blas_libs if lib.filepath.startswith(root)]
    if not numpy_libs or len(numpy_libs) == len(blas_libs):
        return contextlib.nullcontext()
    return controller.select(filepath=numpy_libs).limit(limits=1)
