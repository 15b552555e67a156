"""adelie on the gated program of a convexnn :class:`ConvexProgram`.

Installing: adelie 1.1.52 pins ``numpy<2``, while cvxpy 1.9 (a convexnn dependency) needs
``numpy>=2``; a plain ``pip install adelie`` downgrades numpy and breaks cvxpy. Its compiled core
runs on numpy 2 (the check below passes on numpy 2.4), so install it without its pins:
``pip install --no-deps adelie && pip install "ipython<9"`` (``import adelie`` imports IPython and
matplotlib; scipy and scikit-learn are convexnn's own dependencies).

What adelie 1.1 minimises, read from the docstrings of ``adelie.grpnet``, ``adelie.glm.gaussian``
and ``adelie.glm.binomial``:

    ℓ(η) + λ Σ_g ω_g (a ‖β_g‖₂ + (1 − a)/2 ‖β_g‖₂²),     η = Xβ + β₀1 (+ an offset, zero here)

- ``a`` is grpnet's ``alpha``, the elastic-net mixing: 1 here, the pure group Lasso;
- ``ω`` is ``penalty``, by default ``√(group size)``: set to ones here, so that ``λ`` is convexnn's
  ``alpha`` with no rescaling;
- Gaussian: ``ℓ(η) = Σ_i w_i (−y_i η_i + η_i²/2)``, binomial (logit link):
  ``ℓ(η) = Σ_i w_i (−y_i η_i + log(1 + e^{η_i}))``, with weights ``w`` normalised to sum to one,
  by default ``1/n``. The Gaussian loss is ``(1/n) Σ ½(η_i − y_i)²`` less the constant
  ``(1/n) Σ ½ y_i²``, so both are convexnn's mean losses (:ref:`maths-programs`), with the same
  minimisers;
- ``β₀`` is a free, unpenalised intercept (``intercept=True``): convexnn's ``c``;
- no standardisation: grpnet fits the matrix it is given (standardising is a separate matrix,
  ``adelie.matrix.standardize``, not used here).

The design is ``[D_1 X̃, …, D_P X̃]`` (``n × P(d + 1)``) with one group of ``d + 1`` columns per
pattern, the bias coordinate included, which is penalised in the gated program.
``adelie.matrix.convex_relu(X̃, masks, gated=True)`` represents exactly that matrix without forming
it (its docstring: ``[D_1 Z … D_m Z]`` with ``D_i`` the diagonal of column ``i`` of the mask);
``design="dense"`` forms it instead. Group ``k`` of the coefficients is then ``u_k`` and maps to
``U[0, :, k]``; the intercept is adelie's.

Stopping: ``tol`` is adelie's coordinate-descent tolerance (default 1e-7), ``irls_tol`` its IRLS
tolerance for the binomial loss (default 1e-7; set to ``tol`` here). ``early_exit=False``: otherwise
a path stops once 90 % of the deviance is explained (``adev_tol``), before it reaches ``alpha``.
Two ways of running: one ``λ`` (``lmda_path=[alpha]``, from zero), or a path of ``L`` values
geometric from ``alpha_max`` down to ``alpha``, each warm-started at the previous one (adelie's
usual use). Solutions are scored by ``program.objective``, with their certified gap by
``program.duality_gap``.

Run ``python benchmarks/_adelie.py`` for the agreement check on the tiny problem against
CVXPY/Clarabel and convexnn's certified optimum.
"""

from __future__ import annotations

import time

import numpy as np

from convexnn import ConvexSolution

#: adelie's default coordinate-descent tolerance, and the tighter ones tried after it
TOLS = (1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12, 1e-13, 1e-14)
#: lambdas of the path runs (adelie's default path size)
PATH_SIZE = 100


def available() -> bool:
    try:
        import adelie  # noqa: F401
    except ImportError:
        return False
    return True


