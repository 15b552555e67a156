"""Exact deep 1-D networks (Lasso) against scikit-learn's MLP of the same depth, on one objective.

Objective (convexnn.deep.oned): ``J_L = (1/n) Σ ½(f(x_i) − y_i)² + (alpha/L) Σ_layers Σ |W|^L``,
the training problem whose optimum over deep narrow ReLU networks the Lasso finds (Zeger, Wang &
Pilanci 2024). scikit-learn's ``MLPRegressor`` (full batch L-BFGS, ``alpha_sklearn = alpha * n``)
minimises weight decay instead; its network is scored on ``J_L`` after the best per-neuron
rescaling (:func:`convexnn.deep.rebalance`), which leaves its function unchanged. For ``L = 2`` the
two penalties coincide. The Lasso is the global optimum over *parallel deep narrow* networks
(``m`` paths of ``L − 1`` scalar ReLU units side by side, the paper's architecture), not over fully
connected ones: the ``narrow`` rows train that same architecture on ``J_L`` itself by L-BFGS from
random starts (the non-convex training of the very problem the Lasso solves); the ``sklearn`` rows
are fully connected MLPs, a richer class at equal cost.

Data: the MIT-BIH record 208 ECG (one-step-ahead from one lag, ``x_t → x_{t+1}``, a window of
``--n`` samples, standardised) and a synthetic 1-D regression.

    python benchmarks/deep_1d.py [--data ../shared/data] [--n 2000] [--alpha 1e-3]
                                 [--widths 20 50] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from convexnn.deep import ConvexDeep1DRegressor, deep_objective, rebalance

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def ecg(data_dir, n, start=0):
    series = np.load(Path(data_dir) / "series" / "ecg_mitbih208.npz")["ecg_mv"][
        start : start + n + 1
    ]
    series = (series - series.mean()) / series.std()
    return series[:-1, None], series[1:]


def synthetic(n, seed=0):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-2, 2, n))
    y = np.sin(3 * x) + 0.5 * np.abs(x) + 0.1 * rng.standard_normal(n)
    return x[:, None], y


def narrow_lbfgs(X, y, depth, width, alpha, seed, max_iter=5000):
    """Train ``width`` parallel paths of ``depth − 1`` scalar ReLU units on ``J_L`` by L-BFGS."""
    from scipy.optimize import minimize

    rng = np.random.default_rng(seed)
    x, n, L, m = X[:, 0], X.shape[0], depth, width
    levels = L - 1

    def unpack(theta):
        w = theta[: levels * m].reshape(levels, m)
        b = theta[levels * m : 2 * levels * m].reshape(levels, m)
        return w, b, theta[2 * levels * m : 2 * levels * m + m], theta[-1]

    def objective(theta):
        w, b, a, c = unpack(theta)
        H, Z = [np.broadcast_to(x[:, None], (n, m))], []
        for level in range(levels):
            Z.append(H[-1] * w[level] + b[level])
            H.append(np.maximum(Z[-1], 0.0))
        f = H[-1] @ a + c
        r = f - y
        value = 0.5 * float(r @ r) / n
        value += alpha / L * (float(np.sum(np.abs(w) ** L)) + float(np.sum(np.abs(a) ** L)))
        df = r / n
        ga, gc = H[-1].T @ df + alpha * np.abs(a) ** (L - 1) * np.sign(a), df.sum()
        gw, gb = np.zeros_like(w), np.zeros_like(b)
        dH = df[:, None] * a
        for level in reversed(range(levels)):
            dZ = dH * (Z[level] > 0)
            gw[level] = np.sum(dZ * H[level], axis=0) + alpha * np.abs(w[level]) ** (
                L - 1
            ) * np.sign(w[level])
            gb[level] = dZ.sum(axis=0)
            dH = dZ * w[level]
        return value, np.concatenate([gw.ravel(), gb.ravel(), ga, [gc]])

    theta0 = np.concatenate(
        [
            rng.standard_normal(levels * m),
            rng.standard_normal(levels * m),
            rng.standard_normal(m) / np.sqrt(m),
            [float(np.mean(y))],
        ]
    )
    result = minimize(objective, theta0, jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    w, b, a, c = unpack(result.x)
    coefs = [w[0].reshape(1, m)] + [np.diag(w[level]) for level in range(1, levels)] + [a[:, None]]
    intercepts = [b[level].copy() for level in range(levels)] + [np.array([c])]
    return coefs, intercepts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DATA, help="the shared data folder")
    parser.add_argument("--n", type=int, default=2000, help="ECG window length")
    parser.add_argument("--n-synthetic", type=int, default=200)
    parser.add_argument("--alpha", type=float, default=1e-3)
    parser.add_argument("--depths", type=int, nargs="+", default=[3, 4])
    parser.add_argument("--widths", type=int, nargs="+", default=[20, 50])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--breakpoints-4",
        type=int,
        default=40,
        help="anchors of the depth-4 dictionary (None: all)",
    )
    args = parser.parse_args(argv)

    datasets = {"ecg208": ecg(args.data, args.n), "synthetic": synthetic(args.n_synthetic)}
    header = (
        f"{'data':<10} {'n':>5} {'L':>2} {'method':<22} {'J_L':>14} {'vs Lasso':>14} "
        f"{'paths/width':>11} {'gap':>9} {'time s':>7}"
    )
    print(f"alpha = {args.alpha:g}  (scikit-learn alpha = alpha * n, lbfgs, full batch)")
    print(header)
    print("-" * len(header))
    for name, (X, y) in datasets.items():
        n = X.shape[0]
        for depth in args.depths:
            n_bp = args.breakpoints_4 if depth == 4 else None
            model = ConvexDeep1DRegressor(depth=depth, alpha=args.alpha, n_breakpoints=n_bp)
            model.fit(X, y)
            J = model.objective_
            rel = abs(model.objective_ - model.lasso_objective_) / model.lasso_objective_
            label = "convex Lasso" + ("" if model.exact_dictionary_ else f" ({n_bp} anchors)")
            print(
                f"{name:<10} {n:>5} {depth:>2} {label:<22} {J:>14.8g} {rel:>14.1e} "
                f"{model.n_paths_:>11} {model.gap_:>9.1e} {model.fit_time_:>7.1f}",
                flush=True,
            )
            for width in args.widths:
                for seed in args.seeds:
                    start = time.perf_counter()
                    coefs, intercepts = narrow_lbfgs(X, y, depth, width, args.alpha, seed)
                    elapsed = time.perf_counter() - start
                    J_narrow = deep_objective(coefs, intercepts, X, y[:, None], args.alpha)
                    print(
                        f"{name:<10} {n:>5} {depth:>2} {f'narrow w={width} s={seed}':<22} "
                        f"{J_narrow:>14.8g} {J_narrow / J - 1:>14.1e} {width:>11} {'':>9} "
                        f"{elapsed:>7.1f}",
                        flush=True,
                    )
            for width in args.widths:
                for seed in args.seeds:
                    mlp = MLPRegressor(
                        hidden_layer_sizes=(width,) * (depth - 1),
                        alpha=args.alpha * n,
                        solver="lbfgs",
                        max_iter=2000,
                        tol=1e-10,
                        random_state=seed,
                    )
                    start = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ConvergenceWarning)
                        mlp.fit(X, y)
                    elapsed = time.perf_counter() - start
                    coefs, intercepts = rebalance(mlp.coefs_, mlp.intercepts_)
                    J_mlp = deep_objective(coefs, intercepts, X, y[:, None], args.alpha)
                    print(
                        f"{name:<10} {n:>5} {depth:>2} {f'sklearn w={width} s={seed}':<22} "
                        f"{J_mlp:>14.8g} {J_mlp / J - 1:>14.1e} {width:>11} {'':>9} "
                        f"{elapsed:>7.1f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
