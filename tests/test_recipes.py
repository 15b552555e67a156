"""The three recipes of docs/architecture.md, done: add a loss, add a solver, add a sampler.

Each test extends convexnn the way the page says and checks that the rest of the library takes the
new piece without any other change.
"""

import numpy as np
import pytest
from conftest import make_data

from convexnn import ConvexProgram, losses, patterns, sample_patterns, solvers
from convexnn.losses import SquaredLoss, encode_targets
from convexnn.patterns import Patterns, gate_patterns
from convexnn.solvers import SolverResult, solve


class WeightedSquaredLoss(SquaredLoss):
    """``ℓ(f, y) = (w/2)‖f − y‖²``: the squared loss times ``w``, as a new loss class."""

    name = "weighted_squared"
    weight = 3.0

    @classmethod
    def value(cls, F, Y):
        return cls.weight * SquaredLoss.value(F, Y)

    @classmethod
    def gradient(cls, F, Y):
        return cls.weight * (F - Y)

    @classmethod
    def dual(cls, theta, Y):
        # -ℓ*(-θ, y) = θᵀy − ‖θ‖² / (2w)
        return float(np.sum(theta * Y) - 0.5 * np.sum(theta**2) / cls.weight) / theta.shape[0]

    @classmethod
    def outputs_from_residual(cls, theta, Y):
        return Y - theta / cls.weight

    @classmethod
    def hessian_root(cls, F, Y):
        return np.sqrt(cls.weight) * SquaredLoss.hessian_root(F, Y)


def test_recipe_add_a_loss(monkeypatch):
    """One class in losses.py: the first-order gated solver and the certified gap use it as it is.
    ``w·(½‖f − y‖²) + alpha·pen`` is ``w`` times the squared program at ``alpha / w``."""
    monkeypatch.setitem(losses.LOSSES, WeightedSquaredLoss.name, WeightedSquaredLoss)
    X, y = make_data("squared", n=40, d=3)
    P = sample_patterns(X, 15, random_state=0)
    w, alpha = WeightedSquaredLoss.weight, 3e-2
    Y = encode_targets(y, "squared")
    new = ConvexProgram(X, Y, P, WeightedSquaredLoss.name, alpha, "gated")
    result = solve(new, "fista", tol=1e-9, max_iter=50_000)
    assert result.status == "optimal" and 0 <= result.gap <= 1e-9
    squared = ConvexProgram(X, Y, P, "squared", alpha / w, "gated")
    reference = solve(squared, "kernel_newton", tol=1e-12)
    expected = w * squared.objective(reference.solution)
    assert new.objective(result.solution) == pytest.approx(expected, rel=1e-8)


def solve_coordinate_newton(program, *, tol=1e-6, max_iter=100, verbose=False, init=None):
    """A new solver: here kernel Newton under another name, with its own keyword set (no
    callback), to show what the registry and the driver do with it."""
    result = solvers.solve_kernel_newton(program, tol=tol, max_iter=max_iter, verbose=verbose,
                                         init=init)
    return SolverResult(result.solution, "coordinate_newton", result.status, result.gap,
                        result.violation, result.n_iter, result.gap_history, result.time)


def test_recipe_add_a_solver(monkeypatch):
    """A function ``solve_<name>(program, *, tol, max_iter, ...)`` returning a SolverResult, and one
    entry in ``SOLVERS``: ``solve`` runs it with every check of the driver, calls a callback the
    solver does not take once at the end, and refuses the options its signature does not name."""
    monkeypatch.setitem(solvers.SOLVERS, "coordinate_newton", solve_coordinate_newton)
    X, y = make_data("squared", n=40, d=3)
    program = ConvexProgram(X, encode_targets(y, "squared"),
                            sample_patterns(X, 15, random_state=0), "squared", 1e-2, "gated")
    result = solve(program, "coordinate_newton", tol=1e-10)
    assert result.solver == "coordinate_newton" and result.gap <= 1e-10
    assert solvers.takes("coordinate_newton", "init")
    assert not solvers.takes("coordinate_newton", "callback")
    seen = []  # a solver without a callback of its own: the driver calls it once, at the end
    solve(program, "coordinate_newton", callback=seen.append)
    assert len(seen) == 1
    with pytest.raises(ValueError, match="max_epochs"):
        solve(program, "coordinate_newton", max_epochs=10)
    # a warm start from its own answer is honoured
    assert solve(program, "coordinate_newton", tol=1e-10, init=result.solution).n_iter <= 1


def axis_patterns(X, n_gates, random_state=None):
    """A new sampler: gates along the coordinate axes through random thresholds."""
    rng = np.random.default_rng(random_state)
    d = X.shape[1]
    axes = rng.integers(0, d, n_gates)
    gates = np.zeros((d + 1, n_gates))
    gates[axes, np.arange(n_gates)] = rng.choice([-1.0, 1.0], n_gates)
    gates[-1] = -gates[axes, np.arange(n_gates)] * X[rng.integers(0, len(X), n_gates), axes]
    return gate_patterns(X, gates)


def test_recipe_add_a_sampler(monkeypatch):
    """A function ``(X, n_gates, random_state) -> Patterns`` (through ``gate_patterns``, which
    dedups and keeps gated networks consistent) and one entry in ``SAMPLERS``."""
    monkeypatch.setitem(patterns.SAMPLERS, "axis", axis_patterns)
    X, y = make_data("logistic", n=40, d=3)
    found = sample_patterns(X, 12, "axis", random_state=0)
    assert isinstance(found, Patterns) and 0 < found.n_patterns <= 12
    program = ConvexProgram(X, encode_targets(y, "logistic"), found, "logistic", 1e-2, "relu")
    assert solve(program, tol=1e-8).gap <= 1e-8
