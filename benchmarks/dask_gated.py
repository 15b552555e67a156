"""Cost of the chunked gated solver (:mod:`convexnn.distributed`) on a local Dask cluster.

A ``LocalCluster`` of ``--workers`` single-threaded worker processes (``--memory-limit`` each)
generates the data chunk by chunk on the workers — ``n`` rows of ``d`` standard normal features
in float32, ``--rows-per-chunk`` rows a chunk, labels ``sin(2 x0) + x1 x2 + 0.5 noise > 0`` — and
the gated program with the logistic loss (alpha 1e-3, Gaussian gates drawn from a 10,000-row
sample, as the estimators do) is solved where the chunks live.

The headline fit runs ``ConvexReLUClassifier(formulation="gated", sampler="gaussian")`` to the
certified relative gap ``--tol`` (through :func:`convexnn.distributed.solve_chunked` directly when
``--hessian-rows`` is given). It reports the wall time, Newton iterations, time per iteration,
the certified gap, the peak resident memory of each worker (sampled every 0.5 s during the fit
with ``client.run``), whether a worker went past its memory limit or was restarted, and the
client process's peak resident memory (sampled alike).

Scaling runs (``--scaling``) call ``solve_chunked`` for a fixed ``--scaling-iters`` Newton
iterations (tolerance 0, so none stops early) and report the time per iteration at n = 0.5x, 1x
and 2x ``--n`` on ``--workers`` workers, at ``--n`` on one worker, and in memory: the same data
computed to the client as NumPy arrays, the same gates and settings, one process.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
        python benchmarks/dask_gated.py --n 2000000 --n-gates 200
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
        python benchmarks/dask_gated.py --n 1000000 --n-gates 200 --skip-fit --scaling \
        --scaling-iters 2 --hessian-rows 100800

(about 8 and 10 minutes on two cores; ``--n 250000 --n-gates 50`` for a quick look).

The numbers and what they show are in ``docs/guide/dask.md`` ("Measured").

Set the thread variables: every worker is meant to use one core, and so is the in-memory run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
import time

import numpy as np

from convexnn import ConvexReLUClassifier, sample_patterns
from convexnn.distributed import default_hessian_rows, solve_chunked

SAMPLE_ROWS = 10_000  # rows the gates are drawn from (the estimators' CHUNKED_SAMPLE_ROWS)


def _rss():
    import psutil

    return psutil.Process().memory_info().rss


class Sampler:
    """Peak resident memory of the client and of every worker, sampled every ``period`` seconds
    in a background thread while the ``with`` block runs."""

    def __init__(self, client, period=0.5):
        self.client, self.period = client, period
        self.client_peak, self.worker_peak = 0, {}
        self._stop = threading.Event()

    def _sample(self):
        self.client_peak = max(self.client_peak, _rss())
        try:
            for address, rss in self.client.run(_rss).items():
                self.worker_peak[address] = max(self.worker_peak.get(address, 0), rss)
        except Exception:  # a worker restarting is reported by the worker check, not here
            pass

    def _loop(self):
        while not self._stop.wait(self.period):
            self._sample()

    def __enter__(self):
        self._sample()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()


class Iterations:
    """Times at which the solver printed its per-iteration lines (``verbose``): the steady
    time per iteration, without the setup (persisting the chunks, the label pass, the gates)."""

    def __init__(self, echo=False):
        self.times, self.echo, self._redirect = [], echo, None

    def write(self, text):
        if "[chunked] iteration" in text:
            self.times.append(time.perf_counter())
        if self.echo:
            sys.__stdout__.write(text)

    def flush(self):
        pass

    def __enter__(self):
        self._redirect = contextlib.redirect_stdout(self)
        self._redirect.__enter__()
        return self

    def __exit__(self, *exc):
        self._redirect.__exit__(*exc)

    def per_iteration(self):
        """Mean seconds between the first and the last line (full iterations between them)."""
        if len(self.times) < 2:
            return float("nan")
        return (self.times[-1] - self.times[0]) / (len(self.times) - 1)


@contextlib.contextmanager
def cluster(workers, memory_limit):
    """A local cluster of single-threaded worker processes and its client."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            memory_limit=memory_limit,
            processes=True,
            dashboard_address=None,
        ) as local,
        Client(local) as client,
    ):
        yield client


