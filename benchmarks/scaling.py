"""Peak memory and cost per iteration of the matrix-free gated solver (R-FISTA).

Peak memory: one process per size solves a gated program in float32 for a fixed number of
iterations and reports its peak resident memory (``ru_maxrss``); the target is n = 100,000,
d = 50, 1,000 gates under 2 GB. Cost per iteration: the median time of one FISTA iteration
(a forward and an adjoint map) over a grid of n and of P; both should grow linearly.

    python benchmarks/scaling.py [--plot scaling.png]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np

CHILD = r"""
import json, resource, sys, time
import numpy as np
from convexnn import ConvexProgram, sample_patterns
from convexnn.losses import encode_targets
from convexnn.solvers.fista import GatedComposite, fista
n, d, P, iters = map(int, sys.argv[1:5])
rng = np.random.default_rng(0)
X = rng.standard_normal((n, d)).astype(np.float32)
y = np.sign(X[:, 0] * X[:, 1] + 0.1 * rng.standard_normal(n)).astype(np.float32)
patterns = sample_patterns(X, P, random_state=0)
program = ConvexProgram(X, encode_targets(y, "squared"), patterns, "squared", 1e-3, "gated")
composite = GatedComposite(program)
W = np.zeros(program.block_shape, dtype=np.float32)
c = np.zeros(1)
fista(composite, W, c, step=1e-3, max_iter=2)  # compile and warm up
start = time.perf_counter()
W, c, it, _ = fista(composite, W, c, step=1e-3, max_iter=iters)
per_iter = (time.perf_counter() - start) / it
print(json.dumps({"n": n, "d": d, "P": program.n_patterns, "per_iter": per_iter,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(n, d, P, iters=5):
    out = subprocess.run([sys.executable, "-c", CHILD, str(n), str(d), str(P), str(iters)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", default=None, help="write the cost-per-iteration curves to this PNG")
    parser.add_argument("--skip-large", action="store_true", help="skip the n=100,000 memory run")
    args = parser.parse_args(argv)
    if not args.skip_large:
        big = measure(100_000, 50, 1000, iters=3)
        print(f"peak memory, n=100000 d=50 P={big['P']} float32: {big['peak_mb']:.0f} MB "
              f"({big['per_iter']:.2f} s per iteration)")
    base_n, base_P = 5000, 200
    by_n = [measure(n, 20, base_P) for n in (2500, 5000, 10000, 20000, 40000)]
    by_P = [measure(base_n, 20, P) for P in (100, 200, 400, 800, 1600)]
    print("cost per iteration against n (d=20, 200 gates):")
    for r in by_n:
        print(f"  n={r['n']:>6}  {1e3 * r['per_iter']:8.2f} ms   per sample {1e6 * r['per_iter'] / r['n']:.3f} µs")
    print("cost per iteration against P (n=5000, d=20):")
    for r in by_P:
        print(f"  P={r['P']:>6}  {1e3 * r['per_iter']:8.2f} ms   per pattern {1e3 * r['per_iter'] / r['P']:.4f} ms")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
        for ax, rows, key, label in ((axes[0], by_n, "n", "n (samples)"), (axes[1], by_P, "P", "P (patterns)")):
            x = np.array([r[key] for r in rows], dtype=float)
            t = np.array([1e3 * r["per_iter"] for r in rows])
            ax.loglog(x, t, "o-", label="measured")
            ax.loglog(x, t[0] * x / x[0], "k--", lw=0.8, label="linear")
            ax.set_xlabel(label)
            ax.set_ylabel("ms per FISTA iteration")
            ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"plot written to {args.plot}")


if __name__ == "__main__":
    main()
