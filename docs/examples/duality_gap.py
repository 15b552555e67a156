"""The duality gap bounds how far any point is from the optimum of the convex program.

Solve a program once with the CVXPY reference solver, then move away from its solution (scale all
blocks by t) and compare, at each point, the true relative suboptimality (P(t) - P*) / P(t) with the
certified gap that `ConvexProgram.duality_gap` computes without knowing P*. The certified gap is
never below the truth; the solvers stop when it is below `tol`.
"""

import matplotlib.pyplot as plt
import numpy as np

from convexnn import ConvexProgram, ConvexSolution, sample_patterns, solve
from convexnn.losses import encode_targets

rng = np.random.default_rng(0)
X = rng.standard_normal((80, 2))
y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2 + 0.1 * rng.standard_normal(80)

patterns = sample_patterns(X, n_gates=30, sampler="gaussian", random_state=0)
program = ConvexProgram(
    X, encode_targets(y, "squared"), patterns, "squared", alpha=1e-2, formulation="relu"
)
result = solve(program, solver="cvxpy", tol=1e-8)
best = program.objective(result.solution)
print(
    f"solver {result.solver}: status {result.status}, certified gap {result.gap:.1e}, "
    f"objective {best:.8f}, constraint violation {result.violation:.1e}"
)

scales = np.linspace(0.0, 1.5, 31)
true_gap, certified = [], []
for t in scales:
    sol = result.solution
    # scaling keeps every block in its cone: the point stays feasible
    point = ConvexSolution(t * sol.U, t * sol.V, sol.intercept)
    bound = program.duality_gap(point)
    true_gap.append((bound.primal - best) / bound.primal)
    certified.append(bound.gap)
    if t in (0.0, 0.5, 0.9, 1.0, 1.5):
        print(f"t = {t:.1f}: true suboptimality {true_gap[-1]:.2e} <= certified {bound.gap:.2e}")
assert all(c >= g - 1e-9 for c, g in zip(certified, true_gap, strict=True))

fig, ax = plt.subplots(figsize=(6, 3.4))
ax.semilogy(scales, np.maximum(certified, 1e-12), "o-", ms=3, label="certified gap (no P* needed)")
ax.semilogy(scales, np.maximum(true_gap, 1e-12), "s--", ms=3, label="true (P(t) - P*) / P(t)")
ax.axhline(1e-6, color="k", lw=0.8, ls=":", label="default tol = 1e-6")
ax.set_xlabel("t (blocks of the solution scaled by t)")
ax.set_ylabel("relative gap")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig("duality_gap.png", dpi=110)
