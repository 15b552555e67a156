"""convexnn.deep.stacking: layer-wise convex stacking of two-layer blocks."""

import itertools
import warnings

import numpy as np
import pytest
from conftest import make_data
from sklearn.exceptions import ConvergenceWarning

from convexnn import ConvexDeepReLUClassifier, ConvexDeepReLURegressor, forward, network_objective


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return model.fit(X, y)


@pytest.mark.parametrize("sizes", [(6,), (8, 5), (6, 5, 4)])
def test_stacking_depth_and_width_controls(sizes):
    X, y = make_data("squared", n=50, d=3, seed=1)
    model = _fit(ConvexDeepReLURegressor(sizes, alpha=1e-2, n_gates=25, random_state=0), X, y)
    assert len(model.coefs_) == len(sizes) + 1 and model.n_layers_ == len(sizes) + 2
    assert len(model.hidden_layer_sizes_) == len(sizes)
    assert all(1 <= m <= cap for m, cap in zip(model.hidden_layer_sizes_, sizes, strict=True))
    assert all(g <= 1e-6 for g in model.block_gaps_)
    # to_mlp: same architecture, same predictions
    mlp = model.to_mlp()
    assert mlp.hidden_layer_sizes == model.hidden_layer_sizes_
    X_new = np.random.default_rng(0).standard_normal((30, 3))
    assert np.array_equal(mlp.predict(X_new), model.predict(X_new))


def test_stacked_network_reproduces_the_last_block():
    X, y = make_data("squared", n=50, d=3, seed=4)
    model = _fit(ConvexDeepReLURegressor((7, 5), alpha=1e-2, n_gates=25, random_state=1), X, y)
    # the last block's two-layer network on the previous activations is the deep network
    H = np.maximum(X @ model.coefs_[0] + model.intercepts_[0], 0.0)
    last = forward(model.coefs_[1:], model.intercepts_[1:], H)
    assert np.abs(forward(model.coefs_, model.intercepts_, X) - last).max() <= 1e-12
    # and its objective equals the last block's convex objective, to the solver's feasibility
    J_last = network_objective(model.coefs_[1:], model.intercepts_[1:], H, y, 1e-2, "squared")
    assert J_last == pytest.approx(model.block_objectives_[-1], rel=1e-7)


