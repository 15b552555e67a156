"""The coordinate-descent solver of the 1-D deep Lasso (``lasso_cd``)."""

import pytest
from conftest import make_series

from convexnn import solve
from convexnn.deep import DictionaryProgram


def test_coordinate_descent_solver_agrees():
    X, Y = make_series(n=12, seed=3)
    program = DictionaryProgram(X, Y, 2, "squared", 2e-3)
    cd = solve(program, "lasso_cd", tol=1e-9)
    ip = solve(program, "lasso_ip", tol=1e-10)
    assert cd.status == "optimal" and cd.gap <= 1e-9
    assert program.objective(cd.solution) == pytest.approx(program.objective(ip.solution), rel=1e-8)
