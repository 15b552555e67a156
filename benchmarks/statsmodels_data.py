"""The default estimators on the real datasets that statsmodels ships (no download needed).

Each dataset of ``statsmodels.datasets`` with an ``exog`` (categorical columns one-hot encoded,
rows with a missing value dropped) is fitted by ``ConvexReLURegressor()`` on its ``endog`` (one or
several outputs) and, where ``endog`` has at most ten distinct integer values, by
``ConvexReLUClassifier()`` too; every parameter at its default but ``random_state=0``. Features
(and regression targets) as shipped, or standardised with ``--standardise``. Prints one row per
fit: its time, status, certified gap, any warning, the network's J and the best constant model's.

    pip install statsmodels
    OMP_NUM_THREADS=1 python benchmarks/statsmodels_data.py [--standardise] [--sets a,b,...]
"""

from __future__ import annotations

import argparse
import importlib
import time
import warnings

import numpy as np
import pandas as pd
from default_estimators import warm_up  # run from benchmarks/, as its sibling scripts are
from random_problems import zero_objective
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

from convexnn import ConvexReLUClassifier, ConvexReLURegressor

#: The datasets with an exog (time series without one are left out); randhie and fair are the
#: largest (20,190 and 6,366 samples).
SETS = ("anes96", "cancer", "ccard", "committee", "copper", "cpunish", "engel", "fair",
        "grunfeld", "heart", "longley", "modechoice", "randhie", "scotland", "spector",
        "stackloss", "star98", "statecrime", "strikes")


def load(name):
    """``(X, y)`` of dataset ``name``: float64, rows with a missing value dropped."""
    data = importlib.import_module(f"statsmodels.datasets.{name}").load_pandas()
    X = pd.get_dummies(pd.DataFrame(data.exog)).astype(float).to_numpy()
    y = np.asarray(data.endog, dtype=float)
    y = y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y
    keep = np.isfinite(X).all(axis=1) & np.isfinite(y.reshape(len(y), -1)).all(axis=1)
    return X[keep], y[keep]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--standardise", action="store_true", help="standardise X and y first")
    parser.add_argument("--sets", default=",".join(SETS))
    args = parser.parse_args(argv)
    warm_up(ConvexReLURegressor, MLPRegressor)  # no timed fit pays one-off costs
    warm_up(ConvexReLUClassifier, MLPClassifier)
    print("| set | task | n | d | time [s] | status | gap | J | J constant | warning |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in args.sets.split(","):
        X, y = load(name)
        X = StandardScaler().fit_transform(X) if args.standardise else X
        tasks = ["regression"]
        if y.ndim == 1 and len(np.unique(y)) <= 10 and np.array_equal(y, np.round(y)):
            tasks.append("classification")
        for task in tasks:
            target = y
            if task == "regression" and args.standardise:
                target = StandardScaler().fit_transform(y.reshape(len(y), -1)).reshape(y.shape)
            Estimator = ConvexReLUClassifier if task == "classification" else ConvexReLURegressor
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                start = time.perf_counter()
                model = Estimator(random_state=0).fit(X, target)
                seconds = time.perf_counter() - start
            said = " / ".join(str(w.message).split(";")[0] for w in caught)
            print(f"| {name} | {task} | {X.shape[0]} | {X.shape[1]} | {seconds:.1f} | "
                  f"{model.status_} | {model.gap_:.1e} | {model.objective_:.6g} | "
                  f"{zero_objective(task, target):.6g} | {said} |", flush=True)


if __name__ == "__main__":
    main()
