"""Neurons shared by every output, each along a fixed output direction (:ref:`maths-shared`).

The exact ReLU program of :class:`~convexnn.program.ConvexProgram` gives each neuron one output:
with several outputs (softmax) it pays ``alpha·‖w‖·‖a‖₁`` for a neuron whose output weights are
``a``, where a network with weight decay pays at least ``alpha·‖w‖·‖a‖₂``. A scikit-learn MLP's
neurons feed every class, and on multi-class data the per-output program ends above such an MLP.

:class:`SharedNeuronProgram` fixes, for every pattern ``k``, a unit output direction ``e_k`` and
lets the neuron ``(u_k)`` feed all outputs along it::

    min (1/n) Σ_i ℓ(F_i + c, y_i) + alpha Σ_k (‖u_k[:d]‖ + ‖v_k[:d]‖)
    s.t. (2D_k − I) X̃ u_k ≥ 0,  (2D_k − I) X̃ v_k ≥ 0,     F = Σ_k D_k X̃ (u_k − v_k) e_kᵀ

It is convex (the directions are data), its mapped network has the same objective, and with the
patterns and output directions of a trained network (an MLP's neurons, :func:`mlp_directions`)
that network is one of its feasible points: the certified optimum is at least as good as it.
"""

from __future__ import annotations

import numpy as np

from .cone import paired_block_norms
from .patterns import Patterns, gate_patterns
from .patterns.mlp import hidden_gates
from .program import ConvexSolution, PatternProgram

__all__ = ["SharedNeuronProgram", "mlp_directions"]


class SharedNeuronProgram(PatternProgram):
    """The exact ReLU program whose neurons feed every output along fixed directions.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training inputs (the bias column is added here).
    Y : ndarray of shape (n_samples, n_outputs)
        Targets encoded for the loss (see :func:`convexnn.losses.encode_targets`).
    patterns : Patterns
        Gates and activation masks on ``X``; a pattern may repeat with another direction.
    directions : ndarray of shape (n_outputs, n_patterns)
        The output direction of each pattern's neurons (normalised here; no zero column).
    loss : {"squared", "logistic", "softmax"}
    alpha : float
        Regularisation strength, Lasso convention (:ref:`maths-objective`).
    """

    def __init__(self, X, Y, patterns: Patterns, directions, loss: str, alpha: float):
        self._set_data(X, Y, patterns, loss, alpha, "relu")
        E = np.asarray(directions, dtype=np.float64)
        if E.shape != (self.n_outputs, self.n_patterns):
            raise ValueError(
                f"directions must have shape (n_outputs, n_patterns) = "
                f"{(self.n_outputs, self.n_patterns)}; got {E.shape}"
            )
        norms = np.linalg.norm(E, axis=0)
        if not np.all(np.isfinite(norms)) or np.any(norms == 0):
            raise ValueError("every output direction must be finite and non-zero")
        self.directions = E / norms

    @property
    def block_shape(self) -> tuple[int, int, int]:
        """(1, n_features + 1, n_patterns): one family of blocks, one block per pattern."""
        return (1, self.n_features + 1, self.n_patterns)

    def _outputs(self, net, dtype=None):
        """``Σ_k D_k X̃ w_k e_kᵀ`` for the blocks ``net`` (1, d + 1, P), by default in the common
        dtype of the data and the blocks (as :func:`~convexnn.operators.masked_forward`): float64
        blocks of float32 data give float64 outputs. Rounded to float32, the outputs held the
        certificate's dual point (the residual at them) at gaps of 1e-6 to 4e-6 where float64
        certifies 1e-10 (the default classifier on post-operative, fold0, alpha 1e-3)."""
        dtype = dtype or np.result_type(self.X.dtype, net.dtype)
        Xt = self.Xt.astype(dtype, copy=False)
        hidden = self.mask_matrix * (Xt @ net[0].astype(dtype, copy=False))
        return hidden @ self.directions.T.astype(dtype, copy=False)

    def predict(self, solution: ConvexSolution) -> np.ndarray:
        """Model output ``Σ_k D_k X̃ (u_k − v_k) e_kᵀ + c``, shape (n_samples, n_outputs).

        Parameters
        ----------
        solution : ConvexSolution
            A point of this program.
        """
        return self._outputs(solution.net) + solution.intercept

    def objective(self, solution: ConvexSolution) -> float:
        """The convex objective at ``solution``, in float64 whatever the dtype of ``X``.

        Parameters
        ----------
        solution : ConvexSolution
            A point of this program.
        """
        net = solution.U.astype(np.float64) - solution.V
        F = self._outputs(net, np.float64) + solution.intercept
        return self.loss_fn.value(F, self.Y) + self.penalty(solution)

    def network_objective(self, solution: ConvexSolution) -> float:
        """The objective of the mapped network: each block acts as ``relu(X̃ u)``.

        Parameters
        ----------
        solution : ConvexSolution
            A point of this program.
        """
        Xt = self.Xt.astype(np.float64)
        hidden = np.maximum(Xt @ np.asarray(solution.U[0], np.float64), 0.0)
        hidden -= np.maximum(Xt @ np.asarray(solution.V[0], np.float64), 0.0)
        F = hidden @ self.directions.T + solution.intercept
        return self.loss_fn.value(F, self.Y) + self.penalty(solution)

    def output_direction(self, o: int, k: int) -> np.ndarray:
        """The unit output direction ``e_k`` of pattern ``k``'s neurons.

        Parameters
        ----------
        o, k : int
            The block's family (always 0) and pattern.
        """
        return self.directions[:, k].copy()

    def dual_block_norms(self, Theta: np.ndarray, threshold: float | None = None) -> np.ndarray:
        """Per block, ``max(γ_k(Θe_k), γ_k(−Θe_k))``: shape (1, P); upper bounds, tight wherever
        they exceed ``threshold`` (all of them when it is None).

        Parameters
        ----------
        Theta : ndarray of shape (n_samples, n_outputs)
            A dual point.
        threshold : float, optional
            Values that may exceed it are computed by NNLS; the others may be cheap bounds.
        """
        Theta = np.asarray(Theta, dtype=np.float64)
        X = self.X.astype(np.float64)
        return paired_block_norms(X, self.masks, Theta @ self.directions, threshold)[None, :]

    def _moved(self, delta: np.ndarray) -> np.ndarray:
        return np.linalg.norm(np.asarray(delta, np.float64) @ self.directions, axis=0)[None, :]


