"""Bad and extreme input: what the estimators do with input that is wrong, degenerate or extreme.

The cases are one list, ``CASES``: each has the input tried, the behaviour promised, and a check
that runs it. The table in ``docs/reliability.md`` is generated from that list and a test fails
when the two differ; run ``python tests/test_bad_input.py`` to rewrite the table.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import make_data
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning

from convexnn import ConvexReLUClassifier, ConvexReLURegressor
from convexnn._memory import estimate_memory

FAST = dict(n_gates=15, random_state=0)
DOC = Path(__file__).resolve().parents[1] / "docs" / "reliability.md"
TABLE_BEGIN = "% BEGIN bad-input table: generated from tests/test_bad_input.py (CASES)"
TABLE_END = "% END bad-input table"


@dataclass(frozen=True)
class Case:
    id: str
    input: str
    behaviour: str
    check: Callable[[], None]


CASES: list[Case] = []


def case(id, input, behaviour):
    """Register a bad-input case: ``input`` and ``behaviour`` are the table's cells (Markdown)."""

    def register(check):
        CASES.append(Case(id, input, behaviour, check))
        return check

    return register


def _regression(n=30, d=3, seed=0):
    return make_data("squared", n=n, d=d, seed=seed)


def _classification(n=30, d=3, seed=0):
    return make_data("logistic", n=n, d=d, seed=seed)


BOTH = (ConvexReLURegressor, ConvexReLUClassifier)


def _raises_for_both(error, match, X, y=None, **params):
    for Estimator in BOTH:
        if y is None:
            y_used = _regression()[1] if Estimator is ConvexReLURegressor else _classification()[1]
            y_used = y_used[: X.shape[0]]
        else:
            y_used = y
        with pytest.raises(error, match=match):
            Estimator(**FAST, **params).fit(X, y_used)


def _stopped_regressor_message(X, y):
    """The ``ConvergenceWarning``'s text of the default regressor on ``X``, ``y`` stopped by a
    budget of three iterations."""
    message, _ = _convergence_message(
        lambda: ConvexReLURegressor(max_iter=3, random_state=0).fit(X, y)
    )
    return message


def _convergence_message(fit):
    """The text of the one ``ConvergenceWarning`` that ``fit()`` gives (a relative duality gap
    reached above ``tol``), and what ``fit()`` returns."""
    with pytest.warns(ConvergenceWarning, match="relative duality gap") as caught:
        model = fit()
    (message,) = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    return message, model


@case("nan-in-X", "`X` contains NaN", "`ValueError`: *Input X contains NaN*")
def _():
    X, _ = _regression()
    X[3, 1] = np.nan
    _raises_for_both(ValueError, "Input X contains NaN", X)


@case("inf-in-X", "`X` contains +inf or -inf", "`ValueError`: *Input X contains infinity*")
def _():
    for value in (np.inf, -np.inf):
        X, _ = _regression()
        X[0, 0] = value
        _raises_for_both(ValueError, "Input X contains infinity", X)


@case(
    "nan-in-y",
    "`y` contains NaN or inf",
    "`ValueError`: *Input y contains NaN* (or *infinity*)",
)
def _():
    X, y = _regression()
    y[2] = np.nan
    _raises_for_both(ValueError, "Input y contains NaN", X, y)
    y[2] = np.inf
    with pytest.raises(ValueError, match="Input y contains infinity"):
        ConvexReLURegressor(**FAST).fit(X, y)


@case(
    "nan-at-predict",
    "NaN in `X` passed to `predict` of a fitted model",
    "`ValueError`: *Input X contains NaN*",
)
def _():
    X, y = _regression()
    model = ConvexReLURegressor(**FAST).fit(X, y)
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.predict(X)


@case(
    "empty",
    "`X` with 0 samples",
    "`ValueError`: *Found array with 0 sample(s) ... a minimum of 2 is required*",
)
def _():
    _raises_for_both(ValueError, r"0 sample\(s\).*minimum of 2", np.empty((0, 3)), np.empty(0))


@case("no-features", "`X` with 0 features", "`ValueError`: *Found array with 0 feature(s)*")
def _():
    _raises_for_both(ValueError, r"0 feature\(s\)", np.empty((30, 0)))


