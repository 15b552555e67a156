"""The ``mlp`` sampler: the activation patterns of a scikit-learn MLP trained on the objective of
record (:ref:`maths-patterns`), and the quick MLP fits pattern generation draws candidates from."""

from __future__ import annotations

import copy
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from .core import Patterns, far_centroid, gate_patterns

__all__ = ["fit_mlp", "sampler_mlps", "mlp_count", "mlp_patterns", "hidden_gates", "mlp_gates"]


#: Targets of the squared loss are centred for the MLP where their mean lies farther from the
#: origin than this many times their spread (:func:`fit_mlp`).
TARGET_SPREADS = 10.0
#: Targets of the squared loss whose spread is below this are scaled to unit spread for the MLP
#: (:func:`fit_mlp`).
TARGET_MIN_SPREAD = 0.5


def fit_mlp(X, Y, loss, alpha, width, random_state=None, centre=True, **params):
    """A scikit-learn MLP with ``width`` hidden ReLU neurons trained on the objective of record.

    ``MLPRegressor``/``MLPClassifier`` with ``alpha * n_samples`` minimise the same objective as
    the convex program at ``alpha`` (:ref:`maths-objective`). ``params`` go to the MLP (default:
    L-BFGS, at most 2000 iterations); its convergence warning is silenced. Inputs far from the
    origin (``convexnn.patterns.core.far_centroid``) are centred for the fit (unless ``centre``
    is False), and the hidden biases of the returned MLP shifted back; targets of the squared
    loss farther from the origin than ``TARGET_SPREADS`` times their spread likewise, and the
    output biases shifted back; targets of spread below ``TARGET_MIN_SPREAD`` are scaled to unit
    spread (with ``alpha`` divided by the spread: the same objective up to a factor) and the
    weights mapped back. It is a network on ``X`` and ``Y`` themselves.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The training inputs.
    Y : ndarray of shape (n_samples, n_outputs)
        Targets as :func:`~convexnn.losses.encode_targets` returns them for ``loss``.
    loss : {"squared", "logistic", "softmax"}
        The loss of the objective: ``"squared"`` trains an ``MLPRegressor``, the others an
        ``MLPClassifier``.
    alpha : float
        Weight decay in the Lasso convention; the MLP gets ``alpha * n_samples``.
    width : int
        Number of hidden neurons.
    random_state : int, RandomState instance or None, default=None
        Seeds the MLP's initialisation.
    centre : bool, default=True
        Whether inputs far from the origin are centred for the fit.
    **params
        Further keyword arguments of the MLP (``solver``, ``max_iter``, ``batch_size``, ...).

    Returns
    -------
    MLPRegressor or MLPClassifier
        The fitted MLP.
    """
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    # Inputs far from the origin (years, coordinates, raw measurements) are centred for the
    # MLP, its hidden biases shifted back: the same objective (the biases are not penalised),
    # but scikit-learn's initial hyperplanes pass near the origin, and there most of them missed
    # the data, every neuron on or off on every sample (XOR labels on features offset by 1e3:
    # training accuracy 0.52, the zero network's J). Nearer the origin the MLP is scikit-learn's
    # on X itself (the promise of the estimators' ``sampler``).
    X = np.asarray(X)
    inputs, shift = X, far_centroid(X) if centre else None
    if shift is not None:
        shift = shift.astype(X.dtype)
        inputs = X - shift
    # Targets far from the origin likewise (the output biases are not penalised either): the
    # MLP starts with outputs near zero, and on y + 1e3 (y a smooth function of standardised
    # features, spread 1.1) the certified optimum over its patterns had 9 neurons where the fit
    # on y has 46, and twice its J (1e6: six times). "Far" is ten spreads here: the loss grows
    # with the offset, +2-7 % at 30, +18-33 % at 100 (three seeds), but at the 2-7 spreads of
    # the raw UCI targets the centred fit was as often worse as better (bostonHousing: a J
    # 25 % higher over four seeds, concrete 12 % lower)
    targets = Y
    target_shift = far_centroid(Y, TARGET_SPREADS) if loss == "squared" else None
    if target_shift is not None:
        targets = Y - target_shift
    # Targets of spread s below TARGET_MIN_SPREAD are scaled to unit spread, with alpha / s:
    # the same objective times 1/s² for the network with every weight divided by √s and the
    # output bias by s (a ReLU network is 2-homogeneous in its two layers). scikit-learn's
    # L-BFGS stops at an absolute gradient (tol = 1e-4), which targets of small scale reach at
    # once: on a smooth target times s (alpha times s, the same program up to scale; three
    # seeds) the certified optimum over the MLP's patterns had a J 1-2 % above the unit-scale
    # fit's at s = 0.3, 15 % at 0.1 and three times it at 0.03. Standardised targets (s = 1 to
    # rounding) keep scikit-learn's MLP
    scale = 1.0
    if loss == "squared":
        spread = float(np.sqrt(np.mean(np.var(Y, axis=0, dtype=np.float64))))
        scale = spread if 0.0 < spread < TARGET_MIN_SPREAD else 1.0
        if scale != 1.0:
            targets = targets / scale
    params = {"solver": "lbfgs", "max_iter": 2000, **params}
    common = dict(hidden_layer_sizes=(width,), alpha=alpha * X.shape[0] / scale,
                  random_state=random_state)
    # one BLAS thread: the MLP's products are small, and two threads on two cores made the
    # L-BFGS fit 7× slower (breast cancer, width 100: 2.0 s against 0.29 s)
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        if loss == "squared":
            mlp = MLPRegressor(**common, **params).fit(
                inputs, targets if targets.shape[1] > 1 else targets[:, 0])
        else:
            labels = Y[:, 0].astype(int) if loss == "logistic" else np.argmax(Y, axis=1)
            mlp = MLPClassifier(**common, **params).fit(inputs, labels)
    if scale != 1.0:  # in the MLP's dtype, as the shifts below
        dtype = mlp.coefs_[0].dtype
        root, scale = dtype.type(np.sqrt(scale)), dtype.type(scale)
        mlp.coefs_ = [mlp.coefs_[0] * root, mlp.coefs_[1] * root]
        mlp.intercepts_ = [mlp.intercepts_[0] * root, mlp.intercepts_[1] * scale]
    if shift is not None:
        mlp.intercepts_[0] = mlp.intercepts_[0] - shift @ mlp.coefs_[0]
    if target_shift is not None:
        mlp.intercepts_[-1] = mlp.intercepts_[-1] + target_shift.astype(mlp.intercepts_[-1].dtype)
    return mlp


