"""Benchmark problems: train/test splits from bundled, ``.npz``, CSV and time-series sources.

Every loader returns :class:`Dataset` objects whose features are standardised on the training
split (and, for regression, whose targets are too: the objective ``J`` is then measured on the
standardised targets, while the test RMSE is reported in the original units).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "BUNDLED",
    "Dataset",
    "load_bundled",
    "load_csv",
    "load_npz_folder",
    "load_series",
    "make_dataset",
]

# scikit-learn's datasets that ship with the package (nothing is downloaded)
BUNDLED = {
    "breast_cancer": ("load_breast_cancer", "classification"),
    "diabetes": ("load_diabetes", "regression"),
    "digits": ("load_digits", "classification"),
    "iris": ("load_iris", "classification"),
    "wine": ("load_wine", "classification"),
}


@dataclass
class Dataset:
    """One train/test split of a benchmark problem, ready to fit.

    Each parameter is kept as the attribute of the same name.

    Parameters
    ----------
    name, split : str
        Where the data came from and which split of it this is.
    task : {"classification", "regression"}
    X_train, X_test : ndarray
        Features standardised with the training split's mean and standard deviation.
    y_train, y_test : ndarray
        Labels (classification) or targets standardised on the training split (regression).
    y_scale : float
        Standard deviation of the raw training targets (1 for classification): RMSE in the
        original units is the standardised RMSE times ``y_scale``.
    notes : list of str
        Reductions applied (e.g. subsampling), reported with the results.
    """

    name: str
    split: str
    task: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    y_scale: float = 1.0
    notes: list = field(default_factory=list)

    @property
    def n_train(self) -> int:
        return self.X_train.shape[0]

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]


def make_dataset(name, split, task, X_train, y_train, X_test, y_test, max_train=None, seed=0):
    """Standardise a split on its training part and cap its training size.

    Parameters
    ----------
    name, split : str
        Where the data came from and which split of it this is (kept in the :class:`Dataset`).
    task : {"classification", "regression"}
        For regression the targets are standardised on the training split as well (as floats);
        for classification the labels are kept as given. Anything else raises ``ValueError``.
    X_train, X_test : array-like of shape (n_train, n_features) and (n_test, n_features)
        Raw features; both are standardised with the training split's mean and standard deviation
        (a constant feature is divided by 1).
    y_train, y_test : array-like of shape (n_train,) and (n_test,)
        Labels or raw targets of the two splits.
    max_train : int, optional
        When the training split is larger, a uniform random subsample of this size (drawn with
        ``seed``) replaces it; the test split is kept whole. The reduction is recorded in ``notes``.
    seed : int, default=0
        Seed of the subsample (used only when ``max_train`` applies).

    Returns
    -------
    Dataset
    """
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    X_train, X_test = np.asarray(X_train, dtype=np.float64), np.asarray(X_test, dtype=np.float64)
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    if max_train is not None and not max_train >= 1:
        raise ValueError(f"max_train must be a positive number of samples, got {max_train!r}")
    notes = []
    if max_train is not None and X_train.shape[0] > max_train:
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(X_train.shape[0], size=max_train, replace=False))
        notes.append(f"train subsampled {X_train.shape[0]} -> {max_train}")
        X_train, y_train = X_train[keep], y_train[keep]
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std[std == 0] = 1.0
    X_train, X_test = (X_train - mean) / std, (X_test - mean) / std
    y_scale = 1.0
    if task == "regression":
        y_train, y_test = y_train.astype(np.float64), y_test.astype(np.float64)
        y_mean, y_scale = float(y_train.mean()), float(y_train.std()) or 1.0
        y_train, y_test = (y_train - y_mean) / y_scale, (y_test - y_mean) / y_scale
    return Dataset(name, split, task, X_train, y_train, X_test, y_test, y_scale, notes)


def load_bundled(name, test_size=0.2, seed=0, max_train=None):
    """A scikit-learn bundled dataset with a random (stratified for classification) split.

    Parameters
    ----------
    name : str
        A key of :data:`BUNDLED` (the datasets that ship with scikit-learn; nothing is
        downloaded); an unknown name raises ``ValueError``.
    test_size : float, default=0.2
        Fraction of the samples held out as the test split.
    seed : int, default=0
        Seed of the split (``random_state`` of ``train_test_split``) and of the subsample.
    max_train : int, optional
        Cap on the training split, as in :func:`make_dataset`.

    Returns
    -------
    list of Dataset
        One split.
    """
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    if name not in BUNDLED:
        raise ValueError(
            f"unknown dataset {name!r}; bundled datasets are {', '.join(sorted(BUNDLED))}"
        )
    loader, task = BUNDLED[name]
    X, y = getattr(datasets, loader)(return_X_y=True)
    stratify = y if task == "classification" else None
    parts = train_test_split(X, y, test_size=test_size, random_state=seed, stratify=stratify)
    X_train, X_test, y_train, y_test = parts
    split = f"random{int(round(100 * (1 - test_size)))}/{int(round(100 * test_size))}"
    return [make_dataset(name, split, task, X_train, y_train, X_test, y_test, max_train, seed)]


def _npz_splits(keys):
    """The (train key, test key, label) triples of a ``.npz`` file in ``shared/data`` format."""
    triples = []
    for prefix in ("fold", "split"):
        k = 0
        while f"{prefix}{k}_train" in keys and f"{prefix}{k}_test" in keys:
            triples.append((f"{prefix}{k}_train", f"{prefix}{k}_test", f"{prefix}{k}"))
            k += 1
    return triples


def load_npz_folder(folder, splits=(0,), max_train=None, seed=0, select=None, task=None):
    """Every ``.npz`` file of ``folder`` (the format of ``shared/data``).

    Files hold ``X``, ``y`` and index arrays ``fold{k}_train``/``fold{k}_test`` (the UCI
    classification collection) or ``split{k}_train``/``split{k}_test`` (the UCI regression splits).

    Parameters
    ----------
    folder : path
    splits : sequence of int or "all"
        Which of the file's splits to use.
    max_train : int, optional
        Cap on each training split, as in :func:`make_dataset`.
    seed : int, default=0
        Seed of the training subsample (the splits themselves are read from the file).
    select : sequence of str, optional
        Only these dataset names (file stems).
    task : {"classification", "regression"}, optional
        By default integer labels mean classification and floating targets regression.

    Returns
    -------
    list of Dataset
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"--data-dir {str(folder)!r} is not a folder")
    files = sorted(folder.glob("*.npz"))
    if select:
        wanted = set(select)
        files = [f for f in files if f.stem in wanted]
        missing = wanted - {f.stem for f in files}
        if missing:
            raise ValueError(
                f"no file {', '.join(sorted(m + '.npz' for m in missing))} in {folder}"
            )
    if not files:
        raise ValueError(f"no .npz files in {str(folder)!r}")
    out = []
    for path in files:
        with np.load(path) as data:
            keys = set(data.files)
            if not {"X", "y"} <= keys:
                raise ValueError(f"{path.name} has no arrays 'X' and 'y' (it has {sorted(keys)})")
            X, y = data["X"], data["y"]
            triples = _npz_splits(keys)
            if not triples:
                raise ValueError(
                    f"{path.name} has no split indices (fold0_train/fold0_test or "
                    "split0_train/split0_test)"
                )
            chosen = (
                triples if splits == "all" else [triples[k] for k in splits if k < len(triples)]
            )
            if not chosen:
                raise ValueError(f"{path.name} has {len(triples)} splits; asked for {list(splits)}")
            kind = task or (
                "classification" if np.issubdtype(y.dtype, np.integer) else "regression"
            )
            for train_key, test_key, label in chosen:
                train, test = data[train_key], data[test_key]
                out.append(
                    make_dataset(
                        path.stem,
                        label,
                        kind,
                        X[train],
                        y[train],
                        X[test],
                        y[test],
                        max_train,
                        seed,
                    )
                )
    return out