@case(
    "one-sample",
    "a single training sample",
    "`ValueError`: *Found array with 1 sample(s) ... a minimum of 2 is required*",
)
def _():
    _raises_for_both(ValueError, r"1 sample\(s\).*minimum of 2", np.ones((1, 3)), np.ones(1))


@case(
    "constant-feature",
    "one feature constant, the others not",
    "fits; the constant feature gets zero input weights (the unpenalised hidden bias does the same "
    "job at no cost: what a solver leaves on it is moved into the biases)",
)
def _():
    X, y = _regression()
    X = np.column_stack([X, np.full(len(X), 5.0)])
    model = ConvexReLURegressor(alpha=1e-2, **FAST).fit(X, y)
    W = model.coefs_[0]
    assert model.n_neurons_ > 0
    assert np.all(W[-1] == 0.0)  # moved into the biases after the solve, whatever the solver
    assert model.objective_ == pytest.approx(model.convex_objective_, rel=1e-8)


@case(
    "all-features-constant",
    "every feature constant",
    "fits the constant model: no neurons, predictions equal to the mean of `y` (the majority "
    "class for a classifier)",
)
def _():
    X = np.full((30, 2), 3.0)
    y = _regression()[1]
    model = ConvexReLURegressor(**FAST).fit(X, y)
    assert model.n_neurons_ == 0
    assert np.allclose(model.predict(X), y.mean(), rtol=1e-10, atol=1e-12)
    yc = _classification()[1]
    yc[:20] = 1
    clf = ConvexReLUClassifier(**FAST).fit(X, yc)
    assert clf.n_neurons_ == 0 and np.all(clf.predict(X) == 1)


@case(
    "duplicate-rows",
    "every sample twice",
    "fits the same network as the data once (the mean loss is unchanged): the same objective and "
    "predictions, to solver precision",
)
def _():
    X, y = _regression()
    once = ConvexReLURegressor(alpha=1e-2, **FAST).fit(X, y)
    twice = ConvexReLURegressor(alpha=1e-2, **FAST).fit(np.vstack([X, X]), np.concatenate([y, y]))
    assert twice.objective_ == pytest.approx(once.objective_, rel=1e-6)
    assert np.allclose(twice.predict(X), once.predict(X), atol=1e-4)


@case(
    "constant-target",
    "regression target constant",
    "fits the constant model exactly: no neurons, predictions equal to the target, gap 0 "
    "(`alpha_max` is 0)",
)
def _():
    X, _ = _regression()
    model = ConvexReLURegressor(**FAST).fit(X, np.full(len(X), 2.5))
    assert model.n_neurons_ == 0 and model.gap_ == 0.0
    assert np.array_equal(model.predict(X), np.full(len(X), 2.5))


@case(
    "one-class",
    "classification labels all equal",
    "`ValueError`: *needs samples of at least 2 classes in the data; got 1 class*",
)
def _():
    X, _ = _classification()
    with pytest.raises(ValueError, match="at least 2 classes.*got 1 class"):
        ConvexReLUClassifier(**FAST).fit(X, np.zeros(len(X)))


@case(
    "huge-feature-scale",
    "features of scale 1e8, not standardised",
    "fits, with finite predictions and `objective_ == convex_objective_`; the weights of order "
    "1e-8 make the penalty negligible, so the fit is nearly unregularised and may be hard to "
    "certify: then a `ConvergenceWarning` names the gap reached and says to standardise the "
    "features.",
)
def _():
    for Estimator, (X, y) in [
        (ConvexReLURegressor, _regression()),
        (ConvexReLUClassifier, _classification()),
    ]:
        for formulation in ("relu", "gated"):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                model = Estimator(alpha=1e-3, formulation=formulation, **FAST).fit(1e8 * X, y)
            assert np.all(np.isfinite(model._forward(1e8 * X)))
            assert model.objective_ == pytest.approx(model.convex_objective_, rel=1e-8)
            named = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
            if model.gap_ > model.tol:
                assert named and "relative duality gap" in str(named[0].message)
                assert "Standardise the features" in str(named[0].message)


