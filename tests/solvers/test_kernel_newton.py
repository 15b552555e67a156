"""convexnn.solvers.kernel_newton: projected Newton on the kernel weights (gated, squared loss)."""

import numpy as np
import pytest
from conftest import make_program

from convexnn import ConvexProgram, ConvexSolution, solve
from convexnn.solvers.kernel_newton import KernelObjective


def test_kernel_newton_derivatives_match_finite_differences():
    program = make_program("squared", "gated", n=30, d=2, n_gates=12, alpha=1e-2)
    objective = KernelObjective(program.Xt, program.mask_matrix, program.Y[:, 0], program.alpha)
    t = np.random.default_rng(0).uniform(0.5, 2.0, program.n_patterns) / program.alpha
    state = objective.evaluate(t)
    Q = objective.correlations(state)
    g = objective.gradient(Q)
    H = objective.hessian(state, Q, np.arange(program.n_patterns))
    h = 1e-6 * t
    for k in range(program.n_patterns):
        e = np.zeros_like(t)
        e[k] = h[k]
        up, down = objective.evaluate(t + e), objective.evaluate(t - e)
        assert (up["value"] - down["value"]) / (2 * h[k]) == pytest.approx(g[k], rel=1e-5, abs=1e-10)
        dg = (objective.gradient(objective.correlations(up)) - objective.gradient(objective.correlations(down)))
        assert np.allclose(dg / (2 * h[k]), H[:, k], rtol=1e-4, atol=1e-9)
    # the blocks -t_k q_k and the intercept reproduce J: the ridge problem's value is the objective
    U = (-t * Q)[None]
    penalty = 0.5 * np.sum(np.sum(U[0] ** 2, axis=0) / t) + 0.5 * program.alpha**2 * t.sum()
    F = program.predict(ConvexSolution(U, None, np.array([state["c"]])))
    loss = 0.5 * np.mean((F[:, 0] - program.Y[:, 0]) ** 2)
    assert loss + penalty == pytest.approx(state["value"], rel=1e-10)


def test_kernel_newton_certifies_to_rounding_and_refuses_what_it_cannot_solve():
    program = make_program("multi", "gated", n=50, d=3, n_gates=20, alpha=1e-2)
    result = solve(program, "kernel_newton", tol=1e-11)
    assert result.status == "optimal" and result.gap <= 1e-11
    assert solve(program, "kernel_newton", init=result.solution, tol=1e-11).n_iter <= 2
    p32 = ConvexProgram(program.X.astype(np.float32), program.Y, program.patterns, "squared", 1e-2, "gated")
    r32 = solve(p32, "kernel_newton", tol=1e-5)  # the float32 rounding of the blocks limits the gap
    assert r32.solution.U.dtype == np.float32 and r32.gap <= 1e-5
    with pytest.raises(ValueError, match="alpha > 0"):
        solve(program.with_alpha(0.0), "kernel_newton")
    with pytest.raises(ValueError, match="gated program with squared loss"):
        solve(make_program("squared", "relu", n=20), "kernel_newton")


def test_kernel_newton_leaves_the_blas_thread_settings_as_it_found_them():
    from threadpoolctl import threadpool_info

    before = [(i["filepath"], i["num_threads"]) for i in threadpool_info()]
    solve(make_program("squared", "gated", n=40, d=2, n_gates=10), "kernel_newton")
    assert [(i["filepath"], i["num_threads"]) for i in threadpool_info()] == before
