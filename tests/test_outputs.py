"""convexnn._outputs: what the estimators share on top of a network (here, to_mlp)."""

import numpy as np
import pytest
from conftest import ESTIMATOR_CASES as CASES
from conftest import make_data

from convexnn import ConvexReLUClassifier

FAST = dict(n_gates=20, random_state=0)


@pytest.mark.parametrize("Estimator,kind", CASES)
def test_to_mlp_gives_the_same_predictions(Estimator, kind):
    X, y = make_data(kind, n=50, d=3)
    if kind == "softmax":
        y = np.array(["ant", "bee", "cat"])[y]  # any label type
    model = Estimator(alpha=1e-2, **FAST).fit(X, y)
    mlp = model.to_mlp()
    assert np.array_equal(mlp.predict(X), model.predict(X)) if Estimator is ConvexReLUClassifier else np.allclose(mlp.predict(X), model.predict(X), rtol=1e-12)
    if Estimator is ConvexReLUClassifier:
        assert np.allclose(mlp.predict_proba(X), model.predict_proba(X), rtol=1e-12)
    with pytest.raises(ValueError, match="formulation='relu'"):
        Estimator(alpha=1e-2, formulation="gated", **FAST).fit(X, y).to_mlp()
