"""The ``convexnn`` command line.

``convexnn bench`` trains every method on every dataset at every alpha, scores each returned
network with the objective of record ``J`` (:ref:`maths-objective`), and writes a table, CSV, JSON and plots.
``convexnn plot`` remakes the table and plots from one or more ``results.json`` files.

The grid runs through joblib (``--n-jobs``); any joblib backend, Dask's included
(``joblib.parallel_config(backend="dask")``), runs the same grid on a cluster.
"""

from __future__ import annotations

import argparse
import ast
import math
import re
import sys
from pathlib import Path

__all__ = ["main", "build_parser"]

_DEFAULT_METHODS = "convex-gated,convex-relu,sgd,adam,lbfgs"


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text!r}")
    return value


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def _float_list(text):
    """Comma-separated positive numbers, or ``logspace:START:STOP:NUM`` (powers of ten)."""
    import numpy as np

    match = re.fullmatch(r"logspace:(-?[\d.]+):(-?[\d.]+):(\d+)", text.strip())
    if match:
        start, stop, num = float(match[1]), float(match[2]), int(match[3])
        if num < 1:
            raise argparse.ArgumentTypeError("logspace needs at least one value")
        return [float(v) for v in np.logspace(start, stop, num)]
    items = [s for s in text.split(",") if s.strip()]
    if not items:
        raise argparse.ArgumentTypeError("empty list")
    values = []
    for item in items:
        try:
            values.append(_positive_float(item.strip()))
        except argparse.ArgumentTypeError as exc:
            raise argparse.ArgumentTypeError(
                f"bad value {item.strip()!r} in {text!r}: {exc}"
            ) from None
    return values


def _splits(text):
    if text == "all":
        return "all"
    try:
        values = [int(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected 'all' or split numbers like '0,1', got {text!r}"
        ) from None
    if any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"split numbers must be >= 0, got {text!r}")
    return values


def _option(text):
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    try:
        value = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        pass
    return key.strip(), value


