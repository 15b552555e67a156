import numpy as np
import pytest

from convexnn.losses import encode_targets, get_loss

CASES = [
    ("squared", lambda rng, n: rng.standard_normal((n, 2))),
    ("logistic", lambda rng, n: rng.integers(0, 2, (n, 1)).astype(float)),
    ("softmax", lambda rng, n: np.eye(3)[rng.integers(0, 3, n)]),
]


@pytest.mark.parametrize("name,targets", CASES)
def test_gradient_matches_finite_differences(name, targets):
    rng = np.random.default_rng(0)
    Y = targets(rng, 7)
    F = rng.standard_normal(Y.shape)
    loss = get_loss(name)
    G = loss.gradient(F, Y) / F.shape[0]
    E = np.zeros_like(F)
    E[3, 0] = 1e-6
    fd = (loss.value(F + E, Y) - loss.value(F - E, Y)) / 2e-6
    assert fd == pytest.approx(G[3, 0], rel=1e-6)


@pytest.mark.parametrize("name,targets", CASES)
def test_intercept_shift_zeroes_the_intercept_gradient(name, targets):
    rng = np.random.default_rng(1)
    Y = targets(rng, 30)
    F = 3 * rng.standard_normal(Y.shape)
    loss = get_loss(name)
    delta = loss.intercept_shift(F, Y)
    assert np.abs(loss.gradient(F + delta, Y).sum(axis=0)).max() < 1e-9


@pytest.mark.parametrize("name,targets", CASES)
def test_fenchel_young_equality_at_the_residual(name, targets):
    # ℓ(f) + ℓ*(−θ) = −θᵀf exactly when θ = −∇ℓ(f); the dual value is −ℓ*(−θ)
    rng = np.random.default_rng(2)
    Y = targets(rng, 9)
    F = rng.standard_normal(Y.shape)
    loss = get_loss(name)
    theta = -loss.gradient(F, Y)
    n = F.shape[0]
    assert loss.value(F, Y) - loss.dual(theta, Y) == pytest.approx(-np.sum(theta * F) / n, abs=1e-12)
    assert np.allclose(loss.gradient(loss.outputs_from_residual(theta, Y), Y), -theta, atol=1e-9)


def test_encode_targets_errors():
    with pytest.raises(ValueError, match="labels in"):
        encode_targets([0, 2], "logistic")
    with pytest.raises(ValueError, match="one-hot"):
        encode_targets(np.array([[1, 1], [0, 1]]), "softmax")
    with pytest.raises(ValueError, match="unknown loss"):
        get_loss("hinge")
    assert encode_targets([2, 0], "softmax", 4).shape == (2, 4)


def test_softmax_intercept_shift_survives_extreme_outputs():
    # outputs dominated by one class by 5e4: the old start overflowed and Newton diverged
    rng = np.random.default_rng(0)
    F = rng.standard_normal((20, 3)) * 1e3
    F[:, 0] += 5e4
    Y = np.eye(3)[rng.integers(0, 3, 20)]
    Y[:3] = np.eye(3)
    delta = get_loss("softmax").intercept_shift(F, Y)
    assert np.all(np.isfinite(delta))
    assert np.abs(get_loss("softmax").gradient(F + delta, Y).sum(axis=0)).max() < 1e-9


def test_softmax_intercept_shift_stops_when_the_decrease_is_below_rounding(monkeypatch):
    # near the optimum the Newton decrease (~1e-16) is below the rounding of a value of ~600: the
    # line search used to halve 30 times per iteration for 200 iterations (6000 evaluations),
    # which made the duality gap of softmax programs cost more than the solver's iterations
    import convexnn.losses as losses

    calls = []

    def counting(*args, **kwargs):
        calls.append(1)
        return logsumexp(*args, **kwargs)

    from scipy.special import logsumexp

    monkeypatch.setattr(losses, "logsumexp", counting)
    rng = np.random.default_rng(0)
    worst = 0
    for _ in range(20):
        F = 4 * rng.standard_normal((100, 3))
        Y = np.eye(3)[rng.integers(0, 3, 100)]
        calls.clear()
        delta = losses.SoftmaxLoss.intercept_shift(F, Y)
        worst = max(worst, len(calls))
        assert np.abs(losses.SoftmaxLoss.gradient(F + delta, Y).sum(axis=0)).max() < 1e-9
    assert worst < 50


