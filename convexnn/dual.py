"""The dual side of the two-layer problem, shared by :mod:`convexnn.certificate` and
:mod:`convexnn.generation` (:ref:`maths-gap`).

For a dual point ``θ`` (one output's residual), each activation pattern ``D`` has a value: the dual
norm of its cone, :func:`convexnn.cone.cone_value` of ``±θ``. This module evaluates those values
over a set of patterns with cheap upper bounds screening most of them out
(:func:`pattern_value_bounds`, :func:`pattern_values`), bounds their maximum over *every* pattern
without enumerating them (:func:`valid_gamma_bound`), and rescales ``θ`` into the dual feasible set
at the best scale (:func:`best_dual_scale`, :func:`residual_dual_point`). The search for patterns
of large value is :func:`convexnn.patterns.search.ascent_patterns`.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar

from .cone import cone_value
from .losses import get_loss

__all__ = [
    "centred",
    "pattern_value_bounds",
    "pattern_values",
    "valid_gamma_bound",
    "best_dual_scale",
    "residual_dual_point",
]


def centred(X):
    """The inputs minus their mean, in float64: ``γ`` does not depend on the origin when ``Σθ = 0``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)

    Returns
    -------
    ndarray of shape (n_samples, n_features)
    """
    X = np.asarray(X, dtype=np.float64)
    return X - X.mean(axis=0)


def pattern_value_bounds(X, masks, theta, chunk_size=4096):
    """Upper bounds on ``γ_k(θ)`` and ``γ_k(−θ)`` for every pattern (one-multiplier NNLS).

    Parameters
    ----------
    X : ndarray (n_samples, n_features)
    masks : ndarray (n_samples, n_patterns), bool
    theta : ndarray (n_samples,)
        A dual vector with ``Σθ = 0`` (to rounding).
    chunk_size : int, default=4096
        Patterns handled per vectorised step (bounds the temporary arrays to ``chunk_size`` times
        ``n_samples``); does not change the result.

    Returns
    -------
    plus, minus : ndarray (n_patterns,)
        Never below :func:`~convexnn.cone.cone_value` of ``θ`` and ``−θ`` respectively.
    """
    Xc = centred(X)
    theta = np.asarray(theta, dtype=np.float64)
    masks = np.asarray(masks, dtype=bool)
    roundoff = 1e-12 * float(np.sum(np.abs(theta)))
    sq = np.sum(Xc**2, axis=1)
    P = masks.shape[1]
    plus, minus = np.empty(P), np.empty(P)
    for start in range(0, P, chunk_size):
        M = masks[:, start : start + chunk_size]
        Mf = M.astype(np.float64)
        g_w = (Mf * theta[:, None]).T @ Xc  # (p, d)
        g_b = theta @ Mf  # (p,)
        # ‖g_w − g_b x_j‖² for every pattern and sample
        dist = np.sum(g_w**2, axis=1)[:, None] - 2.0 * g_b[:, None] * (g_w @ Xc.T)
        dist = np.sqrt(np.maximum(dist + (g_b**2)[:, None] * sq[None, :], 0.0))
        off = np.min(np.where(M.T, np.inf, dist), axis=1, initial=np.inf)
        on = np.min(np.where(M.T, dist, np.inf), axis=1, initial=np.inf)
        free = np.linalg.norm(g_w, axis=1)
        small = np.abs(g_b) <= roundoff
        pos = g_b > 0
        # θ: b ≤ −x_jᵀw off the pattern (g_b > 0); b ≥ −x_jᵀw on it (g_b < 0)
        plus[start : start + chunk_size] = np.where(small, free, np.where(pos, off, on))
        # −θ has the opposite g_b
        minus[start : start + chunk_size] = np.where(small, free, np.where(pos, on, off))
    # the bound with λ = 0 exists only when g_b vanishes; otherwise it may be infinite (no j)
    return plus, minus


def pattern_values(X, masks, theta, *, above=None, limit=None):
    """``γ_k = max(γ_k(θ), γ_k(−θ))`` per pattern, exactly (NNLS) only where it matters.

    Parameters
    ----------
    X : ndarray (n_samples, n_features)
    masks : ndarray (n_samples, n_patterns), bool
    theta : ndarray (n_samples,)
    above : float, optional
        If given, compute exactly every pattern whose value may exceed ``above`` (in decreasing
        order of the screening bound), stopping once ``limit`` of them do. If not given, compute
        exactly only what is needed for the maximum.
    limit : int, optional

    Returns
    -------
    values : ndarray (n_patterns,)
        Exact value (a tight upper bound, :func:`~convexnn.cone.cone_value`) where ``exact``, the
        screening upper bound elsewhere.
    exact : ndarray (n_patterns,), bool
        Where the value was computed by NNLS (for a sign whose screening bound could not exceed
        the floor at the time, the bound stands in).
    """
    X = np.asarray(X, dtype=np.float64)
    masks = np.asarray(masks, dtype=bool)
    plus, minus = pattern_value_bounds(X, masks, theta)
    values = np.maximum(plus, minus)
    exact = np.zeros(values.shape[0], dtype=bool)
    best, found = -np.inf, 0
    for k in np.argsort(-values, kind="stable"):
        floor = best if above is None else above
        if values[k] <= floor:
            break
        # only a sign whose bound can beat the floor needs its exact value
        v_plus = cone_value(X, masks[:, k], theta) if plus[k] > floor else plus[k]
        v_minus = cone_value(X, masks[:, k], -theta) if minus[k] > floor else minus[k]
        values[k] = min(values[k], max(v_plus, v_minus))
        exact[k] = True
        best = max(best, values[k])
        if above is not None and values[k] > above:
            found += 1
            if limit is not None and found >= limit:
                break
    return values, exact


def valid_gamma_bound(X, theta):
    """A valid upper bound on ``γ(θ)`` over *all* patterns, without enumerating them (:ref:`maths-gap`).

    Every pattern but the all-ones one is cut by its hyperplane inside the data, so
    ``|b + wᵀx̄| ≤ R‖w‖`` with ``R = max_i ‖x_i − x̄‖`` (``x̄`` the data mean; ``γ`` does not depend on
    the origin when ``Σθ = 0``), giving ``γ ≤ max_± Σ_i (±θ_i)_+ (‖x_i − x̄‖ + R)``; the all-ones
    pattern contributes ``‖(X − x̄)ᵀθ‖``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs without the bias column.
    theta : ndarray of shape (n_samples,)
        A dual vector with ``Σθ = 0``.

    Returns
    -------
    float
    """
    Xc = centred(X)
    theta = np.asarray(theta, dtype=np.float64)
    radius = np.linalg.norm(Xc, axis=1)
    R = float(np.max(radius, initial=0.0))
    crossing = max(
        float(np.maximum(theta, 0.0) @ (radius + R)), float(np.maximum(-theta, 0.0) @ (radius + R))
    )
    return max(crossing, float(np.linalg.norm(Xc.T @ theta)))


# -- the dual value and its rescaling ----------------------------------------------------------
def best_dual_scale(loss, Theta, Y, s_max):
    """The ``s ∈ [0, s_max]`` maximising the concave ``s ↦ dual(sΘ)``, and that dual value.

    Closed form for the squared loss (``s = ⟨Θ, Y⟩/‖Θ‖²`` clipped); a bounded scalar search
    otherwise, never worse than ``s_max`` itself.

    Parameters
    ----------
    loss : {"squared", "logistic", "softmax"}
        Name of the loss.
    Theta : ndarray of shape (n_samples, n_outputs)
        The dual direction (a residual, :func:`residual_dual_point`).
    Y : ndarray of shape (n_samples, n_outputs)
        Targets as :func:`~convexnn.losses.encode_targets` returns them.
    s_max : float
        Largest scale that keeps ``sΘ`` dual feasible (e.g. ``n·alpha / γ``); negative values
        count as 0.

    Returns
    -------
    s : float
    dual : float
        The dual objective at ``sΘ``.
    """
    loss_fn = get_loss(loss)
    s_max = float(max(s_max, 0.0))
    if loss == "squared":
        norm2 = float(np.sum(Theta**2))
        s = s_max if norm2 == 0 else float(np.clip(np.sum(Theta * Y) / norm2, 0.0, s_max))
        return s, loss_fn.dual(s * Theta, Y)
    best_s, best = s_max, loss_fn.dual(s_max * Theta, Y)
    if s_max > 0:
        res = minimize_scalar(
            lambda s: -loss_fn.dual(s * Theta, Y),
            bounds=(0.0, s_max),
            method="bounded",
            options={"xatol": 1e-12 * max(s_max, 1e-300)},
        )
        if -res.fun > best:
            best_s, best = float(res.x), float(-res.fun)
    return best_s, best


def residual_dual_point(loss, F, Y):
    """``Θ = −∇ℓ(F + δ)`` with ``δ`` the optimal output-intercept shift (so ``1ᵀΘ = 0``).

    Parameters
    ----------
    loss : {"squared", "logistic", "softmax"}
        Name of the loss.
    F : ndarray of shape (n_samples, n_outputs)
        Model outputs.
    Y : ndarray of shape (n_samples, n_outputs)
        Targets as :func:`~convexnn.losses.encode_targets` returns them.

    Returns
    -------
    ndarray of shape (n_samples, n_outputs)
    """
    loss_fn = get_loss(loss)
    Theta = loss_fn.dual_point(F + loss_fn.intercept_shift(F, Y), Y)
    if loss == "squared":  # the shift is the mean residual: make the sum vanish exactly
        Theta = Theta - Theta.mean(axis=0)
    return Theta
