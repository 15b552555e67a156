"""Solver benchmark of issue W1/W2: time to reach the reference optimum, against CVXPY and others.

Problem W1: make_classification(n_samples=2000, n_features=20, n_informative=10, random_state=0),
75 % train, standardised, targets ±1, squared loss, alpha=1e-3, 500 Gaussian gates; W2 the same
with n_samples=8000, n_features=50. The reference optimum is CVXPY/Clarabel on the same patterns.
For every solver: time until its objective is within 1e-6 (relative) of the reference, its final
objective, certified gap and active neurons; ratios are taken against Clarabel measured in the
same run. Times are medians over ``--repeat`` runs, with numba caches warm.

When pyscnn (``import scnn``) is installed, its R-FISTA at tol 1e-6 and 1e-10 (gated) or its
augmented Lagrangian (relu) run on the same patterns, on the targets shifted by the reference
intercept (pyscnn has no output intercept; see ``_pyscnn.py``), scored by ``program.objective``.
pyscnn's ReLU program also penalises the hidden bias, so its relu row solves a different program.

When adelie is installed (``_adelie.py`` says how), its group-Lasso solver runs on the gated program
(one λ at ``alpha``, and a path of 100 λ from ``alpha_max`` down to it; see ``_adelie.py``) at its
default ``tol`` and then at ever tighter ones until its objective is within 1e-6 of the reference
(each tighter ``tol`` while three times the last run fits in ``--adelie-budget`` seconds); the
ratio of its time to that of ``solve(program)`` (the "auto" row) is printed below the table.
``--skip-adelie`` leaves it out.

Without CVXPY (``--skip-cvxpy``) and without ``--reference``, the reference is the objective of
convexnn's certified solution at ``--reference-tol`` (default 1e-10; kernel Newton for the gated
squared-loss program, BCD for the gated logistic one, ``--reference-solver`` otherwise), and ratios
are taken against that solve.

    python benchmarks/solvers.py --problem W1 --formulation gated [--repeat 3] [--skip-cvxpy]
    python benchmarks/solvers.py --problem W1 --formulation gated --loss logistic --skip-cvxpy
    python benchmarks/solvers.py --problem W1 --formulation relu --repeat 1 --skip-scs
    python benchmarks/solvers.py --problem W1 --formulation relu --loss logistic --n-gates 100 \
        --solvers ipm --repeat 1 --skip-scs

``--loss logistic`` takes the 0/1 labels with the logistic loss instead of ±1 targets.
"""

from __future__ import annotations

import argparse
import time
import warnings

import _adelie
import _pyscnn
import numpy as np
from problems import PROBLEMS, make_problem
from sklearn.exceptions import ConvergenceWarning

from convexnn import solve
from convexnn.solvers import resolve_solver

#: the certified reference when CVXPY is skipped: (formulation, loss) -> solver at --reference-tol
REFERENCE_SOLVERS = {("gated", "squared"): "kernel_newton", ("gated", "logistic"): "bcd"}


def run(program, solver, reference, **options):
    """Solve once, recording (time, objective) along the way; returns a dict of measurements.

    The time spent recording is not charged to the solver; for the exact ReLU program a point
    counts as reaching the reference only when its cone constraints hold to 1e-6 as well."""
    trajectory, recording = [], [0.0]
    start = time.perf_counter()

    def record(solution):
        tick = time.perf_counter()
        feasible = program.constraint_violation(solution) <= 1e-6
        trajectory.append((tick - start - recording[0], program.objective(solution), feasible))
        recording[0] += time.perf_counter() - tick

    if solver.startswith("cvxpy"):
        backend = solver.split("-")[1].upper()
        result = solve(program, "cvxpy", solvers=(backend,), **options)
    else:
        result = solve(program, solver, callback=record, **options)
    total = time.perf_counter() - start - recording[0]
    final = program.objective(result.solution)
    trajectory.append((total, final, result.violation <= 1e-6))
    reach = next((t for t, obj, feasible in trajectory
                  if reference is not None and feasible and obj <= reference * (1 + 1e-6)), np.nan)
    active = int(np.count_nonzero(program.block_norms(result.solution.net)))
    return dict(time=total, reach=reach, objective=final, gap=result.gap, active=active,
                status=result.status, intercept=result.solution.intercept)


