"""The stacked estimators' default ``alpha`` against others, on real regression and classification.

``ConvexDeepReLURegressor`` / ``ConvexDeepReLUClassifier`` with every parameter at its default but
``alpha`` (each of ``--alphas``) and ``random_state=0``, beside scikit-learn's MLP of the same
hidden layers with its own defaults (Adam, ``alpha=1e-4``):

- regression: scikit-learn's diabetes and six UCI regression sets of ``uci_regression`` (at most
  1,000 rows of each, drawn once), split 75/25 by ``train_test_split(random_state=k)`` for each of
  ``--splits`` splits, features and target standardised on the training part; test R²;
- classification: UCI sets of ``uci121`` (features standardised there), the collection's folds
  ``fold{k}_train`` / ``fold{k}_test`` for the first ``--splits`` folds; test accuracy.

Prints one row per split and a summary per task: mean score, on how many splits the first alpha
scores higher than, the same as and lower than each other method, median fit time. Every method is
fitted once on a small problem first, so that the timed fits do not pay what a process pays once
(imports, loading numba's compiled kernels).

    OMP_NUM_THREADS=1 python benchmarks/deep_alpha.py --task regression [--alphas 1e-3,1e-2]
    OMP_NUM_THREADS=1 python benchmarks/deep_alpha.py --task classification
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

from convexnn import ConvexDeepReLUClassifier, ConvexDeepReLURegressor

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REGRESSION = ["bostonHousing", "concrete", "yacht", "energy", "wine-quality-red", "kin8nm"]
CLASSIFICATION = [
    "monks-2", "wine", "parkinsons", "haberman-survival", "vertebral-column-3clases",
    "congressional-voting", "blood", "ecoli", "dermatology", "zoo", "hepatitis", "spectf",
    "teaching", "flags",
]  # fmt: skip
MAX_ROWS = 1000


def regression_splits(folder, n_splits):
    """``(name, split, X_train, y_train, X_test, y_test)``, standardised on the training part."""
    sets = [("diabetes", *load_diabetes(return_X_y=True))]
    for name in REGRESSION:
        data = np.load(Path(folder) / "uci_regression" / f"{name}.npz")
        rows = np.random.default_rng(0).permutation(len(data["y"]))[:MAX_ROWS]
        sets.append((name, data["X"][rows], data["y"][rows]))
    for name, X, y in sets:
        for k in range(n_splits):
            X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=k)
            scaler = StandardScaler().fit(X_train)
            mean, spread = y_train.mean(), y_train.std()
            yield (name, k, scaler.transform(X_train), (y_train - mean) / spread,
                   scaler.transform(X_test), (y_test - mean) / spread)  # fmt: skip


def classification_splits(folder, n_splits):
    """``(name, fold, X_train, y_train, X_test, y_test)`` of the collection's folds."""
    for name in CLASSIFICATION:
        data = np.load(Path(folder) / "uci121" / f"{name}.npz")
        X, y = data["X"].astype(np.float64), data["y"]
        for k in range(n_splits):
            train, test = data[f"fold{k}_train"], data[f"fold{k}_test"]
            yield name, k, X[train], y[train], X[test], y[test]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=["regression", "classification"], required=True)
    parser.add_argument("--data", default=DATA, help="the shared data folder")
    parser.add_argument(
        "--alphas", default="1e-3,1e-2", help="comma-separated; the first is compared to the others"
    )
    parser.add_argument("--splits", type=int, default=2)
    args = parser.parse_args(argv)
    alphas = [float(a) for a in args.alphas.split(",")]
    regression = args.task == "regression"
    Deep, MLP = ((ConvexDeepReLURegressor, MLPRegressor) if regression
                 else (ConvexDeepReLUClassifier, MLPClassifier))  # fmt: skip
    splits = (regression_splits if regression else classification_splits)(args.data, args.splits)
    labels = [f"alpha={a:g}" for a in alphas] + ["sklearn MLP"]
    width = Deep().hidden_layer_sizes
    rng = np.random.default_rng(0)
    X_small = rng.standard_normal((40, 3))
    y_small = X_small[:, 0] if regression else np.argsort(X_small[:, 0]) % 3
    with warnings.catch_warnings():  # the warm-up
        warnings.simplefilter("ignore")
        Deep(hidden_layer_sizes=(5, 5), n_gates=10, random_state=0).fit(X_small, y_small)
        MLP(hidden_layer_sizes=(5, 5), max_iter=5).fit(X_small, y_small)
    scores, seconds = {m: [] for m in labels}, {m: [] for m in labels}
    print("| set | split | n | " + " | ".join(f"{m} score | s" for m in labels) + " |")
    print("|---|---|---|" + "---|---|" * len(labels))
    for name, k, X_train, y_train, X_test, y_test in splits:
        models = [Deep(alpha=a, random_state=0) for a in alphas]
        models.append(MLP(hidden_layer_sizes=width, random_state=0))
        cells = []
        for label, model in zip(labels, models, strict=True):
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X_train, y_train)
            seconds[label].append(time.perf_counter() - start)
            scores[label].append(model.score(X_test, y_test))
            cells.append(f"{scores[label][-1]:.3f} | {seconds[label][-1]:.1f}")
        print(f"| {name} | {k} | {len(y_train)} | " + " | ".join(cells) + " |", flush=True)
    first = labels[0]
    print()
    for label in labels:
        pairs = list(zip(scores[first], scores[label], strict=True))
        higher = "" if label == first else (
            f", {first} higher / the same / lower on {sum(a > b for a, b in pairs)} / "
            f"{sum(a == b for a, b in pairs)} / {sum(a < b for a, b in pairs)} of {len(pairs)}"
        )  # fmt: skip
        print(f"{label}: mean {'R²' if regression else 'accuracy'} "
              f"{statistics.mean(scores[label]):.3f}, median fit "
              f"{statistics.median(seconds[label]):.2f} s{higher}")  # fmt: skip


if __name__ == "__main__":
    main()
