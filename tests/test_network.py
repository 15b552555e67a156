import warnings

import numpy as np
import pytest
from conftest import LOSS_CASES, make_data, make_program
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from convexnn import forward, network_objective, solution_to_network, solve


@pytest.mark.parametrize("scales", [None, [1e-2, 1e2, 1.0]], ids=["standardised", "raw"])
@pytest.mark.parametrize("formulation", ["relu", "gated"])
@pytest.mark.parametrize("kind", [k for k, _ in LOSS_CASES])
def test_mapped_network_objective_equals_convex_objective(kind, formulation, scales):
    program = make_program(kind, formulation, n=40, d=3, n_gates=30, alpha=3e-3, scales=scales)
    if scales is None:
        assert np.allclose(program.X.std(0), 1, atol=0.3)  # make_data gives standardised-ish data
    sol = solve(program, "cvxpy").solution
    coefs, intercepts, gates = solution_to_network(program, sol)
    assert coefs[0].shape[1] > 0
    assert (gates is None) == (formulation == "relu")
    J = network_objective(coefs, intercepts, program.X, program.Y, program.alpha, program.loss, gates)
    assert J == pytest.approx(program.objective(sol), rel=1e-8)
    F = program.predict(sol)
    # equal to the solver's feasibility: the cone constraints hold to ~1e-10 relative
    assert np.abs(forward(coefs, intercepts, program.X, gates) - F).max() <= 1e-8 * np.abs(F).max()


def test_relu_block_without_weights_maps_to_its_constant_relu_on_any_pattern():
    """A block ``u = (0, b)`` acts as ``relu(b)`` on every sample, whatever its pattern: the
    network folds that constant into the output intercept, as ``program.network_objective``
    scores it. Inside its cone such a block is ``b ≥ 0`` on the all-ones pattern; off it, on
    other patterns, the network once dropped it (the fuzz regression
    ``al-budget-stop-drops-weightless-blocks-off-the-all-ones-pattern``: the fitted network's J
    3.5e-8 from the convex objective), and on the all-ones pattern kept a negative ``b``."""
    program = make_program("squared", "relu", n=10, d=2, n_gates=40)
    masks = program.patterns.masks
    all_ones = np.flatnonzero(masks.all(axis=0))
    mixed = np.flatnonzero(masks.any(axis=0) & ~masks.all(axis=0))
    assert all_ones.size == 1 and mixed.size >= 3
    inside = program.zero_solution()
    inside.U[0, -1, all_ones[0]] = 2.5
    coefs, intercepts, _ = solution_to_network(program, inside)
    assert coefs[0].shape[1] == 0
    assert intercepts[1][0] == pytest.approx(inside.intercept[0] + 2.5)
    J = network_objective(coefs, intercepts, program.X, program.Y, program.alpha, "squared")
    assert J == pytest.approx(program.objective(inside), rel=1e-12)

    outside = program.zero_solution()
    outside.V[0, -1, all_ones[0]] = -0.3  # relu(-0.3) = 0
    outside.U[0, -1, mixed[0]] = 0.7
    outside.V[0, -1, mixed[1]] = 0.2
    outside.U[0, -1, mixed[2]] = -0.4
    coefs, intercepts, _ = solution_to_network(program, outside)
    assert coefs[0].shape[1] == 0
    assert intercepts[1][0] == pytest.approx(outside.intercept[0] + 0.7 - 0.2)
    J = network_objective(coefs, intercepts, program.X, program.Y, program.alpha, "squared")
    assert J == pytest.approx(program.network_objective(outside), rel=1e-12)


