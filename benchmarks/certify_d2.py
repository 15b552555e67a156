"""Certified global optimality in the plane: our network against scikit-learn's MLPs.

Synthetic data with d = 2 (regression and binary classification). Our estimator grows the pattern
set with the exact search (every pattern of the data is a candidate), so its network is the global
optimum of the non-convex training problem; :func:`convexnn.certify` says how far each network —
ours and scikit-learn's ``MLPRegressor``/``MLPClassifier`` trained full batch by adam, sgd and
lbfgs on the same objective (``alpha_sklearn = alpha * n``) — is from that optimum.

    python benchmarks/certify_d2.py [--n-samples 200] [--alpha 1e-2] [--task regression|binary|both]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from convexnn import ConvexReLUClassifier, ConvexReLURegressor, certify


def make_problem(task, n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    signal = np.sin(2 * X[:, 0]) + X[:, 1] ** 2
    if task == "regression":
        return X, signal + 0.1 * rng.standard_normal(n)
    return X, (signal > np.median(signal)).astype(int)


def row(name, cert, seconds):
    print(
        f"{name:<28} J={cert.objective:.10f}  LB={cert.lower_bound:.10f}  "
        f"rel.gap={cert.relative_gap:.2e}  exact={cert.exact}  time={seconds:7.2f}s"
    )


def run(task, n, alpha, width, solver):
    X, y = make_problem(task, n)
    loss = "squared" if task == "regression" else "logistic"
    print(f"\n== {task}: n={n}, d=2, alpha={alpha} ({loss} loss)")
    kind = ConvexReLURegressor if task == "regression" else ConvexReLUClassifier
    est = kind(
        alpha, n_gates=50, solver=solver, pattern_generation="exact", max_pattern_rounds=40,
        random_state=0,
    )  # fmt: skip
    start = time.perf_counter()
    est.fit(X, y)
    fit_time = time.perf_counter() - start
    print(
        f"convexnn: {est.n_generation_rounds_} generation rounds, {est.n_patterns_} patterns, "
        f"{est.n_neurons_} neurons, converged={est.generation_converged_}"
    )
    row("convexnn (exact generation)", est.certify(X, y), fit_time)
    mlp_kind = MLPRegressor if task == "regression" else MLPClassifier
    for mlp_solver in ("adam", "sgd", "lbfgs"):
        params = dict(
            hidden_layer_sizes=(width,), alpha=alpha * n, solver=mlp_solver, max_iter=5000,
            random_state=0, tol=1e-10, n_iter_no_change=50,
        )  # fmt: skip
        if mlp_solver != "lbfgs":
            params.update(batch_size=n, learning_rate_init=1e-2)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            mlp = mlp_kind(**params).fit(X, y)
        seconds = time.perf_counter() - start
        row(
            f"sklearn {mlp_solver} (width {width})",
            certify(mlp.coefs_, mlp.intercepts_, X, y, alpha, loss),
            seconds,
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=200)
    parser.add_argument("--alpha", type=float, default=1e-2)
    parser.add_argument("--width", type=int, default=100)
    parser.add_argument("--solver", default="auto")
    parser.add_argument("--task", choices=["regression", "binary", "both"], default="both")
    args = parser.parse_args(argv)
    tasks = ["regression", "binary"] if args.task == "both" else [args.task]
    for task in tasks:
        run(task, args.n_samples, args.alpha, args.width, args.solver)


if __name__ == "__main__":
    main()
