"""The default estimators against scikit-learn's MLP of the same width, on the same objective.

For every dataset: ``ConvexReLURegressor(alpha=1e-3)`` (or ``ConvexReLUClassifier``) with every
other parameter at its default, against ``MLPRegressor``/``MLPClassifier(hidden_layer_sizes=(100,),
alpha=alpha * n)`` trained by L-BFGS and by full-batch Adam (scikit-learn's default budgets), all
scored by the training objective ``J`` (``convexnn.network_objective``). Prints one row per set:
both J, the certified gap, test RMSE (regression) or accuracy, and the fit times. Every method is
fitted once on a small problem first, so that no timed fit pays the process's one-off costs.

    python benchmarks/default_estimators.py regression --data ../shared/data
    python benchmarks/default_estimators.py regression --data ../shared/data --raw --alpha 1e-2
    python benchmarks/default_estimators.py classification --data ../shared/data [--sets a,b,...]
    python benchmarks/default_estimators.py classification --data ../shared/data --fold 3
    python benchmarks/default_estimators.py summary table.md [more tables ...]

``summary`` reads tables these runs printed (one row per set; rows of sets that did not finish may
say so in their second column) and prints the targets of the default estimators: the share of
sets certified to 1e-6, where J is at or below the best MLP's, the median ratio of the fit time to
that of the MLP with scikit-learn's defaults, and the mean difference in test accuracy (or RMSE).

Regression: the 9 sets of ``uci_regression`` (split0, or the split ``--fold`` names; X and y
standardised on the training split, or as shipped with ``--raw``).
Classification: the sets of ``uci121`` (fold0 train/test, or the fold ``--fold`` names; features as
shipped).
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import LabelEncoder, StandardScaler

from convexnn import ConvexReLUClassifier, ConvexReLURegressor, network_objective


def split_indices(data, name, kind, fold):
    """The training and test indices of split ``{kind}{fold}`` of the archive ``data`` (``kind``:
    ``"fold"`` in uci121, ``"split"`` in uci_regression); a ``ValueError`` naming the splits it
    has where it has no such split."""
    if f"{kind}{fold}_train" not in data.files:
        have = sorted(int(key[len(kind):-len("_train")]) for key in data.files
                      if key.startswith(kind) and key.endswith("_train"))
        raise ValueError(f"{name} has no {kind}{fold}; its {kind}s are {have[0]}-{have[-1]}")
    return data[f"{kind}{fold}_train"], data[f"{kind}{fold}_test"]


def regression_sets(folder, raw=False, fold=0):
    for path in sorted(Path(folder, "uci_regression").glob("*.npz")):
        data = np.load(path)
        train, test = split_indices(data, path.stem, "split", fold)
        if raw:  # X and y as shipped
            yield path.stem, data["X"][train], data["y"][train], data["X"][test], data["y"][test]
            continue
        sx = StandardScaler().fit(data["X"][train])
        sy = StandardScaler().fit(data["y"][train, None])
        y_train = sy.transform(data["y"][train, None])[:, 0]
        y_test = sy.transform(data["y"][test, None])[:, 0]
        X_train, X_test = sx.transform(data["X"][train]), sx.transform(data["X"][test])
        yield path.stem, X_train, y_train, X_test, y_test


def classification_sets(folder, names=None, fold=0):
    for path in sorted(Path(folder, "uci121").glob("*.npz")):
        if names and path.stem not in names:
            continue
        data = np.load(path)
        train, test = split_indices(data, path.stem, "fold", fold)
        X, y = data["X"].astype(np.float64), LabelEncoder().fit_transform(data["y"])
        yield path.stem, X[train], y[train], X[test], y[test]


def score(model, X, y, task):
    if task == "regression":
        return float(np.sqrt(np.mean((model.predict(X) - y) ** 2)))
    return float(np.mean(model.predict(X) == y))


def timed(fit):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = fit()
    return model, time.perf_counter() - start


def warm_up(Convex, MLP):
    """Fit every method once on a small problem of each kind, so that the timed fits measure the
    fit and not what a process pays once (imports, loading numba's compiled kernels)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    targets = [X[:, 0]] if Convex is ConvexReLURegressor else [X[:, 0] > 0, np.argsort(X[:, 0]) % 3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for y in targets:
            Convex(1e-2, n_gates=10, random_state=0).fit(X, y)
            for solver in ("lbfgs", "adam"):
                MLP(hidden_layer_sizes=(10,), solver=solver, max_iter=5).fit(X, y)


def summary(paths):
    """Print the targets over the rows of the tables in ``paths`` (see the module docstring)."""
    rows, unfinished = [], []
    for path in paths:
        for line in Path(path).read_text().splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 11 and cells[1].isdigit():
                rows.append(cells)
            elif len(cells) >= 2 and line.startswith("| ") and not cells[1].isdigit() \
                    and cells[0] not in ("set", "---"):
                unfinished.append(cells[0])
    J, lbfgs, adam, gap, score, best, t, t_default = (
        np.array([[float(r[i]) for r in rows]]).ravel() for i in (2, 3, 4, 5, 6, 7, 8, 10)
    )
    total = len(rows) + len(unfinished)
    wins = J <= np.minimum(lbfgs, adam) * (1 + 1e-4)  # J is printed to five digits
    ratio = t / np.maximum(t_default, 0.05)  # times are printed to 0.1 s
    print(f"sets: {total}, finished: {len(rows)}"
          + (f" (not: {', '.join(unfinished)})" if unfinished else ""))
    certified = int(np.sum(gap <= 1e-6))
    print(f"certified gap <= 1e-6: {certified} of {total} ({certified / total:.0%})")
    print(f"J at or below the best MLP's: {np.sum(wins)} of {total} ({np.sum(wins) / total:.0%})"
          + (f"; above on {', '.join(r[0] for r, w in zip(rows, wins, strict=True) if not w)}"
             if not wins.all() else ""))
    print(f"median fit time / MLP defaults: {np.median(ratio):.1f}x "
          f"(quartiles {np.percentile(ratio, 25):.1f}x-{np.percentile(ratio, 75):.1f}x)")
    print(f"mean score, convex minus best MLP: {np.mean(score - best):+.4f}")


def main(argv=None):
    import sys

    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "summary":
        return summary(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=["regression", "classification"])
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--alpha", type=float, default=1e-3)
    parser.add_argument("--sets", default=None, help="comma-separated dataset names")
    parser.add_argument("--raw", action="store_true",
                        help="regression: X and y as shipped, not standardised")
    parser.add_argument("--fold", type=int, default=0,
                        help="the split to train and test on: foldK of uci121 (0-3), splitK of "
                             "uci_regression (0-19; protein 0-4)")
    args = parser.parse_args(argv)
    alpha, task = args.alpha, args.task
    names = args.sets.split(",") if args.sets else None
    if task == "regression":
        sets = [s for s in regression_sets(args.data, args.raw, args.fold)
                if not names or s[0] in names]
        Convex, MLP, metric = ConvexReLURegressor, MLPRegressor, "test RMSE"
    else:
        sets = classification_sets(args.data, names, args.fold)
        Convex, MLP, metric = ConvexReLUClassifier, MLPClassifier, "test acc."
    print(f"| set | n | J convex | J L-BFGS | J Adam | gap | {metric} convex | {metric} best MLP "
          "| time convex [s] | time L-BFGS [s] | time MLP defaults [s] |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    warm_up(Convex, MLP)
    wins = 0
    for name, X, y, X_test, y_test in sets:
        loss = "squared" if task == "regression" else ("logistic" if y.max() == 1 else "softmax")
        Y = y if loss != "softmax" else np.eye(y.max() + 1)[y]

        def J(m, X=X, Y=Y, loss=loss):
            return network_objective(m.coefs_, m.intercepts_, X, Y, alpha, loss)

        convex, t_convex = timed(lambda X=X, y=y: Convex(alpha, random_state=0).fit(X, y))
        common = dict(hidden_layer_sizes=(100,), alpha=alpha * len(X), random_state=0)
        lbfgs, t_lbfgs = timed(lambda c=common: MLP(solver="lbfgs", **c).fit(X, y))  # noqa: B023
        adam, _ = timed(
            lambda c=common: MLP(solver="adam", batch_size=len(X), **c).fit(X, y)  # noqa: B023
        )
        _, t_default = timed(
            lambda X=X, y=y: MLP(hidden_layer_sizes=(100,), random_state=0).fit(X, y)
        )
        best = min((lbfgs, adam), key=J)
        wins += convex.objective_ <= J(best) * (1 + 1e-6)
        print(f"| {name} | {len(X)} | {convex.objective_:.5g} | {J(lbfgs):.5g} | {J(adam):.5g} "
              f"| {convex.gap_:.1e} | {score(convex, X_test, y_test, task):.4f} "
              f"| {score(best, X_test, y_test, task):.4f} | {t_convex:.1f} | {t_lbfgs:.1f} "
              f"| {t_default:.1f} |", flush=True)
    print(f"\nconvex J at or below the best MLP's on {wins} set(s)")


if __name__ == "__main__":
    main()
