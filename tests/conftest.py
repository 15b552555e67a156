import os
from pathlib import Path

import numpy as np
import pytest

# numba compiles into the user's cache; keep test runs from writing into the source tree
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".numba_cache"))

# convexnn is imported once the cache folder is set (its kernels are compiled on import)
from convexnn import (  # noqa: E402
    ConvexProgram,
    ConvexReLUClassifier,
    ConvexReLURegressor,
    sample_patterns,
)
from convexnn.losses import encode_targets  # noqa: E402
from convexnn.patterns import add_bias_column  # noqa: E402

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"


def pytest_configure(config):
    """Under pytest-xdist (``-n auto``: one worker process per core) each worker keeps to one
    BLAS thread. On two cores the suite took 601 s in one process; in two workers of two BLAS
    threads each 475 s (15 minutes of CPU time against 10), of one thread each 390 s, and 351 s
    with ``--dist loadscope``, which keeps each module's tests in one worker (the documentation
    is then built once, in one process: its module fixture writes into ``docs/``)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)


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


LOSS_CASES = [("squared", "squared"), ("multi", "squared"), ("logistic", "logistic"), ("softmax", "softmax")]


def make_program(kind, formulation, n=30, d=2, n_gates=25, alpha=1e-2, scales=None, seed=0):
    loss = dict(LOSS_CASES)[kind]
    X, y = make_data(kind, n=n, d=d, scales=scales, seed=seed)
    patterns = sample_patterns(X, n_gates, random_state=seed)
    return ConvexProgram(X, encode_targets(y, loss), patterns, loss, alpha, formulation)


#: The two-layer estimators and the kinds of ``make_data`` they fit.
ESTIMATOR_CASES = [
    (ConvexReLURegressor, "squared"),
    (ConvexReLURegressor, "multi"),
    (ConvexReLUClassifier, "logistic"),
    (ConvexReLUClassifier, "softmax"),
]


def make_series(n=14, seed=0, repeats=False):
    """A one-dimensional series (``repeats``: inputs rounded to one decimal, so some repeat)."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.uniform(-2, 2, n), 1 if repeats else 12)
    y = np.sin(2 * x) + 0.1 * rng.standard_normal(n)
    return x[:, None], y[:, None]


def check_valid_patterns(X, p):
    """The gates reproduce the masks on ``X``; no pattern is all-zero or repeated."""
    assert np.array_equal(add_bias_column(X) @ p.gates >= 0, p.masks)
    assert p.masks.any(axis=0).all()
    assert len({m.tobytes() for m in p.masks.T}) == p.n_patterns