@case(
    "mixed-feature-scales",
    "features of scales 1e6 and 0.1 side by side (raw measurements), or 1 beside 3.6e3, a fit "
    "that stops above `tol`",
    "the `ConvergenceWarning` names the gap reached and the features' range of scales (or, where "
    "offsets hide how differently the features vary, of their standard deviations), and says "
    "to standardise them (weight decay is not scale invariant, and such programs are hard to "
    "certify: protein-tertiary-structure as shipped ended at a gap of 0.999); on standardised "
    "features, where the budget ran out, it says to increase `max_iter` or loosen `tol`.",
)
def _():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((300, 3))
    y = np.sin(Z[:, 0]) + Z[:, 1] * Z[:, 2]
    raw = Z * np.array([5e5, 0.1, 50.0]) + np.array([1.4e6, 0.3, 100.0])
    # root mean squares 10-1,000 apart by 100 only, standard deviations 0.01-1,000
    offset = Z * np.array([1e-2, 1e3, 1e-2]) + np.array([10.0, 100.0, 10.0])
    # scales 1 to 3.6e3 (R's Ecdat::Train as published: stalled at 0.49, told to raise max_iter)
    survey = Z * np.array([1.0, 3.0, 1e3]) + np.array([0.0, 0.0, 3.5e3])
    for X, advice in [
        (raw, "scales (root mean squares) range from 0.32 to 1.4e+06"),
        (survey, "scales (root mean squares) range from 0.98 to 3.6e+03"),
        (offset, "spreads (standard deviations) range from 0.0096 to 9.8e+02"),
        (Z, "increase max_iter or loosen tol"),
    ]:
        message = _stopped_regressor_message(X, y)
        assert advice in message
        assert ("Standardise the features" in message) == (X is not Z)


@case(
    "large-regression-targets",
    "regression targets of a large scale (standard deviation 1e12), a fit that stops above `tol`",
    "the `ConvergenceWarning` names the targets' standard deviation and the `alpha` that the "
    "fit's amounts to on standardised targets (weight decay is not scale invariant: the default "
    "regressor on these 60 samples stalls at a certified gap of 0.9 after 17 s), and says to "
    "standardise them or scale `alpha` with them; targets of standard deviation 1e3 or less get "
    "no such advice.",
)
def _():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = np.sin(2.0 * X[:, 0]) + X[:, 1] ** 2
    # deviations 1e12 and 2e3 get the advice, 5e2 and y's own (1.2) not: the threshold is 1e3
    for spread in (1e12 * np.std(y), 2e3, 5e2, np.std(y)):
        message = _stopped_regressor_message(X, y * (spread / np.std(y)))
        advice = (f"the targets' standard deviation is {spread:.2g}" in message
                  and f"alpha=0.01 on these targets acts as alpha={0.01 / spread:.2g}" in message
                  and "Standardise the targets" in message)
        assert advice == (spread > 1e3)
        assert "increase max_iter" in message


@case(
    "a-stalled-fit",
    "a program the solver stops making progress on before its budget: nine samples of five "
    "classes far apart at `alpha=4e-8`",
    "the `ConvergenceWarning` names the gap reached and the status (`'stalled'` or "
    "`'inaccurate'`), and says that more iterations will not help and that a larger `alpha` is "
    "easier to certify (this fit stops at the same 102 Newton iterations and the same gap with "
    "`max_iter=1000`); it does not advise to increase `max_iter`.",
)
def _():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((9, 3))
    y = np.arange(9) % 5
    X[:, 0] += 6.0 * y
    message, model = _convergence_message(
        lambda: ConvexReLUClassifier(alpha=4e-8, random_state=2).fit(X, y)
    )
    assert model.status_ in ("stalled", "inaccurate") and model.gap_ > model.tol
    assert f"status {model.status_!r}" in message
    assert "more iterations will not help" in message and "larger alpha" in message
    assert "max_iter" not in message


@case(
    "tiny-feature-scale",
    "features of scale 1e-8, not standardised",
    "`formulation='relu'`: fits the constant model, certified optimal — weights of order 1e8 "
    "would cost more than they gain, so `alpha >= alpha_max` — with a `UserWarning` (*the fitted "
    "network has no neurons (alpha=0.001 is at or above alpha_max=...)*) that says to decrease "
    "`alpha` or standardise the features (weight decay is not scale invariant).",
)
def _():
    for Estimator, (X, y) in [
        (ConvexReLURegressor, _regression()),
        (ConvexReLUClassifier, _classification()),
    ]:
        with pytest.warns(UserWarning, match=r"no neurons \(alpha=0.001 is at or above alpha_max"):
            model = Estimator(alpha=1e-3, **FAST).fit(1e-8 * X, y)
        assert model.n_neurons_ == 0 and model.solver_ == "alpha_max"
        assert 0 <= model.gap_ <= model.tol or abs(model.gap_) < 1e-12


