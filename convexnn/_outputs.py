"""Class predictions from network outputs, shared by the two-layer and the deep classifiers."""

from __future__ import annotations

import numpy as np
from scipy.special import expit, softmax

__all__ = ["ClassifierOutputsMixin"]


class ClassifierOutputsMixin:
    """``decision_function``, ``predict_proba`` and ``predict`` of a classifier whose ``_forward(X)``
    returns the network's outputs: one (sigmoid) for two classes, one per class (softmax) else."""

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
