"""Tables, files and plots of benchmark records (see :mod:`convexnn.bench.methods`).

The performance profile follows Mishkin, Sahiner & Pilanci (:ref:`benchmarks-protocol`): a *problem* is one
(dataset, split, alpha); a method *solves* it by time ``t`` when its best objective found within
time ``t`` is at most ``(1 + tol) · J*``, ``J*`` the best objective any method found on the problem.
"""

from __future__ import annotations

import csv
import json
import math

import numpy as np

__all__ = [
    "CSV_FIELDS",
    "format_table",
    "performance_profile",
    "plot_metrics",
    "plot_objectives",
    "plot_profile",
    "solved_fractions",
    "summary_table",
    "write_csv",
    "write_json",
]

CSV_FIELDS = [
    "dataset",
    "split",
    "task",
    "n_train",
    "n_test",
    "n_features",
    "alpha",
    "method",
    "objective",
    "rel_excess",
    "train_metric",
    "test_metric",
    "metric",
    "test_rmse",
    "time",
    "time_sweep",
    "neurons",
    "gap",
    "lr",
    "status",
    "notes",
]
TOLERANCES = (1.0, 0.5, 0.1)


def problem_key(record):
    return (record["dataset"], record["split"], record["alpha"])


def best_objectives(records):
    """``J*`` of each problem: the lowest objective any method reached (over trajectories too)."""
    best = {}
    for r in records:
        values = [r["objective"]] + [j for _, j in r.get("trajectory", [])]
        value = min(values)
        key = problem_key(r)
        best[key] = min(best.get(key, math.inf), value)
    return best


def add_relative_excess(records):
    """Set ``rel_excess = (J − J*) / |J*|`` on every record (``inf`` for failed runs)."""
    best = best_objectives(records)
    for r in records:
        star = best[problem_key(r)]
        r["rel_excess"] = (
            (r["objective"] - star) / max(abs(star), 1e-300)
            if math.isfinite(r["objective"])
            else math.inf
        )
    return records


def solve_times(records, tol, time_key="time"):
    """For each method, the time at which each problem was solved (``inf`` when never)."""
    best = best_objectives(records)
    problems = sorted(best, key=str)
    times = {}
    for r in records:
        star = best[problem_key(r)]
        threshold = star + tol * max(abs(star), 1e-300)
        offset = r["time_sweep"] - r["time"] if time_key == "time_sweep" else 0.0
        hit = [t + offset for t, j in r.get("trajectory", []) if j <= threshold]
        times.setdefault(r["method"], {})[problem_key(r)] = min(hit) if hit else math.inf
    return problems, {m: np.array([t.get(p, math.inf) for p in problems]) for m, t in times.items()}


def performance_profile(records, tol, grid=None, time_key="time"):
    """Fraction of problems each method solved within relative ``tol`` of ``J*``, against time.

    Parameters
    ----------
    records : list of dict
    tol : float
    grid : array, optional
        Times at which to evaluate; by default all solve times.
    time_key : {"time", "time_sweep"}
        ``"time_sweep"`` charges SGD/Adam for their whole learning-rate sweep (the chosen rate's
        trajectory is shifted by the time of the other rates).

    Returns
    -------
    grid : ndarray
    fractions : dict of method -> ndarray, non-decreasing in time
    """
    problems, times = solve_times(records, tol, time_key)
    if grid is None:
        finite = np.concatenate([t[np.isfinite(t)] for t in times.values()] + [np.zeros(0)])
        grid = np.unique(finite) if finite.size else np.zeros(1)
    grid = np.asarray(grid, dtype=float)
    n = max(len(problems), 1)
    return grid, {m: (t[None, :] <= grid[:, None]).sum(axis=1) / n for m, t in times.items()}


def solved_fractions(records, tolerances=TOLERANCES, time_key="time"):
    """Fraction of problems each method solves at all (at unlimited time), per tolerance.

    Parameters
    ----------
    records : list of dict
        Benchmark records (:func:`convexnn.bench.methods.run_method`).
    tolerances : sequence of float, default=(1.0, 0.5, 0.1)
        Relative tolerances ``tol``: a problem is solved when the method's objective reaches
        ``(1 + tol) · J*``.
    time_key : {"time", "time_sweep"}, default="time"
        As in :func:`performance_profile`.

    Returns
    -------
    dict of method -> dict of tol -> float
    """
    out = {}
    for tol in tolerances:
        problems, times = solve_times(records, tol, time_key)
        for method, t in times.items():
            out.setdefault(method, {})[tol] = float(np.isfinite(t).mean()) if len(problems) else 0.0
    return out


