"""Dual extrapolation: a better dual point from the last residuals (Massias et al., "Celer", 2018).

The residual ``θ_t`` of an iterate converges to the dual optimum only as fast as the iterate does,
and the certified gap inherits its error at first order. An Anderson combination of the last
residuals, ``Σ_i c_i θ_i`` with ``Σ_i c_i = 1``, converges much faster along the linear tail of
a first-order method. Any dual point is valid for the certificate once made feasible, so the
solvers certify with whichever point gives the larger dual objective.
"""

from __future__ import annotations

from collections import deque

import numpy as np

__all__ = ["DualExtrapolator", "best_gap"]


class DualExtrapolator:
    """Keep the last ``depth + 1`` residuals and propose their Anderson extrapolation.

    Parameters
    ----------
    depth : int, default=5
        Number of differences of residuals combined; no extrapolation is proposed before
        ``depth + 1`` residuals were pushed.
    """

    def __init__(self, depth: int = 5):
        self.past = deque(maxlen=depth + 1)

    def push(self, theta: np.ndarray) -> None:
        self.past.append(np.array(theta, dtype=np.float64, copy=True))

    def extrapolate(self) -> np.ndarray | None:
        """The extrapolated residual, or None before enough residuals were pushed."""
        if len(self.past) < self.past.maxlen:
            return None
        iterates = np.array([t.ravel() for t in self.past])
        diffs = np.diff(iterates, axis=0)
        gram = diffs @ diffs.T
        reg = 1e-14 * max(np.trace(gram), 1e-300)
        try:
            z = np.linalg.solve(gram + reg * np.eye(len(gram)), np.ones(len(gram)))
        except np.linalg.LinAlgError:
            return None
        if not np.all(np.isfinite(z)) or z.sum() == 0:
            return None
        return ((z / z.sum()) @ iterates[1:]).reshape(self.past[-1].shape)


def best_gap(program, solution, residual, extrapolator=None):
    """The certified gap at ``solution`` with the better dual point of the residual and, when an
    ``extrapolator`` is given, its extrapolation.

    Parameters
    ----------
    program : ConvexProgram
        The program ``solution`` is a point of.
    solution : ConvexSolution
        The point whose gap is certified.
    residual : ndarray of shape (n_samples, n_outputs)
        The residual ``θ`` at ``solution``, the first candidate dual point.
    extrapolator : DualExtrapolator, optional
        Receives ``residual`` (pushed here) and proposes the second candidate.

    Returns
    -------
    DualityGap
        The gap of whichever candidate gives the larger dual objective.
    """
    gap = program.duality_gap(solution, theta=residual)
    candidates = []
    if extrapolator is not None:
        extrapolator.push(residual)
        candidates.append(extrapolator.extrapolate())
    Y = program.Y.astype(np.float64)
    for theta in candidates:
        if theta is None:
            continue
        try:  # through the implied outputs, so the point respects the loss's domain and 1ᵀθ = 0
            theta = program.residual_at(program.loss_fn.outputs_from_residual(theta, Y))
            alternative = program.duality_gap(solution, theta=theta)
        except (ValueError, FloatingPointError, np.linalg.LinAlgError):
            continue
        if alternative.dual > gap.dual:
            gap = alternative
    return gap