def median_row(runs):
    """Median times over repeated runs, the other entries of the last run."""
    return {k: (np.median([r[k] for r in runs]) if k in ("time", "reach") else runs[-1][k])
            for k in runs[0]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", choices=sorted(PROBLEMS), default="W1")
    parser.add_argument("--formulation", choices=["gated", "relu"], default="gated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-cvxpy", action="store_true",
                        help="no Clarabel/SCS (reference from --reference)")
    parser.add_argument("--skip-scs", action="store_true",
                        help="Clarabel alone (SCS takes longer than Clarabel on the relu programs)")
    parser.add_argument("--reference", type=float, default=None,
                        help="known optimum, when CVXPY is skipped")
    parser.add_argument("--max-iter", type=int, default=None)
    parser.add_argument("--loss", choices=["squared", "logistic"], default="squared")
    parser.add_argument("--n-gates", type=int, default=500)
    parser.add_argument("--solvers", default=None,
                        help="comma-separated subset of the fast solvers (auto included) and "
                             "pyscnn rows")
    parser.add_argument("--reference-solver", default=None,
                        help="convexnn solver of the reference when CVXPY is skipped")
    parser.add_argument("--reference-tol", type=float, default=1e-10,
                        help="tol of that reference solve")
    parser.add_argument("--skip-adelie", action="store_true", help="no adelie rows")
    parser.add_argument("--adelie-budget", type=float, default=300.0,
                        help="longest adelie run (seconds) to attempt: a tighter tol is tried "
                             "while three times the last run fits")
    parser.add_argument("--adelie-modes", default="one,path",
                        help="adelie runs: 'one' (one lambda), 'path' (100 lambdas), or both")
    parser.add_argument("--adelie-design", choices=["convex_relu", "dense"],
                        default="convex_relu",
                        help="adelie's matrix: its convex_relu wrapper or the formed design")
    args = parser.parse_args(argv)

    program = make_problem(args.problem, args.formulation, n_gates=args.n_gates, loss=args.loss)
    print(f"{args.problem} {args.formulation} {args.loss}: n={program.n_samples} "
          f"d={program.n_features} "
          f"P={program.n_patterns} alpha={program.alpha:g}")
    fast = ["kernel_newton", "fista", "bcd"] if args.formulation == "gated" else ["ipm", "al"]
    if args.formulation == "gated" and args.loss != "squared":
        fast.remove("kernel_newton")  # squared loss only
    auto = resolve_solver(program)
    fast = ["auto"] + fast
    if args.solvers:
        fast = [name for name in fast if name in args.solvers.split(",")]
    rows, reference = {}, args.reference
    if not args.skip_cvxpy:
        rows["cvxpy-clarabel"] = run(program, "cvxpy-clarabel", None)
        reference = rows["cvxpy-clarabel"]["objective"]
        rows["cvxpy-clarabel"]["reach"] = rows["cvxpy-clarabel"]["time"]
        if not args.skip_scs:
            rows["cvxpy-scs"] = run(program, "cvxpy-scs", reference)
    # warm numba caches
    tiny = make_problem("tiny", args.formulation, n_gates=20, loss=args.loss)
    ref_solver = None
    if reference is None and args.skip_cvxpy:
        ref_solver = args.reference_solver or REFERENCE_SOLVERS.get((args.formulation, args.loss))
    for name in {auto if name == "auto" else name for name in fast} | {ref_solver} - {None}:
        if not name.startswith("cvxpy"):
            with warnings.catch_warnings():  # five iterations: they are not meant to certify
                warnings.simplefilter("ignore", ConvergenceWarning)
                solve(tiny, name, max_iter=5)
    if ref_solver is not None:
        r = run(program, ref_solver, None, tol=args.reference_tol)
        r["reach"] = r["time"]
        reference = r["objective"]
        rows[f"ref:{ref_solver}@{args.reference_tol:g}"] = r
        print(f"reference: {ref_solver} at tol {args.reference_tol:g}, objective "
              f"{reference:.15f}, certified gap {r['gap']:.1e}")
    for name in fast:
        options = {} if args.max_iter is None else {"max_iter": args.max_iter}
        runs = [run(program, name, reference, **options) for _ in range(args.repeat)]
        rows[name] = median_row(runs)
    pyscnn = _pyscnn.methods_for(args.formulation)
    if args.solvers:
        pyscnn = [name for name in pyscnn if name in args.solvers.split(",")]
    if not _pyscnn.available():
        print("pyscnn is not installed: no pyscnn rows (pip install pyscnn)")
    elif pyscnn:
        # pyscnn has no output intercept: it runs on Y - c_ref, c_ref the intercept of the best
        # solution measured above (Clarabel's when it ran): its program is then convexnn's with
        # the intercept fixed at c_ref
        best = rows.get("cvxpy-clarabel") or min(rows.values(), key=lambda r: r["objective"],
                                                 default=None)
        if best is None:
            best = {"intercept": solve(program, "fista" if args.formulation == "gated" else "al")
                    .solution.intercept}
        c_ref = best["intercept"]
        note = "; its ReLU program penalises the hidden bias" if args.formulation == "relu" else ""
        print(f"pyscnn rows: targets shifted by the reference intercept "
              f"{np.ravel(c_ref)[0]:+.9f}{note}")
        for name in pyscnn:
            _, method, tol = _pyscnn.METHODS[name]
            runs = [_pyscnn.run_pyscnn(program, method, c_ref, tol=tol, reference=reference)
                    for _ in range(args.repeat)]
            rows[name] = median_row(runs)
    adelie = []
    if args.skip_adelie or args.formulation != "gated" or program.n_outputs != 1:
        pass
    elif not _adelie.available():
        print("adelie is not installed: no adelie rows (see benchmarks/_adelie.py)")
    else:
        modes = {"one": ("adelie", None), "path": ("adelie-path", _adelie.PATH_SIZE)}
        for label, path in (modes[mode] for mode in args.adelie_modes.split(",")):
            first, row = _adelie.reach_adelie(
                program, reference, path=path, repeat=args.repeat, budget=args.adelie_budget,
                design=args.adelie_design, log=lambda text: print(text, flush=True))
            rows[f"{label}-tol1e-7"] = first
            rows[label] = row
            adelie.append(label)
    names = [name for name in rows if name.startswith(("cvxpy-clarabel", "ref:"))]
    base_name = names[0] if names else None
    base = rows[base_name]["time"] if base_name else None
    ref_label = "Clarabel" if base_name == "cvxpy-clarabel" else "ref"
    print(f"{'solver':<22}{'time [s]':>10}{'to 1e-6 [s]':>13}{'objective':>16}{'gap':>10}"
          f"{'active':>8}{ref_label + ' / this':>17}  status")
    for name, r in rows.items():
        ratio = base / r["reach"] if base and np.isfinite(r["reach"]) else np.nan
        shown = f"auto ({auto})" if name == "auto" else name
        print(f"{shown:<22}{r['time']:>10.2f}{r['reach']:>13.2f}{r['objective']:>16.10f}"
              f"{r['gap']:>10.1e}{r['active']:>8d}{ratio:>17.3g}  {r['status']}")
    if adelie and "auto" in rows and np.isfinite(rows["auto"]["reach"]):
        ours = rows["auto"]["reach"]
        for label in adelie:
            r = rows[label]
            if np.isfinite(r["reach"]):
                print(f"{label} / convexnn auto ({auto}), time to 1e-6: {r['reach']:.2f} s / "
                      f"{ours:.2f} s = {r['reach'] / ours:.1f}x")
            else:
                print(f"{label} / convexnn auto ({auto}), time to 1e-6: not reached in "
                      f"{r['longest']:.2f} s / {ours:.2f} s: more than {r['longest'] / ours:.1f}x")


if __name__ == "__main__":
    main()