def write_csv(records, path):
    """One row per run (trajectories are in the JSON file).

    Parameters
    ----------
    records : list of dict
        Benchmark records (:func:`convexnn.bench.methods.run_method`).
    path : path
        The CSV file to write (overwritten); its columns are :data:`CSV_FIELDS`.
    """
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(records)


def _jsonable(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    return value


def write_json(records, path, config=None):
    """All records with trajectories, and the run's settings; non-finite numbers as strings.

    Parameters
    ----------
    records : list of dict
        Benchmark records (:func:`convexnn.bench.methods.run_method`).
    path : path
        The JSON file to write (overwritten).
    config : dict, optional
        The run's settings, stored under ``"config"`` (an empty dict by default).
    """
    with open(path, "w") as handle:
        json.dump(_jsonable({"config": config or {}, "records": records}), handle, indent=1)


def read_json(path):
    """Records written by :func:`write_json` (``"inf"`` back to ``math.inf``, null to NaN)."""

    def back(value):
        if value is None:
            return math.nan
        if value in ("inf", "-inf"):
            return float(value)
        if isinstance(value, dict):
            return {k: back(v) for k, v in value.items()}
        if isinstance(value, list):
            return [back(v) for v in value]
        return value

    with open(path) as handle:
        data = json.load(handle)
    return data.get("config", {}), [back(r) for r in data["records"]]


def _fmt(value, spec):
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    return format(value, spec)


def format_table(records):
    """A Markdown (pipe) table, one row per run.

    Parameters
    ----------
    records : list of dict
        Benchmark records (:func:`convexnn.bench.methods.run_method`).

    Returns
    -------
    str
    """
    header = [
        "dataset",
        "split",
        "alpha",
        "method",
        "J (train)",
        "rel. excess",
        "train",
        "test",
        "test RMSE",
        "time [s]",
        "sweep [s]",
        "neurons",
        "gap",
        "lr",
        "status",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in records:
        cells = [
            r["dataset"],
            r["split"],
            _fmt(r["alpha"], ".0e"),
            r["method"],
            _fmt(r["objective"], ".6g"),
            _fmt(r.get("rel_excess", math.nan), ".2e"),
            _fmt(r["train_metric"], ".4f"),
            _fmt(r["test_metric"], ".4f"),
            _fmt(r["test_rmse"], ".4g"),
            _fmt(r["time"], ".2f"),
            _fmt(r["time_sweep"], ".2f"),
            _fmt(r["neurons"], "d"),
            _fmt(r["gap"], ".1e"),
            _fmt(r["lr"], "g"),
            r["status"],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary_table(records, time_key="time"):
    """Per method: problems, fraction solved at each tolerance, median time, mean test metric.

    Parameters
    ----------
    records : list of dict
        Benchmark records (:func:`convexnn.bench.methods.run_method`).
    time_key : {"time", "time_sweep"}, default="time"
        As in :func:`performance_profile`.

    Returns
    -------
    str
        A Markdown (pipe) table, one row per method.
    """
    fractions = solved_fractions(records, time_key=time_key)
    methods = list(dict.fromkeys(r["method"] for r in records))
    header = (
        ["method", "runs", "errors"]
        + [f"solved tol {t:g}" for t in TOLERANCES]
        + ["median time [s]", "median sweep [s]", "mean test accuracy", "mean test R²"]
    )
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for m in methods:
        rows = [r for r in records if r["method"] == m]
        acc = [r["test_metric"] for r in rows if r["metric"] == "accuracy"]
        r2 = [r["test_metric"] for r in rows if r["metric"] == "r2"]
        cells = [m, str(len(rows)), str(sum(r["status"].startswith("error") for r in rows))]
        cells += [f"{fractions.get(m, {}).get(t, 0.0):.3f}" for t in TOLERANCES]
        cells += [
            _fmt(float(np.nanmedian([r["time"] for r in rows])), ".3g"),
            _fmt(float(np.nanmedian([r["time_sweep"] for r in rows])), ".3g"),
            _fmt(float(np.nanmean(acc)) if acc and not np.all(np.isnan(acc)) else math.nan, ".4f"),
            _fmt(float(np.nanmean(r2)) if r2 and not np.all(np.isnan(r2)) else math.nan, ".4f"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError(
            "plots need matplotlib: pip install 'convexnn[bench]' (or pass --no-plots)"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_profile(records, path, tolerances=TOLERANCES, time_key="time", title=None):
    """Performance profiles (fraction solved against time, log scale), one panel per tolerance.

    Parameters
    ----------
    records : list of dict
        Benchmark records (:func:`convexnn.bench.methods.run_method`).
    path : path
        The image file to write (its format from the suffix, as matplotlib's ``savefig``).
    tolerances : sequence of float, default=(1.0, 0.5, 0.1)
        Relative tolerances, one panel each (see :func:`performance_profile`).
    time_key : {"time", "time_sweep"}, default="time"
        As in :func:`performance_profile`.
    title : str, optional
        Title above the panels.

    Returns
    -------
    path
        ``path``.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(tolerances), figsize=(4.2 * len(tolerances), 3.6), sharey=True)
    axes = np.atleast_1d(axes)
    times = [t for r in records for t, _ in r.get("trajectory", []) if t > 0]
    if time_key == "time_sweep":
        times += [r["time_sweep"] for r in records if math.isfinite(r["time_sweep"])]
    lo, hi = (min(times), max(times)) if times else (1e-3, 1.0)
    grid = np.geomspace(lo / 1.5, hi * 1.5, 400)
    for ax, tol in zip(axes, tolerances, strict=False):
        grid_, fractions = performance_profile(records, tol, grid, time_key)
        for method, frac in fractions.items():
            ax.step(grid_, frac, where="post", label=method)
        ax.set_xscale("log")
        ax.set_xlabel("time [s]")
        ax.set_title(f"tol = {tol:g}")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("fraction of problems solved")
    axes[-1].legend(loc="lower right", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _datasets(records):
    return list(dict.fromkeys(r["dataset"] for r in records))


def plot_objectives(records, path, max_panels=12):
    """Objective against alpha per dataset (few datasets), else relative excess per problem.

    Parameters
    ----------
    records : list of dict
        Benchmark records (:func:`convexnn.bench.methods.run_method`).
    path : path
        The image file to write (its format from the suffix, as matplotlib's ``savefig``).
    max_panels : int, default=12
        With at most this many datasets, one panel per dataset against ``alpha``; with more, one
        panel with a column of points per dataset.

    Returns
    -------
    path
        ``path``.
    """
    return _per_dataset_plot(records, path, "objective", "training objective J", max_panels)


def plot_metrics(records, path, max_panels=12):
    """Test metric against alpha per dataset (few datasets), else per problem.

    Parameters
    ----------
    records : list of dict
        Benchmark records (:func:`convexnn.bench.methods.run_method`).
    path : path
        The image file to write (its format from the suffix, as matplotlib's ``savefig``).
    max_panels : int, default=12
        With at most this many datasets, one panel per dataset against ``alpha``; with more, one
        panel with a column of points per dataset.

    Returns
    -------
    path
        ``path``.
    """
    return _per_dataset_plot(records, path, "test_metric", "test metric", max_panels)


def _per_dataset_plot(records, path, key, label, max_panels):
    plt = _pyplot()
    names = _datasets(records)
    methods = list(dict.fromkeys(r["method"] for r in records))
    if len(names) <= max_panels:
        cols = min(len(names), 4)
        rows = math.ceil(len(names) / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.0 * rows), squeeze=False)
        for ax, name in zip(axes.ravel(), names, strict=False):
            for m in methods:
                pts = sorted(
                    (r["alpha"], r[key])
                    for r in records
                    if r["dataset"] == name and r["method"] == m and math.isfinite(r[key])
                )
                if pts:
                    a, v = zip(*pts, strict=False)
                    ax.plot(a, v, "o-", label=m, markersize=4)
            ax.set_xscale("log")
            if key == "objective":
                ax.set_yscale("log")
            metric = next((r["metric"] for r in records if r["dataset"] == name), "")
            ax.set_title(name if key == "objective" else f"{name} (test {metric})", fontsize=9)
            ax.set_xlabel("alpha")
            ax.grid(alpha=0.3)
        for ax in axes.ravel()[len(names) :]:
            ax.set_visible(False)
        axes[0, 0].set_ylabel(label)
        axes[0, 0].legend(fontsize=7)
    else:
        add_relative_excess(records)
        fig, ax = plt.subplots(figsize=(10, 4))
        order = {name: i for i, name in enumerate(names)}
        for j, m in enumerate(methods):
            rows = [r for r in records if r["method"] == m]
            x = [order[r["dataset"]] + 0.1 * (j - len(methods) / 2) for r in rows]
            if key == "objective":
                y = [
                    r["rel_excess"] + 1e-6 if math.isfinite(r["rel_excess"]) else np.nan
                    for r in rows
                ]
            else:
                y = [r[key] for r in rows]
            ax.plot(x, y, ".", label=m, alpha=0.7)
        if key == "objective":
            ax.set_yscale("log")
            ax.set_ylabel("(J − J*) / J*  + 1e-6")
        else:
            ax.set_ylabel(label)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=90, fontsize=6)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
