"""Certificates of global optimality for two-layer ReLU networks (:ref:`maths-gap`).

The training problem of record (:ref:`maths-objective`) is non-convex, but weak duality gives a lower bound on
its global optimum — at every width — from any dual point ``θ`` that satisfies::

    γ(θ) = max_{‖u[:d]‖ ≤ 1} |θᵀ(X̃u)_+|  ≤  n·alpha.

``γ`` is the largest, over the activation patterns ``D`` of the data, of the cone value
:func:`convexnn.cone.cone_value` for ``±θ``. :func:`certify` builds ``θ`` from a network's
residual (after the optimal output-intercept shift), computes ``γ`` over every pattern when they
can be enumerated (then the bound is *exact*: it is attained at the global optimum when the network
is optimal) or bounds it from above otherwise (a *valid relaxation*), rescales ``θ`` into the
feasible set, and reports the gap between the network's objective and the bound.

Per-pattern values are screened before the exact computation: for a pattern with
``g = X̃ᵀDθ = (g_w, g_b)``, every ``u`` of its cone with ``‖w‖ ≤ 1`` has
``θᵀDX̃u ≤ ‖g_w − g_b x_j‖`` for every ``j`` off the pattern when ``g_b > 0`` (the cone gives
``b ≤ −x_jᵀw``) and every ``j`` on it when ``g_b < 0`` (``b ≥ −x_jᵀw``). These bounds are a
non-negative least squares of :func:`~convexnn.cone.cone_value` restricted to one multiplier, so
they are never below its value; patterns whose bound cannot beat the current maximum are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.utils import check_random_state

from .cone import cone_value
from .losses import encode_targets, get_loss
from .network import forward, network_objective
from .patterns import (
    DEFAULT_MAX_PATTERNS,
    add_bias_column,
    cover_count,
    data_patterns,
    exact_arrangement,
    gaussian_patterns,
    unique_patterns,
)

__all__ = [
    "Certificate",
    "certify",
    "pattern_value_bounds",
    "pattern_values",
    "valid_gamma_bound",
    "ascent_patterns",
    "best_dual_scale",
]


@dataclass(frozen=True)
class Certificate:
    """A lower bound on the global optimum of the non-convex training problem, and the gap to it.

    Attributes
    ----------
    objective : float
        The network's training objective ``J`` (:ref:`maths-objective`).
    lower_bound : float
        A certified lower bound on the global optimum over networks of any width (weak duality).
    gap : float
        ``objective − lower_bound`` (never negative up to rounding).
    relative_gap : float
        ``gap / max(|objective|, 1e-12)``.
    exact : bool
        True when every activation pattern was enumerated and the bound is the dual of the network's
        own problem: for an optimal network it is tight. False when ``γ`` was bounded from above (a
        valid but looser relaxation), or for a multi-output network with shared neurons.
    gamma : float
        The value of the dual constraint used to rescale ``θ`` (``γ`` over every pattern when
        ``exact``, a valid upper bound on it otherwise); feasible means ``≤ n·alpha``.
    gamma_heuristic : float
        The largest ``γ`` over the patterns actually examined (every pattern when ``exact``; sampled
        and ascent patterns otherwise): a lower estimate of the true ``γ``.
    heuristic_lower_bound : float
        The dual value with ``θ`` rescaled by ``gamma_heuristic``: *not* certified unless ``exact``.
    dual_scale : float
        The factor ``s`` applied to ``θ`` (at most ``n·alpha/gamma``, chosen to maximise the dual).
    n_patterns : int
        Number of patterns examined.
    structure : str
        ``"single"`` (one output), ``"per_output"`` (each neuron feeds one output; the bound is for
        that class of networks) or ``"shared"`` (neurons shared by outputs).
    """

    objective: float
    lower_bound: float
    gap: float
    relative_gap: float
    exact: bool
    gamma: float
    gamma_heuristic: float
    heuristic_lower_bound: float
    dual_scale: float
    n_patterns: int
    structure: str


# -- per-pattern values of the dual constraint -----------------------------------------------
def _centred(X):
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

    Returns
    -------
    plus, minus : ndarray (n_patterns,)
        Never below :func:`~convexnn.cone.cone_value` of ``θ`` and ``−θ`` respectively.
    """
    Xc = _centred(X)
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
    """
    Xc = _centred(X)
    theta = np.asarray(theta, dtype=np.float64)
    radius = np.linalg.norm(Xc, axis=1)
    R = float(np.max(radius, initial=0.0))
    crossing = max(
        float(np.maximum(theta, 0.0) @ (radius + R)), float(np.maximum(-theta, 0.0) @ (radius + R))
    )
    return max(crossing, float(np.linalg.norm(Xc.T @ theta)))


def ascent_patterns(X, theta, starts, n_iter=25):
    """Patterns visited by the alternating ascent ``u ← X̃ᵀDθ/‖·‖``, ``D ← 1[X̃u ≥ 0]`` (:ref:`maths-gap`).

    Run for ``θ`` and ``−θ`` from each start gate; a heuristic search for patterns with a large
    dual-constraint value.

    Parameters
    ----------
    X : ndarray (n_samples, n_features)
    theta : ndarray (n_samples,)
    starts : ndarray (n_features + 1, n_starts)
        Start gates in the input space.

    Returns
    -------
    gates : ndarray (n_features + 1, m), masks : ndarray (n_samples, m) bool
        Every distinct non-zero pattern visited, with a gate reproducing it.
    """
    X = np.asarray(X, dtype=np.float64)
    Xt = add_bias_column(X)
    theta = np.asarray(theta, dtype=np.float64)
    gates, masks = [], []
    for sign in (1.0, -1.0):
        U = np.asarray(starts, dtype=np.float64).copy()
        for _ in range(n_iter):
            D = Xt @ U >= 0
            gates.append(U)
            masks.append(D)
            U = Xt.T @ (D * (sign * theta)[:, None])
            norms = np.linalg.norm(U[:-1], axis=0)
            norms[norms == 0] = 1.0
            U = U / norms
    G, M = np.hstack(gates), np.hstack(masks)
    return unique_patterns(G, M)


# -- the dual value and its rescaling ----------------------------------------------------------
def best_dual_scale(loss, Theta, Y, s_max):
    """The ``s ∈ [0, s_max]`` maximising the concave ``s ↦ dual(sΘ)``, and that dual value.

    Closed form for the squared loss (``s = ⟨Θ, Y⟩/‖Θ‖²`` clipped); a bounded scalar search
    otherwise, never worse than ``s_max`` itself.
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
    """``Θ = −∇ℓ(F + δ)`` with ``δ`` the optimal output-intercept shift (so ``1ᵀΘ = 0``)."""
    loss_fn = get_loss(loss)
    Theta = -loss_fn.gradient(F + loss_fn.intercept_shift(F, Y), Y)
    if loss == "squared":  # the shift is the mean residual: make the sum vanish exactly
        Theta = Theta - Theta.mean(axis=0)
    return Theta


