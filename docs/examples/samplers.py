"""How many distinct activation patterns do sampled gates reach?

For n = 30 points in general position in the plane, the hyperplane arrangement has exactly 872
patterns (Cover, 1965; 871 without the all-zero one). Gaussian gates find the frequent ones first;
the rare ones (hyperplanes that cut off a single point in a narrow way) need many more draws.
"""

from math import comb

import matplotlib.pyplot as plt
import numpy as np

from convexnn import sample_patterns

n, d = 30, 2
rng = np.random.default_rng(0)
X = rng.standard_normal((n, d))
rank = d + 1  # rank of [X, 1]
cover = 2 * sum(comb(n - 1, k) for k in range(rank))
print(f"Cover count for n={n}, rank {rank}: {cover} patterns ({cover - 1} non-zero)")

n_gates = np.unique(np.logspace(0, 5, 21).astype(int))
found = [sample_patterns(X, int(g), "gaussian", random_state=0).n_patterns for g in n_gates]
for g, p in zip(n_gates, found, strict=True):
    if g in (10, 100, 1000, 10000, 100000):
        print(f"{g:6d} gaussian gates -> {p:4d} distinct non-zero patterns")

fig, ax = plt.subplots(figsize=(6, 3.4))
ax.semilogx(n_gates, found, "o-", ms=3, label="gaussian sampler")
ax.axhline(cover - 1, color="k", ls="--", lw=1, label="all non-zero patterns (Cover)")
ax.set_xlabel("n_gates")
ax.set_ylabel("distinct patterns")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig("samplers.png", dpi=110)
