"""Exact training of deep ReLU networks on one-dimensional inputs as a Lasso (:ref:`deep-networks`).

Zeger, Wang, Mishkin, Ergen, Candès & Pilanci, "A library of mirrors: deep neural nets in low
dimensions are convex Lasso models with reflection features" (2024), show that training a deep
*narrow* ReLU network on 1-D data::

    min  ½ Σ_i (f(x_i) − y_i)² + (β/L) Σ_{weights} |w|^L,      f(x) = Σ_p a_p h_p(x) + c,

where every path ``h_p`` is a chain of ``L − 1`` scalar ReLU layers
``h ← (w_l h + b_l)_+`` (biases free, every weight penalised by ``|w|^L/L``), is the Lasso::

    min  ½ ‖Φ z + c 1 − y‖² + β ‖z‖₁

over a fixed dictionary ``Φ`` of features of the training points. Divided by ``n`` this is our
convention (:ref:`maths-objective`): mean loss, ``alpha = β / n``,

    J_L = (1/n) Σ_i ½(f(x_i) − y_i)² + (alpha/L) Σ_layers ‖W‖_L^L
        = (1/(2n)) ‖Φ z + c − y‖² + alpha ‖z‖₁   at the mapped weights.

For ``L = 2`` the penalty is the ordinary weight decay ``(alpha/2)‖W‖²`` and the dictionary is
the ramps ``(s(x − x_j))_+``. For ``L ≥ 3`` weight decay is replaced by the ``ℓ_L`` penalty: that
is what makes a path's cost equal to ``|z|`` (the arithmetic-geometric mean inequality over its
``L`` weights, equality when they are balanced); under plain weight decay a path would cost
``(L/2)|z|^{2/L}``, which is not convex.

The dictionary ``Φ`` (its features: chains of ramps anchored at training points and at their
reflections) is built in :mod:`convexnn.deep.dictionary`; the objective ``J_L`` of any deep
network in :mod:`convexnn.deep.objective`.

Every feature is the output of a scalar chain with weights ``s_l`` and biases ``−s_l g_{l−1}(a_l)``;
a coefficient ``z`` maps to that chain scaled by ``γ = |z|^{1/L}`` per layer (weights ``s_l γ``, the
bias of layer ``l`` times ``γ^l``, output weight ``sign(z) γ``): the same function, and penalty
``(alpha/L)·L·γ^L = alpha |z|``. In scikit-learn's layout the paths sit side by side: the first
weight matrix is ``1 × m``, the hidden-to-hidden ones are diagonal ``m × m``.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from ..program import ConvexSolution, Program
from .dictionary import build_dictionary

__all__ = ["DictionaryProgram", "dictionary_to_network"]


class DictionaryProgram(Program):
    """The Lasso of a deep narrow ReLU network on 1-D inputs (module docstring, :ref:`deep-networks`).

    ``min (1/n) Σ_i ℓ((Φ z)_i + c, y_i) + alpha ‖z‖₁`` with a free intercept ``c``: the group
    Lasso of :class:`~convexnn.program.ConvexProgram` with groups of size one. A point is a
    :class:`~convexnn.program.ConvexSolution` whose ``U`` has shape ``(n_outputs, 1, n_features)``
    (``z_{o, j} = U[o, 0, j]``) and ``V = None``; the program offers the methods solvers and the
    certificate use (``predict``, ``objective``, ``residual``, ``duality_gap``, ``alpha_max``, …).

    Parameters
    ----------
    X : ndarray of shape (n_samples, 1)
    Y : ndarray of shape (n_samples, n_outputs)
        Targets encoded for the loss.
    depth : {2, 3, 4}
    loss : {"squared", "logistic", "softmax"}
    alpha : float
    breakpoints : ndarray, optional
        See :func:`build_dictionary`.
    dictionary : Dictionary, optional
        A dictionary built before on the same ``X`` (shared between values of ``alpha``).
    """

    formulation = "lasso"

    def __init__(self, X, Y, depth, loss, alpha, breakpoints=None, dictionary=None):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != 1:
            raise ValueError(
                "the deep 1-D program takes one-dimensional inputs (n_samples, 1); "
                f"got X with shape {X.shape}"
            )
        Y = self._checked(X, Y, loss, alpha)
        if dictionary is None:
            dictionary = build_dictionary(X[:, 0], depth, breakpoints)
        elif dictionary.depth != depth:
            raise ValueError(f"the dictionary has depth {dictionary.depth}, not {depth}")
        self.X, self.Y, self.depth, self.loss, self.alpha = X, Y, depth, loss, float(alpha)
        self.dictionary = dictionary
        self.inverse = np.searchsorted(dictionary.points, X[:, 0])
        if not np.array_equal(dictionary.points[self.inverse], X[:, 0]):
            raise ValueError("the dictionary was built on other inputs")

    @property
    def n_patterns(self) -> int:
        """Number of dictionary features (the blocks of this program)."""
        return self.dictionary.n_features

    @property
    def block_shape(self) -> tuple[int, int, int]:
        """(n_outputs, 1, n_features): one coefficient per output and dictionary feature."""
        return (self.n_outputs, 1, self.n_patterns)

    @cached_property
    def counts(self) -> np.ndarray:
        """How many training samples sit at each distinct input."""
        return np.bincount(self.inverse, minlength=self.dictionary.points.shape[0]).astype(float)

    @cached_property
    def mean_targets(self) -> np.ndarray:
        """The mean target at each distinct input, shape (n_distinct_inputs, n_outputs): with
        :attr:`counts` as weights, the squared loss on the distinct inputs differs from the
        loss on the samples by a constant only."""
        pooled = [
            np.bincount(self.inverse, self.Y[:, o], minlength=self.counts.shape[0])
            for o in range(self.n_outputs)
        ]
        return np.stack(pooled, axis=1) / self.counts[:, None]

    def design_product(self, Z: np.ndarray) -> np.ndarray:
        """``Φ Zᵀ`` on the training samples, ``Z`` of shape (n_outputs, n_features).

        Parameters
        ----------
        Z : ndarray of shape (n_outputs, n_features)
            Coefficients of the dictionary's features, one row per output.
        """
        return (self.dictionary.values @ Z.T)[self.inverse]

    def design_adjoint(self, Theta: np.ndarray) -> np.ndarray:
        """``Θᵀ Φ``, shape (n_outputs, n_features), for ``Θ`` of shape (n_samples, n_outputs).

        Parameters
        ----------
        Theta : ndarray of shape (n_samples, n_outputs)
            A residual or dual point, one column per output.
        """
        n_points = self.dictionary.points.shape[0]
        pooled = np.stack(
            [
                np.bincount(self.inverse, Theta[:, o], minlength=n_points)
                for o in range(Theta.shape[1])
            ],
            axis=1,
        )
        return pooled.T @ self.dictionary.values

    def predict(self, solution: ConvexSolution) -> np.ndarray:
        """Model output ``Φ z + c``, shape (n_samples, n_outputs).

        Parameters
        ----------
        solution : ConvexSolution
            A point of this program.
        """
        return self.design_product(solution.U[:, 0, :]) + solution.intercept

    def block_norms(self, blocks: np.ndarray) -> np.ndarray:
        """``|z|`` of every coefficient, shape (n_outputs, n_features).

        Parameters
        ----------
        blocks : ndarray of shape (n_outputs, 1, n_features)
            The coefficients ``U`` of a solution.
        """
        return np.abs(blocks[:, 0, :])

    def dual_block_norms(self, Theta: np.ndarray, threshold: float | None = None) -> np.ndarray:
        """``|φ_jᵀ θ_o|`` for every feature and output, shape (n_outputs, n_features).

        Parameters
        ----------
        Theta : ndarray of shape (n_samples, n_outputs)
            A dual point.
        threshold : float, optional
            Not needed: the values are exact.
        """
        return np.abs(self.design_adjoint(Theta))

    @cached_property
    def _block_reach(self) -> float:
        """``max_j ‖φ_j‖`` over the training samples: ``|φ_jᵀΔ| ≤`` this times ``‖Δ‖``."""
        squares = self.counts @ np.square(self.dictionary.values)
        return float(np.sqrt(np.max(squares, initial=0.0)))


def dictionary_to_network(program: DictionaryProgram, solution: ConvexSolution):
    """Map a Lasso solution to the weights of a deep ReLU network (module docstring).

    Every non-zero ``z_{o, j}`` becomes one path of ``L − 1`` scalar ReLU units, balanced so that
    each of its ``L`` weights has magnitude ``|z|^{1/L}``: the network's output equals
    ``Φ z + c`` and its objective :func:`deep_objective` equals the Lasso objective.

    Parameters
    ----------
    program : DictionaryProgram
        The program that was solved (its dictionary and depth).
    solution : ConvexSolution
        A point of ``program``.

    Returns
    -------
    coefs, intercepts : list of ndarray
        scikit-learn's layout: ``[W1 (1 × m), W2 (m × m, diagonal), …, WL (m × n_outputs)]``.
    """
    dictionary, L = program.dictionary, program.depth
    Z = solution.U[:, 0, :].astype(np.float64)
    outputs, features = np.nonzero(Z)
    z = Z[outputs, features]
    m = z.shape[0]
    signs, anchors = dictionary.signs[features], dictionary.anchors[features]
    gamma = np.abs(z) ** (1.0 / L)
    # the unscaled chain's biases: −s_l g_{l−1}(a_l)
    biases = np.empty_like(signs)
    A = anchors.copy()
    for level in range(L - 1):
        s, a = signs[:, level], A[:, level].copy()
        biases[:, level] = -s * a
        A[:, level + 1 :] = np.maximum(s[:, None] * (A[:, level + 1 :] - a[:, None]), 0.0)
    coefs = [(signs[:, 0] * gamma).reshape(1, m)]
    intercepts = [biases[:, 0] * gamma]
    for level in range(1, L - 1):
        coefs.append(np.diag(signs[:, level] * gamma))
        intercepts.append(biases[:, level] * gamma ** (level + 1))
    out = np.zeros((m, program.n_outputs))
    out[np.arange(m), outputs] = np.sign(z) * gamma
    coefs.append(out)
    intercepts.append(solution.intercept.astype(np.float64).copy())
    return coefs, intercepts
