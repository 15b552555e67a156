import pickle
import warnings

import numpy as np
import pytest
from conftest import ESTIMATOR_CASES as CASES
from conftest import make_data, make_program
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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



@pytest.mark.parametrize("Estimator,kind", CASES)
def test_a_fit_with_no_neurons_warns_that_it_predicts_a_constant(Estimator, kind):
    """Regression: on features of scale 1e-6 the default alpha is above alpha_max, and the fit
    (the certified zero network, a constant predictor: R² 0 on make_regression) said nothing.
    It now warns, naming alpha_max and the remedies; a fit with neurons does not."""
    X, y = make_data(kind, n=40, d=2)
    with pytest.warns(UserWarning, match=r"no neurons \(alpha=0.01 is at or above alpha_max="):
        zero = Estimator(**FAST).fit(X * 1e-6, y)
    assert zero.n_neurons_ == 0 and zero.status_ == "optimal"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = Estimator(**FAST).fit(X, y)
    assert model.n_neurons_ > 0
    assert not [w for w in caught if "no neurons" in str(w.message)]


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


def test_estimator_warns_with_the_gap_when_max_iter_is_hit():
    program = make_program("squared", "gated", n=60, d=3)
    with pytest.warns(ConvergenceWarning, match=r"relative duality gap [0-9.e+-]+ \(tol=1e-10"):
        ConvexReLURegressor(
            formulation="gated", solver="fista", tol=1e-10, max_iter=5, n_gates=20, random_state=0
        ).fit(program.X, program.Y.ravel())


def test_warm_start_estimator_reuses_the_solution():
    program = make_program("squared", "gated", n=60, d=3)
    X, y = program.X, program.Y.ravel()
    model = ConvexReLURegressor(
        alpha=1e-2, formulation="gated", solver="fista", warm_start=True, n_gates=20, random_state=0
    )
    first = model.fit(X, y).n_iter_
    model.set_params(alpha=0.9e-2)
    second = model.fit(X, y)
    assert second.gap_ <= second.tol
    # refit at the same alpha starts at the optimum up to the tolerance: a few checks at most
    assert model.fit(X, y).n_iter_ <= first / 10


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("Estimator,kind", [CASES[0], CASES[2]])
def test_default_estimator_is_never_worse_than_sklearns_lbfgs_mlp(Estimator, kind, seed):
    # the defaults (sampler="mlp", n_gates=100, mlp_max_iter=None: 500 iterations for the
    # classifier, 200 for the regressor) against scikit-learn's MLP of the same width, trained by
    # L-BFGS on the same objective with the same budget and with its own default one (200): with
    # one output the first is a feasible point of the program the default fit certifies optimal,
    # and L-BFGS does not go up with more iterations
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    from convexnn import network_objective

    X, y = make_data(kind, n=80, d=4, seed=seed)
    alpha = 1e-3
    MLP = MLPRegressor if kind == "squared" else MLPClassifier
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        budgets = sorted({Estimator._MLP_MAX_ITER, 200})
        mlps = [MLP(hidden_layer_sizes=(100,), alpha=alpha * len(X), solver="lbfgs",
                    random_state=seed, max_iter=budget).fit(X, y) for budget in budgets]
    model = Estimator(alpha, random_state=seed).fit(X, y)
    assert model.status_ == "optimal" and model.gap_ <= model.tol
    for mlp in mlps:
        J_mlp = network_objective(mlp.coefs_, mlp.intercepts_, X, y, alpha, kind)
        assert model.objective_ <= J_mlp * (1 + 1e-6)


