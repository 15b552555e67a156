"""The interior-point solver of the 1-D deep Lasso (``lasso_ip``), against CVXPY."""

import numpy as np
import pytest
from conftest import make_series

from convexnn import solve
from convexnn.deep import DictionaryProgram


def _cvxpy_lasso(program):
    import cvxpy as cp

    Phi = program.design_product(np.eye(program.n_patterns))
    y = program.Y[:, 0]
    z, c = cp.Variable(program.n_patterns), cp.Variable()
    objective = cp.sum_squares(Phi @ z + c - y) / (2 * program.n_samples)
    problem = cp.Problem(cp.Minimize(objective + program.alpha * cp.norm1(z)))
    problem.solve(solver="CLARABEL", tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    return problem.value


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_lasso_solution_is_certified_and_matches_cvxpy(depth):
    X, Y = make_series(n=12, seed=depth)
    program = DictionaryProgram(X, Y, depth, "squared", 2e-3)
    result = solve(program, tol=1e-10)
    assert result.solver == "lasso_ip" and result.status == "optimal"
    assert result.gap <= 1e-10
    reference = _cvxpy_lasso(program)
    assert program.objective(result.solution) == pytest.approx(reference, rel=1e-8)
    assert program.objective(result.solution) <= reference * (1 + 1e-9)
