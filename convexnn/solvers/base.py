"""What every solver returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..program import ConvexSolution

__all__ = ["SolverResult", "STATUSES"]

#: Every status a solver reports: the stopping rule was met; the iteration budget ran out first; the
#: solver could make no more progress; the backend stopped at a point whose gap is above ``tol``.
STATUSES = ("optimal", "max_iter", "stalled", "inaccurate")


@dataclass
class SolverResult:
    """The outcome of solving a :class:`~convexnn.program.ConvexProgram`.

    Attributes
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
