"""The training objective of deep ReLU networks under the ``ℓ_L`` penalty of the 1-D theory
(:mod:`convexnn.deep.oned`), and the rescaling that scores a network trained under another
penalty on it fairly."""

from __future__ import annotations

import numpy as np

from ..losses import get_loss
from ..network import forward

__all__ = ["deep_objective", "rebalance"]


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
