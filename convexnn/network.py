"""ReLU networks in scikit-learn's layout, their objective, and the map from convex solutions.

A network is a pair of lists ``coefs = [W1 (d × m), W2 (m × K), ...]`` and
``intercepts = [b1 (m,), b2 (K,), ...]``, exactly the ``coefs_``/``intercepts_`` of a fitted
:class:`sklearn.neural_network.MLPRegressor` or :class:`~sklearn.neural_network.MLPClassifier` with
``activation="relu"``. A *gated* two-layer network also carries ``gates`` (``(d + 1) × m``, in the
input space): neuron ``j`` outputs ``1[x̃ᵀg_j ≥ 0] (w_jᵀx + b_j)`` instead of ``(w_jᵀx + b_j)_+``.
"""

from __future__ import annotations

import numpy as np

from .losses import encode_targets, get_loss
from .patterns import add_bias_column

__all__ = ["forward", "network_objective", "solution_to_network"]


def forward(coefs, intercepts, X, gates=None):
    """Output of the network before the output activation, shape (n_samples, n_outputs).

    Hidden layers use the ReLU, or for a two-layer network with ``gates`` the gated linear unit.

    Parameters
    ----------
    coefs, intercepts : list of ndarray
        Weights in scikit-learn's layout (a fitted MLP's ``coefs_`` and ``intercepts_`` work
        as-is); lists of the same, non-zero length.
    X : array-like of shape (n_samples, n_features)
        Inputs (computed in float64).
    gates : ndarray of shape (n_features + 1, n_hidden), optional
        Gates of a gated two-layer network, bias last, in the input space; ``None`` for a ReLU
        network.

    Returns
    -------
    ndarray of shape (n_samples, n_outputs)
    """
    if len(coefs) != len(intercepts) or len(coefs) < 1:
        raise ValueError("coefs and intercepts must be lists of the same, non-zero length")
    if gates is not None and len(coefs) != 2:
        raise ValueError("gates are defined for two-layer networks only")
    H = np.asarray(X, dtype=np.float64)
    for W, b in zip(coefs[:-1], intercepts[:-1], strict=True):
        Z = H @ W + b
        H = Z * (add_bias_column(H) @ gates >= 0) if gates is not None else np.maximum(Z, 0.0)
    return H @ coefs[-1] + intercepts[-1]


def network_objective(coefs, intercepts, X, y, alpha, loss, gates=None):
    """The objective of record ``J`` (:ref:`maths-objective`) of a ReLU network on ``(X, y)``.

    ``J = (1/n) Σ_i ℓ(f(x_i), y_i) + (alpha/2) Σ_layers ‖W‖²_F``; biases are not penalised, except
    the hidden biases of a gated network (they belong to its penalised blocks, :ref:`maths-programs`).

    Parameters
    ----------
    coefs, intercepts : list of ndarray
        Weights in scikit-learn's layout (a fitted MLP's ``coefs_`` and ``intercepts_`` work as-is).
    X : ndarray of shape (n_samples, n_features)
    y : ndarray
        Targets: values for ``"squared"``; labels in ``{0, 1}`` for ``"logistic"``; labels
        ``0..K-1`` (the index into ``classes_``) or a one-hot matrix for ``"softmax"``.
    alpha : float
        Regularisation in the Lasso convention; a scikit-learn MLP's ``alpha`` is ``alpha * n``.
    loss : {"squared", "logistic", "softmax"}
    gates : ndarray of shape (n_features + 1, n_hidden), optional
        For a gated network.

    Returns
    -------
    float
    """
    loss_fn = get_loss(loss)
    F = forward(coefs, intercepts, X, gates)
    Y = encode_targets(y, loss, n_outputs=F.shape[1])
    if Y.shape != F.shape:
        raise ValueError(f"targets of shape {Y.shape} do not match network outputs {F.shape}")
    weights = sum(float(np.sum(np.asarray(W, dtype=np.float64) ** 2)) for W in coefs)
    if gates is not None:
        weights += float(np.sum(np.asarray(intercepts[0], dtype=np.float64) ** 2))
    return loss_fn.value(F, Y) + 0.5 * alpha * weights


def solution_to_network(program, solution):
    """Map a solution of ``program`` to two-layer network weights (:ref:`maths-mapping`).

    Each non-zero block ``u`` becomes one neuron with ``(w, b) = u / √s`` and output weights ``±√s``
    times its output direction (its own output; for a
    :class:`~convexnn.shared.SharedNeuronProgram` its pattern's direction), ``s`` the penalised
    norm of ``u``; so the network's objective equals the convex objective. An exact-ReLU block
    with a zero weight part is a constant (it can only sit on the all-ones pattern) and is folded
    into the output intercept. Zero blocks are pruned.

    Parameters
    ----------
    program : ConvexProgram or SharedNeuronProgram
        The program that was solved (its patterns, formulation and sizes).
    solution : ConvexSolution
        A point of ``program``.

    Returns
    -------
    coefs, intercepts : list of ndarray
    gates : ndarray of shape (n_features + 1, n_neurons), or None for the exact ReLU program
    """
    d, K = program.n_features, program.n_outputs
    gated = program.formulation == "gated"
    all_ones = program.patterns.masks.all(axis=0)
    intercept = solution.intercept.astype(np.float64).copy()
    W, a, gate_cols = [], [], []
    signed_blocks = [(solution.U, 1.0)] + ([] if gated else [(solution.V, -1.0)])
    for blocks, sign in signed_blocks:
        blocks = blocks.astype(np.float64)
        for o in range(blocks.shape[0]):
            for k in range(program.n_patterns):
                u = blocks[o, :, k]
                s = float(np.linalg.norm(u if gated else u[:d]))
                if s > 0.0:
                    W.append(u / np.sqrt(s))
                    a.append(sign * np.sqrt(s) * program.output_direction(o, k))
                    gate_cols.append(k)
                elif u[d] != 0.0 and all_ones[k]:
                    intercept += sign * u[d] * program.output_direction(o, k)
    m = len(W)
    Wt = np.array(W).reshape(m, d + 1)
    coefs = [np.ascontiguousarray(Wt[:, :d].T), np.array(a).reshape(m, K)]
    intercepts = [Wt[:, d].copy(), intercept]
    gates = program.patterns.gates[:, gate_cols].astype(np.float64) if gated else None
    return coefs, intercepts, gates