def mlp_count(X, loss) -> int:
    """How many MLPs :func:`sampler_mlps` trains on ``X`` for ``loss``: two for the squared loss
    on inputs far from the origin, else one (the estimators' memory guard counts their gates).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The inputs.
    loss : {"squared", "logistic", "softmax"}
        The program's loss.

    Returns
    -------
    int
        1 or 2.
    """
    return 2 if loss == "squared" and far_centroid(np.asarray(X)) is not None else 1


def sampler_mlps(X, Y, loss, alpha, width, random_state=None, **params):
    """The MLPs whose hidden neurons give ``sampler="mlp"`` its patterns: :func:`fit_mlp`'s and,
    for the squared loss where that one was trained on centred features (inputs far from the
    origin), also the MLP on ``X`` itself, with the same ``random_state``.

    Both are feasible points of the program over the union of their patterns, so its optimum is
    at least as good as either. On centred features the fit lands in other local optima: on
    ``make_friedman1`` problems (features in [0, 1], 60-900 samples, 5-30 features, 52 seeds) the
    certified optimum over the centred MLP's patterns alone had a J 3 % below the optimum over
    those of the MLP on ``X`` (median), but above scikit-learn's L-BFGS MLP of the same seed on
    ``X`` itself on 6 of the 52, by up to 11 %. Over both pattern sets it is below either MLP on
    all 52, 1 % below the centred patterns' optimum (median), at 1.7 times the fit time; on
    features of raw scales (``benchmarks/random_problems.py``, seeds 46-51) 17-45 % below on five
    of six, at 0.2 to 4 times the time. Classifiers keep the one MLP: their centred MLP's patterns
    were at or below the MLP on ``X`` on every set measured, and the union made one fit of eight
    classes far apart (``separated``, seed 48) stall at a gap of 0.04.

    Parameters
    ----------
    X, Y, loss, alpha, width, random_state, **params
        As :func:`fit_mlp`.

    Returns
    -------
    list of MLPRegressor or MLPClassifier
        One or two fitted MLPs, :func:`fit_mlp`'s first.
    """
    second = mlp_count(X, loss) == 2
    # a RandomState instance gives the second MLP its state before the first drew from it
    state = copy.deepcopy(random_state) if second else None
    mlps = [fit_mlp(X, Y, loss, alpha, width, random_state, **params)]
    if second:
        mlps.append(fit_mlp(X, Y, loss, alpha, width, state, centre=False, **params))
    return mlps