@case(
    "integer-X",
    "`X` of an integer dtype",
    "converted to float64: the same model as the same values in float64",
)
def _():
    X, y = _regression()
    Xi = np.round(3 * X).astype(np.int64)
    a = ConvexReLURegressor(**FAST).fit(Xi, y)
    b = ConvexReLURegressor(**FAST).fit(Xi.astype(np.float64), y)
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        assert np.array_equal(u, v)


@case(
    "float32-X",
    "`X` (and `y`) in float32",
    "`X` stays float32 (the products with it run in float32); targets, weights, every "
    "objective and the certificate's dual point are float64, so `objective_` equals "
    "`convex_objective_` to 1e-8 and the gap is certified as for float64 data; predictions "
    "are float64",
)
def _():
    X, y = _regression()
    model = ConvexReLURegressor(**FAST).fit(X.astype(np.float32), y.astype(np.float32))
    assert model.objective_ == pytest.approx(model.convex_objective_, rel=1e-8)
    assert model.predict(X.astype(np.float32)).dtype == np.float64
    Xc, yc = _classification()
    clf = ConvexReLUClassifier(**FAST).fit(Xc.astype(np.float32), yc)
    assert clf.objective_ == pytest.approx(clf.convex_objective_, rel=1e-8)


@case(
    "pandas",
    "`X` a pandas DataFrame",
    "fits; the column names are kept in `feature_names_in_`; `predict` with other column names "
    "raises `ValueError`: *The feature names should match*, and with a plain array warns "
    "(scikit-learn's *X does not have valid feature names*)",
)
def _():
    pd = pytest.importorskip("pandas")
    X, y = _regression()
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    model = ConvexReLURegressor(**FAST).fit(frame, pd.Series(y))
    assert list(model.feature_names_in_) == ["a", "b", "c"]
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        assert np.array_equal(model.predict(X), model.predict(frame))
    with pytest.raises(ValueError, match="feature names should match"):
        model.predict(frame.rename(columns={"a": "z"}))


@case(
    "sparse",
    "`X` a SciPy sparse matrix",
    "not supported: `TypeError`: *Sparse data was passed for X, but dense data is required. Use "
    "'.toarray()'*",
)
def _():
    X, _ = _regression()
    for matrix in (sp.csr_matrix(X), sp.csc_array(X)):
        _raises_for_both(
            TypeError, "Sparse data was passed for X, but dense data is required", matrix
        )


@case(
    "string-labels",
    "classification labels that are strings",
    "fits; `classes_` holds the strings and `predict` returns them",
)
def _():
    X, y = make_data("softmax", n=40, d=3)
    names = np.array(["ant", "bee", "cat"])
    model = ConvexReLUClassifier(**FAST).fit(X, names[y])
    assert list(model.classes_) == ["ant", "bee", "cat"]
    assert set(model.predict(X)) <= set(names)


@case(
    "string-target",
    "regression target that is strings",
    "`ValueError`: *could not convert string to float*",
)
def _():
    X, _ = _regression()
    with pytest.raises(ValueError, match="could not convert string to float"):
        ConvexReLURegressor(**FAST).fit(X, np.array(["a", "b"] * 15))


@case(
    "column-vector-labels",
    "classification labels as a column vector, shape (n, 1)",
    "fits, with scikit-learn's `DataConversionWarning` (*A column-vector y was passed*)",
)
def _():
    X, y = _classification()
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        model = ConvexReLUClassifier(**FAST).fit(X, y[:, None])
    assert model.predict(X).shape == (len(X),)


