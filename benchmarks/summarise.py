"""Numbers for docs/benchmarks.md from ``results.json`` files written by ``convexnn bench``.

python benchmarks/summarise.py profile RESULTS.json [RESULTS.json ...] [--method convex-gated]
        [--exclude convex-gated]
    fractions solved per tolerance, and whether the method's performance profile is at or
    above every other method's at every time (checked at every time any method solves a
    problem, where the step curves change), for both time conventions; the problems it misses
    at the smallest tolerance, and its certified gaps. ``--exclude`` leaves methods out before
    anything is computed (``J*`` is then the best of the others: ``--exclude convex-gated``
    gives the profile of true ReLU networks);
python benchmarks/summarise.py regression RESULTS.json [RESULTS.json ...]
    a Markdown table of training objective and test RMSE per dataset and alpha.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from convexnn.bench.report import (
    TOLERANCES,
    add_relative_excess,
    performance_profile,
    problem_key,
    read_json,
    solve_times,
    solved_fractions,
)


def profile(records, method):
    for time_key in ("time", "time_sweep"):
        label = (
            "SGD/Adam time = chosen learning rate's run"
            if time_key == "time"
            else ("SGD/Adam time = whole learning-rate sweep")
        )
        print(f"\n{label}")
        fractions = solved_fractions(records, TOLERANCES, time_key)
        for m, by_tol in fractions.items():
            cells = ", ".join(f"tol {t:g}: {v:.3f}" for t, v in by_tol.items())
            print(f"  {m:<14} {cells}")
        for tol in TOLERANCES:
            _, times = solve_times(records, tol, time_key)
            grid = np.unique(np.concatenate([t[np.isfinite(t)] for t in times.values()]))
            _, frac = performance_profile(records, tol, grid, time_key)
            for other in frac:
                if other == method:
                    continue
                deficit = frac[other] - frac[method]
                below = grid[deficit > 0]
                verdict = (
                    "at or above at every time"
                    if below.size == 0
                    else (
                        f"BELOW at {below.size} of {grid.size} times, between "
                        f"t={below[0]:.3g}s and t={below[-1]:.3g}s, by at most "
                        f"{round(deficit.max() * len(times[method]))} problems"
                    )
                )
                print(f"  tol {tol:g}: {method} vs {other}: {verdict}")
    misses(records, method, min(TOLERANCES))
    gaps = np.array([r["gap"] for r in records if r["method"] == method], dtype=float)
    if np.isfinite(gaps).any():
        print(
            f"\n{method} certified gaps: median {np.nanmedian(gaps):.1e}, largest "
            f"{np.nanmax(gaps):.2g}; at most 1e-6 (certified optimal for its patterns) in "
            f"{int(np.sum(gaps <= 1e-6))} of {gaps.size} runs "
            f"({np.mean(gaps <= 1e-6):.1%}), above 1e-3 in {int(np.sum(gaps > 1e-3))}"
        )


def misses(records, method, tol):
    """The problems ``method`` does not solve within ``tol``, with its relative excess."""
    winner = {}
    for r in add_relative_excess(records):
        if r["rel_excess"] <= 0:
            winner.setdefault(problem_key(r), r["method"])
    missed = sorted(
        (r["rel_excess"], r["dataset"], r["alpha"], winner.get(problem_key(r), "a trajectory"))
        for r in records
        if r["method"] == method and r["rel_excess"] > tol
    )
    print(f"\n{method} misses {len(missed)} problems at tol {tol:g} (excess, dataset, alpha, best):")
    for excess, dataset, alpha, best in missed:
        print(f"  {excess:7.1%}  {dataset}  alpha={alpha:g}  ({best})")


def regression(records):
    methods = list(dict.fromkeys(r["method"] for r in records))
    head = (
        ["dataset", "n_train", "alpha"]
        + [f"J {m}" for m in methods]
        + [f"RMSE {m}" for m in methods]
    )
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    keys = list(dict.fromkeys((r["dataset"], r["alpha"]) for r in records))
    for dataset, alpha in keys:
        rows = {r["method"]: r for r in records if r["dataset"] == dataset and r["alpha"] == alpha}
        best = min(r["objective"] for r in rows.values())
        rmses = [r["test_rmse"] for r in rows.values() if math.isfinite(r["test_rmse"])]
        best_rmse = min(rmses, default=math.nan)

        def cell(r, key, target):
            if r is None or not math.isfinite(r[key]):
                return "-"
            text = f"{r[key]:.4g}"
            return f"**{text}**" if r[key] == target else text

        n = next(iter(rows.values()))["n_train"]
        cells = [dataset, str(n), f"{alpha:g}"]
        cells += [cell(rows.get(m), "objective", best) for m in methods]
        cells += [cell(rows.get(m), "test_rmse", best_rmse) for m in methods]
        print("| " + " | ".join(cells) + " |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["profile", "regression"])
    parser.add_argument("results", nargs="+")
    parser.add_argument("--method", default="convex-gated")
    parser.add_argument("--exclude", default="", help="methods to leave out, comma-separated")
    args = parser.parse_args(argv)
    excluded = {m for m in args.exclude.split(",") if m}
    records = []
    for path in args.results:
        records += [r for r in read_json(path)[1] if r["method"] not in excluded]
    profile(records, args.method) if args.what == "profile" else regression(records)


if __name__ == "__main__":
    main()