def _as_number(text):
    try:
        return float(text)
    except ValueError:
        return None


def load_csv(path, target, task="auto", test_size=0.2, seed=0, max_train=None):
    """A CSV file with a header row: numeric feature columns and the ``target`` column.

    ``task="auto"`` treats a non-numeric target, or an integer target with at most 20 distinct
    values, as classification; anything else as regression.

    Parameters
    ----------
    path : path
        The CSV file; every column but ``target`` must hold numbers.
    target : str
        Header name of the target column.
    task : {"auto", "classification", "regression"}, default="auto"
        The kind of problem; ``"regression"`` needs a numeric target.
    test_size : float, default=0.2
        Fraction of the rows held out as the test split (a random split, stratified for
        classification unless the labels are mostly distinct).
    seed : int, default=0
        Seed of the split and of the training subsample.
    max_train : int, optional
        Cap on the training split, as in :func:`make_dataset`.

    Returns
    -------
    list of Dataset
        One split.
    """
    from sklearn.model_selection import train_test_split

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"--csv {str(path)!r}: no such file")
    with path.open(newline="") as handle:
        rows = [row for row in csv.reader(handle) if row]
    if len(rows) < 3:
        raise ValueError(f"{path.name}: needs a header row and at least 2 data rows")
    header, body = [h.strip() for h in rows[0]], rows[1:]
    if target not in header:
        raise ValueError(f"{path.name}: no column {target!r}; columns are {header}")
    t = header.index(target)
    X = np.empty((len(body), len(header) - 1))
    labels = []
    for i, row in enumerate(body):
        if len(row) != len(header):
            raise ValueError(
                f"{path.name}, line {i + 2}: {len(row)} fields, header has {len(header)}"
            )
        labels.append(row[t].strip())
        values = [_as_number(v) for j, v in enumerate(row) if j != t]
        if any(v is None for v in values):
            bad = next(row[j] for j in range(len(row)) if j != t and _as_number(row[j]) is None)
            raise ValueError(f"{path.name}, line {i + 2}: non-numeric feature value {bad!r}")
        X[i] = values
    numbers = [_as_number(v) for v in labels]
    numeric = all(v is not None for v in numbers)
    if task == "auto":
        integer = numeric and all(float(v).is_integer() for v in numbers)
        task = (
            "classification"
            if not numeric or (integer and len(set(numbers)) <= 20)
            else "regression"
        )
    if task == "regression":
        if not numeric:
            raise ValueError(
                f"{path.name}: target {target!r} is not numeric; use --task classification"
            )
        y = np.asarray(numbers)
    else:
        y = np.asarray(labels)
    stratify = y if task == "classification" and len(set(labels)) < len(labels) / 2 else None
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=seed, stratify=stratify
    )
    return [
        make_dataset(path.stem, "random", task, X_train, y_train, X_test, y_test, max_train, seed)
    ]