def make_data(n, d, rows_per_chunk, seed=0):
    """``X`` (float32) and 0/1 labels, generated chunk by chunk where the chunks are computed."""
    import dask.array as da

    rng = da.random.default_rng(seed)
    X = rng.standard_normal((n, d), chunks=(rows_per_chunk, d)).astype(np.float32)
    noise = rng.standard_normal((n,), chunks=(rows_per_chunk,)).astype(np.float32)
    y = (da.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * noise > 0).astype(np.int64)
    return X, y


def draw_gates(X, n_gates, seed=0):
    """Gaussian gates drawn on a row sample of ``X``, as ``ConvexReLUClassifier`` draws them."""
    n = int(X.shape[0])
    rng = np.random.RandomState(seed)
    rows = np.arange(n) if n <= SAMPLE_ROWS else np.sort(rng.choice(n, SAMPLE_ROWS, replace=False))
    sample = np.asarray(X[rows].compute(), dtype=np.float64)
    return sample_patterns(sample, n_gates, "gaussian", random_state=seed).gates


def workers_state(client):
    """``{address: (name, memory_limit)}`` of the workers the scheduler knows."""
    info = client.scheduler_info()["workers"]
    return {a: (w.get("name"), w.get("memory_limit")) for a, w in info.items()}


def headline(args):
    """The full fit on ``--workers`` workers; returns a dict of measurements."""
    import dask

    with cluster(args.workers, args.memory_limit) as client:
        X, y = make_data(args.n, args.d, args.rows_per_chunk, args.seed)
        X, y = dask.persist(X, y)  # generated on the workers, before the clock starts
        dask.compute(X.sum(), y.sum())
        before = workers_state(client)
        limit = next(iter(before.values()))[1]
        with Sampler(client) as memory, Iterations(args.verbose) as lines:
            start = time.perf_counter()
            if args.hessian_rows is None:
                model = ConvexReLUClassifier(
                    alpha=1e-3,
                    formulation="gated",
                    sampler="gaussian",
                    n_gates=args.n_gates,
                    random_state=0,
                    tol=args.tol,
                    verbose=True,
                )
                model.fit(X, y)
                n_iter, gap, status, history = (
                    model.n_iter_,
                    model.gap_,
                    model.status_,
                    model.gap_history_,
                )
                assert model.solver_ == "chunked_newton", model.solver_
            else:
                gates = draw_gates(X, args.n_gates, args.seed)
                result = solve_chunked(
                    X,
                    y.astype(np.float64),
                    gates,
                    "logistic",
                    1e-3,
                    tol=args.tol,
                    hessian_rows=args.hessian_rows,
                    verbose=True,
                )
                n_iter, gap, status, history = (
                    result.n_iter,
                    result.gap,
                    result.status,
                    result.gap_history,
                )
            wall = time.perf_counter() - start
        after = workers_state(client)
    return dict(
        n=args.n,
        workers=args.workers,
        wall=wall,
        n_iter=n_iter,
        steady=lines.per_iteration(),
        gap=gap,
        status=status,
        history=history,
        worker_peak=memory.worker_peak,
        client_peak=memory.client_peak,
        limit=limit,
        restarted=set(before) != set(after),
    )


def timed_solve(X, y, gates, args):
    """``solve_chunked`` for ``--scaling-iters`` iterations; returns (wall, iterations, steady
    seconds per iteration)."""
    with Iterations(args.verbose) as lines:
        start = time.perf_counter()
        result = solve_chunked(
            X,
            y,
            gates,
            "logistic",
            1e-3,
            tol=0.0,
            max_iter=args.scaling_iters,
            hessian_rows=args.hessian_rows,
            verbose=True,
        )
        wall = time.perf_counter() - start
    return wall, result.n_iter, lines.per_iteration()


