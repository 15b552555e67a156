import pickle
import warnings

import numpy as np
import pytest
from conftest import make_data
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from convexnn import ConvexProgram, ConvexReLUClassifier, ConvexReLURegressor, sample_patterns
from convexnn.losses import encode_targets

FAST = dict(n_gates=20, random_state=0)


# fewer gates for the ~50 fits of each estimator that scikit-learn's checks make
CHECKS = dict(n_gates=8, random_state=0)


@parametrize_with_checks(
    [
        ConvexReLURegressor(**CHECKS),
        ConvexReLUClassifier(**CHECKS),
        ConvexReLUClassifier(formulation="gated", **CHECKS),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


CASES = [
    (ConvexReLURegressor, "squared"),
    (ConvexReLURegressor, "multi"),
    (ConvexReLUClassifier, "logistic"),
    (ConvexReLUClassifier, "softmax"),
]


@pytest.mark.parametrize("formulation", ["relu", "gated"])
@pytest.mark.parametrize("Estimator,kind", CASES)
def test_fitted_attributes_and_objective(Estimator, kind, formulation):
    X, y = make_data(kind, n=50, d=3)
    model = Estimator(alpha=1e-2, formulation=formulation, **FAST).fit(X, y)
    assert model.objective_ == pytest.approx(model.convex_objective_, rel=1e-8)
    assert 0 <= model.gap_ <= model.tol
    assert model.status_ == "optimal"
    assert model.n_neurons_ == model.coefs_[0].shape[1] > 0
    assert hasattr(model, "gates_") == (formulation == "gated")
    assert model.predict(X).shape == np.shape(y)
    again = pickle.loads(pickle.dumps(model))
    assert np.array_equal(again.predict(X), model.predict(X))


@pytest.mark.parametrize("Estimator,kind", CASES)
def test_to_mlp_gives_the_same_predictions(Estimator, kind):
    X, y = make_data(kind, n=50, d=3)
    if kind == "softmax":
        y = np.array(["ant", "bee", "cat"])[y]  # any label type
    model = Estimator(alpha=1e-2, **FAST).fit(X, y)
    mlp = model.to_mlp()
    assert np.array_equal(mlp.predict(X), model.predict(X)) if Estimator is ConvexReLUClassifier else np.allclose(mlp.predict(X), model.predict(X), rtol=1e-12)
    if Estimator is ConvexReLUClassifier:
        assert np.allclose(mlp.predict_proba(X), model.predict_proba(X), rtol=1e-12)
    with pytest.raises(ValueError, match="formulation='relu'"):
        Estimator(alpha=1e-2, formulation="gated", **FAST).fit(X, y).to_mlp()


@pytest.mark.parametrize("formulation", ["relu", "gated"])
@pytest.mark.parametrize("Estimator,kind", CASES)
def test_alpha_max_gives_the_zero_network(Estimator, kind, formulation):
    X, y = make_data(kind, n=40, d=2)
    loss = {"squared": "squared", "multi": "squared", "logistic": "logistic", "softmax": "softmax"}[kind]
    patterns = sample_patterns(X, FAST["n_gates"], random_state=FAST["random_state"])
    amax = ConvexProgram(X, encode_targets(y, loss), patterns, loss, 1.0, formulation).alpha_max()
    # on the same (Gaussian) patterns as alpha_max was computed on
    zero = Estimator(alpha=amax, formulation=formulation, sampler="gaussian", **FAST).fit(X, y)
    assert zero.n_neurons_ == 0
    assert np.ptp(zero._forward(X), axis=0).max() == 0  # a constant predictor
    below = Estimator(alpha=0.95 * amax, formulation=formulation, sampler="gaussian", **FAST)
    below.fit(X, y)
    assert below.n_neurons_ > 0


BAD_INPUT = [
    (np.array([[1.0, np.nan], [2, 3], [3, 4]]), [1, 2, 3], "NaN"),
    (np.array([[1.0, np.inf], [2, 3], [3, 4]]), [1, 2, 3], "infinity"),
    (np.array([1.0, 2, 3]), [1, 2, 3], "Expected 2D array, got 1D array"),
    (np.ones((3, 2)), [1, 2], "inconsistent numbers of samples"),
    (np.ones((1, 2)), [1], "1 sample"),
]


@pytest.mark.parametrize("X,y,match", BAD_INPUT)
@pytest.mark.parametrize("Estimator", [ConvexReLURegressor, ConvexReLUClassifier])
def test_bad_input_raises_clear_errors(Estimator, X, y, match):
    with pytest.raises(ValueError, match=match):
        Estimator().fit(X, y)


def test_bad_parameters_and_usage():
    X, y = make_data("logistic", n=20, d=2)
    with pytest.raises(ValueError, match="at least 2 classes.*got 1 class"):
        ConvexReLUClassifier().fit(X, np.zeros(20))
    with pytest.raises(ValueError, match="'alpha' parameter .* must be a float in the range"):
        ConvexReLURegressor(alpha=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="'n_gates' parameter .* must be an int in the range"):
        ConvexReLURegressor(n_gates=0).fit(X, y)
    with pytest.raises(ValueError, match="'formulation' parameter"):
        ConvexReLURegressor(formulation="deep").fit(X, y)
    with pytest.raises(NotFittedError):
        ConvexReLURegressor().predict(X)
    model = ConvexReLUClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but ConvexReLUClassifier is expecting 2"):
        model.predict(np.ones((4, 3)))


def test_convergence_warning_names_gap_and_tol():
    X, y = make_data("squared", n=40, d=2)
    with pytest.warns(ConvergenceWarning, match=r"relative duality gap .* \(tol=1e-06"):
        ConvexReLURegressor(solver="al", max_iter=2, **FAST).fit(X, y)


def test_a_budget_stop_worse_than_the_zero_network_returns_the_zero_network():
    """Two iterations of Clarabel, then two of SCS (its fallback gets the same budget), leave a
    point worse than the zero network: the fit hands back the zero network (the best point seen)
    and warns with its gap, instead of returning that point or raising."""
    X, y = make_data("squared", n=40, d=2)
    with pytest.warns(ConvergenceWarning, match=r"relative duality gap .* \(tol=1e-06"):
        model = ConvexReLURegressor(solver="cvxpy", max_iter=2, **FAST).fit(X, y)
    assert model.n_neurons_ == 0 and model.status_ != "optimal"
    assert np.allclose(model.predict(X), np.mean(y))


@pytest.mark.parametrize("Estimator,kind", [CASES[0], CASES[2]])
def test_mlp_sampler_is_never_worse_than_its_mlp(Estimator, kind):
    # the exact ReLU program over a trained MLP's patterns contains that MLP (its weights map to a
    # feasible point), so the convex network is at least as good on the objective; single output
    # only: with several outputs the program's neurons each feed one output (:ref:`maths-programs`)
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    from convexnn import network_objective

    X, y = make_data(kind, n=60, d=3, seed=3)
    alpha, width = 1e-2, 8
    MLP = MLPRegressor if kind == "squared" else MLPClassifier
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLP(
            hidden_layer_sizes=(width,), alpha=alpha * len(X), solver="lbfgs", max_iter=2000,
            random_state=0,
        ).fit(X, y)  # fmt: skip
    J_mlp = network_objective(mlp.coefs_, mlp.intercepts_, X, y, alpha, kind)
    model = Estimator(alpha, n_gates=width, sampler="mlp", solver="cvxpy", random_state=0)
    model.fit(X, y)
    assert model.status_ == "optimal"
    assert model.n_patterns_ <= width
    assert model.objective_ <= J_mlp * (1 + 1e-7)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("Estimator,kind", [CASES[0], CASES[2]])
def test_default_estimator_is_never_worse_than_sklearns_lbfgs_mlp(Estimator, kind, seed):
    # the defaults (sampler="mlp", n_gates=100, mlp_max_iter=200) against scikit-learn's MLP of
    # the same width and budget, trained by L-BFGS on the same objective: with one output that MLP
    # is a feasible point of the program the default fit certifies optimal
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    from convexnn import network_objective

    X, y = make_data(kind, n=80, d=4, seed=seed)
    alpha = 1e-3
    MLP = MLPRegressor if kind == "squared" else MLPClassifier
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLP(hidden_layer_sizes=(100,), alpha=alpha * len(X), solver="lbfgs",
                  random_state=seed).fit(X, y)  # fmt: skip
    model = Estimator(alpha, random_state=seed).fit(X, y)
    assert model.status_ == "optimal" and model.gap_ <= model.tol
    J_mlp = network_objective(mlp.coefs_, mlp.intercepts_, X, y, alpha, kind)
    assert model.objective_ <= J_mlp * (1 + 1e-6)


def test_mlp_sampler_falls_back_to_gaussian_patterns_when_the_mlp_is_dead(monkeypatch):
    # "mlp" is the default sampler: an MLP whose neurons all died (alpha near alpha_max) must not
    # make fit fail; the patterns are then the Gaussian sampler's
    from types import SimpleNamespace

    import convexnn.patterns.mlp as mlp_sampler

    X, y = make_data("squared", n=30, d=2)
    dead = SimpleNamespace(coefs_=[np.zeros((2, 4))], intercepts_=[-np.ones(4)])
    monkeypatch.setattr(mlp_sampler, "fit_mlp", lambda *args, **kwargs: dead)
    model = ConvexReLURegressor(sampler="mlp", n_gates=4, random_state=0).fit(X, y)
    gaussian = ConvexReLURegressor(sampler="gaussian", n_gates=4, random_state=0).fit(X, y)
    assert np.array_equal(model._patterns.masks, gaussian._patterns.masks)
    assert model.objective_ == gaussian.objective_
    with pytest.raises(ValueError, match="sampler"):
        ConvexReLURegressor(sampler="mlps").fit(X, y)
    with pytest.raises(ValueError, match="mlp_max_iter"):
        ConvexReLURegressor(mlp_max_iter=0).fit(X, y)


@pytest.mark.parametrize(
    "Estimator,kind,formulation,solver,options",
    [
        (ConvexReLURegressor, "squared", "gated", "fista", {}),
        (ConvexReLUClassifier, "softmax", "gated", "fista", {}),
        (ConvexReLURegressor, "squared", "relu", "ipm", {}),
        (ConvexReLURegressor, "squared", "relu", "ipm", {"pattern_generation": "exact"}),
    ],
)
def test_fit_callback_sees_the_solver_iterates(Estimator, kind, formulation, solver, options):
    X, y = make_data(kind, n=40, d=2)
    seen = []
    model = Estimator(
        alpha=1e-2, n_gates=10, formulation=formulation, solver=solver, random_state=0, **options
    )
    model.fit(X, y, callback=lambda program, solution: seen.append((program, solution)))
    assert len(seen) > 1
    # the model is built from the last iterate reported on its program (pattern generation may
    # keep an earlier round's program when a later one does no better)
    program, last = [(p, s) for p, s in seen if p.n_patterns == model.n_patterns_][-1]
    assert program.objective(last) == pytest.approx(model.convex_objective_, rel=1e-6)
    if formulation == "gated":  # R-FISTA with restarts never increases the objective
        values = [p.objective(s) for p, s in seen]
        assert all(b <= a * (1 + 1e-12) for a, b in zip(values[:-1], values[1:], strict=True))
    if options:  # one program per generation round
        assert len({id(p) for p, _ in seen}) == model.n_generation_rounds_


def test_fit_callback_must_be_callable():
    X, y = make_data("squared", n=20, d=2)
    with pytest.raises(TypeError, match="callback must be callable"):
        ConvexReLURegressor(n_gates=4).fit(X, y, callback="print")


def test_default_classifier_warns_up_front_when_its_softmax_program_is_large():
    """More than COUPLED_MAX_ROWS coupled rows: the interior point falls back to conjugate
    gradients (minutes); the user is told before the wait, with the faster alternative."""
    import warnings

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((1300, 3)), rng.integers(0, 5, 1300)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ConvexReLUClassifier(max_iter=1, n_gates=3, sampler="gaussian", random_state=0).fit(X, y)
    assert any("formulation='gated'" in str(w.message) for w in caught)
    with warnings.catch_warnings(record=True) as caught:  # below the threshold: no such warning
        warnings.simplefilter("always")
        ConvexReLUClassifier(n_gates=3, sampler="gaussian", random_state=0).fit(X[:300], y[:300])
    assert not any("formulation='gated'" in str(w.message) for w in caught)
