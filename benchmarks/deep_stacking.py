"""Layer-wise convex stacking against the two-layer convex network and scikit-learn's MLP.

UCI classification sets of Fernández-Delgado et al. (2014), as preprocessed there (``uci121``):
test accuracy, mean over the collection's 4 folds (``fold{k}_train`` / ``fold{k}_test``), and mean
fit time per fold. Methods, all with the same ``alpha`` (Lasso convention; scikit-learn's is
``alpha * n_train``, full-batch L-BFGS):

- ``convex 2-layer``: :class:`convexnn.ConvexReLUClassifier` (one convex program);
- ``stacked 2h`` / ``stacked 3h``: :class:`convexnn.ConvexDeepReLUClassifier` with 2 / 3 hidden
  layers of at most ``--width`` neurons (one certified convex block per layer);
- ``sklearn 2h`` / ``sklearn 3h``: ``MLPClassifier`` with 2 / 3 hidden layers of ``--width``.

    python benchmarks/deep_stacking.py [--data ../shared/data] [--alpha 1e-3] [--width 32]
                                       [--n-gates 30] [--markdown]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from convexnn import ConvexDeepReLUClassifier, ConvexReLUClassifier

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

DATASETS = [
    "blood",
    "haberman-survival",
    "vertebral-column-3clases",
    "ecoli",
    "energy-y1",
    "monks-2",
    "parkinsons",
    "congressional-voting",
    "wine",
    "tic-tac-toe",
]


def methods(alpha, width, n_gates, n_train, seed):
    def mlp(layers):
        return MLPClassifier(
            (width,) * layers,
            alpha=alpha * n_train,
            solver="lbfgs",
            max_iter=1000,
            random_state=seed,
        )

    def stacked(layers):
        return ConvexDeepReLUClassifier(
            (width,) * layers, alpha, n_gates=n_gates, random_state=seed
        )

    return {
        "convex 2-layer": ConvexReLUClassifier(alpha, n_gates=n_gates, random_state=seed),
        "stacked 2h": stacked(2),
        "stacked 3h": stacked(3),
        "sklearn 2h": mlp(2),
        "sklearn 3h": mlp(3),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DATA, help="the shared data folder")
    parser.add_argument("--alpha", type=float, default=1e-3)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--n-gates", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = parser.parse_args(argv)

    names = list(methods(1, 1, 1, 1, 0))
    rows = []
    for name in args.datasets:
        data = np.load(Path(args.data) / "uci121" / f"{name}.npz")
        X, y = data["X"].astype(np.float64), data["y"]
        acc = {m: [] for m in names}
        secs = {m: [] for m in names}
        for k in range(4):
            train, test = data[f"fold{k}_train"], data[f"fold{k}_test"]
            for method, model in methods(
                args.alpha, args.width, args.n_gates, train.shape[0], args.seed
            ).items():
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    model.fit(X[train], y[train])
                secs[method].append(time.perf_counter() - start)
                acc[method].append(model.score(X[test], y[test]))
        rows.append((name, X.shape, len(np.unique(y)), acc, secs))
        line = "  ".join(f"{m} {np.mean(acc[m]):.3f}/{np.mean(secs[m]):.1f}s" for m in names)
        print(f"{name} n={X.shape[0]} d={X.shape[1]}: {line}", flush=True)

    if args.markdown:
        print()
        print(
            "| dataset | n | d | classes | "
            + " | ".join(f"{m} acc" for m in names)
            + " | "
            + " | ".join(f"{m} s" for m in names)
            + " |"
        )
        print("|" + "---|" * (4 + 2 * len(names)))
        for name, shape, n_classes, acc, secs in rows:
            print(
                f"| {name} | {shape[0]} | {shape[1]} | {n_classes} | "
                + " | ".join(f"{np.mean(acc[m]):.3f}" for m in names)
                + " | "
                + " | ".join(f"{np.mean(secs[m]):.2f}" for m in names)
                + " |"
            )
        means = [np.mean([np.mean(r[3][m]) for r in rows]) for m in names]
        total = [np.mean([np.mean(r[4][m]) for r in rows]) for m in names]
        print(
            "| **mean** | | | | "
            + " | ".join(f"**{v:.3f}**" for v in means)
            + " | "
            + " | ".join(f"{v:.2f}" for v in total)
            + " |"
        )


if __name__ == "__main__":
    main()
