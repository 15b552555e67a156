"""Exact deep ReLU networks on one-dimensional inputs: a Lasso over ramp and reflection features."""

import numpy as np

from convexnn import ConvexDeep1DRegressor

rng = np.random.default_rng(0)
x = np.sort(rng.uniform(-2, 2, 40))
y = np.sin(2 * x) + 0.1 * rng.standard_normal(40)

for depth in (2, 3, 4):
    model = ConvexDeep1DRegressor(depth=depth, alpha=1e-3).fit(x.reshape(-1, 1), y)
    print(
        f"depth {depth}: network objective {model.objective_:.8f}  Lasso optimum "
        f"{model.lasso_objective_:.8f}  certified gap {model.gap_:.1e}"
    )
