"""The synthetic benchmark problems the scripts in ``benchmarks/`` share.

``W1`` and ``W2`` (and ``tiny`` for quick checks) are scikit-learn's ``make_classification`` with
``random_state=0``, 75 % of it as the training split, standardised; regression targets are the
labels as ±1.
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from convexnn import ConvexProgram, sample_patterns
from convexnn.losses import encode_targets

#: Samples and features of each problem before the split.
PROBLEMS = {"W1": (2000, 20), "W2": (8000, 50), "tiny": (400, 10)}


def training_data(n_samples, n_features, dtype=np.float64):
    """The standardised training split and its 0/1 labels."""
    X, y = make_classification(n_samples=n_samples, n_features=n_features,
                               n_informative=min(10, n_features - 2), random_state=0)
    X_train, _, y_train, _ = train_test_split(X, y, train_size=0.75, random_state=0)
    return StandardScaler().fit_transform(X_train).astype(dtype), y_train


def make_problem(name, formulation, n_gates=500, alpha=1e-3, dtype=np.float64, loss="squared"):
    """The convex program of problem ``name`` over ``n_gates`` Gaussian gates (seed 0)."""
    X_train, y_train = training_data(*PROBLEMS[name], dtype=dtype)
    patterns = sample_patterns(X_train, n_gates, random_state=0)
    targets = 2.0 * y_train - 1.0 if loss == "squared" else y_train
    return ConvexProgram(X_train, encode_targets(targets, loss), patterns, loss, alpha, formulation)