def scaling(args):
    """Time per iteration against n, workers, and the in-memory path; a list of rows."""
    import dask

    rows = []

    def one(client, n, workers, in_memory=False):
        X, y = make_data(n, args.d, args.rows_per_chunk, args.seed)
        X, y = dask.persist(X, y.astype(np.float64))
        gates = draw_gates(X, args.n_gates, args.seed)
        with Sampler(client) as memory:
            wall, iters, steady = timed_solve(X, y, gates, args)
        rows.append(
            dict(
                path=f"dask, {workers} worker{'s' * (workers > 1)}",
                n=n,
                wall=wall,
                iters=iters,
                steady=steady,
                peak=max(memory.worker_peak.values()),
                client=memory.client_peak,
                load=os.getloadavg()[0],
            )
        )
        if in_memory:
            Xn, yn = dask.compute(X, y)
            del X, y
            with Sampler(client) as memory:
                wall, iters, steady = timed_solve(Xn, yn, gates, args)
            rows.append(
                dict(
                    path="in memory (client)",
                    n=n,
                    wall=wall,
                    iters=iters,
                    steady=steady,
                    peak=memory.client_peak,
                    client=memory.client_peak,
                    load=os.getloadavg()[0],
                )
            )

    with cluster(args.workers, args.memory_limit) as client:
        for factor in (0.5, 1.0, 2.0):
            one(client, int(factor * args.n), args.workers, in_memory=factor == 1.0)
    if args.workers != 1:
        with cluster(1, args.memory_limit) as client:
            one(client, args.n, 1)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=250_000, help="rows (the base n of --scaling)")
    parser.add_argument("--d", type=int, default=20, help="features")
    parser.add_argument("--n-gates", type=int, default=50, help="gates P")
    parser.add_argument("--rows-per-chunk", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="1GB", help="per worker")
    parser.add_argument("--tol", type=float, default=1e-6, help="certified relative gap")
    parser.add_argument(
        "--hessian-rows",
        type=int,
        default=None,
        help="build each Hessian from about this many rows (default: all)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-fit", action="store_true", help="skip the headline fit")
    parser.add_argument(
        "--scaling",
        action="store_true",
        help="time per iteration against n, workers and the in-memory path",
    )
    parser.add_argument(
        "--scaling-iters", type=int, default=2, help="Newton iterations of each scaling run"
    )
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    threads = os.environ.get("OMP_NUM_THREADS", "unset")
    if args.hessian_rows is not None:
        hessian = f"{args.hessian_rows:,} rows"
    else:  # the headline fit takes the estimator's default; the scaling runs every row
        rows = default_hessian_rows(args.n, args.d, args.n_gates)
        hessian = f"{'all' if rows is None else f'{rows:,}'} rows in the fit, all in scaling runs"
    print(
        f"d={args.d}, {args.n_gates} gates (p={args.n_gates * (args.d + 1):,}), "
        f"{args.rows_per_chunk:,} rows a chunk, float32, memory limit {args.memory_limit} a "
        f"worker, Hessian from {hessian}, OMP_NUM_THREADS={threads}, "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n"
    )

    if not args.skip_fit:
        r = headline(args)
        mb = 2**20
        peaks = ", ".join(f"{v / mb:.0f}" for v in sorted(r["worker_peak"].values()))
        over = any(v > r["limit"] for v in r["worker_peak"].values()) if r["limit"] else False
        print(
            "| n | workers | wall (s) | Newton iterations | s / iteration (steady) "
            "| certified gap | status | peak RSS per worker (MB) | over limit / restarted "
            "| client peak RSS (MB) |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        print(
            f"| {r['n']:,} | {r['workers']} | {r['wall']:.1f} | {r['n_iter']} "
            f"| {r['wall'] / max(r['n_iter'], 1):.1f} ({r['steady']:.1f}) | {r['gap']:.1e} "
            f"| {r['status']} | {peaks} | {'yes' if over else 'no'} / "
            f"{'yes' if r['restarted'] else 'no'} | {r['client_peak'] / mb:.0f} |"
        )
        print(
            "\ncertified gap per iteration: " + ", ".join(f"{g:.1e}" for g in r["history"]) + "\n"
        )

    if args.scaling:
        rows = scaling(args)
        print(
            f"time per iteration, {args.scaling_iters} Newton iterations a run; 'steady' leaves "
            "out the setup (persisting the chunks, the label pass, the first Newton sums):\n"
        )
        print(
            "| path | n | wall (s) | iterations | s / iteration | steady s / iteration "
            "| peak RSS (MB) | client peak RSS (MB) | load average |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for row in rows:
            print(
                f"| {row['path']} | {row['n']:,} | {row['wall']:.1f} | {row['iters']} "
                f"| {row['wall'] / max(row['iters'], 1):.2f} | {row['steady']:.2f} "
                f"| {row['peak'] / 2**20:.0f} | {row['client'] / 2**20:.0f} | {row['load']:.1f} |"
            )
        dask_row = next(r for r in rows if r["n"] == args.n and r["path"].startswith("dask"))
        memory_row = next(r for r in rows if r["path"].startswith("in memory"))
        print(
            f"\nDask ({args.workers} workers) / in memory, steady time per iteration at "
            f"n={args.n:,}: {dask_row['steady'] / memory_row['steady']:.2f}"
        )
        print(
            "peak RSS: the largest worker's for Dask, the client process's in memory; client "
            "peak RSS: the process that calls the solver; load average: the machine's one-minute "
            "load at the end of the run"
        )


if __name__ == "__main__":
    main()