def autoregressive_windows(series, lag):
    """Rows ``[s_{t-lag}, ..., s_{t-1}]`` and targets ``s_t`` for ``t = lag, ..., len(s) - 1``."""
    series = np.asarray(series, dtype=np.float64).ravel()
    if lag < 1 or series.shape[0] <= lag + 1:
        raise ValueError(f"a series of length {series.shape[0]} has too few points for lag {lag}")
    X = np.lib.stride_tricks.sliding_window_view(series[:-1], lag)
    return np.ascontiguousarray(X), series[lag:].copy()


def load_series(path, key, lag=8, log_returns=False, test_size=0.2, max_train=None, seed=0):
    """One-step-ahead forecasting from the ``lag`` previous values of a series in an ``.npz`` file.

    With ``log_returns`` the series (e.g. prices) is replaced by ``log(p_t / p_{t-1})`` first.
    The split is chronological: the last ``test_size`` fraction of the windows is the test set.

    Parameters
    ----------
    path : path
        The ``.npz`` file.
    key : str
        Name of the array in the file that holds the series (flattened if not 1-D).
    lag : int, default=8
        Number of previous values each sample has as its features.
    log_returns : bool, default=False
        Forecast the log-returns of the series instead of its values (the series must be
        positive).
    test_size : float, default=0.2
        Fraction of the windows, the last ones in time, held out as the test split.
    max_train : int, optional
        Cap on the training split, as in :func:`make_dataset`.
    seed : int, default=0
        Seed of the training subsample.

    Returns
    -------
    list of Dataset
        One split.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"--series {str(path)!r}: no such file")
    with np.load(path) as data:
        if key not in data.files:
            raise ValueError(f"{path.name} has no array {key!r}; it has {sorted(data.files)}")
        series = np.asarray(data[key], dtype=np.float64)
    name = f"{path.stem}:{key}"
    if log_returns:
        if np.any(series <= 0):
            raise ValueError(f"{name}: log-returns need a positive series")
        series = np.diff(np.log(series))
        name += ":logret"
    X, y = autoregressive_windows(series, lag)
    cut = int(round(X.shape[0] * (1 - test_size)))
    datasets = [
        make_dataset(
            name,
            f"lag{lag}/chrono",
            "regression",
            X[:cut],
            y[:cut],
            X[cut:],
            y[cut:],
            max_train,
            seed,
        )
    ]
    return datasets