def _heuristic_masks(X, theta_columns, neuron_gates, random_state, n_starts):
    rng = check_random_state(random_state)
    starts = [
        gaussian_patterns(X, n_starts, rng).gates,
        data_patterns(X, n_starts, rng).gates,
    ]
    if neuron_gates is not None and neuron_gates.shape[1]:
        starts.append(neuron_gates)
    S = np.hstack(starts)
    gates, masks = [S], [add_bias_column(X) @ S >= 0]
    for theta in theta_columns:
        found = ascent_patterns(X, theta, S)
        gates.append(found.gates)
        masks.append(found.masks)
    return unique_patterns(np.hstack(gates), np.hstack(masks)).masks


def certify(
    coefs,
    intercepts,
    X,
    y,
    alpha,
    loss="squared",
    *,
    patterns="auto",
    max_patterns=DEFAULT_MAX_PATTERNS,
    structure="auto",
    n_starts=200,
    random_state=None,
) -> Certificate:
    """Certify how far a two-layer ReLU network is from the global optimum of its training problem.

    Works for any network in scikit-learn's layout — ours, a fitted ``MLPRegressor`` or
    ``MLPClassifier`` (``mlp.coefs_, mlp.intercepts_``; its ``alpha`` is ``alpha * n`` here), or
    hand-made weights. The lower bound is the dual objective at the network's residual ``θ`` (after
    the optimal output intercept shift), rescaled by ``s ≤ n·alpha/γ`` to satisfy the dual
    constraint, with ``s`` chosen to maximise the dual (:ref:`maths-gap`). Weak duality makes it a lower
    bound on the objective of *every* two-layer ReLU network, of any width, on ``(X, y)``.

    Parameters
    ----------
    coefs, intercepts : list of two ndarrays
        ``[W1 (d × m), W2 (m × K)]`` and ``[b1 (m,), b2 (K,)]``.
    X : ndarray (n_samples, n_features)
    y : ndarray
        Targets as for :func:`convexnn.network_objective`.
    alpha : float
        Regularisation, Lasso convention (:ref:`maths-objective`).
    loss : {"squared", "logistic", "softmax"}
    patterns : {"auto", "exact", "heuristic"}, default="auto"
        ``"exact"`` enumerates every pattern (raises ``ValueError`` if Cover's count exceeds
        ``max_patterns``); ``"heuristic"`` bounds ``γ`` from above with :func:`valid_gamma_bound`
        and reports the largest value found on sampled and ascent patterns beside it; ``"auto"``
        enumerates when Cover's count allows it.
    max_patterns : int, default=100_000
    structure : {"auto", "shared", "per_output"}, default="auto"
        Multi-output networks only. ``"shared"``: hidden neurons may feed every output; the bound
        uses ``‖(γ_o)_o‖₂ ≥ max_{‖z‖≤1} γ(Θz)`` (γ is sublinear), valid but not exact.
        ``"per_output"``: every neuron feeds at most one output (the networks of the per-output
        convex program, :ref:`maths-programs`); the bound, with ``max_o γ_o``, is then for that class of
        networks. ``"auto"`` picks ``"per_output"`` when the second layer has that structure.
    n_starts : int, default=200
        Start gates of each kind (Gaussian, data) for the heuristic search.
    random_state : int, RandomState instance or None

    Returns
    -------
    Certificate
    """
    if len(coefs) != 2 or len(intercepts) != 2:
        raise ValueError(f"certify takes a two-layer network; got {len(coefs)} weight matrices")
    if alpha < 0:
        raise ValueError(f"alpha must be non-negative, got {alpha}")
    if patterns not in ("auto", "exact", "heuristic"):
        raise ValueError(f"patterns must be 'auto', 'exact' or 'heuristic'; got {patterns!r}")
    if structure not in ("auto", "shared", "per_output"):
        raise ValueError(f"structure must be 'auto', 'shared' or 'per_output'; got {structure!r}")
    X = np.asarray(X, dtype=np.float64)
    W1 = np.asarray(coefs[0], dtype=np.float64)
    W2 = np.asarray(coefs[1], dtype=np.float64)
    if X.ndim != 2 or W1.shape[0] != X.shape[1]:
        raise ValueError(f"X of shape {X.shape} does not match a first layer of shape {W1.shape}")
    n = X.shape[0]
    objective = network_objective(coefs, intercepts, X, y, alpha, loss)
    F = forward(coefs, intercepts, X)
    Y = encode_targets(y, loss, n_outputs=F.shape[1])
    Theta = residual_dual_point(loss, F, Y)
    K = Theta.shape[1]

    per_output_network = bool(np.all(np.count_nonzero(W2, axis=1) <= 1))
    if K == 1:
        structure = "single"
    elif structure == "auto":
        structure = "per_output" if per_output_network else "shared"
    elif structure == "per_output" and not per_output_network:
        raise ValueError(
            "structure='per_output' needs every hidden neuron to feed at most one output; "
            "this network's second layer has neurons feeding several"
        )

    if patterns == "auto":
        rank = np.linalg.matrix_rank(add_bias_column(X))
        patterns = "exact" if cover_count(n, rank) - 1 <= max_patterns else "heuristic"
    if patterns == "exact":
        _, masks, _ = exact_arrangement(X, max_patterns)
    else:
        neuron_gates = np.vstack([W1, np.asarray(intercepts[0], dtype=np.float64)[None, :]])
        masks = _heuristic_masks(X, Theta.T, neuron_gates, random_state, n_starts)

    found = np.array(
        [np.max(pattern_values(X, masks, Theta[:, o])[0], initial=0.0) for o in range(K)]
    )
    if patterns == "exact":
        gammas = found
    else:
        gammas = np.array([valid_gamma_bound(X, Theta[:, o]) for o in range(K)])
    combine = np.linalg.norm if structure == "shared" else np.max
    gamma, gamma_found = float(combine(gammas)), float(combine(found))

    def bound(g):
        s_max = 1.0 if g <= n * alpha else n * alpha / g
        return best_dual_scale(loss, Theta, Y, s_max)

    scale, lower = bound(gamma)
    _, heuristic_lower = bound(gamma_found)
    gap = objective - lower
    return Certificate(
        objective=float(objective),
        lower_bound=float(lower),
        gap=float(gap),
        relative_gap=float(gap / max(abs(objective), 1e-12)),
        exact=bool(patterns == "exact" and structure != "shared"),
        gamma=gamma,
        gamma_heuristic=gamma_found,
        heuristic_lower_bound=float(heuristic_lower),
        dual_scale=float(scale),
        n_patterns=int(masks.shape[1]),
        structure=structure,
    )
