"""convexnn.solvers.al: the augmented Lagrangian solver of the exact ReLU program."""

import pytest
from conftest import make_program

from convexnn.solvers import solve_al, solve_cvxpy


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_al_certifies_the_exact_relu_program_inside_its_cones(seed):
    """Certified to tol, its blocks in their cones to tol, and at CVXPY's optimum."""
    program = make_program("squared", "relu", n=25, n_gates=8, seed=seed)
    result = solve_al(program, tol=1e-6, max_iter=200)
    assert result.status == "optimal" and result.gap <= 1e-6
    assert program.constraint_violation(result.solution) <= 1e-6
    reference = program.objective(solve_cvxpy(program, tol=1e-9).solution)
    assert program.objective(result.solution) == pytest.approx(reference, rel=1e-5)



def test_al_network_reproduces_its_program():
    """Its blocks hold their cones, so the mapped network's objective is the program's."""
    program = make_program("squared", "relu", n=25, n_gates=8, seed=3)
    result = solve_al(program, tol=1e-6, max_iter=200)
    assert program.network_objective(result.solution) == pytest.approx(
        program.objective(result.solution), rel=1e-7
    )
