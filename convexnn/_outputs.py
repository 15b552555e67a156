"""What the two-layer and the deep estimators share on top of a network in scikit-learn's layout:
one base (:class:`NetworkEstimator`: validation, the forward pass, tags, the fitted attributes of
a solve, the one convergence warning, the conversion to a fitted MLP), predictions from the
network's outputs, and the encoding of class labels."""

from __future__ import annotations

import functools
import time
import warnings
from functools import partial

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelBinarizer, LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .distributed import is_dask_array
from .losses import encode_targets
from .network import forward


def validated_fit(fit):
    """Decorate ``fit`` to check the estimator's parameters against its
    ``_parameter_constraints`` first (scikit-learn's validation, with its error messages)."""

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        self._validate_params()
        return fit(self, *args, **kwargs)

    return wrapper

__all__ = [
    "ClassifierOutputsMixin",
    "NetworkEstimator",
    "RegressorOutputsMixin",
    "fill_mlp",
    "validated_fit",
]


def fill_mlp(mlp, estimator, alpha_sklearn):
    """Give a scikit-learn MLP the fitted weights of ``estimator`` (any depth); returns ``mlp``.

    A hidden layer without neurons keeps one dead neuron: scikit-learn needs every layer at least
    one unit wide.
    """
    check_is_fitted(estimator, "coefs_")
    coefs = [c.copy() for c in estimator.coefs_]
    intercepts = [b.copy() for b in estimator.intercepts_]
    for layer in range(len(coefs) - 1):
        if coefs[layer].shape[1] == 0:
            coefs[layer] = np.zeros((coefs[layer].shape[0], 1))
            intercepts[layer] = np.zeros(1)
            coefs[layer + 1] = np.zeros((1, coefs[layer + 1].shape[1]))
    mlp.set_params(
        hidden_layer_sizes=tuple(c.shape[1] for c in coefs[:-1]),
        activation="relu",
        solver="lbfgs",
        alpha=alpha_sklearn,
    )
    mlp.coefs_, mlp.intercepts_ = coefs, intercepts
    mlp.n_features_in_ = estimator.n_features_in_
    if hasattr(estimator, "feature_names_in_"):
        mlp.feature_names_in_ = estimator.feature_names_in_
    mlp.n_layers_ = len(coefs) + 1
    mlp.n_outputs_ = coefs[-1].shape[1]
    mlp.n_iter_ = getattr(estimator, "n_iter_", 0)
    mlp.t_ = 0
    mlp.loss_ = estimator.objective_
    mlp.best_loss_ = estimator.objective_
    mlp.loss_curve_ = [estimator.objective_]
    return mlp


class NetworkEstimator(BaseEstimator):
    """The base of every convexnn estimator: a fitted network in scikit-learn's layout
    (``coefs_``, ``intercepts_``, and ``gates_`` for a gated network), trained by solving convex
    programs to a certified relative duality gap ``tol``.

    Subclasses write ``fit`` from their own stages and record each solve with
    :meth:`_record_solve`; everything a fitted network offers (validation of ``X``, the forward
    pass, tags, :meth:`to_mlp`, the convergence warning) is here once.
    """

    def _check_X_y(self, X, y, **kwargs):
        return validate_data(
            self, X, y, dtype=[np.float64, np.float32], ensure_min_samples=2, **kwargs
        )

    def _forward(self, X):
        check_is_fitted(self, "coefs_")
        gates = getattr(self, "gates_", None)
        if is_dask_array(X):  # a lazy Dask array of the outputs, chunk by chunk
            if X.ndim != 2 or X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has shape {X.shape}, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input"
                )
            X = X.rechunk({1: -1})
            return X.map_blocks(
                _forward_block, self.coefs_, self.intercepts_, gates, dtype=np.float64,
                chunks=(X.chunks[0], (self.coefs_[-1].shape[1],)),
            )  # fmt: skip
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return forward(self.coefs_, self.intercepts_, X, gates)

    def _record_solve(
        self, gap, status, solver, n_iter, gap_history, start, where="", X=None, Y=None
    ):
        """Set the fitted attributes every estimator has (``gap_``, ``status_``, ``solver_``,
        ``n_iter_``, ``gap_history_``, ``fit_time_``) and warn once, with the gap reached (and
        ``where``, e.g. which blocks), if the fit stopped above ``tol``; on training features
        ``X`` of very different or extreme scales, or regression targets ``Y`` of a large scale,
        the warning says to standardise them."""
        self.gap_, self.status_, self.solver_, self.n_iter_ = gap, status, solver, n_iter
        self.gap_history_ = list(gap_history)
        self.fit_time_ = time.perf_counter() - start
        if status != "optimal" or not gap <= self.tol:
            warnings.warn(
                f"{type(self).__name__} stopped with certified relative duality gap {gap:.3g}"
                f"{where} (tol={self.tol:g}, status {status!r}, solver {solver}); "
                f"{_advice(status, X, Y, self.alpha)}",
                ConvergenceWarning,
                stacklevel=5,
            )

    def _check_exportable(self):
        """Raise when the fitted network has no scikit-learn equivalent (none by default)."""

    def to_mlp(self):
        """A fitted :class:`~sklearn.neural_network.MLPRegressor` (regressors) or
        :class:`~sklearn.neural_network.MLPClassifier` (classifiers) with the same weights.

        Its predictions equal this model's, and its ``alpha`` is ``alpha * n_samples``
        (scikit-learn's convention for the same weight decay).

        Returns
        -------
        MLPRegressor or MLPClassifier
        """
        from sklearn.neural_network import MLPClassifier, MLPRegressor

        check_is_fitted(self, "coefs_")
        self._check_exportable()
        classifier = is_classifier(self)
        mlp = MLPClassifier() if classifier else MLPRegressor()
        fill_mlp(mlp, self, self.alpha * self._n_train)
        if classifier:
            return self._label_mlp(mlp)
        mlp.out_activation_ = "identity"
        return mlp

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


