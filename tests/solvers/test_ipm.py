"""convexnn.solvers.ipm: the interior-point method for the exact ReLU program."""

import warnings

import numpy as np
import pytest
from conftest import make_program

from convexnn import ConvexProgram, sample_patterns, solve
from convexnn.patterns import add_bias_column


def test_interior_point_certifies_the_exact_relu_program_and_refuses_what_it_cannot_solve():
    from sklearn.exceptions import ConvergenceWarning

    program = make_program("multi", "relu", n=60, d=3, n_gates=20, alpha=1e-2)
    reference = solve(program, "cvxpy").solution
    result = solve(program, "ipm", tol=1e-9)
    assert result.status == "optimal" and result.gap <= 1e-9
    assert result.violation == 0.0  # the rows hold exactly: the mapped network is exact
    assert program.duality_gap(result.solution).gap <= 1e-9  # the full certificate agrees
    assert program.objective(result.solution) == pytest.approx(
        program.objective(reference), rel=1e-8
    )
    p32 = ConvexProgram(
        program.X.astype(np.float32), program.Y, program.patterns, "squared", 1e-2, "relu"
    )
    r32 = solve(p32, "ipm", tol=1e-5)
    # float64 blocks for float32 data: rounded to float32 they left their cones by ~1e-8 and the
    # mapped network no longer reproduced the program (found by tests/fuzzing.py)
    assert r32.solution.U.dtype == np.float64 and r32.gap <= 1e-5
    assert p32.network_objective(r32.solution) == pytest.approx(
        p32.objective(r32.solution), rel=1e-12
    )
    with pytest.warns(ConvergenceWarning, match="certified gap of"):
        assert solve(program, "ipm", max_iter=3).status == "max_iter"
    with pytest.raises(ValueError, match="alpha > 0"):
        solve(program.with_alpha(0.0), "ipm")
    with pytest.raises(ValueError, match="use 'kernel_newton'"):
        solve(make_program("squared", "gated", n=20), "ipm")


def test_interior_point_zeroes_the_blocks_the_optimum_leaves_out():
    # at an interior point every block is non-zero, the unused ones only tiny; the solver zeroes
    # them when the zeroed point still certifies, so the network lists only the neurons it uses
    program = make_program("squared", "relu", n=60, d=3, n_gates=20, alpha=1e-2)
    result = solve(program, "ipm", tol=1e-6)
    norms = np.concatenate(
        [program.block_norms(result.solution.U), program.block_norms(result.solution.V)], axis=1
    )
    reference = solve(program, "cvxpy", tol=1e-9).solution
    used = np.concatenate(
        [program.block_norms(reference.U), program.block_norms(reference.V)], axis=1
    ) > 1e-4 * norms.max()
    assert result.status == "optimal" and program.duality_gap(result.solution).gap <= 1e-6
    assert 0 < np.count_nonzero(norms) < norms.size
    assert np.array_equal(norms > 0, used)


def test_blocks_not_yet_below_prune_at_the_first_certificate_get_the_pruning_iterations():
    """Regression: the first block of ``ConvexDeepReLURegressor(hidden_layer_sizes=(12,),
    n_gates=6, alpha=0.01, random_state=8)`` on scikit-learn's regression check data (200 × 10,
    the targets scaled) certified, with the barrier's selected rows, at a point whose two
    smallest blocks were 1.3e-6 and 1.5e-5 of the largest: none below ``PRUNE``, so nothing was
    zeroed, and the layer kept both as neurons (12 instead of 10). Blocks below ``SHRINKING`` now
    earn the pruning iterations. (With random_state=0 and two layers, the case of sklearn's
    check_regressors_train, the same had the stack score 0.44 where the check asks for 0.5.)"""
    from sklearn.datasets import make_regression
    from sklearn.preprocessing import StandardScaler, scale

    from convexnn import ConvexDeepReLURegressor

    # the data of sklearn's regressor checks
    X, y = make_regression(n_samples=200, n_features=10, n_informative=1, bias=5.0, noise=20,
                           random_state=42)
    X = StandardScaler().fit_transform(X)
    model = ConvexDeepReLURegressor(hidden_layer_sizes=(12,), n_gates=6, alpha=0.01,
                                    random_state=8).fit(X, scale(y))
    block = model.blocks_[0]
    assert block.status == "optimal" and block.gap <= 1e-6
    # each neuron's share of the layer, ‖w‖·|a| (the block norms of the program)
    shares = np.linalg.norm(model.coefs_[0], axis=0) * np.abs(model.coefs_[1]).ravel()
    assert block.n_neurons == shares.size and shares.min() > 1e-4 * shares.max()


@pytest.mark.parametrize(
    "loss,K,form",
    [("squared", 1, "dual"), ("logistic", 1, "dual"), ("squared", 1, "primal"),
     ("logistic", 1, "primal"), ("logistic", 1, "primal-sums"), ("logistic", 1, "primal-dense"),
     ("softmax", 3, "dual"), ("softmax", 3, "cg")],
)
def test_interior_point_newton_solves_match_the_dense_system(loss, K, form, monkeypatch):
    """The Woodbury solve (with columns of Z left out and refinement) against the assembled
    Newton matrix: block diagonal plus the data term (1/n) Jᵀ ∇²f J of f(W) = min_c mean loss,
    whose Hessian in the outputs is the loss's, with the intercept eliminated (its Schur
    complement) — for the squared loss the centring (1/n) Jᵀ P_c J."""
    import convexnn.solvers.ipm as interior_point
    from convexnn.losses import get_loss
    from convexnn.solvers.ipm import ReluProblem, cone_index

    # every way of solving the Newton system: Woodbury through n × n (nK × nK) matrices, the
    # primal form (reduced to the differences u_k − v_k through the blocks' inverses or their sums,
    # or its fallback over all the blocks' unknowns), or conjugate gradients preconditioned per
    # output
    monkeypatch.setattr(interior_point, "newton_form", lambda *args: form.split("-")[0])
    if form == "primal-sums":  # reduced through the sums B_u + B_v, as the shared program is
        monkeypatch.setattr(interior_point.ReluProblem, "reduce_through_sums", True)
    if form == "primal-dense":  # no reduced solve is accepted: the whole matrix is factored
        monkeypatch.setattr(interior_point, "PRIMAL_REDUCED_RESIDUAL", 0.0)
        monkeypatch.setattr(interior_point, "PRIMAL_CG_MAX_ITER", 0)

    rng = np.random.default_rng(0)
    n, d, P = 40, 2, 5
    X = rng.standard_normal((n, d))
    Xt = add_bias_column(X)
    M = Xt @ rng.standard_normal((d + 1, P)) >= 0
    Y = {"squared": rng.standard_normal((n, 1)), "logistic": (rng.random((n, 1)) < 0.4) * 1.0,
         "softmax": np.eye(K)[np.arange(n) % K]}[loss]
    problem = ReluProblem(Xt, M, Y, 1e-2, get_loss(loss))
    p = d + 1
    nb = 2 * P * K
    weights = rng.random((n, nb)) * np.logspace(-8, 2, nb)  # some blocks far below nI
    A = rng.standard_normal((nb, p, p))
    cone_hessian = np.matmul(A, A.transpose(0, 2, 1)) + np.eye(p)
    XW = problem.products(rng.standard_normal((nb, p)))
    solve_ = problem.factor(XW, weights, cone_hessian)
    size = p + 1
    H = np.zeros((nb * size, nb * size))
    J = np.zeros((n * K, nb * size))  # rows (o, i)
    cone = cone_index(p)
    for b in range(nb):
        o, j = divmod(b, 2 * P)
        block = np.zeros((size, size))
        block[:p, :p] = Xt.T @ (weights[:, b, None] * Xt)
        block[np.ix_(cone, cone)] += cone_hessian[b]
        H[b * size:(b + 1) * size, b * size:(b + 1) * size] = block
        J[o * n:(o + 1) * n, b * size:b * size + p] = (1 if j < P else -1) * (M[:, j % P, None] * Xt)
    # the loss's Hessian in the outputs at the optimal intercept, then its Schur complement on c
    z = problem.fit_at(XW)[0]
    root = problem.loss.hessian_root(z, Y)
    hess = np.zeros((n * K, n * K))
    for i in range(n):
        idx = np.arange(K) * n + i
        hess[np.ix_(idx, idx)] = root[i] @ root[i]
    E = np.kron(np.eye(K), np.ones((n, 1)))
    reduced = hess - hess @ E @ np.linalg.pinv(E.T @ hess @ E) @ E.T @ hess
    H += J.T @ reduced @ J / n
    rhs = rng.standard_normal((nb, size))
    found, exact = solve_(rhs).ravel(), np.linalg.solve(H, rhs.ravel())

    def backward_error(x):  # the relative residual: what a solve can promise at any condition
        return np.linalg.norm(H @ x - rhs.ravel()) / (np.linalg.norm(H, 2) * np.linalg.norm(x))

    # the softmax matrix here has condition ~4e8, so the dense reference is itself good to ~1e-8;
    # conjugate gradients stop at a relative residual of 1e-11
    assert backward_error(found) <= (1e-12 if form == "cg" else 1e-14)
    assert np.allclose(found, exact, rtol=1e-6 if loss == "softmax" else 1e-9, atol=1e-11)


def test_step_to_the_boundary_and_block_inverses_match_their_plain_definitions():
    from convexnn.solvers import ipm

    rng = np.random.default_rng(0)
    x = rng.uniform(0.1, 2.0, (50, 7))
    for dx in (rng.standard_normal((50, 7)), np.abs(rng.standard_normal((50, 7)))):
        neg = dx < 0
        plain = min(1.0, ipm.FRACTION * np.min(-x[neg] / dx[neg])) if neg.any() else 1.0
        assert ipm._max_step(x, dx) == pytest.approx(plain, rel=1e-14)
    dx = rng.standard_normal((50, 7))
    x[0, 0], dx[0, 0] = 0.0, 0.0  # an underflowed entry that does not move: no NaN step
    neg = dx < 0
    assert ipm._max_step(x, dx) == pytest.approx(ipm.FRACTION * np.min(-x[neg] / dx[neg]), rel=1e-14)

    # well-conditioned blocks, blocks whose entries span decades (barrier Hessians near the
    # boundary), and a block singular to rounding, whose clipped eigenvalues keep it invertible
    A = rng.standard_normal((6, 5, 5))
    B = A @ A.transpose(0, 2, 1) + 0.1 * np.eye(5)
    B[1] *= np.outer([1e6, 1, 1, 1e-4, 1], [1e6, 1, 1, 1e-4, 1])
    v = rng.standard_normal(5)
    B[2] = np.outer(v, v)
    root = np.sqrt(np.einsum("bii->bi", B))  # compared on the equilibrated scale
    inverse = ipm._psd_inverse(B)
    for k in (0, 1, 3, 4, 5):
        reference = np.linalg.inv(B[k] / np.outer(root[k], root[k]))
        assert np.allclose(inverse[k] * np.outer(root[k], root[k]), reference, atol=1e-10)
    assert np.all(np.isfinite(inverse[2])) and np.allclose(inverse[2], inverse[2].T)
    assert np.all(np.linalg.eigvalsh(inverse[2]) > 0)


