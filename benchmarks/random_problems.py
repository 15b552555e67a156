"""The default estimators on families of random problems, several seeds and shapes each.

A result on one dataset says little about the next one. This script draws problems from
scikit-learn's generators — each seed draws the problem's size and shape as well as its data — and
fits ``ConvexReLUClassifier()`` or ``ConvexReLURegressor()`` with every parameter at its default
(``alpha`` too, unless ``--alpha`` is given; ``random_state`` is the seed). Each fit is checked
against what it promises: a certified gap at or below ``tol``, a training objective ``J`` at or
below the zero network's (the best constant model), and, for reference, ``J`` against
``MLPClassifier``/``MLPRegressor(hidden_layer_sizes=(100,), solver="lbfgs", alpha=alpha * n)`` with
scikit-learn's default budget and the same seed. Prints one row per problem and a summary.

    python benchmarks/random_problems.py                      # every family, seeds 0-3
    python benchmarks/random_problems.py --families moons,raw-scales --seeds 10 --alpha 1e-4

The ``raw-scales`` families multiply each feature by 10^-3 to 10^3 and offset it by 1 to 100
(measurements as recorded): weight decay is not scale invariant, and at small ``alpha`` such
programs are hard to certify; the fits that stop short say so, and to standardise. The
``separated`` family puts its classes far apart along one feature: at a tiny ``alpha`` the
softmax loss is saturated at the optimum, and some of its fits stop short of ``tol``
(docs/guide/solvers.md).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from default_estimators import warm_up  # run from benchmarks/, as its sibling scripts are
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from convexnn import ConvexReLUClassifier, ConvexReLURegressor, network_objective
from convexnn.losses import encode_targets


def _raw_scales(rng, X):
    """Each feature times 10^-3 to 10^3, offset by 1 to 100."""
    d = X.shape[1]
    return X * 10.0 ** rng.integers(-3, 4, size=d) + 10.0 ** rng.integers(0, 3, size=d)


def _classification(rng, n, d, seed):
    return datasets.make_classification(
        n, d, n_informative=min(d, 2), n_redundant=0, n_classes=int(rng.choice([2, 2, 3, 4])),
        n_clusters_per_class=1, flip_y=float(rng.choice([0.0, 0.05, 0.3])), random_state=seed,
    )


def _moons(rng, n, d, seed):
    return datasets.make_moons(n, noise=float(rng.choice([0.05, 0.2, 0.4])), random_state=seed)


def _circles(rng, n, d, seed):
    noise = float(rng.choice([0.05, 0.1, 0.2]))
    return datasets.make_circles(n, noise=noise, factor=0.5, random_state=seed)


def _blobs(rng, n, d, seed):
    return datasets.make_blobs(n, n_features=d, centers=int(rng.choice([2, 4, 7])),
                               cluster_std=float(rng.choice([1.0, 3.0, 6.0])), random_state=seed)


def _hastie(rng, n, d, seed):
    return datasets.make_hastie_10_2(n, random_state=seed)


def _quantiles(rng, n, d, seed):
    return datasets.make_gaussian_quantiles(n_samples=n, n_features=max(2, d // 2), n_classes=3,
                                            random_state=seed)


def _imbalanced(rng, n, d, seed):
    return datasets.make_classification(n, d, n_informative=min(d, 2), n_redundant=0,
                                        weights=[0.95], random_state=seed)


def _raw_classification(rng, n, d, seed):
    X, y = datasets.make_classification(n, d, n_informative=min(d, 2), n_redundant=0,
                                        random_state=seed)
    return _raw_scales(rng, X), y


def _separated(rng, n, d, seed):
    """Classes in turn along the first feature, 6 apart: separable with a wide margin, so at a
    small ``alpha`` the softmax loss is saturated on most samples at the optimum."""
    X = rng.standard_normal((n, d))
    y = np.arange(n) % int(rng.choice([2, 3, 5, 8]))
    X[:, 0] += 6.0 * y
    return X, y


def _regression(rng, n, d, seed):
    return datasets.make_regression(n, d, n_informative=min(d, 5),
                                    noise=float(rng.choice([0.0, 1.0, 20.0])), random_state=seed)


def _friedman(rng, n, d, seed):
    return datasets.make_friedman1(n, n_features=max(5, d), noise=1.0, random_state=seed)


def _sparse(rng, n, d, seed):
    return datasets.make_sparse_uncorrelated(n, max(4, d), random_state=seed)


def _multi_output(rng, n, d, seed):
    return datasets.make_regression(n, d, n_informative=min(d, 5), n_targets=3, noise=1.0,
                                    random_state=seed)


def _raw_regression(rng, n, d, seed):
    X, y = datasets.make_friedman1(n, n_features=max(5, d), noise=0.5, random_state=seed)
    return _raw_scales(rng, X), y


#: name: (task, draw(rng, n_samples, n_features, seed) -> (X, y))
FAMILIES = {
    "classification": ("classification", _classification),
    "moons": ("classification", _moons),
    "circles": ("classification", _circles),
    "blobs": ("classification", _blobs),
    "hastie": ("classification", _hastie),
    "quantiles": ("classification", _quantiles),
    "imbalanced": ("classification", _imbalanced),
    "raw-scales": ("classification", _raw_classification),
    "separated": ("classification", _separated),
    "regression": ("regression", _regression),
    "friedman": ("regression", _friedman),
    "sparse": ("regression", _sparse),
    "multi-output": ("regression", _multi_output),
    "raw-scales-regression": ("regression", _raw_regression),
}

SAMPLES, FEATURES = (60, 150, 400, 900), (2, 4, 8, 16, 30)


def draw(family, seed):
    """``(task, X, y)`` of ``family`` for ``seed``: the seed draws the size and the shape too."""
    rng = np.random.default_rng(seed)
    n, d = int(rng.choice(SAMPLES)), int(rng.choice(FEATURES))
    task, make = FAMILIES[family]
    X, y = make(rng, n, d, seed)
    y = np.asarray(y).astype(int) if task == "classification" else np.asarray(y)  # hastie: ±1.0
    return task, np.asarray(X, dtype=np.float64), y


def zero_objective(task, y):
    """The training objective of the best constant model (the zero network's ``J``)."""
    if task == "regression":
        Y = y.reshape(len(y), -1)
        return float(0.5 * np.mean(np.sum((Y - Y.mean(axis=0)) ** 2, axis=1)))
    share = np.unique(y, return_counts=True)[1] / len(y)
    return float(-np.sum(share * np.log(share)))


def run(family, seed, alpha=None):
    """One problem: a dict of what the row prints."""
    task, X, y = draw(family, seed)
    Convex, MLP = ((ConvexReLUClassifier, MLPClassifier) if task == "classification"
                   else (ConvexReLURegressor, MLPRegressor))
    model = Convex(random_state=seed) if alpha is None else Convex(alpha, random_state=seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLP(hidden_layer_sizes=(100,), solver="lbfgs", alpha=model.alpha * len(X),
                  random_state=seed).fit(X, y)
    if task == "classification":
        labels = np.searchsorted(np.unique(y), y)
        loss = "logistic" if labels.max() == 1 else "softmax"
        Y = encode_targets(labels, loss)
    else:
        loss, Y = "squared", y
    return dict(
        family=family, seed=seed, n=X.shape[0], d=X.shape[1], alpha=model.alpha,
        J=model.objective_, zero=zero_objective(task, y),
        mlp=network_objective(mlp.coefs_, mlp.intercepts_, X, Y, model.alpha, loss),
        gap=model.gap_, status=model.status_, certified=model.gap_ <= model.tol and not warned,
        seconds=seconds,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default=",".join(FAMILIES),
                        help=f"comma-separated, of: {', '.join(FAMILIES)}")
    parser.add_argument("--seeds", type=int, default=4, help="seeds per family (from --first)")
    parser.add_argument("--first", type=int, default=0, help="the first seed")
    parser.add_argument("--alpha", type=float, default=None,
                        help="weight decay (default: each estimator's own)")
    args = parser.parse_args(argv)
    families = args.families.split(",")
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown:
        parser.error(f"unknown families {unknown}; choose among {', '.join(FAMILIES)}")
    print("| family | seed | n | d | alpha | J convex | J zero network | J L-BFGS MLP | gap "
          "| status | time convex [s] |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    warm_up(ConvexReLUClassifier, MLPClassifier)
    warm_up(ConvexReLURegressor, MLPRegressor)
    rows = []
    for family in families:
        for seed in range(args.first, args.first + args.seeds):
            r = run(family, seed, args.alpha)
            rows.append(r)
            print(f"| {family} | {seed} | {r['n']} | {r['d']} | {r['alpha']:g} | {r['J']:.6g} "
                  f"| {r['zero']:.6g} | {r['mlp']:.6g} | {r['gap']:.1e} | {r['status']} "
                  f"| {r['seconds']:.1f} |", flush=True)
    certified = [r for r in rows if r["certified"]]
    below_zero = sum(r["J"] <= r["zero"] * (1 + 1e-9) for r in rows)
    below_mlp = sum(r["J"] <= r["mlp"] * (1 + 1e-6) for r in rows)
    print(f"\nproblems: {len(rows)}; certified to tol without a warning: {len(certified)}"
          + ("" if len(certified) == len(rows) else " (not: " + ", ".join(
              f"{r['family']} {r['seed']} at {r['gap']:.2g}" for r in rows
              if not r["certified"]) + ")"))
    print(f"J at or below the zero network's: {below_zero}; at or below the L-BFGS MLP's: "
          f"{below_mlp}; median fit time {np.median([r['seconds'] for r in rows]):.1f} s")


if __name__ == "__main__":
    main()
