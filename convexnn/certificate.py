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
from sklearn.utils import check_random_state

from .dual import (
    best_dual_scale,
    pattern_values,
    residual_dual_point,
    valid_gamma_bound,
)
from .losses import encode_targets
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
from .patterns.search import ascent_patterns

__all__ = ["Certificate", "certify"]


@dataclass(frozen=True)
class Certificate:
    """A lower bound on the global optimum of the non-convex training problem, and the gap to it.

    Each parameter is kept as the attribute of the same name.

    Parameters
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