@pytest.mark.parametrize("seed", [35, 44, 48])
def test_default_regressor_is_never_worse_than_sklearns_lbfgs_mlp_on_features_off_the_origin(seed):
    """Regression: ``make_friedman1`` (features in [0, 1], their mean 1.7 spreads from the
    origin). The sampler's MLP was trained on the centred features only, and the certified
    optimum over its patterns ended above scikit-learn's L-BFGS MLP of the same seed on the
    features themselves, by 10.8 %, 1.9 % and 0.3 % (seeds 35, 44, 48 of the friedman family of
    ``benchmarks/random_problems.py``). The patterns of both MLPs now make the program."""
    from sklearn.datasets import make_friedman1
    from sklearn.neural_network import MLPRegressor

    from convexnn import network_objective

    n = 400 if seed == 44 else 60
    X, y = make_friedman1(n, n_features=5, noise=1.0, random_state=seed)
    model = ConvexReLURegressor(random_state=seed).fit(X, y)
    assert model.status_ == "optimal" and model.gap_ <= model.tol
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPRegressor(hidden_layer_sizes=(100,), solver="lbfgs", alpha=model.alpha * n,
                           random_state=seed).fit(X, y)
    J_mlp = network_objective(mlp.coefs_, mlp.intercepts_, X, y, model.alpha, "squared")
    assert model.objective_ <= J_mlp * (1 + 1e-6)


@pytest.mark.parametrize("seed", [0, 6])
def test_default_classifier_certifies_raw_features_of_scales_1e_minus3_to_1e3(seed):
    """Regression: raw features of scales 1e-3, 1, 1e3, 1, 1, 1e2 (500 samples), labels from the
    smallest and the largest. At alpha 1e-3 the large features make the program one of a small
    effective alpha: the Woodbury form crawls with short steps for about fifty Newton
    iterations, then loses its precision, and its repeat in the primal form crawls again. With
    100 iterations for both forms together every one of seeds 0-11 stopped short of tol
    (certified gaps 1e-4 to 0.84, seed 4 in CVXPY's second opinion, uncertified; seed 6's J 1 %
    above the optimum); with a budget of 100 for each form each certifies in 108-156 iterations
    in all (3-5 s)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((500, 6)) * np.array([1e-3, 1, 1e3, 1, 1, 1e2])
    y = (X[:, 0] * 1e3 + X[:, 2] / 1e3 > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = ConvexReLUClassifier(random_state=seed).fit(X, y)
    assert model.status_ == "optimal" and model.gap_ <= model.tol and model.solver_ == "ipm"


@pytest.mark.parametrize("seed", range(6))
def test_default_classifier_certifies_confident_classes_at_a_tiny_alpha(seed):
    """Regression (seed 0): nine samples in three well separated classes, alpha 4e-8 (J 5e-7).
    The interior point converged, but the softmax intercept's solve stopped on an absolute
    tolerance that left ``1ᵀθ`` at 1e-5 of the residual's tiny entries, and the certificate's
    intercept term held the gap at 4.6e-6: the fit stalled with a warning after CVXPY's second
    opinion ended inaccurate (2.9 s). It now certifies in the interior point (0.4 s)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((9, 3))
    y = np.arange(9) % 3
    X[:, 0] += 6 * y
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = ConvexReLUClassifier(alpha=4e-8, random_state=seed).fit(X, y)
    assert model.status_ == "optimal" and model.gap_ <= model.tol


def test_default_regressor_certifies_in_the_interior_point_when_its_last_iterate_loses_precision():
    """Regression: raw features of scales 1e-3, 1e3, 1, 1e2, 1e-2 (400 samples, seed 3). The
    Woodbury form loses its precision after about 55 Newton iterations and the solve is repeated
    in the primal form, which takes about 60 more: within the 100 iterations of both forms
    together that repeat stopped short. With its own budget, its late iterates' dual residuals
    were at rounding level (1e-12) until the last step raised them to 3e-8; kept by least dual
    residual alone, the three certified were earlier ones, short of tol, the solve ended
    stalled at a gap of 4.6e-5 and CVXPY's second opinion solved the program again. The last
    late iterate before that step certifies."""
    rng = np.random.default_rng(3)
    Z = rng.standard_normal((400, 5))
    X = Z * np.array([1e-3, 1e3, 1, 1e2, 1e-2])
    y = Z[:, 0] + np.abs(Z[:, 1]) + 0.1 * rng.standard_normal(400)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = ConvexReLURegressor(random_state=3).fit(X, y)
    assert model.status_ == "optimal" and model.gap_ <= model.tol and model.solver_ == "ipm"