@case(
    "wrong-n-features",
    "`predict` on a different number of features",
    "`ValueError`: *X has 4 features, but ... is expecting 3 features as input*",
)
def _():
    X, y = _regression()
    model = ConvexReLURegressor(**FAST).fit(X, y)
    with pytest.raises(
        ValueError, match="X has 4 features, but ConvexReLURegressor is expecting 3"
    ):
        model.predict(np.ones((2, 4)))


@case(
    "more-features-than-samples",
    "more features than samples (30 samples of 200 features, two or four classes, or a target)",
    "fits, certified: the input weights lie in the row space of `X` (the penalty makes every "
    "optimal weight vector do so), and `ipm` solves the program in that space's coordinates, "
    "so its cost grows with the samples, not the features",
)
def _():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 200))
    _, sigma, Vt = np.linalg.svd(X, full_matrices=True)
    null = Vt[len(sigma):]  # the directions X does not see
    for Estimator, y in [
        (ConvexReLURegressor, X[:, 0] - X[:, 1] ** 2),
        (ConvexReLUClassifier, (X[:, 0] > 0).astype(int)),
        (ConvexReLUClassifier, np.arange(30) % 4),
    ]:
        model = Estimator(alpha=1e-3, **FAST).fit(X, y)
        assert model.gap_ <= model.tol and model.solver_ == "ipm"
        weights = model.coefs_[0]
        assert np.abs(null @ weights).max() <= 1e-10 * np.abs(weights).max()
        assert model.objective_ == pytest.approx(model.convex_objective_, rel=1e-8)


@case(
    "more-gates-than-patterns",
    "`n_gates` far above the number of distinct patterns (6 points on a line, 1000 gates)",
    "fits; duplicate patterns are dropped, so `n_patterns_` is below `n_gates`: here at most 11, "
    "the 12 ways a threshold can split 6 points on a line (Cover's count) less the empty one",
)
def _():
    X = np.linspace(-1, 1, 6)[:, None]
    model = ConvexReLURegressor(alpha=1e-3, n_gates=1000, random_state=0).fit(X, X[:, 0] ** 2)
    assert model.n_patterns_ <= 11
    assert model.objective_ == pytest.approx(model.convex_objective_, rel=1e-8)


@case(
    "alpha-zero",
    "`alpha=0`",
    "fits the unregularised program, with a `UserWarning` (*alpha=0 solves the unregularised "
    "program*): the relative gap can certify only a zero loss, and separable classes have no "
    "minimiser",
)
def _():
    for Estimator, (X, y) in [
        (ConvexReLURegressor, _regression()),
        (ConvexReLUClassifier, _classification()),
    ]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            with pytest.warns(UserWarning, match="alpha=0 solves the unregularised program"):
                model = Estimator(alpha=0.0, **FAST).fit(X, y)
        assert np.all(np.isfinite(model._forward(X)))


@case(
    "negative-or-nan-alpha",
    "`alpha` negative, infinite or NaN",
    "`InvalidParameterError` (a `ValueError`): *The 'alpha' parameter ... must be a float in the "
    "range [0.0, inf)*",
)
def _():
    X, y = _regression()
    for alpha in (-1.0, np.inf, np.nan):
        with pytest.raises(ValueError, match=r"'alpha' parameter .* must be a float in the range"):
            ConvexReLURegressor(alpha=alpha).fit(X, y)


@case(
    "program-too-large",
    "a program whose estimated memory exceeds `max_memory` (here 100 kB) with the solver named "
    "(`solver='ipm'`; Gaussian gates)",
    "`MemoryError` before the program is built, with the estimate: *the 'relu' program on 30 "
    "samples, 3 features, 15 patterns and 1 output(s) with solver 'ipm' needs about 579 KiB "
    "(592530 bytes), more than 97.7 KiB (max_memory=100000 bytes). Use fewer gates ...*",
)
def _():
    X, y = _regression()
    model = ConvexReLURegressor(max_memory=1e5, sampler="gaussian", solver="ipm", **FAST)
    with pytest.raises(MemoryError, match=r"'relu' program on 30 samples.* needs about \d") as info:
        model.fit(X, y)
    n_patterns = int(re.search(r"(\d+) patterns", str(info.value)).group(1))
    estimate = estimate_memory(30, 3, n_patterns, 1, "relu", "ipm")
    assert f"({estimate} bytes)" in str(info.value)
    # the message quoted in the table is the real one
    quoted = CASES[[c.id for c in CASES].index("program-too-large")].behaviour
    assert quoted.split("*")[1].rstrip(" .") in str(info.value)
    assert "max_memory=100000 bytes" in str(info.value)
    assert not hasattr(model, "coefs_")


