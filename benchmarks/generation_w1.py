"""Pattern generation against scikit-learn's MLPRegressor on its own objective (problem W1).

W1: ``make_classification(n_samples=2000, n_features=20, n_informative=10, random_state=0)``, 75 %
train, standardised, targets ±1, squared loss, ``alpha = 1e-3``. Every method is scored by the
objective of record J (:ref:`maths-objective`) on the training set. Baselines: ``MLPRegressor`` with lbfgs and
full-batch adam/sgd, ``alpha_sklearn = alpha * n``, widths 100 and 500, learning rates
{1e-1, 1e-2, 1e-3}. Ours: the exact ReLU program (``solver="auto"``, the interior point here) on
the patterns of an L-BFGS MLP of the same widths (``sampler="mlp"``), and on Gaussian patterns
grown by the heuristic pattern generation (``--rounds``; 0 skips it, it takes ~15 minutes).
BLAS runs on one thread (``--blas-threads``): on two shared cores, two threads made scikit-learn's
L-BFGS five times slower.

    python benchmarks/generation_w1.py [--n-samples 2000] [--n-gates 500] [--rounds 10]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from problems import training_data
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from threadpoolctl import threadpool_limits

from convexnn import ConvexReLURegressor, network_objective

WIDTHS = (100, 500)


def w1(n_samples, n_features):
    X_train, y_train = training_data(n_samples, n_features)
    return X_train, 2.0 * y_train - 1.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=2000)
    parser.add_argument("--n-features", type=int, default=20)
    parser.add_argument("--alpha", type=float, default=1e-3)
    parser.add_argument("--n-gates", type=int, default=500)
    parser.add_argument("--max-iter", type=int, default=2000, help="MLP epochs / iterations")
    parser.add_argument("--rounds", type=int, default=10, help="pattern generation rounds")
    parser.add_argument("--solver", default="auto")
    parser.add_argument("--blas-threads", type=int, default=1)
    args = parser.parse_args(argv)
    with threadpool_limits(limits=args.blas_threads, user_api="blas"):
        run(args)


def fit_convex(args, alpha, X, y, **params):
    est = ConvexReLURegressor(alpha, solver=args.solver, random_state=0, **params)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    return est, time.perf_counter() - start


def run(args):
    X, y = w1(args.n_samples, args.n_features)
    n, alpha = X.shape[0], args.alpha
    print(f"W1: n_train={n}, d={X.shape[1]}, alpha={alpha}")

    results = []
    for width in WIDTHS:
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

    print(
        f"best sklearn: {best[2]}: J={best[0]:.8f} in {best[1]:.2f}s (whole grid {grid_time:.2f}s)"
    )

    runs = [(f"sampler='mlp', width {w}", dict(n_gates=w, sampler="mlp", mlp_max_iter=2000))
            for w in WIDTHS]
    if args.rounds:
        runs.append(("heuristic generation", dict(
            n_gates=args.n_gates, sampler="gaussian", pattern_generation="heuristic",
            max_pattern_rounds=args.rounds,
        )))  # fmt: skip
    ours = []
    for name, params in runs:
        est, seconds = fit_convex(args, alpha, X, y, **params)
        ours.append((est.objective_, seconds, name))
        print(
            f"convexnn ({name}, solver {est.solver_}): J={est.objective_:.8f}  {seconds:7.2f}s  "
            f"(gap {est.gap_:.1e}, {est.n_patterns_} patterns, {est.n_neurons_} neurons, "
            f"{est.n_generation_rounds_} generation rounds)"
        )
    mine = min(ours[: len(WIDTHS)])
    mine_time = sum(r[1] for r in ours[: len(WIDTHS)])
    print(
        f"best convexnn over the widths {WIDTHS}: {mine[2]}: J={mine[0]:.8f}; both widths "
        f"{mine_time:.2f}s\n  J <= best sklearn J: {mine[0] <= best[0]}; time / sklearn grid = "
        f"{mine_time / grid_time:.2f}; its run / best sklearn run = {mine[1] / best[1]:.2f}"
    )


if __name__ == "__main__":
    main()
