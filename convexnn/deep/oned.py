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

The dictionary (the paper's recursive definition): a feature is indexed by signs
``s ∈ {±1}^{L−1}``, training points ``x_{j_1}, …, x_{j_{L−1}}`` and, for ``L = 4``, ``k ∈ {0, 1}``:

    g_0(x) = x,   g_l(x) = (s_l (g_{l−1}(x) − g_{l−1}(a_l)))_+,   feature = g_{L−1},

with anchors ``a_l = x_{j_l}``, except ``a_1 = 2 x_{j_2} − x_{j_1}`` (the *reflection* of
``x_{j_1}`` about ``x_{j_2}``) when ``L = 4`` and ``k = 1``. Depth 3 gives ramps and capped
ramps, depth 4 adds features with breakpoints at reflections of training points about each other.

Every feature is the output of a scalar chain with weights ``s_l`` and biases ``−s_l g_{l−1}(a_l)``;
a coefficient ``z`` maps to that chain scaled by ``γ = |z|^{1/L}`` per layer (weights ``s_l γ``, the
bias of layer ``l`` times ``γ^l``, output weight ``sign(z) γ``): the same function, and penalty
``(alpha/L)·L·γ^L = alpha |z|``. In scikit-learn's layout the paths sit side by side: the first
weight matrix is ``1 × m``, the hidden-to-hidden ones are diagonal ``m × m``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..losses import get_loss
from ..network import forward
from ..program import ConvexSolution, Program

__all__ = [
    "DEPTHS",
    "Dictionary",
    "DictionaryProgram",
    "build_dictionary",
    "chain_features",
    "deep_objective",
    "dictionary_to_network",
    "rebalance",
]

DEPTHS = (2, 3, 4)


@dataclass(frozen=True)
class Dictionary:
    """The Lasso dictionary of a deep narrow ReLU network on 1-D data.

    Each parameter is kept as the attribute of the same name.

    Parameters
    ----------
    depth : int
        Number of weight layers ``L`` (``L − 1`` hidden layers).
    signs : ndarray of shape (n_features, depth − 1)
        ``s_l`` of every feature (±1).
    anchors : ndarray of shape (n_features, depth − 1)
        ``a_l`` of every feature, points of the input line (training points or reflections).
    points : ndarray of shape (n_points,)
        The distinct training inputs, sorted.
    values : ndarray of shape (n_points, n_features)
        Every feature at every distinct training input (Fortran order).
    breakpoints : ndarray
        The training points the features were built from (all distinct inputs, or a subset).
    """

    depth: int
    signs: np.ndarray
    anchors: np.ndarray
    points: np.ndarray
    values: np.ndarray
    breakpoints: np.ndarray

    @property
    def n_features(self) -> int:
        return self.values.shape[1]


def chain_features(x, signs, anchors):
    """Evaluate the features ``g_{L−1}`` of scalar chains at the points ``x``.

    Parameters
    ----------
    x : ndarray of shape (n_points,)
    signs, anchors : ndarray of shape (n_features, depth − 1)

    Returns
    -------
    ndarray of shape (n_points, n_features)
    """
    x = np.asarray(x, dtype=np.float64)
    signs = np.asarray(signs, dtype=np.float64)
    anchors = np.asarray(anchors, dtype=np.float64)
    G = np.broadcast_to(x[:, None], (x.shape[0], signs.shape[0]))
    # g_{l−1} at every anchor a_{l'} (l' ≥ l) rides along with the points
    A = anchors.copy()
    for level in range(signs.shape[1]):
        s, a = signs[:, level], A[:, level].copy()
        G = np.maximum(s * (G - a), 0.0)
        A[:, level + 1 :] = np.maximum(s[:, None] * (A[:, level + 1 :] - a[:, None]), 0.0)
    return np.ascontiguousarray(G)


def _raw_chains(breakpoints, depth):
    """All (signs, anchors) index combinations of the paper's dictionary on ``breakpoints``."""
    b = np.asarray(breakpoints, dtype=np.float64)
    B = b.shape[0]
    n_levels = depth - 1
    grids = np.meshgrid(*([np.arange(B)] * n_levels), indexing="ij")
    J = np.stack([g.ravel() for g in grids], axis=1)  # (B^{L-1}, L-1) indices j_1..j_{L-1}
    S = np.array(np.meshgrid(*([[-1.0, 1.0]] * n_levels), indexing="ij")).reshape(n_levels, -1).T
    anchors = np.repeat(b[J][None], S.shape[0], axis=0).reshape(-1, n_levels)
    signs = np.repeat(S[:, None, :], J.shape[0], axis=1).reshape(-1, n_levels)
    if depth == 4:  # k = 1: the first anchor is the reflection of x_{j1} about x_{j2}
        reflected = anchors.copy()
        reflected[:, 0] = 2.0 * anchors[:, 1] - anchors[:, 0]
        anchors = np.vstack([anchors, reflected])
        signs = np.vstack([signs, signs])
    return signs, anchors


def build_dictionary(x, depth, breakpoints=None, chunk_size=200_000, random_state=0):
    """The dictionary of depth ``depth`` on the 1-D training inputs ``x`` (duplicates removed).

    Parameters
    ----------
    x : ndarray of shape (n_samples,)
        Training inputs.
    depth : {2, 3, 4}
        Number of weight layers of the network.
    breakpoints : ndarray, optional
        The training points the features are built from (default: every distinct input, the
        paper's full dictionary). A subset gives a sub-dictionary: the Lasso over it is the
        training problem restricted to paths anchored there (an upper bound on the full optimum).
    chunk_size : int
        Features evaluated at a time.
    random_state : int
        Seeds the random projections used to find repeated features.

    Returns
    -------
    Dictionary
        Features that vanish on every training input are dropped, and features equal on the
        training inputs are kept once (both change nothing in the Lasso's optimum).
    """
    if depth not in DEPTHS:
        raise ValueError(f"depth must be one of {DEPTHS}, got {depth!r}")
    points = np.unique(np.asarray(x, dtype=np.float64))
    b = points if breakpoints is None else np.unique(np.asarray(breakpoints, dtype=np.float64))
    signs, anchors = _raw_chains(b, depth)
    rng = np.random.default_rng(random_state)
    probes = rng.standard_normal((points.shape[0], 3))
    scale = max(1.0, float(np.max(np.abs(points))) - float(np.min(points)))
    keys, kept = [], []
    for start in range(0, signs.shape[0], chunk_size):
        stop = start + chunk_size
        V = chain_features(points, signs[start:stop], anchors[start:stop])
        nonzero = np.max(V, axis=0) > 1e-12 * scale
        K = np.round(V.T @ probes / (scale * np.linalg.norm(probes, axis=0)), 9)
        idx = np.flatnonzero(nonzero)
        keys.append(K[idx])
        kept.append(start + idx)
    keys, kept = np.vstack(keys), np.concatenate(kept)
    _, first = np.unique(keys, axis=0, return_index=True)
    index = kept[np.sort(first)]
    signs, anchors = signs[index], anchors[index]
    values = np.asfortranarray(chain_features(points, signs, anchors))
    return Dictionary(depth, signs, anchors, points, values, b)


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


def deep_objective(coefs, intercepts, X, Y, alpha, loss="squared", power=None):
    """The training objective of a deep ReLU network with the ``ℓ_L`` penalty of the 1-D theory.

    ``J_L = (1/n) Σ_i ℓ(f(x_i), y_i) + (alpha/p) Σ_layers Σ |W|^p`` with ``p = power`` (default
    the depth ``L = len(coefs)``); biases are free. For a two-layer network this is the objective
    of record (:ref:`maths-objective`).

    Parameters
    ----------
    coefs, intercepts : list of ndarray
        scikit-learn's layout (a fitted MLP's ``coefs_``/``intercepts_`` work as-is).
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        Targets encoded for the loss.
    alpha : float
    loss : {"squared", "logistic", "softmax"}
    power : float, optional

    Returns
    -------
    float
    """
    p = len(coefs) if power is None else power
    F = forward(coefs, intercepts, X)
    Y = np.asarray(Y, dtype=np.float64).reshape(F.shape)
    weights = sum(float(np.sum(np.abs(np.asarray(W, dtype=np.float64)) ** p)) for W in coefs)
    return get_loss(loss).value(F, Y) + alpha / p * weights


def rebalance(coefs, intercepts, power=None, max_iter=500):
    """The same function with the smallest ``Σ |W|^p`` over per-neuron positive rescalings.

    Scaling the incoming weights and bias of a hidden ReLU unit by ``e^t`` and its outgoing
    weights by ``e^{−t}`` leaves the network's function unchanged (the biases of later layers move
    with the unit). Under the penalty ``Σ |W|^p`` the best such ``t`` solves a smooth convex
    problem (a sum of exponentials of linear functions of ``t``), solved here by L-BFGS. Used to
    score a network trained under another penalty (e.g. scikit-learn's weight decay) fairly on
    :func:`deep_objective`.

    Parameters
    ----------
    coefs, intercepts : list of ndarray
        The network in scikit-learn's layout (not modified).
    power : float, optional
        The exponent ``p`` of the penalty; by default the depth ``L = len(coefs)``.
    max_iter : int, default=500
        Most L-BFGS iterations; the rescaling is kept only if it does not raise the penalty.

    Returns
    -------
    coefs, intercepts : list of ndarray
    """
    from scipy.optimize import minimize

    p = len(coefs) if power is None else power
    C = [np.abs(np.asarray(W, dtype=np.float64)) ** p for W in coefs]
    widths = [W.shape[1] for W in coefs[:-1]]
    splits = np.cumsum(widths)[:-1]

    def penalty(t):
        ts = [np.zeros(coefs[0].shape[0])] + np.split(t, splits) + [np.zeros(coefs[-1].shape[1])]
        value, grad = 0.0, [np.zeros(w) for w in widths]
        for layer, Cl in enumerate(C):
            E = Cl * np.exp(p * (ts[layer + 1][None, :] - ts[layer][:, None]))
            value += float(E.sum())
            if layer < len(widths):
                grad[layer] += p * E.sum(axis=0)
            if layer > 0:
                grad[layer - 1] -= p * E.sum(axis=1)
        return value, np.concatenate(grad)

    t0 = np.zeros(int(sum(widths)))
    result = minimize(penalty, t0, jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    t = result.x if result.fun <= penalty(t0)[0] else t0
    ts = np.split(t, splits)
    new_coefs, new_intercepts = [], []
    scale_in = np.ones(coefs[0].shape[0])
    for layer, (W, b) in enumerate(zip(coefs, intercepts, strict=True)):
        scale_out = np.exp(ts[layer]) if layer < len(widths) else np.ones(W.shape[1])
        new_coefs.append(np.asarray(W, dtype=np.float64) / scale_in[:, None] * scale_out[None, :])
        new_intercepts.append(np.asarray(b, dtype=np.float64) * scale_out)
        scale_in = scale_out
    return new_coefs, new_intercepts