@case(
    "program-too-large-for-auto",
    "the same program and `max_memory` with `solver='auto'`; then `max_memory=1e4`",
    "the matrix-free solver, which fits, solves it, with a `MemoryFallbackWarning`: *solver 'ipm' "
    "would need more memory than max_memory=100000 bytes allows for this program; 'al' solves it "
    "instead ...*; where no solver fits, the `MemoryError` above, naming `'al'`",
)
def _():
    from convexnn.solvers import MemoryFallbackWarning

    X, y = _regression()
    quoted = CASES[[c.id for c in CASES].index("program-too-large-for-auto")].behaviour
    with pytest.warns(MemoryFallbackWarning, match=re.escape(quoted.split("*")[1][:-4])):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # al may stop short of tol
            model = ConvexReLURegressor(max_memory=1e5, sampler="gaussian", **FAST).fit(X, y)
    assert model.solver_ == "al" and np.isfinite(model.gap_)
    with pytest.raises(MemoryError, match=r"with solver 'al' needs about .* \(max_memory=10000 "):
        ConvexReLURegressor(max_memory=1e4, sampler="gaussian", **FAST).fit(X, y)


@case(
    "too-many-gates",
    "`n_gates=10**9` on 200 samples, default `max_memory='auto'`",
    "`MemoryError` before sampling: *sampling n_gates=1000000000 gates on 200 samples needs about "
    "1.88 TiB ..., more than ... (max_memory='auto': 90% of the ... available)*",
)
def _():
    X, y = _regression(n=200)
    with pytest.raises(
        MemoryError, match=r"sampling n_gates=1000000000 gates on 200 samples needs about 1.88 TiB"
    ):
        ConvexReLURegressor(n_gates=10**9).fit(X, y)


@case(
    "too-many-gates-for-two-mlps",
    "`n_gates=10**8` to the regressor on 200 samples far from the origin (two MLPs' gates), "
    "`max_memory=8 * 2**30`",
    "`MemoryError` before sampling, for both MLPs' gates: *sampling 2 × n_gates=100000000 gates "
    "on 200 samples needs about 384 GiB ...*",
)
def _():
    X, y = _regression(n=200)
    with pytest.raises(
        MemoryError, match=r"sampling 2 × n_gates=100000000 gates on 200 samples needs about 384 GiB"
    ):
        ConvexReLURegressor(n_gates=10**8, max_memory=8 * 2**30).fit(X + 100.0, y)


@pytest.mark.parametrize("bad", CASES, ids=[c.id for c in CASES])
def test_bad_input(bad):
    bad.check()


def bad_input_table() -> str:
    """The Markdown table of ``CASES`` that docs/reliability.md shows."""
    lines = ["| Case | Input | What happens |", "|---|---|---|"]
    lines += [f"| `{c.id}` | {c.input} | {c.behaviour} |" for c in CASES]
    return "\n".join(lines)


def _table_in_docs(text: str) -> str:
    if TABLE_BEGIN not in text or TABLE_END not in text:
        raise AssertionError(f"{DOC} lacks the markers {TABLE_BEGIN!r} ... {TABLE_END!r}")
    return text.split(TABLE_BEGIN, 1)[1].split(TABLE_END, 1)[0].strip()


def test_docs_table_lists_exactly_the_cases_tested():
    shown = _table_in_docs(DOC.read_text())
    assert shown == bad_input_table(), (
        "docs/reliability.md and the cases in tests/test_bad_input.py differ; "
        "run `python tests/test_bad_input.py` to regenerate the table"
    )
    assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"


if __name__ == "__main__":
    text = DOC.read_text()
    _table_in_docs(text)  # the markers are there
    head, rest = text.split(TABLE_BEGIN, 1)
    tail = rest.split(TABLE_END, 1)[1]
    DOC.write_text(f"{head}{TABLE_BEGIN}\n{bad_input_table()}\n{TABLE_END}{tail}")
    print(f"wrote the table of {len(CASES)} cases to {DOC}")
