import os
from pathlib import Path

import numpy as np
import pytest

# numba compiles into the user's cache; keep test runs from writing into the source tree
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".numba_cache"))

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def shared_data():
    """The benchmark data beside the project (``../shared/data``); skip when it is absent."""
    if not DATA_DIR.is_dir():
        pytest.skip(f"benchmark data not found at {DATA_DIR} (see shared/data/README.md)")
    return DATA_DIR


def make_data(loss, n=40, d=3, scales=None, seed=0, n_classes=3):
    """Small synthetic problems; ``scales`` stretches the features unevenly."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if scales is not None:
        X = X * np.asarray(scales) + 3.0
    Xs = (X - X.mean(0)) / X.std(0)
    signal = np.sin(2 * Xs[:, 0]) + Xs[:, 1 % d] * Xs[:, -1]
    if loss == "squared":
        y = signal + 0.1 * rng.standard_normal(n)
    elif loss == "multi":
        y = np.column_stack([signal, np.cos(Xs[:, 0])])
    elif loss == "logistic":
        y = (signal > np.median(signal)).astype(int)
    else:
        y = np.digitize(signal, np.quantile(signal, np.linspace(0, 1, n_classes + 1)[1:-1]))
    return X, y
