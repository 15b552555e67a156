"""Real data: convex training against scikit-learn's MLP on the UCI "yacht" regression set.

Both are scored by the same training objective J (convexnn.network_objective) with the same alpha;
scikit-learn's MLP minimises it with alpha_sklearn = alpha * n_samples (full batch, L-BFGS).
The data are read from ``shared/data`` beside the repository (see its README; the first of
the 20 standard splits of Hernández-Lobato & Adams, 2015), or from the folder that the environment
variable ``CONVEXNN_DATA`` names. When they are absent the example says so and stops.
"""

import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

from convexnn import ConvexReLURegressor, network_objective

# ../shared/data beside the repository, or wherever CONVEXNN_DATA points
DATA_ROOT = Path(__file__).resolve().parents[2].parent / "shared" / "data"
DATA = Path(os.environ.get("CONVEXNN_DATA", DATA_ROOT)) / "uci_regression"
if not (DATA / "yacht.npz").is_file():
    print(f"skipped: the UCI regression data are not at {DATA}")
    fig, ax = plt.subplots(figsize=(6, 1))
    ax.text(0.5, 0.5, "data not available in this build", ha="center", va="center")
    ax.axis("off")
    fig.savefig("real_data.png", dpi=110)
    raise SystemExit(0)

data = np.load(DATA / "yacht.npz")
train, test = data["split0_train"], data["split0_test"]
x_scaler = StandardScaler().fit(data["X"][train])
y_scaler = StandardScaler().fit(data["y"][train, None])
X_train, X_test = x_scaler.transform(data["X"][train]), x_scaler.transform(data["X"][test])
y_train = y_scaler.transform(data["y"][train, None]).ravel()
y_test = y_scaler.transform(data["y"][test, None]).ravel()
n = len(y_train)
print(f"yacht: {n} training and {len(y_test)} test samples, {X_train.shape[1]} features")

alpha = 1e-3
rows = []  # (method, J, test predictions, seconds, neurons, certified gap)
# the default sampler (the patterns of an L-BFGS MLP of n_gates neurons), then random gates
for sampler, n_gates in (("mlp", 10), ("mlp", 40), ("mlp", 100), ("gaussian", 100)):
    start = time.perf_counter()
    model = ConvexReLURegressor(
        alpha=alpha, n_gates=n_gates, sampler=sampler, random_state=0
    ).fit(X_train, y_train)  # fmt: skip
    seconds = time.perf_counter() - start
    name = f"convex, {n_gates} " + ("MLP patterns" if sampler == "mlp" else "Gaussian gates")
    rows.append(
        (name, model.objective_, model.predict(X_test), seconds, model.n_neurons_, model.gap_)
    )
for width in (10, 100):
    start = time.perf_counter()
    mlp = MLPRegressor(
        hidden_layer_sizes=(width,), alpha=alpha * n, solver="lbfgs", max_iter=5000, tol=1e-10,
        random_state=0,
    ).fit(X_train, y_train)  # fmt: skip
    seconds = time.perf_counter() - start
    J = network_objective(mlp.coefs_, mlp.intercepts_, X_train, y_train, alpha, "squared")
    rows.append((f"sklearn L-BFGS, width {width}", J, mlp.predict(X_test), seconds, width, None))

print(
    f"{'method':26s} {'J (train)':>10s} {'gap':>8s} {'test RMSE':>10s} {'time':>7s} {'neurons':>7s}"
)
for name, J, pred, seconds, width, gap in rows:
    rmse = np.sqrt(np.mean((pred - y_test) ** 2))  # in standardised units of y
    gap = "-" if gap is None else f"{gap:.0e}"
    print(f"{name:26s} {J:10.6f} {gap:>8s} {rmse:10.4f} {seconds:6.2f}s {width:7d}")

fig, ax = plt.subplots(figsize=(6.5, 3))
ax.barh([r[0] for r in rows], [r[1] for r in rows], color=["C0"] * (len(rows) - 2) + ["C1"] * 2)
ax.set_xlabel("training objective J (lower is better)")
ax.invert_yaxis()
fig.tight_layout()
fig.savefig("real_data.png", dpi=110)