def build_parser():
    """The argument parser of ``convexnn`` (subcommands ``bench`` and ``plot``)."""
    from .datasets import BUNDLED
    from .methods import DEFAULT_LEARNING_RATES

    parser = argparse.ArgumentParser(
        prog="convexnn",
        description="Train ReLU networks by convex optimisation and compare with SGD/Adam.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser(
        "bench",
        help="compare training methods on datasets × alphas by the objective J",
        description=(
            "Methods × datasets × alphas, every network scored by the training objective J of "
            "docs/maths.md. Writes table.md, results.csv, results.json and PNG plots to --out. "
            "The grid runs through joblib (--n-jobs); joblib's backends, Dask's included, run "
            "the same grid on a cluster."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    data = bench.add_argument_group("datasets")
    data.add_argument(
        "datasets",
        nargs="*",
        metavar="NAME",
        help=f"scikit-learn bundled datasets: {', '.join(sorted(BUNDLED))}",
    )
    data.add_argument(
        "--data-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of .npz files in the format of shared/data (repeatable)",
    )
    data.add_argument(
        "--select",
        default=None,
        metavar="NAMES",
        help="comma-separated file stems to take from --data-dir",
    )
    data.add_argument(
        "--splits",
        type=_splits,
        default=[0],
        help="which fold{k}/split{k} of each .npz file: numbers like 0,1 or 'all'",
    )
    data.add_argument(
        "--csv",
        action="append",
        default=[],
        metavar="PATH",
        help="a CSV file with a header row (repeatable); needs --target",
    )
    data.add_argument("--target", default=None, help="target column of --csv files")
    data.add_argument(
        "--task",
        choices=["auto", "classification", "regression"],
        default="auto",
        help="task of --csv/--data-dir data (auto: from the target's type)",
    )
    data.add_argument(
        "--series",
        action="append",
        default=[],
        metavar="NPZ",
        help="an .npz file holding a 1-d series, for one-step forecasting (repeatable)",
    )
    data.add_argument(
        "--key",
        action="append",
        default=[],
        help="array name in each --series file (one for all, or one per file)",
    )
    data.add_argument("--lag", type=_positive_int, default=8, help="window length of --series")
    data.add_argument(
        "--log-returns",
        action="store_true",
        help="forecast log-returns log(p_t/p_{t-1}) of --series (prices)",
    )
    data.add_argument(
        "--test-size",
        type=float,
        default=0.2,
        help="test fraction for bundled, CSV and series data",
    )
    data.add_argument(
        "--max-train",
        type=_positive_int,
        default=None,
        help="subsample larger training splits to this size (uniformly at random)",
    )

    grid = bench.add_argument_group("grid")
    grid.add_argument(
        "--methods",
        default=_DEFAULT_METHODS,
        help="comma-separated: convex-gated, convex-relu, sgd, adam, lbfgs, pyscnn",
    )
    grid.add_argument(
        "--alphas",
        type=_float_list,
        default=[1e-3],
        help="comma-separated alphas, or logspace:START:STOP:NUM (e.g. logspace:-5:-1:6)",
    )
    grid.add_argument("--seed", type=int, default=0)
    grid.add_argument("--n-jobs", type=int, default=1, help="parallel runs (joblib)")

    convex = bench.add_argument_group("convex methods")
    convex.add_argument("--n-gates", type=_positive_int, default=100)
    convex.add_argument("--solver", default="auto", help="convex solver ('auto' picks the fastest)")
    convex.add_argument(
        "--tol", type=_positive_float, default=1e-6, help="target relative duality gap"
    )
    convex.add_argument("--max-iter", type=_positive_int, default=1000)
    convex.add_argument(
        "--convex-opt",
        type=_option,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="further parameter of the convex estimators (repeatable)",
    )

    mlp = bench.add_argument_group("scikit-learn MLPs")
    mlp.add_argument("--hidden", type=_positive_int, default=100, help="hidden width of the MLPs")
    mlp.add_argument(
        "--epochs",
        type=_positive_int,
        default=100,
        help="SGD/Adam epochs per learning rate (the paper: 2000)",
    )
    mlp.add_argument(
        "--lrs",
        type=_float_list,
        default=list(DEFAULT_LEARNING_RATES),
        help="SGD/Adam learning rates swept",
    )
    mlp.add_argument(
        "--batch-fraction",
        type=float,
        default=0.1,
        help="mini-batch size as a fraction of n (alpha_sklearn = alpha * batch)",
    )
    mlp.add_argument("--lbfgs-max-iter", type=_positive_int, default=500)

    out = bench.add_argument_group("output")
    out.add_argument("--out", default="bench-results", help="folder for table, CSV, JSON and plots")
    out.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    out.add_argument(
        "--profile-time",
        choices=["run", "sweep"],
        default="run",
        help="time axis of SGD/Adam in the profile: the chosen learning rate's run, "
        "or the whole sweep",
    )
    out.add_argument(
        "--table",
        choices=["auto", "full", "summary"],
        default="auto",
        help="terminal table: one row per run, the per-method summary, or auto "
        "(rows when at most 40 runs)",
    )
    out.add_argument("--quiet", action="store_true", help="no progress bar")
    out.add_argument(
        "--tag",
        default="",
        help="suffix for the method names of this run, to "
        "tell runs apart when 'convexnn plot' merges them (e.g. '@200gates')",
    )

    bench.set_defaults(subparser=bench)
    plot = sub.add_parser(
        "plot",
        help="remake table and plots from results.json files",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    plot.add_argument("results", nargs="+", help="results.json files written by 'convexnn bench'")
    plot.add_argument("--out", default="bench-results")
    plot.add_argument("--profile-time", choices=["run", "sweep"], default="run")
    plot.add_argument("--table", choices=["auto", "full", "summary"], default="auto")
    plot.add_argument(
        "--methods",
        default=None,
        help="comma-separated method names to keep (default: all in the files)",
    )
    plot.set_defaults(subparser=plot)
    return parser


def _load_datasets(args, parser):
    from . import datasets as ds

    found = []
    try:
        for name in args.datasets:
            found += ds.load_bundled(name, args.test_size, args.seed, args.max_train)
        select = [s for s in args.select.split(",") if s] if args.select else None
        task = None if args.task == "auto" else args.task
        for folder in args.data_dir:
            found += ds.load_npz_folder(
                folder, args.splits, args.max_train, args.seed, select, task
            )
        if args.csv and not args.target:
            parser.error("--csv needs --target COLUMN")
        for path in args.csv:
            found += ds.load_csv(
                path, args.target, args.task, args.test_size, args.seed, args.max_train
            )
        if args.series:
            keys = args.key or []
            if len(keys) not in (1, len(args.series)):
                parser.error("--key: give one array name for all --series files, or one per file")
            for i, path in enumerate(args.series):
                found += ds.load_series(
                    path,
                    keys[0] if len(keys) == 1 else keys[i],
                    args.lag,
                    args.log_returns,
                    args.test_size,
                    args.max_train,
                    args.seed,
                )
    except ValueError as exc:
        parser.error(str(exc))
    if not found:
        parser.error("no datasets: name a bundled dataset or use --data-dir, --csv or --series")
    for d in found:
        if d.task == "classification" and len(set(d.y_train.tolist())) < 2:
            parser.error(f"{d.name} ({d.split}): the training split has a single class")
    return found


def _methods(args, parser):
    from .methods import METHODS, pyscnn_available

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    known = set(METHODS) | {"pyscnn"}
    unknown = [m for m in methods if m not in known]
    if unknown or not methods:
        parser.error(f"unknown method(s) {unknown}; choose from {', '.join(sorted(known))}")
    if "pyscnn" in methods:
        methods.remove("pyscnn")
        reason = (
            "is not installed (pip install pyscnn; it needs PyTorch)"
            if not pyscnn_available()
            else "has no adapter in this version of convexnn"
        )
        print(f"note: pyscnn {reason}; skipped", file=sys.stderr)
        if not methods:
            parser.error("no method left to run")
    return methods


def _write_outputs(records, config, out, args, make_plots=True):
    from . import report

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report.add_relative_excess(records)
    time_key = "time_sweep" if args.profile_time == "sweep" else "time"
    full, summary = report.format_table(records), report.summary_table(records, time_key)
    (out / "table.md").write_text(
        "## Runs\n\n"
        + full
        + "\n\n## Summary (fraction solved at unlimited time)\n\n"
        + summary
        + "\n"
    )
    report.write_csv(records, out / "results.csv")
    report.write_json(records, out / "results.json", config)
    show_rows = args.table == "full" or (args.table == "auto" and len(records) <= 40)
    print(full if show_rows else summary)
    if show_rows:
        print()
        print(summary)
    print(
        f"\ntable: {out / 'table.md'}\nCSV:   {out / 'results.csv'}\nJSON:  {out / 'results.json'}"
    )
    if make_plots:
        profile = report.plot_profile(
            records,
            out / "profile.png",
            time_key=time_key,
            title=f"performance profile (time: {args.profile_time})",
        )
        objectives = report.plot_objectives(records, out / "objectives.png")
        metrics = report.plot_metrics(records, out / "metrics.png")
        print(f"plots: {profile}, {objectives}, {metrics}")


def _bench(args, parser):
    from .methods import MethodConfig

    if not args.no_plots:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.exit(
                1,
                "convexnn bench: error: plots need matplotlib: pip install "
                "'convexnn[bench]' (or pass --no-plots)\n",
            )
    if not 0 < args.test_size < 1:
        parser.error(f"--test-size must be in (0, 1), got {args.test_size}")
    if not 0 < args.batch_fraction <= 1:
        parser.error(f"--batch-fraction must be in (0, 1], got {args.batch_fraction}")
    if args.n_jobs == 0:
        parser.error("--n-jobs must not be 0 (use -1 for all cores)")
    methods = _methods(args, parser)
    convex_options = dict(args.convex_opt)
    if convex_options:
        from ..estimators import ConvexReLURegressor

        valid = set(ConvexReLURegressor().get_params())
        bad = sorted(set(convex_options) - valid)
        if bad:
            parser.error(
                f"--convex-opt: unknown parameter(s) {bad}; valid: {', '.join(sorted(valid))}"
            )
    datasets = _load_datasets(args, parser)
    config = MethodConfig(
        n_gates=args.n_gates,
        solver=args.solver,
        tol=args.tol,
        max_iter=args.max_iter,
        convex_options=convex_options,
        hidden=args.hidden,
        epochs=args.epochs,
        learning_rates=args.lrs,
        batch_fraction=args.batch_fraction,
        lbfgs_max_iter=args.lbfgs_max_iter,
        seed=args.seed,
    )
    jobs = [(m, d, a) for d in datasets for a in args.alphas for m in methods]
    print(
        f"convexnn bench: {len(datasets)} dataset split(s) × {len(args.alphas)} alpha(s) × "
        f"{len(methods)} method(s) = {len(jobs)} runs",
        file=sys.stderr,
    )
    records = _run_jobs(jobs, config, args.n_jobs, not args.quiet)
    order = {m: i for i, m in enumerate(methods)}
    records.sort(key=lambda r: (r["dataset"], r["split"], r["alpha"], order[r["method"]]))
    for r in records:
        r["method"] += args.tag
    errors = [r for r in records if r["status"].startswith("error")]
    for r in errors:
        print(
            f"warning: {r['method']} on {r['dataset']} ({r['split']}, alpha={r['alpha']:g}) "
            f"failed: {r['status']}",
            file=sys.stderr,
        )
    settings = dict(vars(args))
    settings.pop("convex_opt", None)
    settings.pop("subparser", None)
    settings.update(convex_options=convex_options, method_config=config.as_dict())
    _write_outputs(records, settings, args.out, args, make_plots=not args.no_plots)
    return 0


def _run_jobs(jobs, config, n_jobs, progress):
    from joblib import Parallel, delayed

    from .methods import run_method

    bar = None
    if progress:
        try:
            from tqdm import tqdm

            bar = tqdm(total=len(jobs), unit="run", file=sys.stderr)
        except ImportError:
            print("note: no progress bar (pip install 'convexnn[bench]' for tqdm)", file=sys.stderr)
    records = []
    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    for record in parallel(delayed(run_method)(m, d, a, config) for m, d, a in jobs):
        records.append(record)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return records


def _plot(args, parser):
    from . import report

    records, config = [], {}
    for path in args.results:
        try:
            config, recs = report.read_json(path)
        except (OSError, ValueError, KeyError) as exc:
            parser.error(f"cannot read {path}: {exc}")
        records += recs
    if args.methods:
        keep = [m.strip() for m in args.methods.split(",") if m.strip()]
        present = {r["method"] for r in records}
        unknown = sorted(set(keep) - present)
        if unknown:
            parser.error(f"--methods: {unknown} not in the results (they hold {sorted(present)})")
        records = [r for r in records if r["method"] in keep]
    _write_outputs(records, config, args.out, args)
    return 0


def main(argv=None):
    """Entry point of the ``convexnn`` console command; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        The command-line arguments after the program name; by default ``sys.argv[1:]``.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    # errors found after parsing name the subcommand, as argparse's own errors do
    if args.command == "bench":
        return _bench(args, args.subparser)
    return _plot(args, args.subparser)


if __name__ == "__main__":
    sys.exit(main())
