"""convexnn.deep.oned: the Lasso program of deep narrow networks on 1-D inputs and the network
mapped from a solution."""

import numpy as np
import pytest
from conftest import make_series

from convexnn import forward, solve
from convexnn.deep import (
    DictionaryProgram,
    deep_objective,
    dictionary_to_network,
)
from convexnn.deep.dictionary import chain_features


def test_program_on_repeated_inputs_matches_the_full_sample_objective():
    X, Y = make_series(n=25, repeats=True)
    program = DictionaryProgram(X, Y, 3, "squared", 1e-2)
    assert program.dictionary.points.shape[0] < X.shape[0]
    rng = np.random.default_rng(0)
    sol = program.zero_solution()
    sol.U[0, 0, rng.choice(program.n_patterns, 5, replace=False)] = rng.standard_normal(5)
    Phi = chain_features(X[:, 0], program.dictionary.signs, program.dictionary.anchors)
    F = Phi @ sol.U[0, 0] + sol.intercept[0]
    direct = 0.5 * np.mean((F - Y[:, 0]) ** 2) + 1e-2 * np.abs(sol.U).sum()
    assert program.objective(sol) == pytest.approx(direct, rel=1e-13)
    theta = program.residual(sol)
    assert np.allclose(program.design_adjoint(theta)[0], Phi.T @ theta[:, 0], atol=1e-12)


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_mapped_deep_network_reproduces_the_lasso(depth):
    X, Y = make_series(n=15, seed=10 + depth)
    program = DictionaryProgram(X, Y, depth, "squared", 1e-3)
    sol = solve(program, tol=1e-10).solution
    coefs, intercepts = dictionary_to_network(program, sol)
    m = np.count_nonzero(sol.U)
    assert len(coefs) == depth and m > 0
    assert coefs[0].shape == (1, m) and coefs[-1].shape == (m, 1)
    for W in coefs[1:-1]:  # paths side by side: diagonal hidden-to-hidden weights
        assert W.shape == (m, m) and np.count_nonzero(W - np.diag(np.diag(W))) == 0
    F = program.predict(sol)
    assert np.abs(forward(coefs, intercepts, X) - F).max() <= 1e-10 * max(1.0, np.abs(F).max())
    J = deep_objective(coefs, intercepts, X, Y, program.alpha)
    assert J == pytest.approx(program.objective(sol), rel=1e-10)
    # each path is balanced: every weight on it has magnitude |z|^(1/L)
    gamma = np.abs(sol.U[0, 0][np.nonzero(sol.U[0, 0])]) ** (1 / depth)
    for W in coefs[:-1]:
        assert np.allclose(np.abs(W[W != 0]), gamma, rtol=1e-12)
    assert np.allclose(np.abs(coefs[-1][:, 0]), gamma, rtol=1e-12)


def test_alpha_max_gives_the_zero_network():
    X, Y = make_series(n=10)
    program = DictionaryProgram(X, Y, 3, "squared", 1.0)
    program = program.with_alpha(1.01 * program.alpha_max())
    result = solve(program)
    assert result.solver == "alpha_max" and not np.any(result.solution.U)
    assert program.with_alpha(0.9 * program.alpha_max()).alpha_max() == pytest.approx(
        program.alpha_max()
    )
    smaller = solve(program.with_alpha(0.9 * program.alpha_max()), tol=1e-10)
    assert np.any(smaller.solution.U)

