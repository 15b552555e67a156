"""Fit on a Dask array chunked by rows, on a local cluster of two single-threaded workers."""

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster

from convexnn import ConvexReLUClassifier

if __name__ == "__main__":
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="1GB",
                           dashboard_address=None)
    client = Client(cluster)  # or Client("tcp://scheduler:8786") for an existing cluster

    # 20,000 rows generated chunk by chunk on the workers (5,000 rows a chunk), float32
    rng = da.random.default_rng(0)
    X = rng.standard_normal((20_000, 10), chunks=(5_000, 10)).astype(np.float32)
    y = (da.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] > 0).astype(int)

    model = ConvexReLUClassifier(alpha=1e-3, formulation="gated", sampler="gaussian",
                                 n_gates=30, random_state=0)
    model.fit(X, y)
    print(f"solver {model.solver_}: {model.n_iter_} Newton iterations, "
          f"certified gap {model.gap_:.1e}, objective {model.objective_:.6f}")
    print(f"{model.n_neurons_} neurons; training accuracy "
          f"{float((model.predict(X) == y).mean().compute()):.3f}")
    proba = model.predict_proba(X)  # a Dask array, computed chunk by chunk
    print(type(proba).__name__, proba.shape, proba.chunks[0][:3], "...")
    client.close()
    cluster.close()
