"""convexnn.deep.estimators: the deep estimators' parameters, attributes and scikit-learn checks."""

import warnings

import numpy as np
import pytest
from conftest import make_data, make_series
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from convexnn import ConvexDeep1DRegressor, ConvexDeepReLUClassifier, ConvexDeepReLURegressor
from convexnn.deep import DictionaryProgram


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_deep_1d_regressor_objective_equals_the_lasso_optimum(depth):
    X, Y = make_series(n=16, seed=20 + depth)
    model = ConvexDeep1DRegressor(depth=depth, alpha=1e-3).fit(X, Y[:, 0])
    assert model.gap_ <= 1e-8
    assert model.objective_ == pytest.approx(model.lasso_objective_, rel=1e-10)
    assert len(model.coefs_) == depth and model.n_paths_ == model.coefs_[0].shape[1]
    mlp = model.to_mlp()
    assert mlp.hidden_layer_sizes == (model.n_paths_,) * (depth - 1)
    X_new = np.linspace(-3, 3, 50)[:, None]
    assert np.array_equal(mlp.predict(X_new), model.predict(X_new))


def test_deep_1d_sub_dictionary_is_an_upper_bound():
    X, Y = make_series(n=30, seed=5)
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


@pytest.mark.parametrize("depth", [2, 3])
def test_deep_1d_regressor_on_raw_scales_warns_instead_of_crashing(depth):
    """Regression: inputs in [0, 1000] and targets of spread 1e5. The working-set interior
    point stalls short of tol = 1e-8 (gaps 4e-7 and 7e-7), and ``solve`` asked CVXPY for a
    second opinion through a size rule that reads ``n_features``, which the dictionary's
    program does not have: an AttributeError. A program with solvers of its own gets no second
    opinion; the fit warns once with the gap reached."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1000, (50, 1))
    y = 1e4 * np.sqrt(x[:, 0]) + 100 * rng.standard_normal(50)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = ConvexDeep1DRegressor(depth=depth).fit(x, y)
    named = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(named) == (model.gap_ > model.tol)
    if named:
        assert "relative duality gap" in str(named[0].message)
    assert model.gap_ <= 1e-5
    assert model.objective_ < 0.5 * np.var(y)  # below the best constant model
    assert model.score(x, y) > 0.99


def test_deep_1d_regressor_refuses_a_dictionary_beyond_its_memory_budget():
    """Regression: ``depth=4`` on 400 distinct inputs builds about 10⁹ raw chains, and the fit
    was killed by the operating system after exhausting 24 GB; it now raises a MemoryError that
    states the estimate and names ``n_breakpoints``, before building anything."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, (400, 1))
    y = np.sin(2 * x[:, 0])
    with pytest.raises(MemoryError, match="depth=4.*400 distinct inputs.*n_breakpoints"):
        ConvexDeep1DRegressor(depth=4).fit(x, y)  # max_memory="auto"
    with pytest.raises(MemoryError, match=r"needs about 3\.29 GiB.*max_memory=1e\+09"):
        ConvexDeep1DRegressor(depth=3, max_memory=1e9).fit(x, y)
    model = ConvexDeep1DRegressor(depth=3, n_breakpoints=20, max_memory=1e9).fit(x, y)
    assert model.status_ == "optimal" and not model.exact_dictionary_


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


@pytest.mark.parametrize("Estimator, kind", [
    (ConvexDeepReLUClassifier, "softmax"), (ConvexDeepReLUClassifier, "logistic"),
    (ConvexDeepReLURegressor, "squared"), (ConvexDeep1DRegressor, "squared"),
])
def test_a_deep_fit_that_stops_early_warns_once(Estimator, kind, monkeypatch):
    # every block's solve of a stack warned on its own, then the fit: seven ConvergenceWarnings
    # for two blocks (three solves each). The polish of the interior point's solves
    # (ipm._polished) certifies the softmax stack after 3 Newton iterations (2.5e-9), and since
    # the softmax intercept behind the certificate is solved to rounding, after 1 or 2 as well
    # (9.5e-9, 7.6e-10): it is switched off, so that 2 iterations stop the stack early.
    from convexnn.solvers import ipm

    monkeypatch.setattr(ipm, "_polished", lambda *args: None)
    X, y = make_data(kind, n=60, d=1 if Estimator is ConvexDeep1DRegressor else 3, seed=2)
    params = dict(max_iter=1 if Estimator is ConvexDeep1DRegressor else 2)
    if Estimator is not ConvexDeep1DRegressor:
        params.update(hidden_layer_sizes=(6, 6), n_gates=10, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = Estimator(**params).fit(X, y)
    stopped = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(stopped) == 1, [str(w.message) for w in stopped]
    assert f"{model.gap_:.3g}" in str(stopped[0].message)


@pytest.mark.parametrize(
    "Estimator,kind",
    [(ConvexDeepReLUClassifier, "multiclass"), (ConvexDeepReLURegressor, "squared")],
)
def test_a_stack_beyond_its_memory_budget_is_refused_with_the_estimate(Estimator, kind):
    """Every block's sampling and solve are checked against ``max_memory`` as the two-layer
    estimators' are; the message names the layer and no remedy the stack lacks."""
    from convexnn._memory import estimate_sampling_memory

    X, y = make_data(kind, n=60, d=3, seed=0)
    with pytest.raises(MemoryError, match=r"hidden layer 1: sampling n_gates=8 gates on 60"):
        Estimator((4, 4), n_gates=8, max_memory=10.0, random_state=0).fit(X, y)
    budget = estimate_sampling_memory(60, 3, 8) + 1.0  # the sampling fits, the program does not
    with pytest.raises(MemoryError, match=r"hidden layer 1: the 'relu' program on 60 samples") as e:
        Estimator((4, 4), n_gates=8, max_memory=budget, random_state=0).fit(X, y)
    assert "gated" not in str(e.value)
    Estimator((4, 4), n_gates=8, max_memory=None, random_state=0).fit(X, y)  # no check
