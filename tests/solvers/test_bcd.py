"""convexnn.solvers.bcd: working-set block coordinate descent on the gated program."""

import pytest
from conftest import make_program

from convexnn.solvers import solve_bcd, solve_cvxpy


@pytest.mark.parametrize("kind", ["squared", "logistic", "softmax"])
def test_bcd_reaches_the_gated_optimum_of_every_loss(kind):
    program = make_program(kind, "gated", n=30, n_gates=10, seed=4)
    result = solve_bcd(program, tol=1e-7)
    assert result.status == "optimal" and result.gap <= 1e-7
    reference = program.objective(solve_cvxpy(program, tol=1e-9).solution)
    assert program.objective(result.solution) == pytest.approx(reference, rel=1e-6)


def test_bcd_leaves_blocks_outside_the_working_set_at_zero():
    """A large alpha keeps most blocks at zero: bcd's answer has no more active neurons than
    the optimum needs (the blocks it never entered stay exactly zero)."""
    program = make_program("squared", "gated", n=30, n_gates=20, seed=5)
    program = program.with_alpha(0.5 * program.alpha_max())
    result = solve_bcd(program, tol=1e-8)
    active = (program.block_norms(result.solution.U) > 0).sum()
    assert 0 < active < program.n_patterns