def adelie_problem(program, design="convex_relu"):
    """adelie's matrix, GLM, group starts and penalty factors for the gated ``program``."""
    import adelie as ad

    if program.formulation != "gated":
        raise ValueError("adelie solves the gated program (an unconstrained group Lasso)")
    if program.n_outputs != 1 or program.loss not in ("squared", "logistic"):
        raise ValueError("one output, squared or logistic loss")
    n, d1, P = program.n_samples, program.n_features + 1, program.n_patterns
    Xt = np.asfortranarray(program.Xt, dtype=np.float64)
    masks = np.asfortranarray(program.masks, dtype=bool)
    if design == "convex_relu":
        X = ad.matrix.convex_relu(Xt, masks, gated=True)
    elif design == "dense":
        A = np.empty((n, P * d1), dtype=np.float64, order="F")
        for k in range(P):
            A[:, k * d1:(k + 1) * d1] = masks[:, [k]] * Xt
        X = ad.matrix.dense(A, method="naive")
    else:
        raise ValueError(f"unknown design {design!r}")
    y = np.ascontiguousarray(program.Y[:, 0], dtype=np.float64)
    glm = ad.glm.gaussian(y) if program.loss == "squared" else ad.glm.binomial(y)
    return X, glm, np.arange(0, P * d1, d1), np.ones(P)


def to_solution(program, state):
    """The last solution of adelie's ``state`` (its smallest ``λ``) as a :class:`ConvexSolution`."""
    d1, P = program.n_features + 1, program.n_patterns
    beta = np.asarray(state.betas[-1].todense(), dtype=np.float64).ravel()
    U = beta.reshape(P, d1).T[None].copy()
    return ConvexSolution(U, None, np.array([float(state.intercepts[-1])]))


def run_adelie(program, tol=1e-7, path=None, reference=None, design="convex_relu"):
    """One grpnet call at ``alpha`` (``path=None``) or along ``path`` lambdas ending there.

    Returns the measurements of ``benchmarks/solvers.py``'s ``run`` plus the ``solution``;
    ``time`` is the whole call (matrix wrapper, GLM, ``alpha_max`` for a path, the solve, reading
    back the solution), ``reach`` that time when the objective is within 1e-6 (relative) of
    ``reference``, else NaN (adelie reports no objective along its iterations)."""
    import adelie as ad

    start = time.perf_counter()
    X, glm, groups, penalty = adelie_problem(program, design)
    if path is None:
        lmdas = np.array([program.alpha])
    else:
        lmdas = np.geomspace(program.alpha_max(), program.alpha, path)
    status = f"tol {tol:g}"
    try:
        state = ad.grpnet(
            X=X, glm=glm, groups=groups, penalty=penalty, alpha=1.0, lmda_path=lmdas,
            tol=tol, irls_tol=tol, early_exit=False, intercept=True, progress_bar=False,
        )
        solution = to_solution(program, state)
        if not np.isclose(state.lmdas[-1], program.alpha, rtol=1e-12):
            status += f", stopped at lambda {state.lmdas[-1]:.3g}"
    except RuntimeError as error:  # adelie raises when an iteration budget runs out
        return dict(time=time.perf_counter() - start, reach=np.nan, objective=np.nan, gap=np.nan,
                    active=0, status=f"tol {tol:g}: {error}"[:60], intercept=np.full(1, np.nan),
                    solution=None)
    total = time.perf_counter() - start
    final = program.objective(solution)
    reach = total if reference is not None and final <= reference * (1 + 1e-6) else np.nan
    return dict(time=total, reach=reach, objective=final, gap=program.duality_gap(solution).gap,
                active=int(np.count_nonzero(program.block_norms(solution.net))), status=status,
                intercept=solution.intercept, solution=solution)