def _fit_quietly(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


@pytest.mark.parametrize("kind", ["squared", "logistic", "softmax"])
def test_network_objective_equals_sklearn_full_batch_loss(kind):
    X, y = make_data(kind, n=60, d=3, seed=1)
    alpha, n = 1e-2, X.shape[0]
    model = (MLPRegressor if kind == "squared" else MLPClassifier)(
        hidden_layer_sizes=(7,), solver="lbfgs", alpha=alpha * n, max_iter=50, random_state=0
    )
    _fit_quietly(model, X, y)
    loss = {"squared": "squared", "logistic": "logistic", "softmax": "softmax"}[kind]
    J = network_objective(model.coefs_, model.intercepts_, X, y, alpha, loss)
    assert J == pytest.approx(model.loss_, rel=1e-10)


def test_network_objective_of_a_deeper_mlp():
    X, y = make_data("squared", n=50, d=3, seed=2)
    model = _fit_quietly(
        MLPRegressor(hidden_layer_sizes=(5, 4), solver="lbfgs", alpha=0.5, max_iter=30, random_state=0), X, y
    )
    J = network_objective(model.coefs_, model.intercepts_, X, y, 0.5 / 50, "squared")
    assert J == pytest.approx(model.loss_, rel=1e-10)
    assert np.allclose(forward(model.coefs_, model.intercepts_, X).ravel(), model.predict(X))


def test_network_objective_rejects_mismatched_input():
    W = [np.ones((2, 3)), np.ones((3, 1))]
    b = [np.zeros(3), np.zeros(1)]
    with pytest.raises(ValueError, match="same, non-zero length"):
        network_objective(W, b[:1], np.ones((4, 2)), np.ones(4), 0.1, "squared")
    with pytest.raises(ValueError, match="do not match"):
        network_objective(W, b, np.ones((4, 2)), np.ones((4, 2)), 0.1, "squared")
    with pytest.raises(ValueError, match="two-layer"):
        forward(W + W[1:], b + b[1:], np.ones((4, 2)), gates=np.ones((3, 3)))


@pytest.mark.parametrize("shared", [False, True], ids=["per-output", "shared"])
@pytest.mark.parametrize("kind", ["squared", "logistic", "softmax"])
def test_network_to_solution_is_the_mlp_as_a_feasible_point_of_its_patterns_program(kind, shared):
    """An MLP on its own patterns: a feasible point whose outputs are the MLP's and whose objective
    is at most the MLP's; mapped back, the same outputs. A neuron whose pattern the program lacks
    gives None."""
    from convexnn import ConvexProgram, network_to_solution
    from convexnn.losses import encode_targets
    from convexnn.patterns import gate_patterns
    from convexnn.patterns.mlp import fit_mlp, hidden_gates
    from convexnn.shared import SharedNeuronProgram, mlp_directions

    if shared and kind != "softmax":
        pytest.skip("shared neurons: several outputs")
    X, y = make_data(kind, n=70, d=3, seed=1)
    alpha = 1e-3
    Y = encode_targets(y, kind, n_outputs=3 if kind == "softmax" else None)
    if Y.ndim == 1:
        Y = Y[:, None]
    mlp = fit_mlp(X, Y, kind, alpha, 12, random_state=0, max_iter=50)
    if shared:
        program = SharedNeuronProgram(X, Y, *mlp_directions(X, mlp), kind, alpha)
    else:
        program = ConvexProgram(X, Y, gate_patterns(X, hidden_gates(mlp)), kind, alpha, "relu")
    point = network_to_solution(program, mlp.coefs_, mlp.intercepts_)
    assert program.constraint_violation(point) <= 1e-10
    F = forward(mlp.coefs_, mlp.intercepts_, X)
    assert np.abs(program.predict(point) - F).max() <= 1e-10 * np.abs(F).max()
    J_mlp = network_objective(mlp.coefs_, mlp.intercepts_, X, Y, alpha, kind)
    if kind != "softmax" or shared:  # a per-output program charges ‖a_j‖₁ for a shared neuron
        assert program.objective(point) <= J_mlp * (1 + 1e-12)
    coefs, intercepts, _ = solution_to_network(program, point)
    assert np.abs(forward(coefs, intercepts, X) - F).max() <= 1e-10 * np.abs(F).max()
    fewer = program.patterns.subset(np.arange(program.n_patterns - 1))
    if shared:
        smaller = SharedNeuronProgram(X, Y, fewer, program.directions[:, :-1], kind, alpha)
    else:
        smaller = ConvexProgram(X, Y, fewer, kind, alpha, "relu")
    assert network_to_solution(smaller, mlp.coefs_, mlp.intercepts_) is None


def test_network_to_solution_skips_a_neuron_that_fires_only_on_its_hyperplane():
    """A neuron that outputs nothing on the data (zero weights, zero bias: every sample on its
    hyperplane) is no block: the rest of the network still maps; non-finite weights give None."""
    from convexnn import ConvexProgram, network_to_solution
    from convexnn.patterns import gate_patterns

    X, y = make_data("squared", n=30, d=2, seed=4)
    coefs = [np.array([[1.0, 0.0], [0.5, 0.0]]), np.array([[0.7], [2.0]])]
    intercepts = [np.array([0.2, 0.0]), np.array([0.1])]
    program = ConvexProgram(X, y[:, None], gate_patterns(X, np.vstack([coefs[0], intercepts[0]])),
                            "squared", 1e-3, "relu")
    point = network_to_solution(program, coefs, intercepts)
    assert point is not None
    F = forward(coefs, intercepts, X)
    assert np.allclose(program.predict(point), F, rtol=0, atol=1e-12)
    coefs[1] = np.array([[np.inf], [2.0]])
    with warnings.catch_warnings():  # refused before any product makes NaNs of it
        warnings.simplefilter("error", RuntimeWarning)
        assert network_to_solution(program, coefs, intercepts) is None
