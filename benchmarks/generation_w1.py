"""Pattern generation against scikit-learn's MLPRegressor on its own objective (problem W1).

W1: ``make_classification(n_samples=2000, n_features=20, n_informative=10, random_state=0)``, 75 %
train, standardised, targets ±1, squared loss, ``alpha = 1e-3``. Every method is scored by the
objective of record J (MATH.md §1) on the training set. Baselines: ``MLPRegressor`` with lbfgs and
full-batch adam/sgd, ``alpha_sklearn = alpha * n``, widths 100 and 500, learning rates
{1e-1, 1e-2, 1e-3}. Ours: the exact ReLU program on Gaussian patterns, grown by the heuristic
pattern generation, warm-started with ``solve(..., solver="auto")``.

    python benchmarks/generation_w1.py [--n-samples 2000] [--n-gates 500] [--max-iter 2000]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

from convexnn import ConvexReLURegressor, network_objective


def w1(n_samples, n_features):
    X, y = make_classification(
        n_samples=n_samples, n_features=n_features, n_informative=10, random_state=0
    )
    X_train, _, y_train, _ = train_test_split(X, y, train_size=0.75, random_state=0)
    return StandardScaler().fit_transform(X_train), 2.0 * y_train - 1.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=2000)
    parser.add_argument("--n-features", type=int, default=20)
    parser.add_argument("--alpha", type=float, default=1e-3)
    parser.add_argument("--n-gates", type=int, default=500)
    parser.add_argument("--max-iter", type=int, default=2000, help="MLP epochs / iterations")
    parser.add_argument("--rounds", type=int, default=10, help="pattern generation rounds")
    parser.add_argument("--solver", default="auto")
    args = parser.parse_args(argv)
    X, y = w1(args.n_samples, args.n_features)
    n, alpha = X.shape[0], args.alpha
    print(f"W1: n_train={n}, d={X.shape[1]}, alpha={alpha}")

    results = []
    for width in (100, 500):
        configs = [("lbfgs", None)] + [
            (s, lr) for s in ("adam", "sgd") for lr in (1e-1, 1e-2, 1e-3)
        ]
        for solver, lr in configs:
            params = dict(
                hidden_layer_sizes=(width,), alpha=alpha * n, solver=solver,
                max_iter=args.max_iter, random_state=0, tol=1e-10, n_iter_no_change=50,
            )  # fmt: skip
            if solver != "lbfgs":
                params.update(batch_size=n, learning_rate_init=lr)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                mlp = MLPRegressor(**params).fit(X, y)
            seconds = time.perf_counter() - start
            J = network_objective(mlp.coefs_, mlp.intercepts_, X, y, alpha, "squared")
            J = J if np.isfinite(J) else np.inf
            results.append((J, seconds, f"{solver} width={width} lr={lr}"))
            print(f"  sklearn {solver:<5} width={width:<3} lr={lr!s:<6} J={J:.8f}  {seconds:7.2f}s")
    best = min(results)
    grid_time = sum(r[1] for r in results)

    est = ConvexReLURegressor(
        alpha, n_gates=args.n_gates, solver=args.solver, pattern_generation="heuristic",
        max_pattern_rounds=args.rounds, random_state=0,
    )  # fmt: skip
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    ours_time = time.perf_counter() - start
    print(
        f"convexnn (heuristic generation, solver {est.solver_}): J={est.objective_:.8f}  "
        f"{ours_time:7.2f}s  ({est.n_generation_rounds_} rounds, {est.n_patterns_} patterns, "
        f"{est.n_neurons_} neurons, converged={est.generation_converged_})"
    )
    print(
        f"best sklearn: {best[2]}: J={best[0]:.8f} in {best[1]:.2f}s (whole grid {grid_time:.2f}s)"
    )
    print(
        f"ours J <= best sklearn J: {est.objective_ <= best[0]}; "
        f"time ours / best run = {ours_time / best[1]:.2f}, ours / grid = {ours_time / grid_time:.2f}"
    )


if __name__ == "__main__":
    main()
