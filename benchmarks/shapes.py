"""The default classifier on synthetic data of the shapes of UCI sets outside ``../shared/data``.

The 59 sets of ``default_estimators.py`` stop at 21,000 samples, 100 features and 18 classes. The
rest of the collection they come from (Fernández-Delgado et al., JMLR 2014) goes further: 256
features in 10 classes, 100 classes, 97,548 samples. For each such shape (the size of its fold0
training split, three quarters of the set, its features, its classes) this script draws a
standardised ``make_classification`` problem and fits ``ConvexReLUClassifier()`` with every
parameter at its default, then ``MLPClassifier()``, and prints a markdown table: fit times,
status and certified gap, training accuracies. The data are synthetic: they show what a shape
costs, not how well either model does on the real set.

    OMP_NUM_THREADS=1 python benchmarks/shapes.py [--shapes semeion,plant-margin] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from convexnn import ConvexReLUClassifier

#: name -> (training samples, features, classes), the UCI sets' fold0 training splits (3/4)
SHAPES = {
    "yeast": (1113, 8, 10),
    "audiology-std": (171, 59, 18),
    "libras": (270, 90, 15),
    "arrhythmia": (339, 262, 13),
    "semeion": (1195, 256, 10),
    "plant-margin": (1200, 64, 100),
    "optical": (4215, 62, 10),
    "musk-2": (4949, 166, 2),
    "letter": (15000, 16, 26),
    "adult": (36631, 14, 2),
    "abalone": (3133, 8, 3),
    "spambase": (3451, 57, 2),
    "wine-quality-white": (3674, 11, 7),
    "thyroid": (5400, 21, 3),
    "mushroom": (6093, 21, 2),
    "pendigits": (8244, 16, 10),
    "nursery": (9720, 8, 5),
    "statlog-shuttle": (43500, 9, 7),
    "connect-4": (50668, 42, 3),
    "miniboone": (97548, 50, 2),
}


def make_data(n, d, K, seed):
    """Standardised ``make_classification`` data of ``n`` samples, ``d`` features, ``K``
    classes (one cluster each, 5 % of the labels flipped)."""
    informative = min(d, max(4, int(np.ceil(np.log2(K))) + 3, d // 3))
    X, y = make_classification(n, d, n_informative=informative, n_redundant=0, n_classes=K,
                               n_clusters_per_class=1, flip_y=0.05, random_state=seed)
    return StandardScaler().fit_transform(X), y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default=",".join(SHAPES),
                        help=f"comma-separated subset of {', '.join(SHAPES)}")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print("| shape of | n | d | classes | fit [s] | `MLPClassifier()` [s] | status | gap "
          "| train acc. convex | train acc. MLP |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in args.shapes.split(","):
        n, d, K = SHAPES[name]
        X, y = make_data(n, d, K, args.seed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            start = time.perf_counter()
            try:
                model = ConvexReLUClassifier(random_state=args.seed).fit(X, y)
            except MemoryError as error:  # refused by the memory guard: a row that says so
                print(f"| {name} | {n} | {d} | {K} | — | — | `MemoryError` | — | — | — |",
                      flush=True)
                print(error, file=sys.stderr, flush=True)
                continue
            seconds = time.perf_counter() - start
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            mlp = MLPClassifier(random_state=args.seed).fit(X, y)
            mlp_seconds = time.perf_counter() - start
        status = model.status_ + (" (warned)" if caught else "")
        print(f"| {name} | {n} | {d} | {K} | {seconds:.1f} | {mlp_seconds:.1f} | {status} | "
              f"{model.gap_:.1e} | {model.score(X, y):.3f} | {mlp.score(X, y):.3f} |", flush=True)


if __name__ == "__main__":
    main()