def _breaks_down_late(monkeypatch, name, owner, broken):
    """``ipm`` on a small logistic program whose ``owner.name`` is replaced, from the third-last
    iteration of an undisturbed solve on, by ``broken(original, *args)``: the point returned
    must be certified and as good as the undisturbed one to 1 %."""
    from convexnn.solvers import ipm

    program = make_program("logistic", "relu", n=60, d=3, n_gates=10, alpha=1e-2)
    reference = solve(program, "ipm")
    original, calls = getattr(owner, name), []

    def replaced(*args):
        calls.append(1)
        if len(calls) >= reference.n_iter - 2:
            return broken(original, *args)
        return original(*args)

    monkeypatch.setattr(owner, name, replaced)
    result = ipm.solve_ipm(program)
    assert np.isfinite(result.gap) and result.gap < 1e-2
    assert program.objective(result.solution) == pytest.approx(
        program.objective(reference.solution), rel=1e-2)
    return result


def test_a_newton_matrix_that_stops_factoring_keeps_the_closest_point(monkeypatch):
    # seen on a UCI regression fit: an eigendecomposition failed to converge late in the
    # iterations, the LinAlgError discarded every iterate and "auto" fell back to CVXPY. The
    # closest point is kept, with a warning where it is short of tol ...
    from sklearn.exceptions import ConvergenceWarning

    from convexnn.solvers import ipm

    def failing(factor, *args):
        raise np.linalg.LinAlgError("Eigenvalues did not converge")

    monkeypatch.setattr(ipm, "_polished", lambda *args: None)
    with pytest.warns(ConvergenceWarning):
        _breaks_down_late(monkeypatch, "factor", ipm.ReluProblem, failing)
    # ... and Newton's method on its support (ipm._polished) takes it to a certified point
    monkeypatch.undo()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        result = _breaks_down_late(monkeypatch, "factor", ipm.ReluProblem, failing)
    assert result.status == "optimal" and result.gap <= 1e-6


def test_an_overflowing_scaling_ends_the_iterations_quietly(monkeypatch):
    # the Nesterov–Todd scaling overflowed on a UCI regression fit (RuntimeWarnings, then a
    # Newton matrix of NaN): the iterations end with the closest point, without numpy's warnings
    from sklearn.exceptions import ConvergenceWarning

    from convexnn.solvers import ipm

    def overflowing(scaling, s, z):
        return scaling(s * 1e300, z)  # the squares overflow

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        _breaks_down_late(monkeypatch, "_nesterov_todd", ipm, overflowing)


