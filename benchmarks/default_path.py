"""The speed targets of the solvers, measured through the estimators' default path.

``benchmarks/solvers.py`` times named solvers on a program; a user calls ``fit``. Here each target
is measured as ``ConvexReLURegressor(...).fit`` with ``solver="auto"`` (the default) against the
same estimator with ``solver="cvxpy"`` (Clarabel), on the same data and patterns, in one run:

- gated program, W1 (``benchmarks/problems.py``), 500 Gaussian gates, ``alpha=1e-3``: target ≥ 100×;
- exact ReLU program, W1, 50 Gaussian gates, ``alpha=1e-3``: target ≥ 10×;
- for information, the estimator with every parameter at its default but ``alpha`` (the MLP
  sampler's 100 patterns, exact ReLU).

Times are medians over ``--repeat`` fits (one BLAS thread by default: run with
``OMP_NUM_THREADS=1``), after one warm-up fit that compiles the numba kernels. Both fits must
certify ``tol`` (CVXPY's own gap is printed: Clarabel may stop short of it); their training
objectives are printed.

    OMP_NUM_THREADS=1 python benchmarks/default_path.py [--problem W1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from problems import PROBLEMS, training_data

from convexnn import ConvexReLURegressor

CASES = {
    "gated, 500 gates": dict(formulation="gated", n_gates=500, sampler="gaussian"),
    "relu, 50 gates": dict(formulation="relu", n_gates=50, sampler="gaussian"),
    "defaults, mlp patterns, relu": dict(),
}
TARGETS = {"gated, 500 gates": 100.0, "relu, 50 gates": 10.0}


def timed_fit(X, y, repeat, strict=True, **params):
    """The median wall time of ``repeat`` fits, and the last fitted estimator. With ``strict`` a
    fit that does not certify ``tol`` is an error (the default path must); the reference's gap
    is printed instead."""
    times = []
    for _ in range(repeat):
        model = ConvexReLURegressor(alpha=1e-3, random_state=0, **params)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("error" if strict else "ignore")
            model.fit(X, y)
        times.append(time.perf_counter() - start)
    return float(np.median(times)), model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problem", default="W1", choices=sorted(PROBLEMS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cvxpy-repeat", type=int, default=1)
    parser.add_argument("--cases", nargs="*", help="gated, relu and/or defaults (default: all)")
    args = parser.parse_args(argv)
    X, labels = training_data(*PROBLEMS[args.problem])
    y = 2.0 * labels - 1.0
    print(f"problem {args.problem}: n={X.shape[0]}, d={X.shape[1]}, alpha=1e-3, tol=1e-6")
    print("| case | auto solver | auto (s) | cvxpy (s) | ratio | target | J auto | J cvxpy | gaps |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, params in CASES.items():
        if args.cases and name.split(",")[0] not in args.cases:
            continue
        timed_fit(X, y, 1, **params)  # warm-up: numba compilation, caches
        auto_time, auto = timed_fit(X, y, args.repeat, **params)
        cvx_time, cvx = timed_fit(X, y, args.cvxpy_repeat, strict=False, solver="cvxpy", **params)
        ratio = cvx_time / auto_time
        target = TARGETS.get(name)
        verdict = "" if target is None else f"≥ {target:g}× {'met' if ratio >= target else 'MISSED'}"
        print(
            f"| {name} | {auto.solver_} | {auto_time:.3f} | {cvx_time:.2f} | {ratio:.0f}× | "
            f"{verdict} | {auto.objective_:.8g} | {cvx.objective_:.8g} | "
            f"{auto.gap_:.1e} / {cvx.gap_:.1e} |"
        )


if __name__ == "__main__":
    main()