def test_a_default_fit_that_breaks_down_keeps_its_least_objective_and_best_dual_bound():
    """Regression: raw-scales-regression 106 of ``benchmarks/random_problems.py``, as drawn there
    (``make_friedman1``, 400 samples of 30 features, each times 10^-3 to 10^3 and offset by 1 to
    100). The Woodbury form loses its precision at a complementarity of 1e-4, the iterates after
    it certify gaps near 1, and the fit returned one of them: J = 5.57, 18 times the 0.3093 an
    iterate before the breakdown had reached (no solver certifies this program; the fit warns).
    The feasible iterate of least objective is now among the points the solve chooses from. Its
    certified gap was 0.26 (the dual point of that iterate); the iterates before the breakdown
    bound the optimum far better, and the first of each decade of complementarity is certified
    too: 4.6e-3."""
    from sklearn.datasets import make_friedman1

    seed = 106
    rng = np.random.default_rng(seed)
    n, d = int(rng.choice((60, 150, 400, 900))), int(rng.choice((2, 4, 8, 16, 30)))
    X, y = make_friedman1(n, n_features=d, noise=0.5, random_state=seed)
    X = X * 10.0 ** rng.integers(-3, 4, size=d) + 10.0 ** rng.integers(0, 3, size=d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = ConvexReLURegressor(random_state=seed).fit(X, y)
    # the least objective of any solve of this program seen (three ways of refining the
    # Woodbury form's directions): 0.309308
    assert model.objective_ <= 0.309308 * (1 + 1e-4)
    assert model.gap_ <= 1e-2


@pytest.mark.parametrize("kind", ["logistic", "softmax", "squared"])
def test_a_default_fit_stopped_by_its_budget_is_never_worse_than_the_mlp_it_started_from(kind):
    """The MLP that gives the default fit its patterns is a feasible point of the program: it is
    the callback's first point, and a solve stopped short of tol (two interior-point iterations,
    far from the optimum) hands back that network, warning with its certified gap, rather than a
    worse one."""
    from convexnn import network_objective
    from convexnn.losses import encode_targets
    from convexnn.patterns.mlp import fit_mlp

    X, y = make_data(kind, n=90, d=4, seed=3)
    alpha = 1e-3
    Estimator = ConvexReLURegressor if kind == "squared" else ConvexReLUClassifier
    seen = []
    with pytest.warns(ConvergenceWarning, match="certified relative duality gap"):
        model = Estimator(alpha, max_iter=2, random_state=0).fit(
            X, y, callback=lambda program, solution: seen.append(program.objective(solution))
        )
    Y = encode_targets(y, kind, n_outputs=3 if kind == "softmax" else None)
    mlp = fit_mlp(X, Y if Y.ndim == 2 else Y[:, None], kind, alpha, 100, 0,
                  max_iter=model._mlp_budget())
    J_mlp = network_objective(mlp.coefs_, mlp.intercepts_, X, y, alpha, kind)
    assert model.status_ == "max_iter"
    assert seen[0] <= J_mlp * (1 + 1e-12) and seen[0] < max(seen)
    assert model.objective_ <= J_mlp * (1 + 1e-9)
    assert model.objective_ == pytest.approx(seen[0], rel=1e-9)


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


@pytest.mark.parametrize("Estimator,kind,default", [(ConvexReLURegressor, "squared", 200),
                                                    (ConvexReLUClassifier, "logistic", 500)])
def test_mlp_max_iter_none_is_each_estimators_own_budget(monkeypatch, Estimator, kind, default):
    import convexnn.patterns.mlp as mlp_sampler

    budgets, fit_mlp = [], mlp_sampler.fit_mlp

    def recorded(*args, **kwargs):
        budgets.append(kwargs["max_iter"])
        return fit_mlp(*args, **kwargs)

    monkeypatch.setattr(mlp_sampler, "fit_mlp", recorded)
    X, y = make_data(kind, n=30, d=2)
    Estimator(n_gates=4, random_state=0).fit(X, y)
    Estimator(n_gates=4, random_state=0, mlp_max_iter=7).fit(X, y)
    assert budgets == [default, 7]
    assert Estimator().get_params()["mlp_max_iter"] is None


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


def test_default_classifier_warns_up_front_when_its_shared_program_is_slow(monkeypatch):
    """A shared program whose Newton iterations cost ``SLOW_NEWTON_FLOPS`` or more (a
    standardised ``make_classification(3000, 200, n_classes=5)``: 22 minutes on one core) warns
    before the wait, with the faster alternative; 1,500 of those samples (5 minutes) and
    digits' training split do not."""
    import warnings

    from convexnn import estimators
    from convexnn.solvers.ipm import shared_newton_flops

    assert shared_newton_flops(3000, 200, 100, 5) >= estimators.SLOW_NEWTON_FLOPS
    assert shared_newton_flops(1500, 200, 100, 5) < estimators.SLOW_NEWTON_FLOPS
    assert shared_newton_flops(1347, 64, 100, 10) < estimators.SLOW_NEWTON_FLOPS
    rng = np.random.default_rng(0)
    X = rng.standard_normal((150, 4))
    y = np.digitize(X[:, 0] + X[:, 1], [-0.5, 0.5])

    def fit():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ConvexReLUClassifier(n_gates=8, max_iter=1, random_state=0).fit(X, y)
        return [str(w.message) for w in caught if "Newton iteration" in str(w.message)]

    assert fit() == []
    monkeypatch.setattr(estimators, "SLOW_NEWTON_FLOPS", 0.0)
    (message,) = fit()
    assert "3 classes on 150 samples of 4 features" in message
    assert "formulation='gated'" in message


# --------------------------------------------------------------------------------------------------
# Properties over random problems (hypothesis), listed in docs/reliability.md
# --------------------------------------------------------------------------------------------------


@st.composite
def problems(draw):
    """A small random problem: shape, uneven feature scales, seed, loss, formulation, alpha."""
    n = draw(st.integers(5, 30))
    d = draw(st.integers(1, 4))
    kind = draw(st.sampled_from(["squared", "multi", "logistic", "softmax"]))
    log_scales = draw(st.lists(st.floats(-3, 3), min_size=d, max_size=d))
    seed = draw(st.integers(0, 2**16))
    X, y = make_data(kind, n=n, d=d, scales=10.0 ** np.array(log_scales), seed=seed)
    if kind in ("logistic", "softmax") and np.unique(y).size < 2:
        y[0] = 1 - y[0]
    Estimator = ConvexReLURegressor if kind in ("squared", "multi") else ConvexReLUClassifier
    params = dict(
        alpha=10.0 ** draw(st.floats(-4, -1)),
        n_gates=draw(st.integers(1, 15)),
        formulation=draw(st.sampled_from(["relu", "gated"])),
        random_state=draw(st.integers(0, 2**16)),
    )
    return Estimator, params, X, y


# derandomised: the suite must give the same verdict on every CI run; rare failing inputs found by
# wider random searches are recorded as issues rather than left to fail CI by chance
PROPERTY_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def _fit(Estimator, params, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return Estimator(**params).fit(X, y)


@PROPERTY_SETTINGS
@given(problems())
def test_mapped_network_gap_predictions_and_pickling(problem):
    """The mapped network's objective equals the convex objective (:ref:`maths-mapping`), the certified gap
    is non-negative (weak duality; up to rounding and the constraint tolerance), predictions are
    finite, and a pickled model predicts exactly as the original."""
    Estimator, params, X, y = problem
    model = _fit(Estimator, params, X, y)
    assert model.objective_ == pytest.approx(model.convex_objective_, rel=1e-8, abs=1e-14)
    # weak duality holds for feasible points: allow rounding, and the exact ReLU program's
    # constraint violation, which the interior-point solver leaves at its tolerance (~1e-10)
    assert model.gap_ >= -1e-12 - model.constraint_violation_
    prediction = model.predict(X)
    assert np.all(np.isfinite(model._forward(X)))
    again = pickle.loads(pickle.dumps(model))
    assert np.array_equal(again.predict(X), prediction)
    assert again.objective_ == model.objective_


@PROPERTY_SETTINGS
@given(problems())
def test_same_random_state_gives_the_same_model(problem):
    Estimator, params, X, y = problem
    first, second = _fit(Estimator, params, X, y), _fit(Estimator, params, X, y)
    assert len(first.coefs_) == len(second.coefs_)
    for a, b in zip(
        first.coefs_ + first.intercepts_, second.coefs_ + second.intercepts_, strict=True
    ):
        assert np.array_equal(a, b)
    assert first.objective_ == second.objective_
    assert np.array_equal(first.predict(X), second.predict(X))


@pytest.mark.parametrize("Estimator", [ConvexReLUClassifier, ConvexReLURegressor])
@pytest.mark.parametrize("offset", [1e3, 1e5])
def test_default_fits_on_features_far_from_the_origin(Estimator, offset):
    """Features offset from the origin (years, coordinates, raw measurements) make the same
    program: the hidden biases carry the offset and are not penalised. The MLP that gives the
    default fit its patterns was trained on the raw features, where scikit-learn's initial
    hyperplanes all missed the data: with XOR labels on features offset by 1e3 the default
    classifier's training accuracy was 0.52 (J that of the zero network), and the regressor's R²
    0.03. It is trained on centred features now, and the fit matches the one near the origin."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    if Estimator is ConvexReLUClassifier:
        y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(int)
    else:
        y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2
    shift = offset * np.array([1.0, -0.3, 0.05])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        near = Estimator(random_state=0).fit(X, y)
        far = Estimator(random_state=0).fit(X + shift, y)
    assert far.score(X + shift, y) >= 0.95
    assert far.objective_ == pytest.approx(near.objective_, rel=1e-3)
    assert far.gap_ <= 1e-6


@pytest.mark.parametrize("offset", [1e3, -1e6])
@pytest.mark.parametrize("outputs", [1, 2])
def test_default_regressor_fits_targets_far_from_the_origin(offset, outputs):
    """Targets offset from the origin (prices, temperatures in kelvin) make the same program:
    the intercept carries the offset. The MLP that gives the default fit its patterns was
    trained on the raw targets, starting from outputs near zero: on y + 1e3 the certified
    optimum over its patterns had 9 neurons where the fit on y has 46, and twice its J (1e6: six
    times). It is trained on centred targets now."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 5))
    Y = np.column_stack([np.sin(X[:, 0]) + X[:, 1] * X[:, 2], np.abs(X[:, 3]) - X[:, 4]])
    Y = Y[:, :outputs] if outputs > 1 else Y[:, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        near = ConvexReLURegressor(random_state=0).fit(X, Y)
        far = ConvexReLURegressor(random_state=0).fit(X, Y + offset)
    assert far.objective_ <= near.objective_ * (1 + 1e-2)
    assert far.score(X, Y + offset) >= near.score(X, Y) - 1e-2
    assert far.gap_ <= 1e-6


@pytest.mark.parametrize("scale", [0.1, 0.01])
def test_default_regressor_fits_targets_of_small_scale(scale):
    """Targets times ``s`` with ``alpha`` times ``s`` make the program of the unscaled ones, its
    objective times ``s²`` (a ReLU network is 2-homogeneous in its two layers). scikit-learn's
    L-BFGS stops at an absolute gradient, which small targets reach at once: the MLP that gives
    the default fit its patterns stopped early, and the certified optimum over them had a J
    15 % above the unscaled fit's at s = 0.1 and three times it at 0.03. The MLP is trained on
    targets scaled to unit spread now."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((400, 5))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        unit = ConvexReLURegressor(1e-3, random_state=0).fit(X, y)
        small = ConvexReLURegressor(1e-3 * scale, random_state=0).fit(X, scale * y)
    assert small.objective_ <= scale**2 * unit.objective_ * (1 + 1e-2)
    assert small.score(X, scale * y) >= unit.score(X, y) - 1e-2
