"""pyscnn (import name ``scnn``) on the same program as a convexnn :class:`ConvexProgram`.

What pyscnn 0.0.10 minimises, read from its source (paths relative to the ``scnn`` package):

- Squared loss ``(1/(2 n c)) Σ_i ‖y_i − F_i‖²``: ``private/models/convex/convex_mlp.py:120``
  divides ``squared_error`` (a plain sum of squares, ``private/loss_functions.py:21-22``, despite
  its docstring's ½) by ``2 * self._scaling(y, scaling)``, and ``Model.objective`` passes
  ``scaling=y.shape[0]`` (``private/models/model.py:225``), which ``_scaling`` multiplies by the
  number of outputs ``c`` (``model.py:69``). The ReLU model uses the same loss
  (``al/al_mlp.py:192-194``).
- Penalty ``NeuronGL1(lam)``: ``lam Σ ‖w‖₂`` over the last axis of the weights
  (``private/loss_functions.py:91``, ``private/models/regularizers/group_l1.py:53``; the prox
  ``private/prox/proximal_ops.py:143-147``), i.e. one group per (output, neuron) and, for ReLU, per
  (sign, output, neuron) (weights of shape ``(2, c, p, d)``, ``al_mlp.py:41``).
- ``bias=True`` appends a column of ones to ``X`` (``private/utils/data/transforms.py:29``,
  ``private/interface/data.py:89-90``) and a row ``G_bias`` to the gates
  (``private/interface/models.py:97-98``): the hidden bias is the last coordinate of each group and
  is penalised with it, in both ``ConvexGatedReLU`` and ``ConvexReLU``.
- No output intercept: the prediction is ``Σ_i D_i X̃ u_i`` (``models.py:264-285``,
  ``convex_mlp.py:98``).
- Patterns ``D_i = 1[X̃ g_i > 0]`` (strict; ``activations.py:240-241``), duplicate and all-zero
  columns removed and the rest re-ordered by ``np.unique`` (``activations.py:243-252``).
- ReLU cones ``(2 D_i − I) X̃ u_i ≥ 0`` (``al_mlp.py:341-343``), enforced by an augmented Lagrangian
  only to its tolerance.

So with one output and ``lam = alpha`` the gated program is exactly convexnn's ``"gated"`` program
with the output intercept fixed at ``c = 0``; the ReLU program differs in two ways, the fixed
intercept and the penalised hidden bias (convexnn's ``"relu"`` penalises only ``‖u_k[:d]‖``,
:ref:`maths-programs`). With ``K`` outputs pyscnn's objective is convexnn's divided by ``K`` when
``lam = alpha / K``.

How the programs are matched here:

- Same patterns: the convexnn gates are passed as pyscnn gates on ``X̃`` (``bias=False`` with the
  ones column added here, identical to ``bias=True`` by the two lines cited above and avoiding
  ``ConvexReLU.set_parameters``, which rejects ``bias=True`` parameters, ``models.py:450-455``,
  so ``optimize_model(..., return_convex=True)`` fails for a ReLU model with a bias). A gate with
  a data point exactly on its hyperplane (``X̃g = 0``, active for convexnn, inactive for pyscnn)
  has its bias raised by half the smallest margin of the inactive points; the masks are then
  checked to be identical, and pyscnn's re-ordered neurons are mapped back by their masks.
- The intercept: pyscnn is run on the targets ``Y − c_ref``, ``c_ref`` the intercept of a reference
  solution of the convexnn program. Since ``J(U, c; Y) = J(U, c − c_ref; Y − c_ref)``, pyscnn then
  solves convexnn's program with ``c`` fixed at ``c_ref``, whose optimum exceeds convexnn's by at
  most ``(c_ref − c*)²/2`` (the mean loss is ``(c − c*)²/2`` above its minimum along ``c``).
  Mean-centred targets are not enough: the optimal intercept of ReLU features is not the mean of
  the targets.
- Solutions are mapped to a :class:`ConvexSolution` with intercept ``c_ref`` and scored by
  ``program.objective``; pyscnn's own objective of a solution is :func:`pyscnn_objective`.

Run ``python benchmarks/_pyscnn.py`` (in an environment with pyscnn) for the agreement check on the
tiny problem against CVXPY/Clarabel, for convexnn's program and for pyscnn's program.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from convexnn import ConvexSolution
from convexnn.operators import masked_forward
from convexnn.patterns import add_bias_column

#: benchmark row name -> (formulation, pyscnn solver, its ``tol``)
METHODS = {
    "pyscnn-fista-1e-6": ("gated", "fista", 1e-6),
    "pyscnn-fista-1e-10": ("gated", "fista", 1e-10),
    "pyscnn-al": ("relu", "al", 1e-6),
}


def available() -> bool:
    try:
        import scnn  # noqa: F401
    except ImportError:
        return False
    return True


def methods_for(formulation):
    return [name for name, (form, _, _) in METHODS.items() if form == formulation]


def pyscnn_gates(program):
    """The gates of ``program`` on ``X̃``, with ties moved so that ``X̃g > 0`` gives its masks."""
    Xt = add_bias_column(program.X.astype(np.float64))
    G = np.array(program.patterns.gates, dtype=np.float64)
    values = Xt @ G
    for k in np.flatnonzero(np.any(values == 0, axis=0)):
        negative = -values[values[:, k] < 0, k]
        G[-1, k] += 0.5 * negative.min() if negative.size else 1.0
    if not np.array_equal(Xt @ G > 0, program.masks):
        raise RuntimeError("could not reproduce the program's activation patterns as X̃g > 0")
    return Xt, G


def _pattern_index(masks):
    packed = np.packbits(np.asarray(masks, dtype=bool), axis=0)
    return {packed[:, k].tobytes(): k for k in range(packed.shape[1])}


def pyscnn_objective(program, solution, shift):
    """pyscnn's objective of ``solution`` on the targets ``Y − shift``: no intercept, every group's
    norm over all ``d + 1`` coordinates, loss scaled by ``1/(2 n K)``, penalty ``alpha/K``."""
    n, K = program.Y.shape
    F = masked_forward(program.Xt, program.masks, solution.net).astype(np.float64)
    r = program.Y.astype(np.float64) - shift - F
    blocks = [solution.U] if solution.V is None else [solution.U, solution.V]
    norms = sum(float(np.sum(np.sqrt(np.sum(B.astype(np.float64) ** 2, axis=1)))) for B in blocks)
    return float(np.sum(r**2)) / (2 * n * K) + program.alpha / K * norms


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def run_pyscnn(program, method, shift, tol=1e-6, reference=None, max_iters=10000):
    """Solve ``program`` with pyscnn's R-FISTA (gated) or AL (relu) on the targets ``Y − shift``.

    Returns the measurements of ``benchmarks/solvers.py``'s ``run`` plus the mapped ``solution``
    and pyscnn's own objective. ``time`` is the whole ``optimize_model`` call (data conversion,
    patterns, solve, unpacking). For R-FISTA, ``reach`` is read off pyscnn's per-iteration
    objective log (its objective on ``Y − shift`` is convexnn's at intercept ``shift``, divided by
    ``K``), everything outside the iteration loop counted before it; for AL the log holds the
    augmented Lagrangian, so ``reach`` is the total time when the final objective is within 1e-6
    of ``reference`` and the relative cone violation at most 1e-6, else NaN.
    """
    from scnn.metrics import Metrics
    from scnn.models import ConvexGatedReLU, ConvexReLU
    from scnn.optimize import optimize_model
    from scnn.regularizers import NeuronGL1
    from scnn.solvers import AL, RFISTA

    n, K = program.Y.shape
    Xt, G = pyscnn_gates(program)
    shift = np.asarray(shift, dtype=np.float64).reshape(K)
    targets = program.Y.astype(np.float64) - shift
    if K == 1:
        targets = targets[:, 0]
    if method == "fista":
        if program.formulation != "gated":
            raise ValueError("pyscnn's R-FISTA solves the gated program")
        model = ConvexGatedReLU(G, c=K, bias=False)
        solver = RFISTA(model, max_iters=max_iters, tol=tol)
    elif method == "al":
        if program.formulation != "relu":
            raise ValueError("pyscnn's AL solves the ReLU program")
        model = ConvexReLU(G, c=K, bias=False)
        solver = AL(model, max_primal_iters=max_iters, tol=tol)
    else:
        raise ValueError(f"unknown pyscnn method {method!r}")
    metrics = Metrics(metric_freq=1, objective=True, grad_norm=False, time=True)

    logger = logging.getLogger("scnn")
    capture, propagate = _Capture(), logger.propagate
    logger.addHandler(capture)
    logger.propagate = False
    try:
        start = time.perf_counter()
        model, metrics = optimize_model(
            model, solver, metrics, Xt, targets, regularizer=NeuronGL1(program.alpha / K),
            return_convex=True, unitize_data=False, device="cpu", dtype="float64",
        )
        total = time.perf_counter() - start
    finally:
        logger.removeHandler(capture)
        logger.propagate = propagate

    # map pyscnn's neurons back to the program's patterns
    index = _pattern_index(program.masks)
    keys = np.packbits(Xt @ model.G > 0, axis=0)
    order = np.array([index[keys[:, j].tobytes()] for j in range(keys.shape[1])], dtype=int)
    U = np.zeros(program.block_shape)
    U[:, :, order] = np.transpose(model.parameters[0], (0, 2, 1))
    V = None
    if method == "al":
        V = np.zeros(program.block_shape)
        V[:, :, order] = np.transpose(model.parameters[1], (0, 2, 1))
    solution = ConvexSolution(U, V, shift.copy())

    final = program.objective(solution)
    threshold = np.inf if reference is None else reference * (1 + 1e-6)
    reach = np.nan
    if method == "fista" and reference is not None:
        loop = np.asarray(metrics.time, dtype=float)
        log = np.asarray(metrics.objective, dtype=float) * K
        hit = np.flatnonzero(log <= threshold)
        if hit.size:
            reach = (total - loop[-1]) + loop[hit[0]]
    elif final <= threshold and program.constraint_violation(solution) <= 1e-6:
        reach = total
    stopped = any("Max iterations reached" in m for m in capture.messages)
    log_final = float(np.asarray(metrics.objective)[-1]) * K  # pyscnn's own value (AL: + penalty)
    return dict(
        time=total, reach=reach, objective=final, gap=program.duality_gap(solution).gap,
        active=int(np.count_nonzero(program.block_norms(solution.net))),
        status="max_iter" if stopped else "pyscnn-tol",
        solution=solution, pyscnn_objective=pyscnn_objective(program, solution, shift),
        violation=program.constraint_violation(solution), pyscnn_log=log_final,
    )


def cvxpy_pyscnn_program(program, shift):
    """pyscnn's program (one output) solved by CVXPY/Clarabel: returns (optimum, ConvexSolution)."""
    import cvxpy as cp

    if program.n_outputs != 1:
        raise ValueError("one output only")
    Xt = program.Xt.astype(np.float64)
    M = program.masks.astype(np.float64)
    n, P = M.shape
    y = program.Y[:, 0].astype(np.float64) - float(np.ravel(shift)[0])
    U = cp.Variable((Xt.shape[1], P))
    net, blocks, constraints = U, [U], []
    if program.formulation == "relu":
        V = cp.Variable((Xt.shape[1], P))
        net, blocks = U - V, [U, V]
        constraints = [cp.multiply(2 * M - 1, Xt @ B) >= 0 for B in blocks]
    F = cp.sum(cp.multiply(M, Xt @ net), axis=1)
    penalty = sum(cp.sum(cp.norm(B, 2, axis=0)) for B in blocks)
    problem = cp.Problem(cp.Minimize(cp.sum_squares(y - F) / (2 * n) + program.alpha * penalty),
                         constraints)
    problem.solve(solver="CLARABEL")
    values = [np.asarray(B.value)[None] for B in blocks]
    solution = ConvexSolution(values[0], values[1] if len(values) > 1 else None,
                              np.atleast_1d(np.asarray(shift, dtype=np.float64)).copy())
    return pyscnn_objective(program, solution, solution.intercept), solution


