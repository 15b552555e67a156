"""The default estimators on scikit-learn's bundled real data (5-fold cross-validation)."""

import warnings

import numpy as np
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from convexnn import ConvexReLUClassifier, ConvexReLURegressor


@pytest.mark.slow
def test_default_classifier_on_breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    with warnings.catch_warnings():
        # the default exact-ReLU solve stops on its iteration budget before certifying 1e-6
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(make_pipeline(StandardScaler(), ConvexReLUClassifier(random_state=0)), X, y, cv=5)
    assert scores.mean() >= 0.95


def test_default_regressor_on_diabetes_beats_a_constant():
    X, y = load_diabetes(return_X_y=True)
    folds = KFold(5, shuffle=True, random_state=0)
    model = TransformedTargetRegressor(  # weight decay is not scale invariant: standardise y too
        make_pipeline(StandardScaler(), ConvexReLURegressor(random_state=0)), transformer=StandardScaler()
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = cross_val_score(model, X, y, cv=folds, scoring="r2")
    constant = cross_val_score(DummyRegressor(), X, y, cv=folds, scoring="r2")
    assert np.mean(constant) <= 0.0
    assert np.mean(ours) >= 0.4
