"""What the two-layer and the deep estimators share on top of a network in scikit-learn's layout:
predictions from its outputs, the encoding of class labels, and the conversion to a fitted MLP."""

from __future__ import annotations

import functools

import numpy as np
from scipy.special import expit, softmax
from sklearn.preprocessing import LabelBinarizer, LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from .losses import encode_targets


def validated_fit(fit):
    """Decorate ``fit`` to check the estimator's parameters against its
    ``_parameter_constraints`` first (scikit-learn's validation, with its error messages)."""

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        self._validate_params()
        return fit(self, *args, **kwargs)

    return wrapper

__all__ = ["ClassifierOutputsMixin", "RegressorOutputsMixin", "fill_mlp", "validated_fit"]


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


class RegressorOutputsMixin:
    """``predict`` of a regressor whose ``_forward(X)`` returns the network's outputs, shaped as
    the training targets were (1-D targets give 1-D predictions)."""

    def predict(self, X):
        """Network output for ``X``."""
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
        """Network output before the sigmoid/softmax: (n_samples,) for binary, else (n, n_classes)."""
        F = self._forward(X)
        return F.ravel() if F.shape[1] == 1 else F

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes)."""
        F = self._forward(X)
        if F.shape[1] == 1:
            p = expit(F[:, 0])
            return np.column_stack([1.0 - p, p])
        return softmax(F, axis=1)

    def predict(self, X):
        """Most probable class for each sample."""
        F = self._forward(X)
        index = (F[:, 0] > 0).astype(int) if F.shape[1] == 1 else np.argmax(F, axis=1)
        return self.classes_[index]