def check(problem="tiny", n_gates=20):
    """Agreement of pyscnn with CVXPY on a small problem, both formulations."""
    from problems import make_problem

    from convexnn import solve

    def rel(a, b):
        return abs(a - b) / abs(b)

    for formulation in ("gated", "relu"):
        program = make_problem(problem, formulation, n_gates=n_gates)
        ours = solve(program, "cvxpy")
        ref, c_ref = program.objective(ours.solution), ours.solution.intercept
        own_opt, own_sol = cvxpy_pyscnn_program(program, c_ref)
        print(f"\n{problem} {formulation}: n={program.n_samples} d={program.n_features} "
              f"P={program.n_patterns} alpha={program.alpha:g}")
        print(f"  convexnn optimum (Clarabel)              {ref:.12f}  "
              f"intercept c* = {c_ref[0]:+.9f}  gap {ours.gap:.1e}")
        print(f"  pyscnn's program on Y - c*  (Clarabel)   {own_opt:.12f}  rel. to convexnn "
              f"{rel(own_opt, ref):.1e}")
        print(f"  that solution, convexnn objective        {program.objective(own_sol):.12f}")
        print(f"  convexnn's solution, pyscnn's objective  "
              f"{pyscnn_objective(program, ours.solution, c_ref):.12f}")
        runs = [(name, *METHODS[name][1:]) for name in methods_for(formulation)]
        for name, method, tol in runs:
            r = run_pyscnn(program, method, c_ref, tol=tol, reference=ref)
            print(f"  {name:<19} convexnn objective {r['objective']:.12f} "
                  f"(rel. {rel(r['objective'], ref):.1e}); pyscnn objective "
                  f"{r['pyscnn_objective']:.12f} (rel. to its Clarabel optimum "
                  f"{rel(r['pyscnn_objective'], own_opt):.1e}; its own log's last value "
                  f"{r['pyscnn_log']:.12f}); violation {r['violation']:.1e}; "
                  f"{r['time']:.2f} s, reach {r['reach']:.2f} s, {r['status']}")
        # what the intercept does: pyscnn on the raw and on mean-centred targets
        method, tol = runs[-1][1:]
        centred = program.Y.mean(axis=0)
        for label, shift in (("Y (no shift)", np.zeros(1)), ("Y - mean(Y)", centred)):
            r = run_pyscnn(program, method, shift, tol=tol)
            best = r["solution"].copy()
            best.intercept = best.intercept + float(np.mean(program.Y - program.predict(best)))
            print(f"  {method} on {label:<13} convexnn objective {r['objective']:.12f} "
                  f"(rel. {rel(r['objective'], ref):.1e}; with the best intercept for its blocks "
                  f"{rel(program.objective(best), ref):.1e})")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="pyscnn against CVXPY on the same program")
    parser.add_argument("--problem", default="tiny")
    parser.add_argument("--n-gates", type=int, default=20)
    args = parser.parse_args()
    check(args.problem, args.n_gates)
