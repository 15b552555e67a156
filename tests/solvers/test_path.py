"""convexnn.solvers.path: the regularisation path, warm-started from alpha_max down."""

import numpy as np
import pytest
from conftest import make_program

from convexnn import solve
from convexnn.solvers import regularization_path


def test_warm_start_and_path():
    program = make_program("logistic", "gated", n=50, d=3, n_gates=20, alpha=1e-2)
    cold = solve(program, "fista", tol=1e-7)
    warm = solve(program, "fista", tol=1e-7, init=cold.solution)
    assert warm.n_iter <= 1 and warm.gap <= 1e-7
    amax = program.alpha_max()
    results = regularization_path(program, n_alphas=5, eps=1e-2, solver="fista", tol=1e-6)
    alphas = [r.alpha for r in results]
    assert alphas[0] == pytest.approx(amax) and np.all(np.diff(alphas) < 0)
    assert not np.any(results[0].solution.U)
    assert all(r.gap <= 1e-6 for r in results)
    neurons = [int(np.count_nonzero(np.linalg.norm(r.solution.U, axis=1))) for r in results]
    assert neurons[-1] > 0
