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
from .patterns import add_bias_column, settled_gates

__all__ = ["forward", "network_objective", "solution_to_network", "network_to_solution"]


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
    with a zero weight part and bias ``b`` acts as the constant ``relu(b)`` on every sample, as
    ``relu(X̃u)`` does: it is folded into the output intercept. Inside its cone such a block
    sits on the all-ones pattern (``b ≥ 0``) or computes zero; a point slightly outside its
    cones (a solver stopped short) can leave one on another pattern, which the network then maps
    as :meth:`~convexnn.program.ConvexProgram.network_objective` scores it. Zero blocks are
    pruned.

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
                elif u[d] > 0.0:  # relu(X̃u) = relu(b) on every sample (w = 0)
                    intercept += sign * u[d] * program.output_direction(o, k)
    m = len(W)
    Wt = np.array(W).reshape(m, d + 1)
    coefs = [np.ascontiguousarray(Wt[:, :d].T), np.array(a).reshape(m, K)]
    intercepts = [Wt[:, d].copy(), intercept]
    gates = program.patterns.gates[:, gate_cols].astype(np.float64) if gated else None
    return coefs, intercepts, gates


def network_to_solution(program, coefs, intercepts):
    """The point of ``program`` that a two-layer ReLU network is, or None when it is not one.

    The inverse of :func:`solution_to_network` (:ref:`maths-mapping`): neuron ``j`` with input
    weights ``g_j = [w_j; b_j]`` and output weights ``a_j`` acts on the training data through its
    activation pattern ``D = 1[X̃g_j ≥ 0]`` (ties settled as the sampler settles them,
    :func:`~convexnn.patterns.settled_gates`), so it adds ``a_{jo}·g_j`` to the block of that
    pattern for output ``o`` (to ``u`` for a positive weight, to ``v`` for a negative one; for a
    :class:`~convexnn.shared.SharedNeuronProgram`, ``‖a_j‖·g_j`` to the block of that pattern and
    output direction). The point reproduces the network's outputs, and for the exact ReLU
    program its objective is at most the network's: the penalty ``alpha·‖Σ_j a_{jo} w_j‖`` of a
    block is at most the ``alpha·Σ_j |a_{jo}|·‖w_j‖ ≤ (alpha/2) Σ_j (‖w_j‖² + ‖a_j‖²)`` that
    weight decay charges (with one output, or shared neurons; a neuron feeding several outputs
    of a per-output program pays ``‖a_j‖₁`` there; the gated program also charges the hidden
    biases). Blocks left a rounding outside their cones (samples on a neuron's
    hyperplane) are moved into them (:meth:`~convexnn.program.ConvexProgram.feasible`).

    A fitted scikit-learn MLP's ``coefs_`` and ``intercepts_`` are such a network: with the
    program built on its patterns (``sampler="mlp"``), it is a feasible point, and the
    estimators' solvers never hand back a point worse than it (:func:`convexnn.solvers.solve`'s
    ``incumbent``).

    Parameters
    ----------
    program : ConvexProgram or SharedNeuronProgram
        An exact ReLU (or gated) program whose patterns hold every live neuron's pattern.
    coefs, intercepts : list of ndarray
        A two-layer network in scikit-learn's layout: ``[W1 (d × m), W2 (m × K)]`` and
        ``[b1 (m,), b2 (K,)]``.

    Returns
    -------
    ConvexSolution or None
        None when a neuron that fires and feeds an output has a pattern (or, with shared neurons,
        an output direction) the program does not have, or when the point is not finite or not
        inside its cones.
    """
    from .program import ConvexSolution

    if len(coefs) != 2 or len(intercepts) != 2:
        raise ValueError("network_to_solution maps two-layer networks only")
    X = np.asarray(program.X, dtype=np.float64)
    gates = np.vstack([np.asarray(coefs[0], np.float64), np.asarray(intercepts[0], np.float64)])
    A = np.asarray(coefs[1], dtype=np.float64)  # (m, K)
    intercept = np.asarray(intercepts[1], dtype=np.float64).reshape(-1)
    if gates.shape[0] != program.n_features + 1 or intercept.shape[0] != program.n_outputs:
        return None
    if not all(np.all(np.isfinite(a)) for a in (gates, A, intercept)):
        return None  # before any product of the weights makes NaNs of them
    directions = getattr(program, "directions", None)  # shared neurons: (K, P) unit columns
    where = {}
    for k, mask in enumerate(np.asfortranarray(program.patterns.masks).T):
        where.setdefault(mask.tobytes(), []).append(k)
    _, masks, usable, ties = settled_gates(X, gates)  # each neuron's pattern, as the sampler's
    masks = np.asfortranarray(masks)
    U = np.zeros(program.block_shape)
    V = None if program.formulation == "gated" else np.zeros_like(U)
    for j in range(gates.shape[1]):
        scale = float(np.linalg.norm(A[j]))
        if scale == 0.0 or not masks[:, j].any():
            continue  # a neuron that feeds no output, or never fires
        if not usable[j]:
            if not np.any(masks[:, j] & ~ties[:, j]):
                continue  # it fires only on its hyperplane: it outputs nothing
            return None
        mask = masks[:, j]
        candidates = where.get(mask.tobytes(), [])
        if directions is not None:
            candidates = [k for k in candidates
                          if np.allclose(directions[:, k], A[j] / scale, rtol=0, atol=1e-9)]
        if not candidates:
            return None
        k = candidates[0]
        if directions is not None:
            U[0, :, k] += scale * gates[:, j]
            continue
        for o in range(A.shape[1]):
            if V is None:
                U[o, :, k] += A[j, o] * gates[:, j]
            else:
                (U if A[j, o] > 0 else V)[o, :, k] += abs(A[j, o]) * gates[:, j]
    solution = program.feasible(ConvexSolution(U, V, intercept.copy()), tol=1e-12)
    finite = all(np.all(np.isfinite(a)) for a in (solution.U, solution.intercept)) and (
        V is None or np.all(np.isfinite(solution.V))
    )
    if not finite or not program.constraint_violation(solution) <= 1e-8:
        return None  # a network with non-finite weights, or one its cones do not hold
    return solution
