"""The dual norm of one pattern's cone, by non-negative least squares (:ref:`maths-gap`).

For a pattern ``D`` with cone ``K = {u : (2D − I) X̃ u ≥ 0}`` and a dual vector ``θ``,

    γ(θ) = max { θᵀ D X̃ u : u ∈ K, ‖u[:d]‖ ≤ 1 }
         = min { ‖q(λ)[:d]‖ : λ ≥ 0, q(λ)[d] = 0 },   q(λ) = X̃ᵀDθ + X̃ᵀ(2D − I)λ,

(the bias coordinate is free, hence the equality). The equality is imposed by a heavily weighted
row in :func:`scipy.optimize.nnls`; the multiplier is then moved onto the equality exactly, so the
returned value is that of a feasible ``λ``: an upper bound on ``γ``, tight to the NNLS precision, and
``inf`` when the equality cannot be met (the maximum is unbounded).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

from .operators import masked_adjoint

__all__ = [
    "cone_value", "gated_block_norms", "multiplier_bounds", "paired_block_norms",
    "relu_block_norms", "relu_exceeds", "supported_block_norms",
]


def cone_value(X, mask, theta, support=None):
    """Upper bound, tight to solver precision, on ``max_{u ∈ K, ‖u[:d]‖ ≤ 1} θᵀ D X̃ u``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs without the bias column.
    mask : ndarray of shape (n_samples,), bool
        The pattern ``D``.
    theta : ndarray of shape (n_samples,)
    support : array of int, optional
        Let only these multipliers ``λ_i`` be non-zero: far cheaper, still an upper bound, and
        tight when the support holds the constraints active at the maximiser (an interior-point
        solver knows them).
    """
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return 0.0
    signs = np.where(mask, 1.0, -1.0)
    g_w = X.T @ np.where(mask, theta, 0.0)
    g_b = float(np.sum(theta[mask]))
    if support is not None:
        X, signs = X[support], signs[support]
    B = X.T * signs  # column i is (2D − I)_ii x_i
    scale = max(1.0, float(np.max(np.abs(X), initial=0.0)), abs(g_b))
    weight = 1e4 * scale
    A = np.vstack([B, weight * signs[None, :]])
    rhs = np.concatenate([-g_w, [-weight * g_b]])
    if A.shape[1] == 0:  # no multiplier allowed (scipy's NNLS would not return)
        return _value_on_equality(B, signs, g_w, -g_b, np.zeros(0), theta)
    lam, _ = nnls(A, rhs, maxiter=50 * A.shape[1])
    return _value_on_equality(B, signs, g_w + B @ lam, -g_b - float(signs @ lam), lam, theta)


def _value_on_equality(B, signs, q, excess, lam, theta):
    """``‖q[:d]‖`` after moving a feasible ``λ ≥ 0`` onto the bias equality ``q[d] = 0``.

    ``q = X̃ᵀDθ + X̃ᵀ(2D − I)λ`` restricted to the weights, ``excess`` what ``sᵀλ`` still lacks
    for the equality. Raise one ``λ_i`` of the needed sign, or shrink the ``λ_i`` of the opposite
    sign proportionally; keep whichever leaves the smaller norm (``inf`` if neither can)."""
    if excess == 0.0:
        return float(np.linalg.norm(q))
    sign, need = np.sign(excess), abs(excess)
    options = []
    raise_ = np.flatnonzero(signs == sign)
    if raise_.size:
        options.append(np.min(np.linalg.norm(q[:, None] + need * B[:, raise_], axis=0)))
    shrink = (signs == -sign) & (lam > 0)
    total = float(np.sum(lam[shrink]))
    moved = B[:, shrink] @ lam[shrink]
    if total >= need:
        options.append(np.linalg.norm(q - (need / total) * moved))
    # 1ᵀθ = 0 holds only to rounding: a shortfall of that size is not an unbounded direction.
    # It is taken as met only where no move meets the equality exactly, since it costs the
    # shortfall times the maximiser's bias, which features far from the origin make large
    # (fuzzing seed 1313806: a bias of 2.4e4 per unit weight, a certified gap of -2.6e-9)
    roundoff = 1e-12 * float(np.sum(np.abs(theta)))
    if not options and need <= total + roundoff:
        options.append(np.linalg.norm(q - moved))  # all of them shrunk (none: moved = 0)
    return float(min(options)) if options else np.inf


def multiplier_bounds(X, masks, Theta, Lam):
    """Upper bounds on ``γ_k(θ_k)`` for every pattern from given multipliers ``λ_k ≥ 0`` of its
    rows, all patterns at once: shape (P,).

    ``‖q(λ_k)[:d]‖`` after moving ``λ_k`` onto the bias equality ``q[d] = 0`` as
    :func:`cone_value` does (raise one ``λ_i`` of the needed sign, or shrink those of the other
    sign), so every entry is the value of a feasible ``λ`` (``inf`` where neither move can meet
    the equality). No optimisation over ``λ``: the bound is tight when ``λ_k`` is near the
    minimiser, as the row multipliers of an interior-point iterate are near the optimum
    (:ref:`maths-gap`), and costs a few matrix products instead of one NNLS per pattern.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs without the bias column.
    masks : ndarray of shape (n_samples, n_patterns), bool
        The patterns ``D_k``, one per column.
    Theta : ndarray of shape (n_samples, n_patterns)
        The dual vector of each pattern.
    Lam : ndarray of shape (n_samples, n_patterns)
        Multipliers of the rows ``(2D_k − I) X̃ u ≥ 0`` (negative entries are taken as zero).

    Returns
    -------
    ndarray of shape (n_patterns,)
    """
    X = np.asarray(X, dtype=np.float64)
    masks = np.asarray(masks, dtype=bool)
    Theta = np.asarray(Theta, dtype=np.float64)
    signs = np.where(masks, 1.0, -1.0)
    Lam = np.maximum(np.asarray(Lam, dtype=np.float64), 0.0)
    masked = np.where(masks, Theta, 0.0)
    SL = signs * Lam  # the λ_i(2D − I)_ii
    q = X.T @ (masked + SL)  # (d, P): the weights of q(λ)
    excess = -(masked.sum(axis=0) + SL.sum(axis=0))  # what sᵀλ lacks for the bias equality
    need = np.abs(excess)
    up = excess > 0
    norm2 = np.sum(q**2, axis=0)
    # shrink the multipliers of the other sign: those of rows with s_i = −sign(excess)
    against = np.where(up[None, :], signs < 0, signs > 0) & (Lam > 0)
    total = np.sum(np.where(against, Lam, 0.0), axis=0)
    moved = X.T @ np.where(against, SL, 0.0)  # their B λ
    ratio = np.minimum(1.0, need / np.where(total > 0, total, 1.0))
    shrunk = np.sqrt(np.sum((q - ratio * moved) ** 2, axis=0))
    roundoff = 1e-12 * np.sum(np.abs(Theta), axis=0)
    best = np.where((total > 0) & (total >= need), shrunk, np.inf)
    # raise one multiplier of the needed sign by |excess|: ‖q + excess·x_i‖ over those rows
    raised = (norm2[None, :] + 2.0 * excess[None, :] * (X @ q)
              + excess[None, :] ** 2 * np.sum(X**2, axis=1)[:, None])
    allowed = np.where(up[None, :], signs > 0, signs < 0)
    raised = np.sqrt(np.maximum(np.min(np.where(allowed, raised, np.inf), axis=0), 0.0))
    best = np.minimum(best, raised)
    # a shortfall within rounding is taken as met only where no move meets it (cone_value)
    rounded = np.isinf(best) & (need <= total + roundoff)
    best = np.where(rounded, np.sqrt(np.sum((q - moved) ** 2, axis=0)), best)
    return np.where(excess == 0.0, np.sqrt(norm2), best)


def supported_block_norms(X, masks, theta, supports, threshold):
    """Upper bounds on ``max(γ_k(θ), γ_k(−θ))`` (shape (1, P)) from candidate supports.

    ``supports[j][k]`` lists the constraints that may carry a multiplier for ``±θ`` (``j = 0, 1``)
    and pattern ``k`` — the active rows of an interior-point solution. Where the cheap bound of
    :func:`relu_block_norms` exceeds ``threshold``, the NNLS runs on that support alone, and on
    every row only if the restricted value still exceeds ``threshold``: each entry is a valid
    upper bound, tight to NNLS precision wherever it exceeds ``threshold``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs without the bias column.
    masks : ndarray of shape (n_samples, n_patterns), bool
        The patterns ``D_k``, one per column.
    theta : ndarray of shape (n_samples,)
        The dual vector (one output).
    supports : pair of sequences of int arrays
        ``supports[0][k]`` and ``supports[1][k]``: the candidate support of pattern ``k`` for
        ``θ`` and for ``−θ``, as ``support`` of :func:`cone_value`.
    threshold : float
        Values that may exceed it are computed by NNLS; below it the cheap bound stands.

    Returns
    -------
    ndarray of shape (1, n_patterns)
    """
    theta = np.asarray(theta, dtype=np.float64).reshape(-1, 1)
    Theta = np.broadcast_to(theta, np.shape(masks))
    return paired_block_norms(X, masks, Theta, threshold, supports)[None, :]


def paired_block_norms(X, masks, Theta, threshold=None, supports=None, known=None):
    """Upper bounds on ``max(γ_k(θ_k), γ_k(−θ_k))`` for every pattern ``k`` with a dual vector of
    its own, ``θ_k = Theta[:, k]``: shape (P,).

    The cheap bound ``‖XᵀD_kθ_k‖ + R |1ᵀD_kθ_k|`` of :func:`relu_block_norms` first; where it
    exceeds ``threshold`` the NNLS value replaces it (on ``supports`` first when given, as in
    :func:`supported_block_norms`, and on every row where that value still exceeds
    ``threshold``).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs without the bias column.
    masks : ndarray of shape (n_samples, n_patterns), bool
        The patterns ``D_k``, one per column.
    Theta : ndarray of shape (n_samples, n_patterns)
        The dual vector of each pattern.
    threshold : float, optional
        Cheap bounds above it are replaced by the NNLS value; None (default): every entry is.
    supports : pair of sequences of int arrays, optional
        Candidate supports of the multipliers for ``θ_k`` and ``−θ_k``, as in
        :func:`supported_block_norms`.
    known : pair of arrays of shape (P,), optional
        Upper bounds already known on ``γ_k(θ_k)`` and ``γ_k(−θ_k)`` (such as
        :func:`multiplier_bounds`): a sign whose known bound is at most ``threshold`` needs no
        NNLS.

    Returns
    -------
    ndarray of shape (n_patterns,)
    """
    masks = np.asarray(masks, dtype=bool)
    Theta = np.asarray(Theta, dtype=np.float64)
    Xt = np.hstack([X, np.ones((X.shape[0], 1))])
    G = Xt.T @ np.where(masks, Theta, 0.0)  # (d + 1, P): [XᵀD_kθ_k; 1ᵀD_kθ_k]
    radius = float(np.max(np.linalg.norm(X, axis=1), initial=0.0))
    weight_part = np.linalg.norm(G[:-1], axis=0)
    all_ones = masks.all(axis=0)
    out = np.where(all_ones, weight_part, weight_part + radius * np.abs(G[-1]))
    level = -np.inf if threshold is None else threshold
    if known is not None:
        known = np.asarray(known, dtype=np.float64)
        out = np.minimum(out, np.max(known, axis=0))
    for k in np.flatnonzero((out > level) & ~all_ones & masks.any(axis=0)):
        values = []
        for j, sign in enumerate((1.0, -1.0)):
            if known is not None and known[j, k] <= level:
                values.append(known[j, k])
                continue
            support = None if supports is None else supports[j][k]
            value = cone_value(X, masks[:, k], sign * Theta[:, k], support=support)
            if support is not None and value > level:
                value = cone_value(X, masks[:, k], sign * Theta[:, k])
            values.append(value if known is None else min(value, known[j, k]))
        out[k] = min(out[k], max(values))
    return out


def relu_block_norms(X, masks, Theta, threshold=None):
    """Upper bounds on ``max(γ_k(θ_o), γ_k(−θ_o))`` for every output ``o`` and pattern ``k``: (K, P).

    First the cheap bound ``‖XᵀD_kθ‖ + R |1ᵀD_kθ|`` (``R = max_i ‖x_i‖``; valid because a
    hyperplane that splits the data has ``|b| ≤ R‖w‖``, :ref:`maths-gap`), exact for the all-ones
    pattern. The NNLS value replaces it where the bound exceeds ``threshold`` (everywhere when
    ``threshold`` is None), so every entry above ``threshold`` is the tight value.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs without the bias column.
    masks : ndarray of shape (n_samples, n_patterns), bool
        The patterns ``D_k``, one per column.
    Theta : ndarray of shape (n_samples, n_outputs)
        Dual vectors ``θ_o``, one per output (column).
    threshold : float, optional
        Cheap bounds above it are replaced by the NNLS value; None (default): every entry is;
        ``inf``: none is (the cheap bounds only).

    Returns
    -------
    ndarray of shape (n_outputs, n_patterns)
    """
    masks = np.asarray(masks, dtype=bool)
    Theta = np.asarray(Theta, dtype=np.float64)
    return np.stack([
        paired_block_norms(X, masks, np.broadcast_to(theta[:, None], masks.shape), threshold)
        for theta in Theta.T
    ]).reshape(Theta.shape[1], masks.shape[1])


def relu_exceeds(X, masks, Theta, bound):
    """Whether some ``max(γ_k(θ_o), γ_k(−θ_o))`` exceeds ``bound``: the cheap bounds first, then
    the NNLS values in decreasing order of the cheap bound, stopping at the first that exceeds.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs without the bias column.
    masks : ndarray of shape (n_samples, n_patterns), bool
        The patterns ``D_k``, one per column.
    Theta : ndarray of shape (n_samples, n_outputs)
        Dual vectors ``θ_o``, one per output (column).
    bound : float
        The level to compare with (for a dual feasibility check, ``n·alpha``).

    Returns
    -------
    bool
    """
    masks = np.asarray(masks, dtype=bool)
    cheap = relu_block_norms(X, masks, Theta, threshold=np.inf)
    all_ones = masks.all(axis=0)
    candidates = np.argwhere(cheap > bound)
    for o, k in candidates[np.argsort(-cheap[cheap > bound], kind="stable")]:
        if all_ones[k]:
            return True  # the cheap bound is exact there
        if not masks[:, k].any():
            continue
        theta = Theta[:, o]
        if max(cone_value(X, masks[:, k], theta), cone_value(X, masks[:, k], -theta)) > bound:
            return True
    return False


def gated_block_norms(Xt, masks, Theta):
    """``‖(D_k X̃)ᵀ θ_o‖`` for every output and pattern: shape (K, P).

    Parameters
    ----------
    Xt : ndarray of shape (n_samples, n_features + 1)
        Inputs with the bias column, ``X̃ = [X, 1]``.
    masks : ndarray of shape (n_samples, n_patterns), bool
        The patterns ``D_k``, one per column.
    Theta : ndarray of shape (n_samples, n_outputs)
        Dual vectors ``θ_o``, one per output (column).

    Returns
    -------
    ndarray of shape (n_outputs, n_patterns)
    """
    return np.linalg.norm(masked_adjoint(Xt, masks, Theta), axis=1)