def mlp_directions(X, mlp, *more):
    """The patterns and output directions of a fitted scikit-learn MLP's hidden neurons (and of
    ``more`` MLPs', all together), for :class:`SharedNeuronProgram`: each MLP (its weights
    rescaled neuron by neuron) is then a feasible point of the program.

    Neurons that never fire on ``X`` or have no output weight are dropped; a pattern that
    several neurons share is kept once per distinct direction.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The training inputs.
    mlp, *more : MLPClassifier or MLPRegressor
        Fitted one-hidden-layer MLPs on ``X``.

    Returns
    -------
    patterns : Patterns
    directions : ndarray of shape (n_outputs, n_patterns)
        Unit columns.
    """
    mlps = (mlp, *more)
    gates = hidden_gates(*mlps)
    # (m, K): each neuron's output weights
    A = np.vstack([np.asarray(m.coefs_[1], dtype=np.float64) for m in mlps])
    norms = np.linalg.norm(A, axis=1)
    keep = norms > 0
    gates, A = gates[:, keep], A[keep] / norms[keep, None]
    kept_patterns, kept_directions = [], []
    seen = set()
    for j in range(gates.shape[1]):
        patterns = gate_patterns(X, gates[:, j:j + 1])
        if patterns.n_patterns == 0:
            continue  # a dead neuron (or one whose hyperplane runs through samples)
        key = (patterns.masks.tobytes(), np.round(A[j], 12).tobytes())
        if key not in seen:
            seen.add(key)
            kept_patterns.append(patterns)
            kept_directions.append(A[j])
    if not kept_patterns:  # every neuron is dead
        n, d = np.shape(X)
        empty = Patterns(np.zeros((d + 1, 0)), np.zeros((n, 0), dtype=bool))
        return empty, np.zeros((A.shape[1], 0))
    patterns = Patterns(
        np.hstack([q.gates for q in kept_patterns]), np.hstack([q.masks for q in kept_patterns])
    )
    return patterns, np.array(kept_directions).T