def test_stacking_truncates_to_the_maximum_width_and_resolves():
    X, y = make_data("squared", n=60, d=3, seed=6)
    wide = _fit(ConvexDeepReLURegressor((100,), alpha=1e-3, n_gates=40, random_state=0), X, y)
    cap = max(2, wide.hidden_layer_sizes_[0] // 2)
    narrow = _fit(ConvexDeepReLURegressor((cap,), alpha=1e-3, n_gates=40, random_state=0), X, y)
    assert narrow.blocks_[0].restricted and narrow.hidden_layer_sizes_[0] <= cap
    assert narrow.block_gaps_[0] <= 1e-6
    assert narrow.block_objectives_[0] >= wide.block_objectives_[0] * (1 - 1e-7)


def test_stacked_classifier_to_mlp_and_probabilities():
    X, y = make_data("softmax", n=60, d=3, seed=2)
    model = _fit(ConvexDeepReLUClassifier((12, 12), alpha=1e-2, n_gates=20, random_state=0), X, y)
    assert len(model.coefs_) == 3 and model.coefs_[-1].shape[1] == 3
    mlp = model.to_mlp()
    assert np.array_equal(mlp.predict_proba(X), model.predict_proba(X))
    assert np.array_equal(mlp.predict(X), model.predict(X))


def _record_blocks(monkeypatch):
    """Record every program the stack solves, in order, with its result."""
    from convexnn.deep import stacking

    solved, solve_block = [], stacking._solve_block

    def recording(*args):
        program, result = solve_block(*args)
        solved.append((program, result))
        return program, result

    monkeypatch.setattr(stacking, "_solve_block", recording)
    return solved


def test_many_class_blocks_share_their_neurons_between_the_classes(monkeypatch):
    # with the per-output program each neuron fed one class and one pattern carried up to 2K of
    # them: ecoli (8 classes, widths 16 and 15 gates) kept 9 neurons of a single pattern in its
    # first layer, took 225 s and scored 0.655 on its fold0 test split (now 1.4 s and 0.833)
    from convexnn.shared import SharedNeuronProgram

    solved = _record_blocks(monkeypatch)
    X, y = make_data("softmax", n=120, d=4, seed=3, n_classes=6)
    model = _fit(ConvexDeepReLUClassifier((12, 12), alpha=1e-3, n_gates=15, random_state=0), X, y)
    assert solved and all(isinstance(p, SharedNeuronProgram) for p, _ in solved)
    H = X
    for W, b in zip(model.coefs_[:-1], model.intercepts_[:-1], strict=True):
        patterns = {tuple(column) for column in (H @ W + b >= 0).T}
        assert 2 * len(patterns) >= W.shape[1]  # at most two neurons a pattern
        H = np.maximum(H @ W + b, 0.0)
    # every neuron of the last block feeds every class
    assert np.all(np.count_nonzero(model.coefs_[-1], axis=1) == 6)
    assert all(g <= 1e-6 for g in model.block_gaps_)


def test_a_solver_without_the_shared_program_gets_one_output_per_neuron(monkeypatch):
    from convexnn.program import ConvexProgram

    solved = _record_blocks(monkeypatch)
    X, y = make_data("softmax", n=60, d=3, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = ConvexDeepReLUClassifier((12,), alpha=1e-2, n_gates=10, solver="al",
                                         max_iter=200, random_state=0).fit(X, y)
    assert all(type(p) is ConvexProgram for p, _ in solved)
    assert np.all(np.count_nonzero(model.coefs_[-1], axis=1) == 1)


@pytest.mark.parametrize("kind, n_gates", [("softmax", 8), ("squared", 5)])
def test_a_restricted_block_is_never_the_same_program_again(monkeypatch, kind, n_gates):
    # the first re-solve kept the strongest `width` patterns: where no more than that carried
    # all the neurons it solved the same program again (ecoli: 5 s, twice)
    from convexnn.deep import stacking

    solved = _record_blocks(monkeypatch)
    X, y = make_data(kind, n=80, d=3, seed=5)
    Model = ConvexDeepReLUClassifier if kind == "softmax" else ConvexDeepReLURegressor
    model = _fit(Model((5,), alpha=1e-3, n_gates=n_gates, random_state=0), X, y)
    assert model.blocks_[0].restricted and len(solved) >= 2
    for (before, result), (after, _) in itertools.pairwise(solved):
        carrying = np.unique(stacking._neuron_patterns(before, result.solution)[0])
        assert after.n_patterns < len(carrying)
    assert model.hidden_layer_sizes_[0] <= 5 and model.block_gaps_[0] <= 1e-6


def test_gradient_directions_are_the_steepest_for_each_pattern():
    from convexnn.deep import stacking
    from convexnn.losses import encode_targets
    from convexnn.patterns import sample_patterns
    from convexnn.program import ConvexProgram

    X, y = make_data("softmax", n=50, d=3, seed=1, n_classes=4)
    Y = encode_targets(y, "softmax")
    patterns = sample_patterns(X, 12, random_state=0)
    E = stacking.gradient_directions(X, Y, "softmax", patterns)
    assert E.shape == (4, patterns.n_patterns)
    assert np.allclose(np.linalg.norm(E, axis=0), 1.0)
    program = ConvexProgram(X, Y, patterns, "softmax", 1e-2, "relu")
    theta = program.residual(program.zero_solution())
    Xt = np.column_stack([X, np.ones(len(X))])
    trials = np.random.default_rng(0).standard_normal((4, 200))
    trials /= np.linalg.norm(trials, axis=0)
    for k in range(patterns.n_patterns):
        G = Xt.T @ (patterns.masks[:, k, None] * theta)  # the rate's matrix, sample by sample
        best = np.linalg.norm(G @ E[:, k])
        assert best == pytest.approx(np.linalg.norm(G, 2), rel=1e-10)
        assert np.all(np.linalg.norm(G @ trials, axis=0) <= best * (1 + 1e-12))


@pytest.mark.parametrize("kind", ["squared", "logistic"])
def test_a_width_of_one_is_reached_by_the_strongest_pattern_alone(kind):
    # the first solve had more neurons than patterns: shrinking in proportion to them left no
    # pattern at all, and the fit raised where the strongest pattern alone fits one neuron
    X, y = make_data(kind, n=60, d=3, seed=0 if kind == "squared" else 6)
    Model = ConvexDeepReLURegressor if kind == "squared" else ConvexDeepReLUClassifier
    model = _fit(Model((1,), alpha=3e-2, n_gates=10, random_state=0), X, y)
    assert model.hidden_layer_sizes_ == (1,) and model.blocks_[0].restricted
    assert model.block_gaps_[0] <= 1e-6


@pytest.mark.parametrize("solver", ["cvxpy", "ipm"])
def test_a_width_of_two_holds_many_classes_with_shared_neurons(monkeypatch, solver):
    from convexnn.shared import SharedNeuronProgram

    solved = _record_blocks(monkeypatch)
    X, y = make_data("softmax", n=50, d=3, seed=4, n_classes=5)
    model = _fit(ConvexDeepReLUClassifier((2, 2), alpha=1e-3, n_gates=8, solver=solver,
                                          random_state=0), X, y)
    assert all(isinstance(p, SharedNeuronProgram) for p, _ in solved)
    assert all(1 <= m <= 2 for m in model.hidden_layer_sizes_)
    assert all(g <= 1e-6 for g in model.block_gaps_)


def test_a_pattern_without_residual_gets_the_first_output_direction():
    from convexnn.deep import stacking
    from convexnn.losses import encode_targets
    from convexnn.patterns import Patterns

    X, y = make_data("softmax", n=30, d=2, seed=0)
    masks = np.zeros((30, 2), dtype=bool)
    masks[:, 1] = X[:, 0] > 0
    patterns = Patterns(np.zeros((3, 2)), masks)  # pattern 0 has no active sample
    E = stacking.gradient_directions(X, encode_targets(y, "softmax"), "softmax", patterns)
    assert np.array_equal(E[:, 0], [1.0, 0.0, 0.0])
    assert np.linalg.norm(E[:, 1]) == pytest.approx(1.0)
