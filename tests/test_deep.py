import warnings

import numpy as np
import pytest
from conftest import make_data
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from convexnn import (
    ConvexDeep1DRegressor,
    ConvexDeepReLUClassifier,
    ConvexDeepReLURegressor,
    forward,
    network_objective,
    solve,
)
from convexnn.deep import (
    DictionaryProgram,
    build_dictionary,
    deep_objective,
    dictionary_to_network,
    rebalance,
)
from convexnn.deep.dictionary import chain_features


def _series(n=14, seed=0, repeats=False):
    rng = np.random.default_rng(seed)
    x = np.round(rng.uniform(-2, 2, n), 1 if repeats else 12)
    y = np.sin(2 * x) + 0.1 * rng.standard_normal(n)
    return x[:, None], y[:, None]


def _naive_feature(x, signs, anchors):
    """The paper's recursive definition, one point at a time."""

    def g(level, t):
        if level == 0:
            return t
        prev = g(level - 1, t)
        return max(signs[level - 1] * (prev - g(level - 1, anchors[level - 1])), 0.0)

    return np.array([g(len(signs), t) for t in x])


def _cvxpy_lasso(program):
    import cvxpy as cp

    Phi = program.design_product(np.eye(program.n_patterns))
    y = program.Y[:, 0]
    z, c = cp.Variable(program.n_patterns), cp.Variable()
    objective = cp.sum_squares(Phi @ z + c - y) / (2 * program.n_samples)
    problem = cp.Problem(cp.Minimize(objective + program.alpha * cp.norm1(z)))
    problem.solve(solver="CLARABEL", tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    return problem.value


# -- the 1-D dictionary ---------------------------------------------------------------------------


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
    X, Y = _series(n=25, repeats=True)
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


# -- solving and mapping ------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_lasso_solution_is_certified_and_matches_cvxpy(depth):
    X, Y = _series(n=12, seed=depth)
    program = DictionaryProgram(X, Y, depth, "squared", 2e-3)
    result = solve(program, tol=1e-10)
    assert result.solver == "lasso_ip" and result.status == "optimal"
    assert result.gap <= 1e-10
    reference = _cvxpy_lasso(program)
    assert program.objective(result.solution) == pytest.approx(reference, rel=1e-8)
    assert program.objective(result.solution) <= reference * (1 + 1e-9)


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_mapped_deep_network_reproduces_the_lasso(depth):
    X, Y = _series(n=15, seed=10 + depth)
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


def test_coordinate_descent_solver_agrees():
    X, Y = _series(n=12, seed=3)
    program = DictionaryProgram(X, Y, 2, "squared", 2e-3)
    cd = solve(program, "lasso_cd", tol=1e-9)
    ip = solve(program, "lasso_ip", tol=1e-10)
    assert cd.status == "optimal" and cd.gap <= 1e-9
    assert program.objective(cd.solution) == pytest.approx(program.objective(ip.solution), rel=1e-8)


def test_alpha_max_gives_the_zero_network():
    X, Y = _series(n=10)
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


# -- the 1-D estimator ----------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_deep_1d_regressor_objective_equals_the_lasso_optimum(depth):
    X, Y = _series(n=16, seed=20 + depth)
    model = ConvexDeep1DRegressor(depth=depth, alpha=1e-3).fit(X, Y[:, 0])
    assert model.gap_ <= 1e-8
    assert model.objective_ == pytest.approx(model.lasso_objective_, rel=1e-10)
    assert len(model.coefs_) == depth and model.n_paths_ == model.coefs_[0].shape[1]
    mlp = model.to_mlp()
    assert mlp.hidden_layer_sizes == (model.n_paths_,) * (depth - 1)
    X_new = np.linspace(-3, 3, 50)[:, None]
    assert np.array_equal(mlp.predict(X_new), model.predict(X_new))


def test_deep_1d_sub_dictionary_is_an_upper_bound():
    X, Y = _series(n=30, seed=5)
    full = ConvexDeep1DRegressor(depth=3, alpha=1e-3).fit(X, Y[:, 0])
    sub = ConvexDeep1DRegressor(depth=3, alpha=1e-3, n_breakpoints=8).fit(X, Y[:, 0])
    assert sub.exact_dictionary_ is False and full.exact_dictionary_ is True
    assert sub.n_dictionary_ < full.n_dictionary_
    assert sub.objective_ >= full.objective_ * (1 - 1e-8)


def test_deep_1d_regressor_rejects_bad_input():
    X, y = make_data("squared", n=20, d=3)
    with pytest.raises(
        ValueError, match="takes one-dimensional inputs \\(n_samples, 1\\); got X with 3"
    ):
        ConvexDeep1DRegressor().fit(X, y)
    with pytest.raises(ValueError, match="depth must be one of \\(2, 3, 4\\)"):
        ConvexDeep1DRegressor(depth=5).fit(X[:, :1], y)
    with pytest.raises(ValueError, match="depth"):
        ConvexDeep1DRegressor(depth=0).fit(X[:, :1], y)
    with pytest.raises(ValueError, match="one-dimensional inputs"):
        DictionaryProgram(X, y[:, None], 3, "squared", 1e-3)


# -- layer-wise stacking --------------------------------------------------------------------------


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


@pytest.mark.parametrize("sizes", [(), (4, 0), (3, -1), 0, (2.5,)])
def test_stacking_rejects_bad_hidden_layer_sizes(sizes):
    X, y = make_data("squared", n=20, d=2)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        ConvexDeepReLURegressor(sizes).fit(X, y)


@pytest.mark.slow
@pytest.mark.parametrize("depth, n_breakpoints", [(3, None), (4, 25)])
def test_deep_1d_on_the_ecg_series(shared_data, depth, n_breakpoints):
    series = np.load(shared_data / "series" / "ecg_mitbih208.npz")["ecg_mv"][:401]
    series = (series - series.mean()) / series.std()
    X, y = series[:-1, None], series[1:]
    model = ConvexDeep1DRegressor(depth=depth, alpha=1e-3, n_breakpoints=n_breakpoints).fit(X, y)
    assert model.gap_ <= 1e-8
    assert model.objective_ == pytest.approx(model.lasso_objective_, rel=1e-10)
    assert np.array_equal(model.to_mlp().predict(X), model.predict(X))


# scikit-learn's checks fit on data of several features; the 1-D estimator refuses them by design
# (a clear ValueError), so those checks are expected to fail and every other one must pass
_ONE_DIMENSIONAL_ONLY = "ConvexDeep1DRegressor takes one-dimensional inputs (n_samples, 1)"
_MULTI_FEATURE_CHECKS = (
    "check_dict_unchanged", "check_dont_overwrite_parameters", "check_dtype_object",
    "check_estimators_dtypes", "check_estimators_fit_returns_self", "check_estimators_nan_inf",
    "check_estimators_overwrite_params", "check_estimators_pickle",
    "check_f_contiguous_array_estimator", "check_fit2d_predict1d", "check_fit_check_is_fitted",
    "check_fit_idempotent", "check_fit_score_takes_y", "check_methods_sample_order_invariance",
    "check_methods_subset_invariance", "check_n_features_in", "check_n_features_in_after_fitting",
    "check_non_transformer_estimators_n_iter", "check_pipeline_consistency",
    "check_positive_only_tag_during_fit", "check_readonly_memmap_input",
    "check_regressor_data_not_an_array", "check_regressors_int",
    "check_regressors_no_decision_function", "check_regressors_train", "check_supervised_y_2d",
)


def _expected_failures(estimator):
    if isinstance(estimator, ConvexDeep1DRegressor):
        return dict.fromkeys(_MULTI_FEATURE_CHECKS, _ONE_DIMENSIONAL_ONLY)
    return {}


@parametrize_with_checks(
    [
        # widths of at least twice the number of outputs the checks use (one pattern carries up
        # to 2K neurons)
        ConvexDeepReLURegressor(hidden_layer_sizes=(12, 12), n_gates=6, random_state=0),
        ConvexDeepReLUClassifier(hidden_layer_sizes=(10, 10), n_gates=5, random_state=0),
        ConvexDeep1DRegressor(),
    ],
    expected_failed_checks=_expected_failures,
)
def test_deep_estimators_pass_sklearn_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


@pytest.mark.parametrize("Estimator", [ConvexDeepReLURegressor, ConvexDeep1DRegressor])
def test_deep_estimators_report_what_the_two_layer_ones_do(Estimator):
    X, y = make_data("squared", n=40, d=1 if Estimator is ConvexDeep1DRegressor else 3)
    params = {} if Estimator is ConvexDeep1DRegressor else dict(hidden_layer_sizes=(6, 6),
                                                                n_gates=10, random_state=0)
    model = Estimator(**params).fit(X, y)
    for name in ("coefs_", "intercepts_", "objective_", "gap_", "status_", "solver_", "n_iter_",
                 "fit_time_"):
        assert hasattr(model, name), name
    assert model.n_iter_ >= 1 and model.status_ in ("optimal", "max_iter", "stalled", "inaccurate")