def _forward_block(X, coefs, intercepts, gates):
    return forward(coefs, intercepts, np.asarray(X), gates)


def _rowwise(F, fn, n_columns=None, dtype=np.float64):
    """``fn(F)`` for an array of outputs, or block by block (lazily) for a Dask array; ``fn``
    returns ``n_columns`` columns per row (None: one value per row) of ``dtype``."""
    if not is_dask_array(F):
        return fn(F)
    if n_columns is None:
        return F.map_blocks(fn, drop_axis=1, dtype=dtype)
    return F.map_blocks(fn, chunks=(F.chunks[0], (n_columns,)), dtype=dtype)


class RegressorOutputsMixin:
    """``predict`` of a regressor whose ``_forward(X)`` returns the network's outputs, shaped as
    the training targets were (1-D targets give 1-D predictions)."""

    def predict(self, X):
        """Network output for ``X``.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            Inputs; a Dask array gives a Dask array.
        """
        F = self._forward(X)
        return F.ravel() if self._y_was_1d else F


class ClassifierOutputsMixin:
    """``decision_function``, ``predict_proba`` and ``predict`` of a classifier whose ``_forward(X)``
    returns the network's outputs: one (sigmoid) for two classes, one per class (softmax) else."""

    def _encode_labels(self, y):
        """Set ``classes_`` and return the targets and loss for labels ``y`` of any type."""
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        n_classes = self.classes_.shape[0]
        if n_classes < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the data; "
                f"got 1 class: {self.classes_[0]!r}"
            )
        loss = "logistic" if n_classes == 2 else "softmax"
        return encode_targets(encoder.transform(y), loss, n_classes), loss

    def _label_mlp(self, mlp):
        """The class-label attributes of a fitted :class:`~sklearn.neural_network.MLPClassifier`."""
        mlp.classes_ = self.classes_
        mlp._label_binarizer = LabelBinarizer().fit(self.classes_)
        mlp.out_activation_ = "logistic" if self.classes_.shape[0] == 2 else "softmax"
        return mlp

    def decision_function(self, X):
        """Network output before the sigmoid/softmax: (n_samples,) for binary, else (n, n_classes).

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            Inputs; a Dask array gives a Dask array.
        """
        F = self._forward(X)
        return F.ravel() if F.shape[1] == 1 else F

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes).

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            Inputs; a Dask array gives a Dask array.
        """
        return _rowwise(self._forward(X), _probabilities, self.classes_.shape[0])

    def predict(self, X):
        """Most probable class for each sample.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            Inputs; a Dask array gives a Dask array.
        """
        F = self._forward(X)
        return _rowwise(F, partial(_labels, self.classes_), dtype=self.classes_.dtype)


def _probabilities(F):
    if F.shape[1] == 1:
        p = expit(F[:, 0])
        return np.column_stack([1.0 - p, p])
    return softmax(F, axis=1)


def _labels(classes, F):
    index = (F[:, 0] > 0).astype(int) if F.shape[1] == 1 else np.argmax(F, axis=1)
    return classes[index]


#: Features whose root mean squares, or whose standard deviations, are more than this far apart,
#: or of which one's root mean square exceeds it, are named in the warning of a fit that stopped
#: above ``tol`` (:func:`_scale_advice`).
FEATURE_SCALE_SPREAD = 1e3


def _advice(status, X, Y=None, alpha=None):
    """What the warning of a fit that stopped above ``tol`` advises: to standardise features of
    very different scales (:func:`_scale_advice`) and regression targets ``Y`` of a large scale
    (:func:`_target_advice`), and more iterations only where the budget ran out. A solver that
    stalled had stopped making progress before its budget, and more iterations stall the same:
    the default classifier on nine samples of five classes far apart at ``alpha=4e-8`` stalled
    at a certified gap of 0.318 after 102 Newton iterations, and was advised to increase
    ``max_iter``; with ``max_iter=1000`` it stops at the same iteration and gap
    (``tests/test_bad_input.py``)."""
    parts = [a for a in (_scale_advice(X), _target_advice(Y, alpha)) if a]
    scale = ". ".join(parts[:1] + [a[0].upper() + a[1:] for a in parts[1:]]) or None
    if status == "max_iter":
        return f"{scale}, or increase max_iter." if scale else "increase max_iter or loosen tol."
    stop = ("the solver stopped making progress, so more iterations will not help; a larger "
            "alpha is easier to certify.")
    return f"{scale}. {stop[0].upper()}{stop[1:]}" if scale else stop


def _target_advice(Y, alpha):
    """The advice of a regression fit that stopped above ``tol`` when its targets ``Y`` have a
    standard deviation ``s`` above ``FEATURE_SCALE_SPREAD``, else None. Weight decay is not
    scale invariant: the program on ``Y`` is the one on ``Y / s`` at ``alpha / s`` (its objective
    times ``s²``), and the network then fits the targets so closely that a relative gap of
    ``tol`` asks for more digits than double precision holds. The default regressor on 60
    samples of ``sin(2x₁) + x₂²`` times 1e8 stopped at a certified gap of 1.05e-6 (objective
    2e-9 of the constant model's), times 1e12 at 0.9, with the advice that a larger alpha is
    easier to certify but not which; on the same targets times 1e4 or less it certifies."""
    if Y is None or alpha is None:
        return None
    Y = np.asarray(Y, dtype=np.float64)
    spread = float(np.max(np.std(Y.reshape(Y.shape[0], -1), axis=0), initial=0.0))
    if not spread > FEATURE_SCALE_SPREAD:
        return None
    return (
        f"the targets' standard deviation is {spread:.2g}, and weight decay is not scale "
        f"invariant: alpha={alpha:g} on these targets acts as alpha={alpha / spread:.2g} on "
        "standardised ones, which is hard to certify. Standardise the targets "
        "(sklearn.compose.TransformedTargetRegressor with a StandardScaler) or scale alpha with "
        "them"
    )


def _scale_advice(X):
    """The advice of a fit that stopped above ``tol`` when its features ``X`` have root mean
    squares, or standard deviations, more than ``FEATURE_SCALE_SPREAD`` apart, or a root mean
    square above it, else None. Weight decay is not scale invariant: a feature of scale 1e6 is
    all but unpenalised beside one of scale 0.1, and the interior point then may not certify
    (the default regressor on the first 12,000 training rows of protein-tertiary-structure's
    split1 as shipped: a certified gap of 0.999 after 100 Newton iterations; standardised,
    2.9e-8 in 25 s). The deviations count too: features that vary by 1e-2 around offsets of 10
    beside one that varies by 1e3 have root mean squares only 100 apart (the default classifier
    at ``alpha=1e-4`` on such features stopped at a certified gap of 0.5, standardised it
    certifies in a second). At 1e4 the advice missed R's ``Ecdat::Train`` as published (root
    mean squares 0.97 to 3.6e3): the default classifier stalled at a certified gap of 0.49 with
    the advice to increase ``max_iter`` or loosen ``tol``, where more iterations stall the same
    and standardised features certify in 6 s."""
    if X is None:  # else the validated training features (n_samples, n_features)
        return None
    X = np.asarray(X, dtype=np.float64)
    rms = np.sqrt(np.mean(np.square(X), axis=0))
    scales = rms[rms > 0]
    if scales.size == 0:
        return None
    low, high = float(scales.min()), float(scales.max())
    kind = "scales (root mean squares)"
    if high <= FEATURE_SCALE_SPREAD * low and high <= FEATURE_SCALE_SPREAD:
        spreads = np.std(X, axis=0)
        spreads = spreads[spreads > 1e-10 * rms]  # constant features (to rounding) do not count
        if spreads.size == 0 or spreads.max() <= FEATURE_SCALE_SPREAD * spreads.min():
            return None
        low, high = float(spreads.min()), float(spreads.max())
        kind = "spreads (standard deviations)"
    return (
        f"the features' {kind} range from {low:.2g} to {high:.2g}, and weight "
        "decay is not scale invariant: such programs are hard to certify. Standardise the "
        "features (sklearn.preprocessing.StandardScaler)"
    )