def reach_adelie(program, reference, path=None, tols=TOLS, repeat=1, budget=300.0,
                 design="convex_relu", log=None):
    """Time for adelie to reach ``reference``: runs at ever tighter ``tols``; the first whose
    objective is within 1e-6 (relative) of ``reference`` is the answer, its time the median of
    ``repeat`` runs (one run where the repeats would take more than ``budget`` seconds).

    A tighter ``tol`` is tried only while three times the last run fits in ``budget`` seconds
    (each tenfold tighter ``tol`` has cost two to five times the one before), so that no run is
    expected to take longer than ``budget``. ``log(text)``, when given, is called after each run.
    Returns ``(first, row)``: the run at the first ``tol`` (adelie's default), and the row of the
    first run that reached, or of the last one tried with ``reach`` NaN and ``longest`` the time of
    that run (a lower bound on adelie's time to the reference, since a tighter ``tol`` only adds
    iterations)."""
    if reference is None:
        tols = tols[:1]
    first = row = None
    for tol in tols:
        if row is not None and 3 * row["time"] > budget:
            break
        row = run_adelie(program, tol, path, reference, design)
        if log is not None:
            rel = (row["objective"] - reference) / abs(reference) if reference else np.nan
            log(f"  adelie {'one lambda' if path is None else f'path of {path}'}, tol {tol:g}: "
                f"{row['time']:.2f} s, objective {row['objective']:.12f} ({rel:+.1e})")
        if first is None:
            first = row
        if np.isfinite(row["reach"]):
            runs = [row]
            if row["time"] * (repeat - 1) <= budget:
                runs += [run_adelie(program, tol, path, reference, design)
                         for _ in range(repeat - 1)]
            row = dict(runs[-1])
            row["time"] = float(np.median([r["time"] for r in runs]))
            row["reach"] = float(np.median([r["reach"] for r in runs]))
            row["status"] += f", {len(runs)} run{'s' if len(runs) > 1 else ''}"
            return first, row
    row = dict(row)
    row["longest"] = row["time"]
    rel = (row["objective"] - reference) / abs(reference) if reference else np.nan
    row["status"] = f"not reached: {rel:+.1e} at {row['status']}"
    return first, row


def check(problem="tiny", n_gates=20):
    """Agreement of adelie with convexnn's certified optimum and CVXPY on a small problem."""
    from problems import make_problem

    from convexnn import solve

    for loss in ("squared", "logistic"):
        program = make_problem(problem, "gated", n_gates=n_gates, loss=loss)
        clarabel = program.objective(solve(program, "cvxpy").solution)
        ours = solve(program, "auto", tol=1e-10)
        ref = program.objective(ours.solution)
        print(f"\n{problem} gated {loss}: n={program.n_samples} d={program.n_features} "
              f"P={program.n_patterns} alpha={program.alpha:g}")
        print(f"  convexnn {ours.solver} at tol 1e-10   {ref:.12f}  gap {ours.gap:.1e}")
        print(f"  Clarabel (CVXPY)                {clarabel:.12f}  "
              f"rel. {(clarabel - ref) / ref:+.1e}")
        for design in ("convex_relu", "dense"):
            for tol in (1e-7, 1e-12):
                r = run_adelie(program, tol, reference=ref, design=design)
                print(f"  adelie {design:<11} tol {tol:<6g}  {r['objective']:.12f}  rel. "
                      f"{(r['objective'] - ref) / ref:+.1e}  gap {r['gap']:.1e}  "
                      f"intercept {r['intercept'][0]:+.6f} (convexnn "
                      f"{ours.solution.intercept[0]:+.6f})  {r['time']:.3f} s")
        r = run_adelie(program, 1e-12, path=PATH_SIZE, reference=ref)
        print(f"  adelie path of {PATH_SIZE}, tol 1e-12     {r['objective']:.12f}  rel. "
              f"{(r['objective'] - ref) / ref:+.1e}  {r['time']:.3f} s")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="adelie against convexnn on the same program")
    parser.add_argument("--problem", default="tiny")
    parser.add_argument("--n-gates", type=int, default=20)
    args = parser.parse_args()
    check(args.problem, args.n_gates)