@pytest.mark.parametrize(("name", "seed"), [("iris", 0), ("wine", 0), ("wine", 5)])
def test_only_the_last_iterations_solve_loosely_to_prune(name, seed):
    """The iterations that follow a point certified (by its own dual point or a late one's) only
    to shrink the blocks to be pruned take reduced Newton solves to ``PRUNING_REDUCED_RESIDUAL``
    (``ReluProblem.pruning``): they are the last ones, at most ``PRUNE_ITERATIONS``, and the fit
    certifies (the default classifier on standardised iris and wine: two or three such
    iterations under one BLAS thread and under two; how many depends on the last digits of the
    iterates, and under two threads iris with random_state=2 had none). With every row in the
    barrier from the start (``BARRIER_ROWS``), as these fits were chosen: with the rows the
    barrier selects, wine with random_state=5 zeroes its blocks at its first certified point."""
    from sklearn.datasets import load_iris, load_wine

    from convexnn import ConvexReLUClassifier
    from convexnn.solvers import ipm

    X, y = {"iris": load_iris, "wine": load_wine}[name](return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    flags = []
    factor = ipm.ReluProblem.factor

    def recorded(self, *args):
        flags.append(self.pruning)
        return factor(self, *args)

    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings():
        patch.setattr(ipm.ReluProblem, "factor", recorded)
        patch.setattr(ipm, "BARRIER_ROWS", np.inf)
        warnings.simplefilter("error")
        model = ConvexReLUClassifier(random_state=seed).fit(X, y)
    assert model.gap_ <= 1e-6 and model.solver_ == "ipm"
    first = flags.index(True)
    assert all(flags[first:]) and not any(flags[:first])
    assert 0 < len(flags) - first <= ipm.PRUNE_ITERATIONS


def test_the_iterations_that_only_prune_do_not_factor_the_whole_system(monkeypatch):
    """The iterations after a certified point only shrink the blocks to be pruned. Where their
    reduced Newton solves miss ``PRUNING_REDUCED_RESIDUAL``, they end (the certified point kept)
    rather than factor the whole system of ``2P(d + 2)`` unknowns, when that costs more than
    ``PRUNING_DENSE_FLOPS``: on scikit-learn's digits (12,600 unknowns, 15-25 s a factorisation)
    three or four such factorisations after the certificate took the default classifier from
    about 180 s to 340 s. Here every solve of those iterations misses (a bound of zero) and the
    threshold is zero; ``make_blobs(600, n_features=3, centers=4, random_state=1)`` is solved in
    the primal form and takes two such iterations under one BLAS thread."""
    from sklearn.datasets import make_blobs
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    from convexnn import ConvexReLUClassifier
    from convexnn.solvers import ipm

    X, y = make_blobs(600, n_features=3, centers=4, random_state=1)
    with threadpool_limits(1):
        reference = ConvexReLUClassifier(random_state=1).fit(X, y)
        factored, dense = [], []
        factor, whole = ipm.ReluProblem.factor, ipm.ReluProblem._primal_dense

        def recorded_factor(self, *args):
            factored.append((self.pruning, self.form()))
            return factor(self, *args)

        def recorded_whole(self, *args):
            dense.append(self.pruning)
            return whole(self, *args)

        monkeypatch.setattr(ipm.ReluProblem, "factor", recorded_factor)
        monkeypatch.setattr(ipm.ReluProblem, "_primal_dense", recorded_whole)
        monkeypatch.setattr(ipm, "PRUNING_REDUCED_RESIDUAL", 0.0)
        monkeypatch.setattr(ipm, "PRUNING_DENSE_FLOPS", 0.0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            model = ConvexReLUClassifier(random_state=1).fit(X, y)
    assert ("primal" in {form for _, form in factored}
            and any(pruning for pruning, _ in factored))
    assert not any(dense)
    assert model.status_ == "optimal" and model.gap_ <= 1e-6
    assert abs(model.objective_ - reference.objective_) <= 1e-6 * reference.objective_


def test_an_iteration_that_factors_the_whole_system_certifies_its_iterate_sooner(monkeypatch):
    """Where an iteration had to factor the primal form's whole system (its reduced solves
    imprecise), the next would likely have to as well: the iterate is certified once its
    complementarity is below ``WHOLE_FACTOR_CERTIFICATE`` times ``tol`` instead of 0.1 ``tol``
    (on scikit-learn's digits, 75 % of it, 111 s instead of 158 s). Here every reduced solve
    is made to miss its bound (zero), so that every iteration factors the whole system, on the
    primal-form program of ``make_blobs(600, n_features=3, centers=4, random_state=1)``."""
    from sklearn.datasets import make_blobs
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    from convexnn import ConvexReLUClassifier
    from convexnn.solvers import ipm

    X, y = make_blobs(600, n_features=3, centers=4, random_state=1)
    dense, whole = [], ipm.ReluProblem._primal_dense

    def recorded(self, *args):
        dense.append(self.pruning)
        return whole(self, *args)

    monkeypatch.setattr(ipm.ReluProblem, "_primal_dense", recorded)
    monkeypatch.setattr(ipm, "PRIMAL_REDUCED_RESIDUAL", 0.0)
    monkeypatch.setattr(ipm, "LARGE_REDUCED_RESIDUAL", 0.0)
    before_certificate, objectives = [], []
    for threshold in (ipm.WHOLE_FACTOR_CERTIFICATE, 0.1):
        monkeypatch.setattr(ipm, "WHOLE_FACTOR_CERTIFICATE", threshold)
        dense.clear()
        with threadpool_limits(1), warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            model = ConvexReLUClassifier(random_state=1).fit(X, y)
        assert model.status_ == "optimal" and model.gap_ <= 1e-6
        before_certificate.append(dense.count(False))
        objectives.append(model.objective_)
    assert before_certificate[0] < before_certificate[1]
    assert abs(objectives[0] - objectives[1]) <= 1e-6 * objectives[1]


def test_a_newton_direction_that_is_not_finite_ends_the_iterations_quietly(monkeypatch):
    # ConvexDeepReLURegressor on diabetes (one BLAS thread): a scaled cone point at the limits of
    # double precision made the Jordan division 0/0, and numpy's "invalid value encountered in
    # divide" reached the user through the driver; the iterations end with the best point
    from sklearn.exceptions import ConvergenceWarning

    from convexnn.solvers import ipm

    def zero_over_zero(scaling, s, z):
        scale, inverse = scaling(s, z)
        return 0.0 * scale, inverse  # λ = 0: the Jordan division is 0/0

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        _breaks_down_late(monkeypatch, "_nesterov_todd", ipm, zero_over_zero)


def test_a_loose_bound_on_the_dual_norms_falls_back_to_the_exact_ones(monkeypatch):
    # the multipliers' bounds on the blocks' dual norms can be loose where the gap is (ecoli at
    # alpha 1e-5: 1.1e-6 from them, 8.8e-9 from the exact norms): once the complementarity is far
    # below tol the exact norms certify instead; here the bounds that use the multipliers
    # (``known``) are inflated on purpose, the NNLS values without them are not
    from sklearn.exceptions import ConvergenceWarning

    from convexnn.solvers import ipm

    program = make_program("logistic", "relu", n=60, d=3, n_gates=10, alpha=1e-2)
    paired = ipm.paired_block_norms

    def loose(*args, known=None, **kwargs):
        found = paired(*args, known=known, **kwargs)
        return found if known is None else found * (1 + 1e-3)

    monkeypatch.setattr(ipm, "paired_block_norms", loose)
    result = ipm.solve_ipm(program)
    assert result.status == "optimal" and result.gap <= 1e-6
    exact = program.duality_gap(result.solution).gap
    assert result.gap >= exact - 1e-12  # what it reports is a certified bound
    # without the exact norms (neither for the last iterates, nor for the late ones certified
    # after the iterations, nor for the point polished on its support) the inflated bounds
    # certify nothing
    monkeypatch.setattr(ipm, "_polished", lambda *args: None)
    monkeypatch.setattr(ipm, "FULL_CERTIFICATE", 0.0)
    monkeypatch.setattr(ipm, "LATE", 0.0)
    with pytest.warns(ConvergenceWarning):
        assert ipm.solve_ipm(program).gap > 1e-6


def _largest_entry_shift(N):
    """The factorisation of ``ipm._shifted_cholesky`` before it shifted each diagonal entry
    relative to itself: the whole diagonal shifted by 1e-12 times the largest entry, then 100
    times more, until the matrix factors."""
    from scipy.linalg import cholesky

    shift = 1e-12 * float(np.max(np.abs(np.diagonal(N))))
    for _ in range(8):
        try:
            return cholesky(N, lower=False, check_finite=False)
        except np.linalg.LinAlgError:
            N[np.diag_indices_from(N)] += shift
            shift *= 100.0
    raise np.linalg.LinAlgError("not positive definite")


def test_the_best_point_is_certified_by_the_best_dual_point_of_any_iterate(monkeypatch):
    """Regression: ``ConvexReLUClassifier(solver="ipm", random_state=1)`` on
    ``make_moons(510, noise=0.2, random_state=2)`` (48 distinct patterns in two dimensions). The
    Newton directions lose their precision once the complementarity falls below ~1e-6: the
    iterate there certifies 1.3e-6, the later ones lower the objective while their own dual
    points certify only 2e-5, and the fit stopped there ('stalled', a ConvergenceWarning). The
    dual bound of the earlier iterate certifies the last one to 2.7e-7.

    Its MLP has a neuron active on every sample. Without that neuron's rows the primal form
    alone (no late dual bounds, no repeat in the Woodbury form) certified 5.4e-8 under 2, 3 or 4
    BLAS threads, and stalled at 6.1e-6 under one: the stall is at the rounding level there. With
    the rows restored it stalled at 7.0e-6 to 7.1e-6 under every thread count, which is where the
    late dual bounds are tested. Since the Newton matrices that do not factor are shifted
    relative to each diagonal entry, the directions keep their precision there and the fit
    certifies without the late bounds: the loss of precision is restored for the test by the
    shift relative to the largest entry (``_largest_entry_shift``), and the polish of a solve
    short of ``tol`` and the sooner certificate of iterates whose iteration factored the whole
    system (``WHOLE_FACTOR_CERTIFICATE``) are left out."""
    from sklearn.datasets import make_moons
    from sklearn.exceptions import ConvergenceWarning

    from convexnn import ConvexReLUClassifier
    from convexnn.solvers import ipm

    X, y = make_moons(510, noise=0.2, random_state=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = ConvexReLUClassifier(solver="ipm", random_state=1).fit(X, y)
    assert model.status_ == "optimal" and model.gap_ <= 1e-6

    def with_rows(self, copies):
        self.S2 = np.tile(2.0 * self.M - 1.0, (1, copies))
        self.free = np.zeros(self.S2.shape[1], dtype=bool)
        self.row_offset = 0.0
        self.live, self.barrier_signs = None, self.S2

    # the rows restored, and no repeat in the Woodbury form (which certifies this fit on its
    # own): the late iterates' dual bounds certify the primal form's best point ...
    monkeypatch.setattr(ipm.ReluProblem, "_set_rows", with_rows)
    monkeypatch.setattr(ipm, "BARRIER_ROWS", np.inf)  # every row in the barrier, as found
    monkeypatch.setattr(ipm.ReluProblem, "retry_form", lambda self: None)
    monkeypatch.setattr(ipm, "_shifted_cholesky", _largest_entry_shift)
    monkeypatch.setattr(ipm, "_polished", lambda *args: None)
    monkeypatch.setattr(ipm, "WHOLE_FACTOR_CERTIFICATE", 0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        assert ConvexReLUClassifier(solver="ipm", random_state=1).fit(X, y).gap_ <= 1e-6
    # ... and so do, without them, the first iterates of each decade of complementarity that a
    # solve short of tol certifies (5.2e-7) ...
    monkeypatch.setattr(ipm, "LATE", 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        assert ConvexReLUClassifier(solver="ipm", random_state=1).fit(X, y).gap_ <= 1e-6
    # ... and without both it stalls
    monkeypatch.setattr(ipm, "DECADES_FROM", 0.0)
    with pytest.warns(ConvergenceWarning):
        assert ConvexReLUClassifier(solver="ipm", random_state=1).fit(X, y).gap_ > 1e-6
    # ... unless the iterates of the iterations that factor the whole system are certified
    # sooner: one of them certifies itself
    monkeypatch.setattr(ipm, "WHOLE_FACTOR_CERTIFICATE", 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        assert ConvexReLUClassifier(solver="ipm", random_state=1).fit(X, y).gap_ <= 1e-6


def test_conjugate_gradients_recover_what_a_rough_solve_leaves():
    """The Newton solves' conjugate gradients, preconditioned by the solve of a nearby matrix
    (as the primal form's reduced solve is, where it has lost precision): the residual they
    return is the true one, below ``tol`` once they converge; none when no iteration is
    allowed."""
    from convexnn.solvers import ipm

    _conjugate_gradients = ipm._conjugate_gradients

    rng = np.random.default_rng(3)
    Q = np.linalg.qr(rng.standard_normal((60, 60)))[0]
    values = np.logspace(0, 4, 60)
    A = (Q * values) @ Q.T  # condition 1e4
    nearby = (Q / (values * (1.0 + 0.3 * rng.random(60)))) @ Q.T  # its eigenvalues off by 30 %
    rhs = rng.standard_normal((6, 10))

    def matvec(x):
        return (A @ x.ravel()).reshape(x.shape)

    def precondition(r):
        return (nearby @ r.ravel()).reshape(r.shape)

    x0 = precondition(rhs)
    rough = np.linalg.norm(rhs - matvec(x0))
    _, residual = _conjugate_gradients(matvec, precondition, rhs, x0.copy(), 1e-10, 0)
    assert residual == pytest.approx(rough) and rough > 1e-2 * np.linalg.norm(rhs)
    x, residual = _conjugate_gradients(matvec, precondition, rhs, x0.copy(), 1e-10, 50)
    assert residual == pytest.approx(np.linalg.norm(rhs - matvec(x)))
    assert residual <= 1e-10 * np.linalg.norm(rhs)
    assert np.allclose(x.ravel(), np.linalg.solve(A, rhs.ravel()), rtol=1e-6, atol=0)


def _newton_widths(monkeypatch):
    """The list the widths ``p`` of the interior point's problems (features + 1, in the
    coordinates it solves in) are appended to."""
    from convexnn.solvers import ipm

    widths = []
    init = ipm.ReluProblem.__init__

    def spy(self, Xt, *args, **kwargs):
        widths.append(Xt.shape[1])
        init(self, Xt, *args, **kwargs)

    monkeypatch.setattr(ipm.ReluProblem, "__init__", spy)
    return widths


@pytest.mark.parametrize("kind", ["squared", "logistic", "softmax"])
def test_more_features_than_samples_are_solved_in_the_row_space(kind, monkeypatch):
    """12 samples of 40 features: the Newton systems are built on the 12 coordinates of the row
    space of X (a wide problem took 57 s on its (d + 2)² blocks, and a 4-class one was refused
    for 43 GiB), the blocks come back in that row space, and the optimum is CVXPY's."""
    program = make_program(kind, "relu", n=12, d=40, n_gates=8, alpha=1e-2, seed=3)
    widths = _newton_widths(monkeypatch)
    result = solve(program, "ipm", tol=1e-8)
    assert result.status == "optimal" and widths and set(widths) == {12 + 1}
    reference = solve(program, "cvxpy", tol=1e-9).solution
    assert program.objective(result.solution) == pytest.approx(
        program.objective(reference), rel=1e-6
    )
    _, sigma, Vt = np.linalg.svd(program.X, full_matrices=True)
    null = Vt[len(sigma):]  # the directions X does not see: no weight there
    for blocks in (result.solution.U, result.solution.V):
        assert np.abs(np.einsum("jd,odk->ojk", null, blocks[:, :-1])).max() <= 1e-12 * np.abs(
            blocks
        ).max()
    assert program.network_objective(result.solution) == pytest.approx(
        program.objective(result.solution), rel=1e-10
    )


@pytest.mark.parametrize(
    "feature_scale, alpha, seed, outputs", [(1.0, 1e-6, 1, 1), (1e4, 1e-3, 0, 1), (1.0, 1e-5, 0, 2)]
)
def test_a_small_alpha_relative_to_the_targets_is_certified(feature_scale, alpha, seed, outputs):
    """The Woodbury form's last directions lost their precision at a small alpha relative to the
    targets (features of order 1e4 at alpha 1e-3 are the same program as order 1 at 1e-7): one
    step threw the iterate off the central path (dual residual 1e-10 to 1e-2), the steps that
    followed were a few thousandths long, and the default regressor ran its 100 iterations to a
    certified gap of 0.97 (J 3× the optimum's) or 1.0 (J 10⁴× it); with two outputs (the
    shared program) it stalled at 4e-2 and CVXPY's second opinion took 12 s. The stall is now
    detected after a few iterations and the program solved again in the primal form."""
    from convexnn import ConvexReLURegressor

    rng = np.random.default_rng(1 if outputs == 1 else 5)
    X = rng.standard_normal((300, 5))
    y = X[:, 0] + 0.1 * np.sin(3 * X[:, 1])
    if outputs == 2:
        y = np.c_[X[:, 0] ** 2, np.sin(X[:, 1])]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = ConvexReLURegressor(alpha=alpha, random_state=seed).fit(X * feature_scale, y)
    assert model.solver_ == "ipm" and model.gap_ <= 1e-6


@pytest.mark.parametrize("kind", ["squared", "logistic"])
def test_the_primal_data_term_is_formed_again_only_when_the_curvature_changes(kind, monkeypatch):
    """The squared loss's curvature is constant: its primal data term ``(1/n) JᵀP_cJ`` is formed
    once per solve (it cost 40 % of each iteration on 20,000 samples); the logistic loss's
    changes with every iterate, and so is formed at every factorisation."""
    from convexnn.solvers import ipm

    program = make_program(kind, "relu", n=400, d=2, n_gates=10, alpha=1e-2)
    assert ipm.newton_form(400, 2, program.n_patterns) == "primal"
    formed, factored = [], []
    data_term, factor = ipm.ReluProblem._data_term, ipm.ReluProblem.factor
    monkeypatch.setattr(ipm.ReluProblem, "_data_term",
                        lambda self, *a: formed.append(1) or data_term(self, *a))
    monkeypatch.setattr(ipm.ReluProblem, "factor",
                        lambda self, *a: factored.append(1) or factor(self, *a))
    result = solve(program, "ipm", tol=1e-8)
    assert result.status == "optimal" and len(factored) > 5
    assert len(formed) == (1 if kind == "squared" else len(factored))


def test_collinear_features_are_solved_in_the_row_space(monkeypatch):
    """Two of six features are sums of the others (rank 4): the Newton systems are built on
    the 4 coordinates of the row space, and the optimum is CVXPY's. Full-rank data keeps its
    coordinates (the same iterates as before)."""
    from convexnn.patterns import sample_patterns

    program = make_program("logistic", "relu", n=60, d=4, n_gates=8, alpha=1e-2, seed=2)
    X = np.column_stack([program.X, program.X[:, 0] + program.X[:, 1], program.X[:, 2]])
    patterns = sample_patterns(X, 8, random_state=2)
    wide = ConvexProgram(X, program.Y, patterns, "logistic", 1e-2, "relu")
    widths = _newton_widths(monkeypatch)
    result = solve(wide, "ipm", tol=1e-8)
    assert result.status == "optimal" and set(widths) == {4 + 1}
    reference = solve(wide, "cvxpy", tol=1e-9).solution
    assert wide.objective(result.solution) == pytest.approx(wide.objective(reference), rel=1e-6)
    widths.clear()
    assert solve(program, "ipm", tol=1e-8).status == "optimal" and set(widths) == {4 + 1}


@pytest.mark.parametrize("kind", ["squared", "logistic", "softmax"])
@pytest.mark.parametrize("offset", [1e3, 1e5])
def test_features_far_from_the_origin_are_centred(kind, offset):
    """The same program on ``X`` and on ``X + offset`` (the gates moved with it): the hidden
    biases are not penalised and carry the shift, so both have the same optimum. Solved on the
    raw features, the bias was all but collinear with them and the iterations stalled (XOR
    labels offset by 1e5: a certified gap of 6e-4); they are solved centred, and the blocks
    come back in the input space, their network exact."""
    from convexnn.patterns import Patterns

    program = make_program(kind, "relu", n=80, d=3, n_gates=15, alpha=1e-2, seed=4)
    shift = offset * np.array([1.0, -0.5, 2.0])
    gates = program.patterns.gates.copy()
    gates[-1] -= shift @ gates[:-1]
    far = ConvexProgram(program.X + shift, program.Y, Patterns(gates, program.masks),
                        program.loss, program.alpha, "relu")
    near = solve(program, "ipm", tol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = solve(far, "ipm", tol=1e-8)
    assert near.status == result.status == "optimal"
    assert far.duality_gap(result.solution).gap <= 1e-7
    assert far.objective(result.solution) == pytest.approx(
        program.objective(near.solution), rel=1e-7
    )
    assert far.network_objective(result.solution) == pytest.approx(
        far.objective(result.solution), rel=1e-9
    )


def _plain_soc_step(x, dx):
    """The step of :func:`~convexnn.solvers.ipm._soc_step` by bisection on each cone: the
    largest ``a`` with ``x + a·dx`` in the cone (capped at 2), then the fraction, at most 1."""
    from convexnn.solvers import ipm

    def inside(z):
        return z[0] >= np.linalg.norm(z[1:])

    steps = []
    for xi, di in zip(x, dx, strict=True):
        low, high = 0.0, 2.0
        if inside(xi + high * di):
            steps.append(high)
            continue
        for _ in range(200):
            mid = (low + high) / 2
            low, high = (mid, high) if inside(xi + mid * di) else (low, mid)
        steps.append(low)
    return min(1.0, ipm.FRACTION * min(steps))


def test_step_to_the_boundary_of_the_second_order_cones_matches_bisection():
    """``_soc_step`` against bisection: random interior points and directions, and directions
    with no component along the axis from points on it. For those the quadratic's middle
    coefficient is zero, and ``np.sign(0) = 0`` lost the root: the step was 1 whatever the
    direction's length, and the iterate left the cone (the default classifier on 1,000
    samples with 5 positive labels: the regression test below)."""
    from convexnn.solvers import ipm

    rng = np.random.default_rng(2)
    x = rng.standard_normal((40, 6))
    x[:, 0] = np.linalg.norm(x[:, 1:], axis=1) * rng.uniform(1.01, 3.0, 40)
    for scale in (0.1, 1.0, 10.0):
        dx = scale * rng.standard_normal((40, 6))
        assert ipm._soc_step(x, dx) == pytest.approx(_plain_soc_step(x, dx), rel=1e-9)
    axis = np.zeros((3, 6))
    axis[:, 0] = [1.0, 0.5, 2.0]
    across = np.zeros((3, 6))
    across[:, 1:] = rng.standard_normal((3, 5))
    across[:, 1:] *= 2.0 / np.linalg.norm(across[:, 1:], axis=1, keepdims=True)
    step = ipm._soc_step(axis, across)
    assert step == pytest.approx(_plain_soc_step(axis, across), rel=1e-9)
    assert step == pytest.approx(ipm.FRACTION * 0.25, rel=1e-12)  # the point at 0.5, moved by 2


@pytest.mark.parametrize(("seed", "threshold"), [(0, 2.3), (0, 2.6)])
def test_the_default_classifier_certifies_rare_positive_labels(seed, threshold):
    """A few positive labels among 1,000 samples (9 and 5). Most samples are then fitted with
    confidence, and the logistic loss's Hessian barely sees their curvature: at (0, 2.3) the
    undamped Newton steps took the objective from 0.05 to 4e7, and the interior point returned
    nothing usable (its step is now damped where the loss's quadratic model fails,
    ``ipm._model_error``). At (0, 2.6) a step left a cone (``_soc_step``). Both then fell back
    to CVXPY, the first to an inaccurate gap of 1e-3."""
    from sklearn.exceptions import ConvergenceWarning

    from convexnn import ConvexReLUClassifier

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((1000, 5))
    y = (X[:, 0] > threshold).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.simplefilter("error", UserWarning)
        model = ConvexReLUClassifier(random_state=seed).fit(X, y)
    assert model.solver_ == "ipm" and model.gap_ <= model.tol
    rate = y.mean()  # the zero network's J: the labels' entropy, at the best intercept
    assert model.objective_ < -rate * np.log(rate) - (1 - rate) * np.log(1 - rate)


@pytest.mark.parametrize("form", ["dual", "primal"])
@pytest.mark.parametrize("kind", ["logistic", "softmax"])
def test_single_precision_far_from_the_optimum_keeps_the_certificate(kind, form, monkeypatch):
    """While the complementarity is far above ``tol`` the Woodbury form builds its Gram matrices,
    and the primal form factors its reduced systems, in single precision (``ipm.COARSE``); the
    refinement against the exact matrix must make up for it: the same certified optimum as the
    double-precision iterations."""
    from scipy.linalg import blas

    import convexnn.solvers.ipm as interior_point
    from convexnn.shared import SharedNeuronProgram

    program = make_program(kind, "relu", n=200, d=5, n_gates=30, alpha=1e-3)
    if kind == "softmax" and form == "primal":  # the form of K outputs that share neurons
        directions = np.random.default_rng(0).standard_normal(
            (program.n_outputs, program.n_patterns))
        program = SharedNeuronProgram(program.X, program.Y, program.patterns, directions,
                                      "softmax", 1e-3)
    monkeypatch.setattr(interior_point, "newton_form", lambda *args: form)
    monkeypatch.setattr(interior_point, "shared_newton_form", lambda *args: form)
    monkeypatch.setattr(interior_point, "COARSE", np.inf)  # double precision throughout
    reference = solve(program, "ipm")
    taken = []  # the precision of every Gram matrix (Woodbury) or reduced factor (primal)
    ssyrk, dsyrk, cholesky = blas.ssyrk, blas.dsyrk, interior_point.cholesky

    def spied_syrk(original, precision):
        def syrk(*args, **kwargs):
            taken.append(precision)
            return original(*args, **kwargs)
        return syrk

    def spied_cholesky(a, *args, **kwargs):
        taken.append("single" if a.dtype == np.float32 else "double")
        return cholesky(a, *args, **kwargs)

    monkeypatch.setattr(interior_point, "COARSE", 1e-2)
    monkeypatch.setattr(interior_point, "COARSE_FLOPS", 0)  # at any size
    if form == "dual":
        monkeypatch.setattr(interior_point.blas, "ssyrk", spied_syrk(ssyrk, "single"))
        monkeypatch.setattr(interior_point.blas, "dsyrk", spied_syrk(dsyrk, "double"))
    else:
        monkeypatch.setattr(interior_point, "cholesky", spied_cholesky)
    coarse = solve(program, "ipm")
    # the first iterations took single precision, the last double
    assert taken[0] == "single" and taken[-1] == "double"
    assert reference.status == coarse.status == "optimal"
    assert coarse.gap <= 1e-6
    primal = [program.objective(r.solution) for r in (reference, coarse)]
    assert primal[1] == pytest.approx(primal[0], rel=2e-6)


def test_a_matrix_that_does_not_factor_is_shifted_relative_to_each_diagonal_entry():
    """``_shifted_cholesky`` on a matrix that rounding leaves indefinite, whose diagonal spans
    twelve orders of magnitude (as the barrier's does in its last iterations): the factor is
    that of the matrix with every diagonal entry raised by a small fraction of itself. A shift
    relative to the largest entry (1e-12 of it) doubled the smallest ones, and refinement
    against the exact matrix then converged too slowly to keep the Newton directions precise."""
    from convexnn.solvers import ipm

    rng = np.random.default_rng(0)
    m = 40
    v = rng.standard_normal(m)
    M = np.eye(m) - (1.0 + 1e-13) * np.outer(v, v) / (v @ v)  # one eigenvalue at −1e-13
    D = np.logspace(-1, 5, m)
    N = D[:, None] * M * D[None, :]
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.cholesky(N)
    R = ipm._shifted_cholesky(N.copy())
    E = R.T @ R - N
    scale = np.sqrt(np.outer(np.diagonal(N), np.diagonal(N)))
    off = E - np.diag(np.diagonal(E))
    assert np.max(np.abs(off) / scale) < 1e-12
    assert np.all(np.diagonal(E) >= 0) and np.any(np.diagonal(E) > 0)
    assert np.max(np.diagonal(E) / np.diagonal(N)) < 1e-9


def test_many_classes_beyond_the_woodbury_form_certify(monkeypatch):
    """Regression: the default classifier on ``make_blobs(900, n_features=4, centers=9,
    random_state=3)``. Its shared program (nK = 8,100 rows, too many for the Woodbury form) is
    solved in the primal form, whose last Newton systems no longer factored: the diagonal shift
    relative to the largest entry left refinement short of precision, the directions threw the
    iterates off the central path, and the fit stopped 'stalled' at a certified gap of 2.6e-4
    (one BLAS thread) with no other form to repeat it in. The shift relative to each diagonal
    entry brings the first solve to 7.8e-6, and the repeat with strict reduced solves
    (``PRIMAL_STRICT``) certifies it; the polish of a solve short of ``tol``, which certifies
    the first solve on its own, is left out here."""
    from sklearn.datasets import make_blobs
    from sklearn.exceptions import ConvergenceWarning

    from convexnn import ConvexReLUClassifier
    from convexnn.solvers import ipm

    monkeypatch.setattr(ipm, "_polished", lambda *args: None)
    X, y = make_blobs(900, n_features=4, centers=9, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = ConvexReLUClassifier(random_state=3).fit(X, y)
    assert model.solver_ == "ipm" and model.status_ == "optimal" and model.gap_ <= model.tol


def _recorded_solves(monkeypatch):
    """The list that every ``ipm._solve_output`` (one interior-point solve, first or repeat)
    appends its result to."""
    from convexnn.solvers import ipm

    solves, original = [], ipm._solve_output

    def recorded(*args, **kwargs):
        solves.append(original(*args, **kwargs))
        return solves[-1]

    monkeypatch.setattr(ipm, "_solve_output", recorded)
    return solves


def test_a_stop_worse_than_the_zero_network_is_not_polished(monkeypatch):
    """Regression (tests/fuzz_regressions/ipm-polishes-points-far-worse-than-the-zero-network-*):
    on six samples with features of scales 1e-8 to 1e8 (126 blocks of the exact sampler) each of
    the first output's four forms stopped after 7 iterations at an objective 1e11 times the zero
    network's, and each was polished for 3-4 s to no use; ``solver="ipm"`` then raised. Such a
    stop is not polished now, and the zero network, a point of every program, replaces it where
    its gap is smaller: the fit answers with a network no worse than the zero network's."""
    from fuzzing import REGRESSIONS, load_case

    import convexnn.solvers.ipm as interior_point

    case = load_case(REGRESSIONS / "ipm-polishes-points-far-worse-than-the-zero-network-multi.npz")
    polished, polish = [], interior_point._polished

    def recorded(problem, W, Z):
        value = problem.objective(problem.products(W), np.linalg.norm(W[:, :-1], axis=1))
        zero = problem.objective(problem.products(0 * W), np.zeros(W.shape[0]))
        polished.append((value, zero))
        return polish(problem, W, Z)

    monkeypatch.setattr(interior_point, "_polished", recorded)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = case.estimator(**case.params).fit(case.X, case.y)
        zero_model = case.estimator(**{**case.params, "alpha": 1e6}).fit(case.X, case.y)
    assert all(value <= zero for value, zero in polished)
    assert model.objective_ <= zero_model.objective_ * (1 + 1e-9)


def test_the_polishes_of_one_solve_share_one_budget(monkeypatch):
    """Regression (tests/fuzz_regressions/ipm-polishes-every-form-on-a-budget-of-its-own): seven
    samples of five features (near-duplicate rows, a constant feature), the exact sampler's 105
    patterns, ``solver="ipm"``, logistic loss. The interior point stalls at a certified gap of
    0.02 in each of its four forms, and each stop was polished on a flop budget of its own, 2.5
    s each to no avail: 12.6 s for seven samples. The polishes of one output's solves now
    share one budget: 5.1 s, the same gap."""
    from fuzzing import REGRESSIONS, load_case

    import convexnn.solvers.ipm as interior_point

    case = load_case(REGRESSIONS / "ipm-polishes-every-form-on-a-budget-of-its-own.npz")
    budgets, polish = [], interior_point._polished
    # with its thin cones left out after the first stop the case certifies and no repeat is
    # polished (test_cones_thinner_than_rounding_are_left_out_after_a_stop_short_of_tol): they stay in here
    monkeypatch.setattr(interior_point, "thin_cones",
                        lambda Xt, masks, gates: np.zeros(masks.shape[1], dtype=bool))

    def recorded(problem, W, Z):
        budgets.append(problem.polish_budget)
        return polish(problem, W, Z)

    monkeypatch.setattr(interior_point, "_polished", recorded)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        case.estimator(**case.params).fit(case.X, case.y)
    assert len(budgets) >= 2  # a polish after the first form's solve and after a repeat
    assert budgets[0] == interior_point.POLISH_MAX_FLOPS
    assert all(later <= earlier for earlier, later in zip(budgets, budgets[1:], strict=False))
    assert budgets[-1] < budgets[0]


def test_a_solve_short_of_tol_is_polished_on_its_support(monkeypatch):
    """Regression: ``make_blobs(900, n_features=4, centers=9, random_state=8)``, the default
    classifier, one BLAS thread. The interior point's last directions lose their precision:
    its best point certified 1.9e-6 (1.5e-6 under two BLAS threads), the strict repeat no
    better, and the fit stopped 'stalled'. Newton's method on the program restricted to the
    iterate's support (``ipm._polished``) takes the first solve to a certified gap of 1e-13.

    Much of that 1.9e-6 was the certificate's own: the softmax intercept behind its dual point
    stopped once its optimality condition was below ``1e-13 n``, and the term ``c·1ᵀθ`` this
    leaves counts against the gap. Solved to the rounding of that sum
    (:func:`convexnn.kernels.softmax_intercept`), the interior point's points certify without
    the polish too (4.2e-7 after a repeat in the other form; under two threads its first solve
    certifies 2.5e-7 on its own).

    Whether the first solve stops short of the default ``tol`` depends on the BLAS kernels'
    rounding (OpenBLAS's Haswell kernels, on AMD EPYC: it certifies 3.4e-7 on its own), so the
    polish is asked for by ``tol=1e-9``: the interior point's first solve certifies 5e-6 there
    and only the polish (to 1e-12) meets it; without the polish the fit at ``tol=1e-9`` stalls,
    after its repeats, at 3e-6 whatever the kernels."""
    from sklearn.datasets import make_blobs
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    from convexnn import ConvexReLUClassifier
    from convexnn.solvers import ipm

    X, y = make_blobs(900, n_features=4, centers=9, random_state=8)
    solves = _recorded_solves(monkeypatch)
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("error", ConvergenceWarning)
        model = ConvexReLUClassifier(random_state=8, tol=1e-9).fit(X, y)
        assert len(solves) == 1 and model.status_ == "optimal" and model.gap_ <= 1e-9
        monkeypatch.setattr(ipm, "_polished", lambda *args: None)
        model = ConvexReLUClassifier(random_state=8).fit(X, y)
    assert model.status_ == "optimal" and model.gap_ <= model.tol


def test_the_polish_certifies_features_of_scales_far_apart():
    """Regression: on features of scales 1e5, 1 and 1e3 the polish's Newton steps stopped short of
    what the certificate needs. Its restricted Hessian, not equilibrated, had directions whose
    curvature looked a hundred times below the rest of the features' and were taken for flat,
    and it stopped once the Newton decrement was within the objective's rounding. But a block's
    dual norm cancels terms far larger than ``alpha``, so the gap needs the gradient far smaller
    than that: on Ecdat::SumHes as published (R, 2,250 samples: populations, incomes and savings
    rates) the default classifier stopped at a certified gap of 1.02e-6, and its polish made it
    worse. Here the interior point stalls at 7e-7 (6e-7 with OpenBLAS's SkylakeX kernels) after
    its repeats, short of ``tol=1e-9``; polished on equilibrated Hessians, with full Newton steps
    while the gradient halves, the first solve certifies 2e-11."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((400, 3))
    y = (X[:, 0] + X[:, 1] ** 2 - 1 + 0.5 * rng.standard_normal(400) > 0).astype(float)
    X *= [1e5, 1.0, 1e3]
    program = ConvexProgram(X, y[:, None], sample_patterns(X, 30, random_state=2), "logistic",
                            1e-3, "relu")
    result = solve(program, "ipm", tol=1e-9)
    assert result.status == "optimal"
    assert result.gap <= 1e-9


def test_the_polish_releases_a_row_whose_multiplier_is_negative(monkeypatch):
    """Regression: the default regressor on 6,000 samples of 3 features (``sin(2x₁)x₂`` plus
    noise). The first solve stopped at a certified gap of 4.1e-6; polished with every row it met
    held as an equality, it reached 1.02e-6, as did the repeat in the primal form, and the
    Woodbury form's repeat (6,000 × 6,000 factorisations) certified: 136 s in all. Three blocks
    held a row whose multiplier was negative; released, the polish certifies the first solve
    (6 s). One BLAS thread throughout: the patterns come from the MLP sampler, whose last digits
    depend on the thread count (under two threads the first solve certifies on its own)."""
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    from convexnn import ConvexReLURegressor

    rng = np.random.default_rng(0)
    rng.standard_normal((600, 4))
    rng.standard_cauchy(600)
    X = rng.standard_normal((6000, 3))
    y = np.sin(2 * X[:, 0]) * X[:, 1] + 0.1 * rng.standard_normal(6000)
    solves = _recorded_solves(monkeypatch)
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("error", ConvergenceWarning)
        model = ConvexReLURegressor(random_state=0).fit(X, y)
    assert len(solves) == 1 and model.status_ == "optimal" and model.gap_ <= model.tol


def test_the_polish_goes_down_the_slope_where_the_objective_has_no_curvature(monkeypatch):
    """Regression: ``make_blobs(2000, n_features=2, centers=6, cluster_std=0.3,
    random_state=0)``, the default classifier, one BLAS thread. Polished by Newton steps alone
    (the directions without curvature left out), the first solve stopped at a restricted point
    whose stationarity missed by 4e-6 α along such a direction: certified 5.7e-6, the repeat
    too, and the fit 'stalled' at 3.8e-6. Along those directions the objective falls linearly;
    the polish now follows that slope as far as a row or a block's zero allows, and certifies
    the first solve to 7e-12. With OpenBLAS's Haswell kernels (AMD EPYC) the first solve
    certifies 5e-8 on its own at the default ``tol``, so the polish is asked for by ``tol=1e-9``:
    the interior point's points certify 9e-6 at best there, the polish 6e-11."""
    from sklearn.datasets import make_blobs
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    from convexnn import ConvexReLUClassifier

    X, y = make_blobs(2000, n_features=2, centers=6, cluster_std=0.3, random_state=0)
    solves = _recorded_solves(monkeypatch)
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("error", ConvergenceWarning)
        model = ConvexReLUClassifier(random_state=0, tol=1e-9).fit(X, y)
    assert len(solves) == 1 and model.status_ == "optimal" and model.gap_ <= 1e-9


def _certifies_standardised_blobs(monkeypatch, n, d, centers, seed, every_row=False, **params):
    """The default classifier (with ``params``) on a standardised ``make_blobs(n, d,
    centers=centers, random_state=seed)``, one BLAS thread: its first solve certifies, with no
    warning. ``every_row``: with every row in the barrier from the start (``BARRIER_ROWS``), the
    interior point these regressions of the polish were found with; with the rows the barrier
    selects, its own iterates certify them (no polish runs)."""
    from sklearn.datasets import make_blobs
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    from convexnn import ConvexReLUClassifier
    from convexnn.solvers import ipm

    if every_row:
        monkeypatch.setattr(ipm, "BARRIER_ROWS", np.inf)
    X, y = make_blobs(n, n_features=d, centers=centers, random_state=seed)
    X = StandardScaler().fit_transform(X)
    solves = _recorded_solves(monkeypatch)
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("error", ConvergenceWarning)
        model = ConvexReLUClassifier(random_state=0, **params).fit(X, y)
    assert len(solves) == 1 and model.status_ == "optimal"
    return model


@pytest.mark.parametrize("seed, before", [(13, 2.2e-6), (3, 3.3e-6)])
def test_the_polish_zeroes_blocks_and_lets_the_ones_the_optimum_needs_back_in(
    monkeypatch, seed, before
):
    """Regression: the default classifier on a standardised ``make_blobs(400, 6, centers=20)``
    (one BLAS thread) stalled on 4 of 5 seeds. Its 95 patterns share their neurons over 20
    outputs; the interior point's last directions lose their precision, and its best points
    certify only 1e-6-1e-5. Two things held the polish back:

    - a step that takes a block towards zero along its own ray met a point above the current
      objective at the block's zero, and was halved again and again (200 steps, the block never
      left the support): the point with the block itself at zero is now tried;
    - on ``random_state=3`` the polished support lacked a block the optimum needs (pattern 86,
      active on every sample, whose dual norm then exceeded n·α by 5e-6): the block out of the
      support along which the objective falls fastest now joins it.

    ``before`` is the certified gap each fit stopped at ('stalled', after a repeat)."""
    model = _certifies_standardised_blobs(monkeypatch, 400, 6, 20, seed, every_row=True)
    assert model.gap_ <= 1e-8 < before


@pytest.mark.parametrize("tol", [1e-6, 1e-7])
def test_the_polish_budget_covers_a_polish_of_a_hundred_steps(monkeypatch, tol):
    """Regression: the default classifier on a standardised ``make_blobs(400, 6, centers=30,
    random_state=2)`` (one BLAS thread) stalled at a certified gap of 1.8e-6 after a repeat,
    17 s. Its polish, 12,000 coupled rows and about 550 unknowns at first, needs about 110 steps
    of 4e9 flops; ``POLISH_MAX_FLOPS`` (then 3e10) stopped it after 12. With 1.5e11 the first
    solve certifies.

    Whether the polish runs at all depends on the BLAS's rounding: with OpenBLAS's Haswell
    kernels the interior point certifies 9.4e-7 on its own, and this test, which asserted a
    gap of at most 1e-8 (the polish's), failed there with a certified fit. So it asserts that
    gap wherever a polish ran, and at ``tol=1e-7``, which the interior point's own iterates do
    not certify here, a polish must run on every BLAS."""
    from convexnn.solvers import ipm

    polishes, original = [], ipm._polished

    def recorded(*args):
        polishes.append(original(*args))
        return polishes[-1]

    monkeypatch.setattr(ipm, "_polished", recorded)
    model = _certifies_standardised_blobs(monkeypatch, 400, 6, 30, 2, every_row=True, tol=tol)
    assert polishes or tol == 1e-6
    assert model.gap_ <= (1e-8 if polishes else tol)


def test_the_polish_merges_the_two_blocks_of_a_pattern_into_one(monkeypatch):
    """Regression: the default classifier on a standardised ``make_blobs(800, 12, centers=20,
    random_state=5)`` (one BLAS thread) stalled at a certified gap of 1.2e-6 after a repeat,
    36 s. Most of its patterns are active on every sample and carry both ``u_k`` and ``v_k``;
    the polish spent each of its steps (16 within its budget, 900 unknowns) taking one of such
    a pair to zero along the direction without curvature that joins them. Each pair is now
    replaced by its difference in one block (the same outputs, a penalty no higher), and the
    first solve certifies."""
    model = _certifies_standardised_blobs(monkeypatch, 800, 12, 20, 5, every_row=True)
    assert model.gap_ <= 1e-8


def test_the_polish_starts_without_equalities_its_block_does_not_nearly_meet(monkeypatch):
    """Regression: the default classifier on a standardised ``make_blobs(400, 6, centers=20,
    random_state=8)`` (one BLAS thread) stalled at a certified gap of 3.3e-6 after a repeat,
    20 s. The polish held as equalities rows whose slack at the interior point's last iterate
    was small against its multiplier but not near zero: projected onto them, the blocks moved
    far enough to raise the objective from 0.48743 to 0.52345, and the polish ended at a
    certified gap of 1e-3. A block that its equalities would move by more than ``MISPLACED``
    (1e-3) of its norm now starts without them, and the first solve certifies."""
    model = _certifies_standardised_blobs(monkeypatch, 400, 6, 20, 8, every_row=True)
    assert model.gap_ <= 1e-8

def test_the_polish_holds_the_rows_a_block_nearly_meets_even_at_its_apex():
    """Regression: a block whose equalities would move it by more than ``MISPLACED`` of its norm
    started the polish without any of them, though it met them all to 2e-6 of its norm and they
    pinned it to zero, the apex of its cone. On 40,000 samples of ``make_friedman1`` (the long
    test below) the polish then spent its budget adding them back one step at a time and the fit
    stopped at a certified gap of 1.36e-6. Only the rows a block does not nearly meet are
    dropped now: here block 0 meets three independent rows to 1e-7 of its norm (the fourth is
    far), block 1 one row (the other is far)."""
    import convexnn.solvers.ipm as interior_point
    from convexnn.losses import get_loss

    X = np.array([[1e-7, 0.5], [1e-7, -0.5], [3e-7, 0.1], [1.0, 0.2], [-1.0, 0.3], [-0.5, -0.4],
                  [0.2, 1e-8]])
    Xt = add_bias_column(X)
    M = np.column_stack([X[:, 0] >= 0, X[:, 1] >= 0])  # patterns of (1, 0, 0) and (0, 1, 0)
    problem = interior_point.ReluProblem(Xt, M, np.zeros((7, 1)), 1e-2, get_loss("squared"))
    W = np.zeros((problem.n_blocks, 3))
    W[0, 0], W[1, 1] = 1e-4, 1.0
    signed = problem.products(W) * problem.S2
    assert np.all(signed[:, :2] >= 0)  # both blocks in their cones
    tight = {0: {0, 1, 2, 3}, 1: {3, 6}}
    start = interior_point._polish_start(problem, W, signed, [0, 1], tight)
    assert tight == {0: {0, 1, 2}, 1: {6}}
    np.testing.assert_allclose(start[0], 0.0, atol=1e-15)  # its three rows meet only at zero
    np.testing.assert_allclose(start[1], W[1], atol=1e-7)  # its one row nearly met already
    assert np.all(start[2:] == 0)


@pytest.mark.long
def test_the_default_regressor_certifies_forty_thousand_samples_within_its_budget():
    """The default regressor on 40,000 samples of a standardised ``make_friedman1`` (8 features,
    noise 0.5): after the first 50 Newton iterations the complementarity falls by about a tenth
    an iteration (steps of 0.02-0.8, limited by rows of the active blocks), and the budget of
    100 iterations ended at a certified gap of 8.8e-6 with a ConvergenceWarning. The default
    budget now goes on while the complementarity is within ``FINISHING`` times ``tol``: the
    iterations stall after 118 and the polished point certifies (about 5 minutes on one
    core). It ended at 1.36e-6 again while the polish started the blocks whose equalities took
    them to zero without any (``ipm.MISPLACED``): their rows were met to 2e-6 of their norms,
    and the polish spent its budget adding them back one step at a time."""
    from sklearn.datasets import make_friedman1
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    from convexnn import ConvexReLURegressor

    X, y = make_friedman1(40_000, 8, noise=0.5, random_state=0)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = ConvexReLURegressor(random_state=0).fit(X, y)
    assert model.status_ == "optimal" and model.gap_ <= 1e-6
    assert model.n_iter_ > 100


@pytest.mark.long
def test_the_exact_certificate_of_forty_thousand_samples_takes_the_active_rows_first():
    """The default classifier on a standardised binary ``make_classification(40000, 12)``: its
    exact certificates (no multiplier bounds) ran one NNLS over all 40,000 rows per block and
    sign, seconds each near the optimum, and the fit had not finished after 25 minutes. They now
    take the rows of the largest multipliers first, every row only where that value exceeds
    ``n·alpha``: the fit certifies in about 10 minutes on one core (109 Newton iterations)."""
    from sklearn.datasets import make_classification
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    from convexnn import ConvexReLUClassifier

    X, y = make_classification(40_000, 12, n_informative=10, random_state=0)
    X = StandardScaler().fit_transform(X)
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = ConvexReLUClassifier(random_state=0).fit(X, y)
    assert model.status_ == "optimal" and model.gap_ <= 1e-6


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_features_of_scales_1e_minus_3_to_1e3_are_certified_at_a_small_alpha(seed):
    """150 samples of 30 features scaled by 1e-3–1e3 and offset by 1–100, ``alpha=1e-4``: on
    one 31 × 31 block of the summed inverses (eigenvalues 4e4–4e7) numpy's ``eigh`` did not
    converge, the Newton matrix was taken as unfactorable, and the default classifier stopped
    at certified gaps of 0.13, 0.73 and 0.97 (``random_state`` 0, 1, 2;
    ``convexnn._linalg.eigh``)."""
    from sklearn.datasets import make_classification
    from sklearn.exceptions import ConvergenceWarning

    from convexnn import ConvexReLUClassifier

    rng = np.random.default_rng(9)
    rng.integers(0, 4, size=2)  # (draws that chose the shape among others)
    X, y = make_classification(150, 30, n_informative=3, n_redundant=0, random_state=9)
    X = X * 10.0 ** rng.integers(-3, 4, size=30) + 10.0 ** rng.integers(0, 3, size=30)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = ConvexReLUClassifier(alpha=1e-4, random_state=seed).fit(X, y)
    assert model.status_ == "optimal" and model.gap_ <= model.tol
    assert model.objective_ < np.log(2)  # below the zero network's J


def test_a_certified_gap_that_crawls_far_above_tol_earns_no_finishing_iterations():
    """Regression: the finishing iterations past the budget went to every iterate whose
    complementarity was within ``FINISHING`` times ``tol``. The default regressor on statsmodels'
    ``star98`` as shipped (features of scales 0.6 to 1.2e4) spent all 100 of them at a
    complementarity of 1e-9 while its certified gap, limited by its dual residual, crawled from
    8.4e-3 to 6.0e-4, and CVXPY's second opinion certified the program after them all the same
    (348 s instead of 203 s)."""
    from convexnn.solvers.ipm import FALL, FINISHING, in_last_decades

    tol = 1e-6
    # star98 at its 100th iteration, its gap certified for many iterations before, and falling
    # by a fraction of one per cent each
    assert not in_last_decades(1e-9, 8.4e-3, tol, earlier=8.6e-3)
    # a gap above the limit that falls FALL times within the window earns them, as does a first
    # certificate (the records below: 2.0e-4 at complementarity 7.5e-7, 5.9e-7 ten later)
    assert in_last_decades(7.5e-7, 2.0e-4, tol)
    assert in_last_decades(1e-9, 8.4e-3, tol, earlier=FALL * 8.4e-3)
    assert not in_last_decades(1e-9, 8.4e-3, tol, earlier=0.9 * FALL * 8.4e-3)
    assert in_last_decades(8.9e-6, 8.8e-6, tol)  # the 40,000-sample regression above
    assert in_last_decades(1e-9, np.inf, tol)  # none certified yet: the benefit of the doubt
    assert not in_last_decades(1e-3, np.inf, tol)
    assert in_last_decades(FINISHING * tol, FINISHING * tol, tol)


def _records(seed, n):
    """Features as a survey publishes them (ages, counts, incomes of order 1e4, an offset one of
    order 1e5, a flag) and labels from a logistic model of them: a classification program of a
    small effective ``alpha`` at the default one."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([
        rng.normal(40, 10, n), rng.integers(0, 6, n), rng.lognormal(9, 1, n),
        rng.normal(0, 1, n), rng.normal(2e5, 9e4, n), rng.integers(0, 2, n),
    ])
    z = ((X[:, 0] - 40) / 10 + np.log(X[:, 2]) - 9 - 0.5 * X[:, 1] + X[:, 3]
         + (X[:, 4] - 2e5) / 9e4 * X[:, 5])
    return X, (z + rng.logistic(size=n) > 0).astype(int)


@pytest.mark.parametrize("threads", [1, 2])
def test_a_small_program_that_crawls_past_a_hundred_iterations_certifies(threads):
    """A program of at most ``SMALL_PROGRAM_SIZE`` entries gets ``SMALL_MAX_ITER`` (200) Newton
    iterations a form, larger ones ``MAX_ITER`` (100). On features as published (scales 1 to
    1e5) the default classifier's solves crawl with short steps for about a hundred iterations
    before they converge: with 100 this one stopped at a certified gap of 0.999 and CVXPY's
    second opinion at 0.11 (R's Ecdat::HI alike: 0.24, certified after 101-115 iterations).

    Regression, two BLAS threads (the suite's workers keep to one): their rounding had the
    repeat first certify 2.0e-4, complementarity 7.5e-7, in its 104th iteration; a certified gap
    above ``FINISHING`` times ``tol`` earned no finishing iterations, and it stopped there,
    warning. A gap that falls fast earns them now (:func:`in_last_decades`)."""
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    from convexnn import ConvexReLUClassifier
    from convexnn.solvers.ipm import MAX_ITER, SMALL_MAX_ITER, SMALL_PROGRAM_SIZE, default_budget

    X, y = _records(1, 400)
    with threadpool_limits(limits=threads), warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = ConvexReLUClassifier(random_state=0).fit(X, y)
    assert model.status_ == "optimal" and model.solver_ == "ipm"
    assert MAX_ITER < model.n_iter_ <= 2 * SMALL_MAX_ITER
    small = make_program("logistic", "relu", n=400, d=6, n_gates=100)
    assert default_budget(small) == SMALL_MAX_ITER
    large = make_program("logistic", "relu", n=SMALL_PROGRAM_SIZE // 70 + 1, d=6, n_gates=10)
    assert large.n_patterns == 10 and default_budget(large) == MAX_ITER


def test_an_iterate_that_rounding_puts_out_of_its_cones_is_certified_before_it_is_dropped():
    """Regression: the family ``raw-scales-regression`` of ``benchmarks/random_problems.py``,
    seed 41 (400 samples of ``make_friedman1`` with 30 features, each times 1e-3 to 1e3 and
    offset by 1 to 100). Near the optimum the interior point's last full step left some
    blocks' bounds ``t_b`` below ``‖w_b‖`` by rounding; the iterations ended there and the point
    before it was kept, certified at 1.7e-6 with a warning. The blocks of that last iterate are
    a point of the program all the same (its rows hold): certified, 1.3e-7."""
    from sklearn.datasets import make_friedman1
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    from convexnn import ConvexReLURegressor

    rng = np.random.default_rng(41)
    n, d = int(rng.choice((60, 150, 400, 900))), int(rng.choice((2, 4, 8, 16, 30)))
    X, y = make_friedman1(n, n_features=max(5, d), noise=0.5, random_state=41)
    X = X * 10.0 ** rng.integers(-3, 4, size=X.shape[1]) + 10.0 ** rng.integers(0, 3, X.shape[1])
    assert X.shape == (400, 30)
    with threadpool_limits(limits=1), warnings.catch_warnings():  # the rounding it was found with
        warnings.simplefilter("error", ConvergenceWarning)
        model = ConvexReLURegressor(random_state=41).fit(X, y)
    assert model.status_ == "optimal" and model.gap_ <= 1e-6


def test_a_stalled_solve_keeps_the_closest_and_lowest_iterates_in_the_running():
    """Regression: ``raw-scales-regression`` seed 72 of ``benchmarks/random_problems.py`` (900
    samples, 30 features times 1e-3 to 1e3 plus offsets) stalls uncertified. Its closest and
    lowest iterates, tried where no iterate was certified, end at J 1.82 (gap 0.79); certifying
    the last iterate first, which wandered to J 12.0 (the zero network's), left them untried
    and the fit returned J 8.9 (gap 0.999)."""
    from sklearn.datasets import make_friedman1
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    from convexnn import ConvexReLURegressor

    rng = np.random.default_rng(72)
    n, d = int(rng.choice((60, 150, 400, 900))), int(rng.choice((2, 4, 8, 16, 30)))
    X, y = make_friedman1(n, n_features=max(5, d), noise=0.5, random_state=72)
    X = X * 10.0 ** rng.integers(-3, 4, size=X.shape[1]) + 10.0 ** rng.integers(0, 3, X.shape[1])
    assert X.shape == (900, 30)
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = ConvexReLURegressor(random_state=72).fit(X, y)
    assert model.objective_ < 2.0


def test_a_repeat_in_another_form_gets_the_large_budget(monkeypatch):
    """After a first form that stops short of ``tol`` before its budget, each repeat in another
    form gets ``MAX_ITER``, not the small program's ``SMALL_MAX_ITER``: with 200 the primal
    repeat on statsmodels' ``star98`` crawled a hundred iterations longer to the same answer
    (375 s against 188 s). A ``max_iter`` the caller sets is every form's budget."""
    from sklearn.exceptions import ConvergenceWarning

    import convexnn.solvers.ipm as ipm

    program = make_program("squared", "relu", n=40, d=3, n_gates=10, alpha=1e-2)
    assert ipm.default_budget(program) == ipm.SMALL_MAX_ITER
    budgets = []

    def stops_short(problem, W, T, *, max_iter, **options):
        budgets.append(max_iter)
        return W, T, None, 3, 0.5, [0.5]  # stopped after 3 iterations at a gap of 0.5

    monkeypatch.setattr(ipm, "_solve_output", stops_short)
    with pytest.warns(ConvergenceWarning, match="stopped after"):
        ipm.solve_ipm(program)
    assert len(budgets) > 1  # the first form and at least one repeat
    assert budgets == [ipm.SMALL_MAX_ITER] + [ipm.MAX_ITER] * (len(budgets) - 1)
    budgets.clear()
    with pytest.warns(ConvergenceWarning, match="stopped after"):
        ipm.solve_ipm(program, max_iter=7)
    assert len(budgets) > 1 and set(budgets) == {7}


def test_a_few_samples_are_not_repeated_in_a_primal_form_of_far_greater_cost(monkeypatch):
    """Where CVXPY's second opinion follows a stall (``"auto"`` on a program small enough for
    it), a Woodbury-form solve that stops short of ``tol`` is repeated in the primal form only
    where the primal form's iterations cost at most ``REPEAT_COST_RATIO`` times its own. On 8
    samples and 127 exact patterns (fuzzing seed 1214061, ``tests/fuzz_regressions/``) the
    Woodbury matrix is 8 × 8 and the primal form's dense matrix has 2,286 unknowns: three primal
    repeats took 65 s to end at the gap the first solve reached, 0.978, before CVXPY certified.
    ``ipm`` named by the caller repeats the solve whatever the cost (no second opinion follows
    it), and a primal form a few times the Woodbury form's cost is repeated in either case."""
    from sklearn.exceptions import ConvergenceWarning

    import convexnn.solvers.ipm as ipm

    forms = []

    def stops_short(problem, W, T, *, max_iter, **options):
        forms.append(problem.form())
        return W, T, None, 3, 0.5, [0.5]

    monkeypatch.setattr(ipm, "_solve_output", stops_short)
    few = make_program("squared", "relu", n=8, d=9, n_gates=127, alpha=1e-4)
    # 8 samples of 9 features: the solver works in their 8-dimensional row space (blocks of 9)
    primal, dual = ipm._form_flops(8, few.n_patterns, 9)
    assert ipm.newton_form(8, 9, few.n_patterns) == "dual"
    assert primal > ipm.REPEAT_COST_RATIO * dual
    with pytest.warns(ConvergenceWarning, match="stopped after"):
        ipm.solve_ipm(few, costly_repeats=False)
    assert forms == ["dual"]
    forms.clear()
    with pytest.warns(ConvergenceWarning, match="stopped after"):
        ipm.solve_ipm(few)
    assert forms[:2] == ["dual", "primal"]
    forms.clear()
    # "auto": one form, then CVXPY, which certifies (the stub's point is the start, above the
    # zero network: CVXPY is asked as the fallback rather than as the second opinion)
    with pytest.warns(UserWarning, match="no usable point"):
        result = solve(few, "auto")
    assert forms == ["dual"]
    assert result.solver.startswith("cvxpy") and result.gap <= 1e-6
    forms.clear()
    many = make_program("squared", "relu", n=300, d=5, n_gates=100, alpha=1e-4)
    assert ipm.newton_form(300, 5, many.n_patterns) == "dual"
    with pytest.warns(ConvergenceWarning, match="stopped after"):
        ipm.solve_ipm(many, costly_repeats=False)
    assert forms[:2] == ["dual", "primal"]


def test_the_softmax_woodbury_matrix_is_factored_on_the_curved_outputs(monkeypatch):
    """Each sample's softmax Hessian is singular along the all-ones direction of its ``K``
    outputs, so the shared program's Woodbury matrix is formed and factored on the other
    ``K − 1`` (``n(K − 1)`` rows instead of ``nK``, ``((K − 1)/K)³`` of the factorisation's
    flops). Its solves are those of the ``nK × nK`` matrix (the same system, checked here
    without refinement), and the solver certifies the same optimum."""
    import convexnn.solvers.ipm as interior_point
    from convexnn.shared import SharedNeuronProgram

    rng = np.random.default_rng(0)
    base = make_program("softmax", "relu", n=120, d=4, n_gates=25, alpha=1e-3)
    n, K, P = base.n_samples, base.n_outputs, base.n_patterns
    assert K == 3
    program = SharedNeuronProgram(base.X, base.Y, base.patterns,
                                  rng.standard_normal((K, P)), "softmax", 1e-3)
    Xt = np.asarray(program.Xt, dtype=np.float64)
    problem = interior_point.SharedReluProblem(Xt, program.masks, program.Y, program.alpha,
                                               program.loss_fn, program.directions)
    monkeypatch.setattr(problem, "form", lambda: "dual")
    W = 0.1 * rng.standard_normal((problem.n_blocks, problem.p))
    XW = problem.products(W)
    weights = rng.uniform(0.1, 2.0, size=(n, problem.n_blocks))
    cone = rng.standard_normal((problem.n_blocks, problem.p, problem.p))
    cone_hessian = np.matmul(cone, cone.transpose(0, 2, 1)) + np.eye(problem.p)
    rhs = rng.standard_normal((problem.n_blocks, problem.p + 1))
    rows = []
    coupled = problem._coupled

    def spied(root, C, basis=None):
        A = coupled(root, C, basis)
        rows.append(A.shape[0])
        return A

    monkeypatch.setattr(problem, "_coupled", spied)
    reduced = problem.factor(XW, weights, cone_hessian)(rhs, refine=0)
    monkeypatch.setattr(problem, "_curved_outputs", lambda: None)
    full = problem.factor(XW, weights, cone_hessian)(rhs, refine=0)
    assert rows == [n * (K - 1), n * K]
    assert np.linalg.norm(reduced - full) <= 1e-9 * np.linalg.norm(full)

    monkeypatch.setattr(interior_point, "shared_newton_form", lambda *args: "dual")
    result = solve(program, "ipm")
    monkeypatch.setattr(interior_point.SharedReluProblem, "_curved_outputs", lambda self: None)
    reference = solve(program, "ipm")
    assert result.status == reference.status == "optimal"
    assert program.objective(result.solution) == pytest.approx(
        program.objective(reference.solution), rel=2e-6)


@pytest.mark.parametrize("name", [
    "ipm-stalls-in-thin-cones-of-near-duplicate-rows",
    "ipm-polishes-every-form-on-a-budget-of-its-own",
    "ipm-repeats-eight-samples-in-dense-primal-form",
])
def test_cones_thinner_than_rounding_are_left_out_after_a_stop_short_of_tol(name):
    """Three cases the fuzzer found (tests/fuzz_regressions/), each with rows about 1e-9 apart
    and the exact sampler's patterns, many of whose cones are that thin. On 8 samples of 5
    features (fuzzing seed 1,337,464) 114 of 239 cones are at most 1.6e-9 wide: with them in,
    the interior point stalled at a certified gap of 2e-4 in each of its four forms (29 s). The
    second case stalled at 0.02 in each form (5 s, with a warning), the third at 0.98 before
    ``"auto"`` asked CVXPY (the third ran its 200 iterations without certifying). Solved
    without their thin cones once the first solve ends short of ``tol`` (before any repeat in
    another form), all three certify the whole program in the interior point, at CVXPY's
    optimum."""
    from fuzzing import REGRESSIONS, load_case

    import convexnn.solvers.ipm as ipm

    case = load_case(REGRESSIONS / f"{name}.npz")
    assert case.params["sampler"] == "exact"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning
        model = case.estimator(**case.params).fit(case.X, case.y)
    assert model.solver_ == "ipm" and model.status_ == "optimal" and model.gap_ <= model.tol
    reference = case.estimator(**{**case.params, "solver": "cvxpy"}).fit(case.X, case.y)
    assert model.objective_ <= reference.objective_ * (1 + 1e-6)
    patterns = sample_patterns(case.X, case.params["n_gates"], "exact",
                               random_state=case.params["random_state"])
    thin = ipm.thin_cones(add_bias_column(case.X), patterns.masks, patterns.gates)
    assert 0 < thin.sum() < thin.size


def test_thin_cones_are_those_no_point_of_the_unit_box_clears_by_the_threshold():
    """A pattern that splits two rows ``ε`` apart has a cone of width about ``ε``: thin below
    ``THIN``, not above, whatever its gate's own margin; a cone whose gate clears every row
    needs no linear program to be called wide."""
    import convexnn.solvers.ipm as ipm

    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 3))
    for eps, expected in ((1e-9, True), (1e-2, False)):
        Z = np.vstack([X, X[0] + eps * np.array([1.0, 0.0, 0.0])])
        Xt = add_bias_column(Z)
        gate = np.r_[1.0, 0.0, 0.0, -(X[0, 0] + eps / 2)]  # between rows 0 and 6
        wide = rng.standard_normal(4)
        gates = np.column_stack([gate, wide])
        masks = Xt @ gates > 0
        assert list(ipm.thin_cones(Xt, masks, gates)) == [expected, False]


@pytest.mark.parametrize("kind", ["logistic", "softmax"])
def test_rows_outside_the_barrier_join_it_where_the_iterates_reach_them(monkeypatch, kind):
    # the barrier starts with the BARRIER_ROWS·(d + 1) rows per block that pass closest to the
    # block, the others join it where an iterate violates them: with one row per coordinate most
    # of the rows that bound the cones start outside, and the solve still finds the program's
    # optimum (without the rows joining, the point violates the rows left out)
    from convexnn.solvers import ipm

    program = make_program(kind, "relu", n=200, d=3, n_gates=30, alpha=1e-2)
    reference = solve(program, "cvxpy", tol=1e-9).solution
    started, joined = [], []
    select, enter = ipm.ReluProblem.select_rows, ipm.ReluProblem.enter_rows

    def select_rows(self, W):
        select(self, W)
        started.append((self.n_live, self.S2.size))

    def enter_rows(self, XW, S, Z, mu):
        before = self.n_live
        found = enter(self, XW, S, Z, mu)
        joined.append(self.n_live - before)
        return found

    monkeypatch.setattr(ipm, "BARRIER_ROWS", 1)
    monkeypatch.setattr(ipm.ReluProblem, "select_rows", select_rows)
    monkeypatch.setattr(ipm.ReluProblem, "enter_rows", enter_rows)
    result = solve(program, "ipm", tol=1e-8)
    live, total = started[0]
    assert live <= 4 * 2 * program.n_outputs * program.n_patterns < total
    assert sum(joined) > 0
    assert result.status == "optimal" and result.violation == 0.0
    assert program.duality_gap(result.solution).gap <= 1e-8
    assert program.objective(result.solution) == pytest.approx(
        program.objective(reference), rel=1e-6
    )