def test_logistic_intercept_matches_a_bracketing_root_finder():
    """The compiled Newton solve (run after every epoch of bcd) against brentq, on outputs of
    scales 1e-3..1e3 with offsets: flat residuals (every probability near 0 or 1) included."""
    from scipy.optimize import brentq
    from scipy.special import expit

    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(2, 60))
        offset = rng.standard_normal() * 10 ** rng.uniform(-2, 2)
        f = rng.standard_normal(n) * 10 ** rng.uniform(-3, 3) + offset
        y = np.zeros(n)
        y[rng.choice(n, int(rng.integers(1, n)), replace=False)] = 1.0

        def excess(delta, f=f, y=y):
            return float(np.sum(expit(f + delta))) - y.sum()

        lo, hi = -1.0, 1.0
        while excess(lo) > 0:
            lo *= 2.0
        while excess(hi) < 0:
            hi *= 2.0
        reference = brentq(excess, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps)
        delta = get_loss("logistic").intercept_shift(f[:, None], y[:, None])[0]
        assert abs(excess(delta)) <= abs(excess(reference)) + 1e-12 * n


def test_softmax_hessian_roots_survive_an_eigendecomposition_that_does_not_converge(monkeypatch):
    """LAPACK's divide and conquer can fail on a finite symmetric block (``convexnn._linalg``):
    where numpy's ``eigh`` fails on one sample's block, the softmax curvature roots are still
    the roots of ``diag(p) − ppᵀ``, and those of the other samples are numpy's."""
    rng = np.random.default_rng(3)
    F = 4 * rng.standard_normal((6, 5))
    Y = np.eye(5)[rng.integers(0, 5, 6)]
    P = np.exp(F - F.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    H = np.einsum("ij,jk->ijk", P, np.eye(5)) - P[:, :, None] * P[:, None, :]
    loss = get_loss("softmax")
    expected = loss.hessian_root(F, Y)
    plain = np.linalg.eigh

    def failing(A):  # fails on any stack that holds sample 4's block
        if np.any(np.all(np.abs(A - H[4]) <= 1e-15, axis=(-2, -1))):
            raise np.linalg.LinAlgError("Eigenvalues did not converge")
        return plain(A)

    monkeypatch.setattr(np.linalg, "eigh", failing)
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.eigh(H)
    roots = loss.hessian_root(F, Y)
    monkeypatch.setattr(np.linalg, "eigh", plain)
    assert np.array_equal(np.delete(roots, 4, axis=0), np.delete(expected, 4, axis=0))
    assert np.allclose(roots @ roots, H, rtol=0, atol=1e-13)
    assert np.allclose(roots, expected, rtol=0, atol=1e-12)


def test_the_logistic_loss_keeps_its_precision_on_confident_outputs():
    """Regression (the fuzz case ``logistic-loss-rounded-against-terms-of-one-at-tiny-alpha``):
    ``log(1 + eᶠ) − yf``, ``eᶠ/(1 + eᶠ) − y`` and ``1 − (1 − θ)`` lose everything below 1e-16 of
    one where the output is confident; on five nearly separable samples at alpha 4e-8 (J 6e-7)
    that put the certified gap at −1e-9. Each term is now exact to rounding of its own size."""
    loss = get_loss("logistic")
    F = np.array([[5.0], [20.0], [40.0], [-40.0], [-20.0]])
    Y = np.array([[1.0], [1.0], [1.0], [0.0], [0.0]])
    each = np.log1p(np.exp(-np.abs(F)))  # every sample on its correct side
    np.testing.assert_allclose(loss.value(F, Y), each.mean(), rtol=1e-13)
    residual = Y - 1.0 / (1.0 + np.exp(-F))  # −∇ℓ, whose entries here are ±e^{−|f|}
    residual[:, 0] = np.where(Y[:, 0] == 1, np.exp(-F[:, 0]), -np.exp(F[:, 0]))
    residual /= 1.0 + np.exp(-np.abs(F))
    np.testing.assert_allclose(-loss.gradient(F, Y), residual, rtol=1e-13)
    # Fenchel–Young at θ = −∇ℓ(F): ℓ(F) = −θf + H(y − θ), each term to its own rounding
    theta = -loss.gradient(F, Y)
    np.testing.assert_allclose(loss.dual(theta, Y) - np.mean(theta * F), loss.value(F, Y),
                               rtol=1e-12)


def test_the_logistic_dual_keeps_its_precision_when_every_output_is_confident():
    """Regression (the fuzz case ``logistic-dual-rounded-against-one-at-tiny-objective``): the
    dual's larger term ``p log p``, ``p = 1 − θ`` rounded to one, lost the ``−θ`` of each
    sample's share of the entropy; where every sample is confident that is a fraction of J (nine
    samples, J = 1.5e-13: a certified gap of −8e-6). It is now ``(1 − θ) log1p(−θ)``."""
    loss = get_loss("logistic")
    F = np.array([[30.0], [35.0], [40.0], [-32.0], [-38.0]])
    Y = np.array([[1.0], [1.0], [1.0], [0.0], [0.0]])
    theta = -loss.gradient(F, Y)  # ±e^{−|f|}/(1 + e^{−|f|})
    np.testing.assert_allclose(loss.dual(theta, Y) - np.mean(theta * F), loss.value(F, Y),
                               rtol=1e-12)


def test_the_softmax_loss_keeps_its_precision_on_confident_outputs():
    """``logsumexp(f) − f_y`` and ``p_y log p_y`` lose everything below 1e-16 of one where a
    sample's true class is certain, which is all of its share of a tiny J (the softmax twin of
    the logistic fuzz case above). Both are now exact to their own rounding: the loss is
    ``log1p`` of the other classes' mass, the dual's true-class term ``(1 − q) log1p(−q)``."""
    loss = get_loss("softmax")
    F = np.array([[40.0, 0.0, -3.0], [1.0, 25.0, 2.0], [0.0, 1.0, 12.0], [-5.0, -4.0, 30.0]])
    Y = np.eye(3)[[0, 1, 2, 2]]
    shifted = F - F.max(axis=1, keepdims=True)
    top = shifted == 0.0
    mass = np.sum(np.where(top, 0.0, np.exp(shifted)), axis=1)  # the other classes' mass
    each = np.log1p(mass)  # every sample's true class is its largest output
    np.testing.assert_allclose(loss.value(F, Y), each.mean(), rtol=1e-13)
    # Fenchel–Young at θ = −∇ℓ(F), its true class's entry the other classes' probabilities:
    # ℓ(F) = −Σθf + H(y − θ)
    p = np.where(top, 1.0, np.exp(shifted)) / (1.0 + mass)[:, None]
    theta = np.where(Y == 1, (mass / (1.0 + mass))[:, None], -p)
    np.testing.assert_allclose(loss.dual(theta, Y) - np.sum(theta * F) / len(F), loss.value(F, Y),
                               rtol=1e-12)
    # the dual point the certificate takes is that θ: as ``p_y − 1`` the true class's entry
    # kept 1e-16 of one (none of it on the first sample here), its row off the simplex, and
    # the gap of three confident samples was −2.6e-5 (the fuzz case
    # ``confident-softmax-residual-off-the-simplex``)
    np.testing.assert_allclose(loss.dual_point(F, Y), theta, rtol=1e-13)
    assert np.all(np.abs(loss.dual_point(F, Y).sum(axis=1)) <= 1e-15 * np.abs(theta).sum(axis=1))


def test_the_softmax_intercept_centres_the_residual_of_confident_outputs():
    """Regression: the intercept's Newton solve stopped once ``|Σ_i p_i − y_i| ≤ 1e-13 n``, a
    tolerance on the sum alone. Where every sample is confident the residual's entries are far
    below one (1e-8 here), and that tolerance left ``1ᵀθ`` at 1e-5 of them; the certificate's
    intercept term then held the default classifier's gap at 5e-6 (nine samples in three
    classes at alpha 4e-8, ``tests/test_estimators.py``). The sum is now accurate and the
    steps go on to its rounding, relative to ``Σ_i |p_i − y_i|``."""
    loss = get_loss("softmax")
    rng = np.random.default_rng(0)
    Y = np.eye(3)[np.arange(9) % 3]
    F = 20.0 * Y + 0.5 * rng.standard_normal((9, 3)) + np.array([3.0, -2.0, 0.0])
    G = F + loss.intercept_shift(F, Y)
    p = np.exp(G - G.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    # the residual y − p, its true class's entry summed from the other classes (1 − p_y would
    # round to 1e-16 of one)
    theta = np.where(Y == 1, np.sum(p * (1 - Y), axis=1, keepdims=True), -p)
    assert np.abs(theta).max() < 1e-6
    assert np.abs(theta.sum(axis=0)).max() <= 1e-12 * np.abs(theta).sum()
