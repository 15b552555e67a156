"""convexnn.deep.oned: the dictionary of deep narrow networks on 1-D inputs, its Lasso program
and the network mapped from a solution."""

import numpy as np
import pytest
from conftest import make_data, make_series

from convexnn import forward, network_objective, solve
from convexnn.deep import (
    DictionaryProgram,
    build_dictionary,
    deep_objective,
    dictionary_to_network,
    rebalance,
)
from convexnn.deep.oned import chain_features


def _naive_feature(x, signs, anchors):
    """The paper's recursive definition, one point at a time."""

    def g(level, t):
        if level == 0:
            return t
        prev = g(level - 1, t)
        return max(signs[level - 1] * (prev - g(level - 1, anchors[level - 1])), 0.0)

    return np.array([g(len(signs), t) for t in x])


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_chain_features_follow_the_recursive_definition(depth):
    rng = np.random.default_rng(depth)
    x = rng.uniform(-3, 3, 9)
    signs = rng.choice([-1.0, 1.0], size=(20, depth - 1))
    anchors = rng.choice(x, size=(20, depth - 1))
    anchors[:10, 0] = 2 * anchors[:10, min(1, depth - 2)] - anchors[:10, 0]  # reflections
    values = chain_features(x, signs, anchors)
    for j in range(20):
        assert np.allclose(values[:, j], _naive_feature(x, signs[j], anchors[j]), atol=1e-14)


def test_depth_four_dictionary_has_reflection_breakpoints():
    x = np.array([0.0, 2.0, 6.0, 7.0])
    d3, d4 = build_dictionary(x, 3), build_dictionary(x, 4)
    assert set(np.unique(d3.anchors)) <= set(x)  # depth 3: training points only
    reflections = set(np.unique(d4.anchors[:, 0])) - set(x)
    assert 4.0 in reflections  # 2·2 − 0: the reflection of x=0 about x=2
    # the depth-4 dictionary spans features the depth-3 one does not
    assert d4.n_features > d3.n_features


def test_dictionary_drops_zero_and_repeated_features():
    x = np.array([0.0, 1.0, 3.0])
    d = build_dictionary(x, 3)
    V = d.values
    assert np.all(np.max(V, axis=0) > 0)
    assert np.unique(np.round(V, 12), axis=1).shape[1] == V.shape[1]
    # every ramp of depth 2 is among the depth-3 features
    ramps = build_dictionary(x, 2).values
    for j in range(ramps.shape[1]):
        assert np.min(np.abs(V - ramps[:, [j]]).max(axis=0)) < 1e-14


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


def test_two_layer_deep_objective_is_the_objective_of_record():
    X, y = make_data("squared", n=30, d=2, seed=2)
    rng = np.random.default_rng(0)
    coefs = [rng.standard_normal((2, 5)), rng.standard_normal((5, 1))]
    intercepts = [rng.standard_normal(5), rng.standard_normal(1)]
    J = deep_objective(coefs, intercepts, X, y[:, None], 0.1)
    assert J == pytest.approx(network_objective(coefs, intercepts, X, y, 0.1, "squared"), rel=1e-14)


def test_rebalance_keeps_the_function_and_lowers_the_penalty():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((20, 2))
    coefs = [
        rng.standard_normal((2, 4)) * [[3.0, 0.1, 1, 1]],
        rng.standard_normal((4, 3)),
        rng.standard_normal((3, 1)) * 5,
    ]
    intercepts = [rng.standard_normal(4), rng.standard_normal(3), rng.standard_normal(1)]
    new_coefs, new_intercepts = rebalance(coefs, intercepts)
    assert np.allclose(
        forward(new_coefs, new_intercepts, X), forward(coefs, intercepts, X), atol=1e-10
    )
    before = sum(np.sum(np.abs(W) ** 3) for W in coefs)
    after = sum(np.sum(np.abs(W) ** 3) for W in new_coefs)
    assert after < 0.9 * before
