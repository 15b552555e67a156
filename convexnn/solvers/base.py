"""What every solver returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..program import ConvexSolution

__all__ = ["SolverResult"]


@dataclass
class SolverResult:
    """The outcome of solving a :class:`~convexnn.program.ConvexProgram`.

    Attributes
    ----------
    solution : ConvexSolution
    solver : str
        Name of the solver (for CVXPY, the backend that produced the answer).
    status : str
        ``"optimal"`` when the stopping rule was met, ``"max_iter"`` when the iteration budget ran
        out first, or the backend's own status.
    gap : float
        Relative duality gap certified at ``solution`` (MATH.md §5).
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
