"""The two convex programs on one-dimensional data: exact ReLU ("relu") and gated ReLU ("gated").

Both fit the same 60 noisy samples with the same alpha and the same gates (the distinct patterns
of the 40-neuron MLP that the default sampler trains). The exact
ReLU program returns a ReLU network (continuous and piecewise linear); the gated program returns a
gated network, whose neurons switch on their gate but need not be continuous there.
"""

import matplotlib.pyplot as plt
import numpy as np

from convexnn import ConvexReLURegressor

rng = np.random.default_rng(0)
X = np.sort(rng.uniform(-3, 3, 60))[:, None]
y = np.sin(1.5 * X[:, 0]) + 0.1 * rng.standard_normal(60)
grid = np.linspace(-3.2, 3.2, 600)[:, None]

fig, ax = plt.subplots(figsize=(7, 3.6))
ax.scatter(X[:, 0], y, s=12, color="0.4", label="training data")
for formulation, colour in [("relu", "C0"), ("gated", "C3")]:
    model = ConvexReLURegressor(alpha=1e-3, n_gates=40, formulation=formulation, random_state=0)
    model.fit(X, y)
    print(
        f"{formulation:5s}: J = {model.objective_:.6f}  convex objective = "
        f"{model.convex_objective_:.6f}  gap = {model.gap_:.1e}  neurons = {model.n_neurons_}"
    )
    ax.plot(
        grid[:, 0],
        model.predict(grid),
        color=colour,
        lw=1.6,
        label=f'formulation="{formulation}" ({model.n_neurons_} neurons)',
    )
ax.set_xlabel("x")
ax.set_ylabel("f(x)")
ax.legend(loc="lower right", fontsize=8)
fig.tight_layout()
fig.savefig("formulations.png", dpi=110)