def mlp_patterns(X, Y, loss, alpha, n_gates, random_state=None, max_iter=2000) -> Patterns:
    """The activation patterns of an L-BFGS-trained scikit-learn MLP's hidden neurons (the
    estimators' ``sampler="mlp"``).

    The MLP has ``n_gates`` neurons and is trained on the same objective (:func:`fit_mlp`; for
    the squared loss on inputs far from the origin two MLPs, :func:`sampler_mlps`, and their
    patterns together). With one
    output (squared or logistic loss) its weights map to a feasible point of the exact ReLU program
    over these patterns, so that program's optimum is a network at least as good as the MLP. (With
    several outputs the program's neurons each feed one output while the MLP's are shared, and
    the program may end above the MLP.) ``max_iter`` bounds the MLP's L-BFGS iterations.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The training inputs.
    Y : ndarray of shape (n_samples, n_outputs)
        Targets as :func:`~convexnn.losses.encode_targets` returns them for ``loss``.
    loss : {"squared", "logistic", "softmax"}
        The loss of the objective: ``"squared"`` trains an ``MLPRegressor``, the others an
        ``MLPClassifier``.
    alpha : float
        Weight decay in the Lasso convention; the MLP gets ``alpha * n_samples``.
    n_gates : int
        Number of hidden neurons of the MLP; at most this many patterns are returned (duplicates
        and the patterns of dead neurons are dropped).
    random_state : int, RandomState instance or None, default=None
        Seeds the MLP's initialisation.
    max_iter : int, default=2000
        Most L-BFGS iterations of the MLP.

    Returns
    -------
    Patterns
    """
    X = np.asarray(X, dtype=np.float64)
    mlps = sampler_mlps(X, Y, loss, alpha, n_gates, random_state, max_iter=max_iter)
    return gate_patterns(X, hidden_gates(*mlps))


def hidden_gates(mlp, *more):
    """The hidden neurons ``[w; b]`` of a fitted scikit-learn MLP, as gates (bias last); with
    ``more`` MLPs, theirs after its own.

    Parameters
    ----------
    mlp, *more : MLPRegressor or MLPClassifier
        Fitted MLPs on the same features (their first layers are read).

    Returns
    -------
    ndarray of shape (n_features + 1, n_hidden)
        ``n_hidden`` the MLPs' hidden neurons together.
    """
    return np.hstack([np.vstack([m.coefs_[0], m.intercepts_[0][None, :]]) for m in (mlp, *more)])


def mlp_gates(X, Y, loss, alpha, width, random_state):
    """Hidden neurons ``[w; b]`` of a quick full-batch Adam fit of a scikit-learn MLP.

    The fit takes 200 epochs at learning rate ``1e-2`` (:func:`fit_mlp`).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The training inputs.
    Y : ndarray of shape (n_samples, n_outputs)
        Targets as :func:`~convexnn.losses.encode_targets` returns them for ``loss``.
    loss : {"squared", "logistic", "softmax"}
        The loss of the objective: ``"squared"`` trains an ``MLPRegressor``, the others an
        ``MLPClassifier``.
    alpha : float
        Weight decay in the Lasso convention; the MLP gets ``alpha * n_samples``.
    width : int
        Number of hidden neurons, hence of gates.
    random_state : int, RandomState instance or None
        Seeds the MLP's initialisation and shuffling.

    Returns
    -------
    ndarray of shape (n_features + 1, width)
    """
    return hidden_gates(fit_mlp(
        X, Y, loss, alpha, width, random_state,
        solver="adam", batch_size=X.shape[0], learning_rate_init=1e-2, max_iter=200,
    ))  # fmt: skip
