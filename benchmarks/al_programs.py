"""The augmented Lagrangian (``solve(program, "al")``) on small exact-ReLU programs of every loss.

Each seed draws a problem of each loss from scikit-learn's generators (features standardised):
``make_friedman1`` (squared loss), ``make_classification`` (logistic) and ``make_blobs`` with
three centres (softmax), at three shapes and ``alpha`` in {1e-3, 1e-2, 1e-1}, over Gaussian gates.
Each program is solved with a generous budget (200 outer iterations of up to 2,000 inner ones) to
``tol = 1e-6``; the script prints one row per program and how many certified, and in what time.
``--grow-only`` keeps the penalty ``δ`` from falling again once the iterate is inside its cones
(the rule before that was added; ``docs/guide/solvers.md``), for comparison in the same run.

    python benchmarks/al_programs.py --seeds 3
    python benchmarks/al_programs.py --seeds 3 --grow-only
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

import convexnn.solvers.al as al
from convexnn import ConvexProgram, sample_patterns, solve
from convexnn.losses import encode_targets

SHAPES = [(30, 5, 8), (60, 5, 15), (120, 6, 30)]  # samples, features, gates
ALPHAS = [1e-3, 1e-2, 1e-1]


def make(loss, n, d, seed):
    """Features (standardised) and targets of one problem."""
    if loss == "squared":
        X, y = datasets.make_friedman1(n, n_features=d, noise=0.1, random_state=seed)
        y = (y - y.mean()) / y.std()
    elif loss == "logistic":
        X, y = datasets.make_classification(n, n_features=d, n_informative=2, n_redundant=0,
                                            random_state=seed)
    else:
        X, y = datasets.make_blobs(n, n_features=d, centers=3, cluster_std=3.0, random_state=seed)
    return StandardScaler().fit_transform(X), y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--grow-only", action="store_true")
    args = parser.parse_args(argv)
    if args.grow_only:
        al.FEASIBLE_MARGIN = -np.inf  # the violation is never that far below tol
    rows = []
    print("| seed | loss | n | d | P | alpha | status | gap | outer | time [s] |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for seed in range(args.first, args.first + args.seeds):
        for loss in ("squared", "logistic", "softmax"):
            for (n, d, n_gates), alpha in zip(SHAPES, np.roll(ALPHAS, seed), strict=True):
                X, y = make(loss, n, d, seed)
                patterns = sample_patterns(X, n_gates, random_state=seed)
                program = ConvexProgram(X, encode_targets(y, loss), patterns, loss, alpha, "relu")
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    result = solve(program, "al", tol=1e-6, max_iter=200, max_inner=2000)
                seconds = time.perf_counter() - start
                rows.append((result.status == "optimal", seconds))
                print(f"| {seed} | {loss} | {n} | {d} | {program.n_patterns} | {alpha:g} | "
                      f"{result.status} | {result.gap:.1e} | {result.n_iter} | {seconds:.2f} |",
                      flush=True)
    certified = sum(ok for ok, _ in rows)
    print(f"\n{certified} of {len(rows)} certified to 1e-6; {sum(s for _, s in rows):.1f} s in "
          f"all, median {np.median([s for _, s in rows]):.2f} s"
          + (" (delta only grows)" if args.grow_only else ""))


if __name__ == "__main__":
    main()
