"""Convex training against scikit-learn's SGD/Adam on one bundled dataset.

Every method is scored by the same objective J (MATH.md §1) on the training set, with
scikit-learn's ``alpha`` matched to ours (``alpha_sklearn = alpha * batch_size``).

    python benchmarks/compare.py [--dataset breast_cancer|diabetes] [--alpha 1e-3]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import LabelEncoder, StandardScaler

from convexnn import ConvexReLUClassifier, ConvexReLURegressor, network_objective

DATASETS = {
    "breast_cancer": (load_breast_cancer, "classification"),
    "diabetes": (load_diabetes, "regression"),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="breast_cancer")
    parser.add_argument("--alpha", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    loader, task = DATASETS[args.dataset]
    X, y = loader(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=args.seed
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    classify = task == "classification"
    if not classify:
        y_mean, y_std = y_train.mean(), y_train.std()
        y_train, y_test = (y_train - y_mean) / y_std, (y_test - y_mean) / y_std
    n = X_train.shape[0]
    batch = max(1, n // 10)
    convex = ConvexReLUClassifier if classify else ConvexReLURegressor
    mlp = MLPClassifier if classify else MLPRegressor
    methods = {
        "convex relu": convex(alpha=args.alpha, random_state=args.seed),
        "convex gated": convex(alpha=args.alpha, formulation="gated", random_state=args.seed),
        "sklearn lbfgs": mlp(
            hidden_layer_sizes=(100,),
            alpha=args.alpha * n,
            solver="lbfgs",
            max_iter=2000,
            random_state=args.seed,
        ),
        "sklearn adam": mlp(
            hidden_layer_sizes=(100,),
            alpha=args.alpha * batch,
            solver="adam",
            batch_size=batch,
            max_iter=500,
            random_state=args.seed,
        ),
        "sklearn sgd": mlp(
            hidden_layer_sizes=(100,),
            alpha=args.alpha * batch,
            solver="sgd",
            batch_size=batch,
            learning_rate_init=0.01,
            max_iter=500,
            random_state=args.seed,
        ),
    }
    if classify:
        codes = LabelEncoder().fit(y_train).transform(y_train)
        loss, metric_name = "logistic", "accuracy"
    else:
        codes, loss, metric_name = y_train, "squared", "R²"
    print(
        f"{args.dataset}: n_train={n}, d={X.shape[1]}, alpha={args.alpha:g} (objective J of MATH.md §1)"
    )
    print(
        f"{'method':<14} {'J (train)':>12} {'train ' + metric_name:>15} {'test ' + metric_name:>14} {'neurons':>8} {'time [s]':>9}"
    )
    for name, model in methods.items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train, y_train)
        elapsed = time.perf_counter() - start
        gates = getattr(model, "gates_", None)
        J = network_objective(
            model.coefs_, model.intercepts_, X_train, codes, args.alpha, loss, gates
        )
        neurons = model.coefs_[0].shape[1]
        print(
            f"{name:<14} {J:>12.6f} {model.score(X_train, y_train):>15.4f} "
            f"{model.score(X_test, y_test):>14.4f} {neurons:>8d} {elapsed:>9.2f}"
        )


if __name__ == "__main__":
    main()
