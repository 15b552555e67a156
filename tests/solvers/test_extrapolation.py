"""convexnn.solvers.extrapolation: Anderson extrapolation of the residuals for a tighter gap."""

import numpy as np
import pytest
from conftest import make_program

from convexnn.solvers.extrapolation import DualExtrapolator, best_gap


def test_extrapolation_of_a_geometric_sequence_finds_its_limit():
    """Residuals converging linearly, θ_t = θ* + ρ^t v: the Anderson combination is θ*."""
    rng = np.random.default_rng(0)
    limit, direction = rng.standard_normal((6, 2)), rng.standard_normal((6, 2))
    extrapolator = DualExtrapolator(depth=2)
    assert extrapolator.extrapolate() is None
    for t in range(4):
        extrapolator.push(limit + 0.7**t * direction)
    np.testing.assert_allclose(extrapolator.extrapolate(), limit, atol=1e-8)


def test_best_gap_is_never_worse_than_the_residuals_own():
    program = make_program("logistic", "gated", n=30, n_gates=10, seed=1)
    solution = program.zero_solution()
    solution.U[:] = 0.01
    residual = program.residual(solution)
    extrapolator = DualExtrapolator(depth=2)
    for scale in (1.0, 0.99, 0.98):
        extrapolator.push(scale * residual)
    plain = program.duality_gap(solution, theta=residual)
    best = best_gap(program, solution, residual, extrapolator)
    assert best.dual >= plain.dual
    assert best.gap <= plain.gap + 1e-15
    assert best.primal == pytest.approx(plain.primal)
