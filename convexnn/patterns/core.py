"""Activation patterns as data: :class:`Patterns`, and the patterns a set of gates induces
(:ref:`maths-patterns`); with the standardisation and tie-breaking every sampler shares."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "Patterns",
    "add_bias_column",
    "unique_patterns",
    "gate_patterns",
    "settled_gates",
    "standardisation",
    "far_centroid",
    "to_input_space",
    "tie_breaking_steps",
]


def add_bias_column(X):
    """``X̃ = [X, 1]``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)

    Returns
    -------
    ndarray of shape (n_samples, n_features + 1), of ``X``'s dtype
    """
    X = np.asarray(X)
    return np.hstack([X, np.ones((X.shape[0], 1), dtype=X.dtype)])


@dataclass(frozen=True)
class Patterns:
    """Gates and their activation patterns on the training data.

    Each parameter is kept as the attribute of the same name.

    Parameters
    ----------
    gates : ndarray of shape (n_features + 1, n_patterns)
        Gate vectors ``g = [w, b]`` in the original input space; pattern ``k`` is ``X̃ gates[:, k] ≥ 0``.
    masks : ndarray of shape (n_samples, n_patterns), bool
        The patterns on the training data.
    """

    gates: np.ndarray
    masks: np.ndarray

    @property
    def n_patterns(self) -> int:
        return self.masks.shape[1]

    def subset(self, index) -> Patterns:
        return Patterns(self.gates[:, index], self.masks[:, index])


def unique_patterns(gates, masks):
    """Drop all-zero patterns and repeated patterns (keeping the first gate of each).

    Parameters
    ----------
    gates : ndarray of shape (n_features + 1, n_gates)
        Gate vectors, bias last, one per column of ``masks``.
    masks : array-like of shape (n_samples, n_gates), bool
        The pattern each gate induces on the training data.

    Returns
    -------
    Patterns
        The kept gates and patterns, in their original order.
    """
    masks = np.asarray(masks, dtype=bool)
    keep = masks.any(axis=0)
    gates, masks = gates[:, keep], masks[:, keep]
    if masks.shape[1] == 0:
        return Patterns(gates, masks)
    packed = np.packbits(masks, axis=0)
    _, first = np.unique(packed, axis=1, return_index=True)
    first = np.sort(first)
    return Patterns(np.ascontiguousarray(gates[:, first]), np.ascontiguousarray(masks[:, first]))


def gate_patterns(X, gates) -> Patterns:
    """The distinct non-zero patterns ``1[X̃g ≥ 0]`` that ``gates`` (bias last) induce on ``X``.

    A sample within rounding of a gate's hyperplane (``|x̃ᵀg|`` below ``1e-10 Σ_j |x̃_j g_j|``) would
    take either side depending on how the product is summed, and a gated network evaluated on its
    own training data could then disagree with its program: such a gate's bias is raised by half
    the smallest clear ``|x̃ᵀg|``, which moves the ties clearly onto the active side and no other
    sample across (a gate with no such room is dropped).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The training inputs.
    gates : array-like of shape (n_features + 1, n_gates)
        Gate vectors ``g = [w, b]`` in the input space of ``X``, bias last.

    Returns
    -------
    Patterns
    """
    gates, masks, usable, _ = settled_gates(X, gates)
    return unique_patterns(gates[:, usable], masks[:, usable])


def settled_gates(X, gates):
    """Every gate's pattern on ``X``, ties on its hyperplane settled as :func:`gate_patterns`
    settles them, gate by gate (no pattern dropped or merged).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The training inputs.
    gates : array-like of shape (n_features + 1, n_gates)
        Gate vectors ``g = [w, b]`` in the input space of ``X``, bias last.

    Returns
    -------
    gates : ndarray of shape (n_features + 1, n_gates)
        The gates, a tied gate's bias raised.
    masks : ndarray of shape (n_samples, n_gates), bool
        ``1[X̃g ≥ 0]`` for the returned gates.
    usable : ndarray of shape (n_gates,), bool
        False for a gate whose ties have no room to be moved (its mask is then the unsettled one).
    ties : ndarray of shape (n_samples, n_gates), bool
        The samples within rounding of each original gate's hyperplane.
    """
    Xt = add_bias_column(np.asarray(X))
    gates = np.array(gates, dtype=np.float64)
    Z = Xt @ gates
    bound = 1e-10 * (np.abs(Xt) @ np.abs(gates))
    ties = np.abs(Z) <= bound
    usable = np.ones(gates.shape[1], dtype=bool)
    tied = np.flatnonzero(ties.any(axis=0))
    for k in tied:
        clear = np.abs(Z[~ties[:, k], k])
        step = 0.5 * float(clear.min()) if clear.size else 1e3 * float(bound[:, k].max())
        if step > 10 * float(bound[ties[:, k], k].max()):
            gates[-1, k] += step
        else:  # no room between the ties and the other samples: the gate is not usable
            usable[k] = False
    if tied.size:
        Z[:, tied] = Xt @ gates[:, tied]
    return gates, Z >= 0, usable, ties


def standardisation(X):
    """Mean and scale of every feature. The scale is at least ``1e-4 |mean|``: a gate drawn for
    the standardised data is used on ``X`` itself, where its bias carries ``mean/scale`` times its
    weights, and that cancellation loses ``eps·|mean|/scale`` of every product (dividing by the
    rounding noise of a constant feature made gates of ±1e15 whose masks were noise; at
    ``|mean|/scale = 1e8`` the ``data`` sampler's tie-breaking nudges were lost). A constant
    feature keeps scale 1.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)

    Returns
    -------
    mean, scale : ndarray of shape (n_features,)
    """
    X = np.asarray(X, dtype=np.float64)
    mean = X.mean(axis=0)
    scale = np.maximum(X.std(axis=0), 1e-4 * np.abs(mean))
    scale[scale == 0] = 1.0
    return mean, scale


def far_centroid(X, factor=1.0):
    """The mean of ``X`` when it lies farther from the origin than ``factor`` times the data's
    spread (``‖mean‖ > factor·√Σ var``), else None.

    A network's hidden biases are not penalised, so the same network is found on ``X − mean``
    with its biases shifted back. Far from the origin, the bias is all but collinear with the
    features and hyperplanes through the origin miss the data: the MLP sampler and the interior
    point work on centred features there. Nearer the origin they work on ``X`` itself.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    factor : float, default=1.0
        How many spreads away the mean must lie.

    Returns
    -------
    ndarray of shape (n_features,) (float64), or None
    """
    mean = np.mean(X, axis=0, dtype=np.float64)
    spread = np.sqrt(np.sum(np.var(X, axis=0, dtype=np.float64)))
    return mean if np.linalg.norm(mean) > factor * spread else None


def to_input_space(G, mean, scale):
    """Gates for the standardised data ``[(X − mean)/scale, 1]`` as gates for ``[X, 1]``.

    Parameters
    ----------
    G : ndarray of shape (n_features + 1, n_gates)
        Gates of the standardised data, bias last.
    mean, scale : ndarray of shape (n_features,)
        The standardisation (:func:`standardisation`).

    Returns
    -------
    ndarray of shape (n_features + 1, n_gates)
        The same hyperplanes in the input space.
    """
    d = mean.shape[0]
    gates = np.empty_like(G)
    gates[:d] = G[:d] / scale[:, None]
    gates[d] = G[d] - (mean / scale) @ G[:d]
    return gates


def tie_breaking_steps(C, v, rho, ties, fraction=0.5):
    """A safe step along ``rho`` from the rays ``v``: ``fraction`` of the largest one.

    For ray ``v_j`` (rows of ``C`` with ``C_i v_j = 0`` are the ties) and direction ``rho_j``, a
    step ``ε < min_{i not a tie} |C_i v_j| / |C_i rho_j|`` keeps the sign of every other row;
    ``fraction`` of it leaves a margin of at least ``(1 − fraction)|C_i v_j|`` on them. The step
    is also at most ``fraction`` of the smallest ``|C_i v_j|`` off the ties, so that a gate's
    margins stay of the order of its norm.

    Parameters
    ----------
    C : ndarray (n, r)
    v : ndarray (m, r)
    rho : ndarray (m, r, q)
    ties : ndarray (n, m), bool
    fraction : float, default=0.5
        Fraction of the largest safe step taken (in ``(0, 1)`` for a margin).

    Returns
    -------
    ndarray (m, q)
    """
    proj = np.abs(C @ v.T)  # (n, m)
    step = np.abs(np.einsum("nr,mrq->nmq", C, rho))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ties[:, :, None] | (step == 0), np.inf, proj[:, :, None] / step)
    eps = fraction * np.min(ratio, axis=0, initial=np.inf)
    # nor longer than the smallest margin off the ties: where rho is orthogonal to a row but for
    # rounding (1e-16), the step came out as 1e15, the gate lay along rho, and that row's margin
    # was 1e-16 of the gate's norm; float32 data then flipped its side (fuzzing seed 1296138:
    # two samples, the gated network's J 9.9 for its program's 2.3)
    off = np.min(np.where(ties, np.inf, proj), axis=0, initial=np.inf)  # (m,)
    eps = np.minimum(eps, fraction * off[:, None])
    return np.where(np.isfinite(eps), eps, 1.0)
