"""The shared-neuron program (convexnn.shared): its solvers against CVXPY, its mapped network,
and the MLP it is built from as one of its feasible points."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from convexnn import ConvexReLUClassifier, ConvexReLURegressor
from convexnn.cone import cone_value, paired_block_norms, relu_block_norms
from convexnn.losses import encode_targets
from convexnn.network import network_objective, solution_to_network
from convexnn.patterns import sample_patterns
from convexnn.patterns.mlp import fit_mlp
from convexnn.shared import SharedNeuronProgram, mlp_directions
from convexnn.solvers import ipm, solve


def _three_classes(n=60, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
    return X, y


def _program(X, Y, loss, alpha, width=20):
    mlp = fit_mlp(X, Y, loss, alpha, width, 0, max_iter=200)
    patterns, directions = mlp_directions(X, mlp)
    return SharedNeuronProgram(X, Y, patterns, directions, loss, alpha), mlp


@pytest.mark.parametrize("loss", ["softmax", "squared"])
@pytest.mark.parametrize("form", ["primal", "dual"])
def test_ipm_agrees_with_cvxpy(loss, form, monkeypatch):
    X, y = _three_classes()
    Y = encode_targets(y, "softmax", 3) if loss == "softmax" else np.c_[X[:, 0] ** 2, X[:, 1]]
    program, _ = _program(X, Y, loss, 1e-2)
    monkeypatch.setattr(ipm.SharedReluProblem, "form", lambda self: form)
    fast = solve(program, "ipm", tol=1e-8)
    reference = solve(program, "cvxpy", tol=1e-8)
    assert fast.status == "optimal" and fast.gap <= 1e-8
    J, J_ref = program.objective(fast.solution), program.objective(reference.solution)
    assert abs(J - J_ref) <= 1e-6 * J_ref
    # the mapped network has the program's objective, and feeds every output
    coefs, intercepts, _ = solution_to_network(program, fast.solution)
    assert coefs[1].shape[1] == Y.shape[1]
    J_net = network_objective(coefs, intercepts, X, Y, 1e-2, loss)
    assert abs(J_net - J) <= 1e-8 * J


def test_the_mlp_is_a_feasible_point():
    """With an MLP's patterns and output directions, the certified optimum is at or below the
    MLP's objective (the MLP maps to a feasible point)."""
    X, y = _three_classes(seed=3)
    Y = encode_targets(y, "softmax", 3)
    program, mlp = _program(X, Y, "softmax", 1e-3)
    result = solve(program, tol=1e-8)
    J_mlp = network_objective(mlp.coefs_, mlp.intercepts_, X, Y, 1e-3, "softmax")
    assert result.solver == "ipm" and result.gap <= 1e-8
    assert program.objective(result.solution) <= J_mlp


def test_dual_block_norms_are_the_cone_values_of_each_direction():
    X, y = _three_classes(n=40)
    Y = encode_targets(y, "softmax", 3)
    program, _ = _program(X, Y, "softmax", 1e-2)
    Theta = program.residual(program.zero_solution())
    norms = program.dual_block_norms(Theta)
    for k in range(program.n_patterns):
        theta = Theta @ program.directions[:, k]
        mask = program.masks[:, k]
        expected = max(cone_value(X, mask, theta), cone_value(X, mask, -theta))
        assert norms[0, k] == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_paired_block_norms_with_one_dual_vector_are_relu_block_norms():
    X, y = _three_classes(n=40)
    patterns = sample_patterns(X, 30, "gaussian", 0)
    theta = y - y.mean()
    paired = paired_block_norms(X, patterns.masks, np.tile(theta[:, None], (1, 30)))
    assert np.allclose(paired, relu_block_norms(X, patterns.masks, theta[:, None])[0], rtol=1e-9)


def test_directions_are_checked():
    X, y = _three_classes(n=30)
    Y = encode_targets(y, "softmax", 3)
    patterns = sample_patterns(X, 5, "gaussian", 0)
    P = patterns.n_patterns
    with pytest.raises(ValueError, match="shape"):
        SharedNeuronProgram(X, Y, patterns, np.ones((2, P)), "softmax", 1e-2)
    with pytest.raises(ValueError, match="non-zero"):
        SharedNeuronProgram(X, Y, patterns, np.zeros((3, P)), "softmax", 1e-2)
    program = SharedNeuronProgram(X, Y, patterns, np.ones((3, P)), "softmax", 1e-2)
    assert np.allclose(np.linalg.norm(program.directions, axis=0), 1.0)
    with pytest.raises(ValueError, match="SharedNeuronProgram"):
        solve(program, "fista")


def test_default_classifier_shares_neurons_and_beats_its_mlp():
    """The default multi-class classifier solves the shared-neuron program: its network is at or
    below scikit-learn's L-BFGS MLP of the same width, alpha and seed on the objective."""
    X, y = _three_classes(n=80, seed=1)
    alpha = 1e-3
    model = ConvexReLUClassifier(alpha, n_gates=30, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier(
            (30,), solver="lbfgs", alpha=alpha * len(X), random_state=0
        ).fit(X, y)
    Y = encode_targets(y, "softmax", 3)
    J_mlp = network_objective(mlp.coefs_, mlp.intercepts_, X, Y, alpha, "softmax")
    assert model.gap_ <= model.tol and model.solver_ == "ipm"
    assert model.objective_ <= J_mlp
    assert abs(model.objective_ - model.convex_objective_) <= 1e-8 * model.objective_
    # a neuron may feed several classes
    assert np.count_nonzero(np.abs(model.coefs_[1]) > 1e-12, axis=1).max() > 1
    assert np.allclose(model.to_mlp().predict_proba(X), model.predict_proba(X), atol=1e-10)


def test_multi_output_regressor_shares_neurons():
    X, _ = _three_classes(n=50, seed=2)
    Y = np.c_[np.sin(X[:, 0]), X[:, 1] * X[:, 2]]
    model = ConvexReLURegressor(1e-3, n_gates=20, random_state=0).fit(X, Y)
    assert model.gap_ <= model.tol
    assert np.allclose(model.predict(X), model.to_mlp().predict(X), atol=1e-10)
    # a named first-order solver keeps the per-output program
    per_output = ConvexReLURegressor(1e-3, n_gates=20, random_state=0, solver="al", max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        per_output.fit(X, Y)
    assert np.count_nonzero(np.abs(per_output.coefs_[1]) > 0, axis=1).max() == 1


def test_memory_guard_estimates_the_shared_program():
    """The shared program has one block family: the guard must not refuse it by the per-output
    estimate (an 18-class, 21,000-sample fit: over 100 GB per output, under 1 GB shared)."""
    from convexnn._memory import estimate_memory

    sizes = (21_042, 6, 100, 18, "relu", "ipm", np.float64, "softmax")
    shared = estimate_memory(*sizes, shared=True)
    assert shared < 2**30 < 100 * 2**30 < estimate_memory(*sizes)


def test_default_classifier_certifies_iris():
    """Regression: standardised iris at alpha=1e-2, where the shared program's primal Newton
    form stalled at a certified gap of 3.6e-6 (the Woodbury form certifies it)."""
    from sklearn.datasets import load_iris
    from sklearn.preprocessing import StandardScaler

    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = ConvexReLUClassifier(1e-2, random_state=0).fit(X, y)
    assert model.status_ == "optimal" and model.gap_ <= 1e-6


# found by the property tests of tests/test_estimators.py: five unscaled one-feature samples of three
# classes at alpha = 1e-4 (a near-separable softmax program). The interior point came within a
# relative complementarity of 2e-7, one iteration short of its first certificate, then broke
# down; it returned its last iterate (objective 5.8e6 against the zero network's 1.05), and the
# shared program had no solver to fall back to, so the fit raised SolverFailure
BREAKDOWN_X = np.array([[15.57302210933933], [-10.21048632913019], [67.0422650443282],
                        [13.490011715303972], [-50.566937316111094]])
BREAKDOWN_Y = np.array([1, 0, 2, 0, 2])


def _breaks_down(mlp_max_iter):
    """The interior point and the default fit (checked here) on the five samples above, the
    patterns from an MLP of ``mlp_max_iter`` iterations: ``(program, result, zero's objective)``."""
    model = ConvexReLUClassifier(alpha=1e-4, n_gates=2, random_state=2, mlp_max_iter=mlp_max_iter)
    Y = encode_targets(BREAKDOWN_Y, "softmax", 3)
    patterns, directions, _ = model._sample(BREAKDOWN_X, Y, "softmax")
    program = SharedNeuronProgram(BREAKDOWN_X, Y, patterns, directions, "softmax", 1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = ipm.solve_ipm(program)
        fitted = model.fit(BREAKDOWN_X, BREAKDOWN_Y)
    zero = program.objective(program.zero_solution())
    assert fitted.objective_ < 0.01 * zero and fitted.gap_ < 1e-3
    return program, result, zero


def test_interior_point_keeps_its_closest_iterate_when_it_breaks_down():
    # the patterns of the 200-iteration MLP the classifier trained then
    program, result, zero = _breaks_down(200)
    assert np.isfinite(result.gap) and program.objective(result.solution) < 0.01 * zero


def test_a_breakdown_hands_back_the_iterate_of_least_objective(monkeypatch):
    # the same five samples with the patterns of the classifier's 500-iteration MLP: the interior
    # point broke down before any certificate. It returned the iterate of least complementarity,
    # of objective 6.2e4 against 1.05 for the zero network (the driver refused it); it now hands
    # back its feasible iterate of least objective as well as that one, whichever certifies
    # better. "auto" and the fit go on to CVXPY (a point worse than the zero network is refused
    # by the driver: tests/test_program_registry.py). Its steps are now damped where the loss's
    # quadratic model fails (ipm.MODEL_ERROR), and it certifies this program; without the
    # damping it breaks down as before. Whether the polish of a solve short of tol
    # (ipm._polished) then certifies the point the breakdown hands back depends on the BLAS
    # kernels' rounding: with OpenBLAS's SkylakeX kernels that point has the optimum's objective
    # and the polish certifies it (1.2e-10); with its Haswell kernels (AMD EPYC) it has twice the
    # optimum's, which the polish, made for points near the optimum, leaves at a gap of 0.57. The
    # polish has its own tests (tests/solvers/test_ipm.py); here, with it and without it, the
    # breakdown hands back a point of finite gap far below the zero network's objective
    program, result, zero = _breaks_down(500)
    assert result.status == "optimal" and result.gap <= 1e-6
    monkeypatch.setattr(ipm, "MODEL_ERROR", np.inf)
    program, result, zero = _breaks_down(500)
    assert result.status in ("optimal", "stalled") and np.isfinite(result.gap)
    assert program.objective(result.solution) < 0.05 * zero
    monkeypatch.setattr(ipm, "_polished", lambda *args: None)
    program, result, zero = _breaks_down(500)
    assert result.status == "stalled" and np.isfinite(result.gap)
    assert program.objective(result.solution) < 0.05 * zero
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fallback = solve(program)
    assert fallback.solver != "ipm" and program.objective(fallback.solution) < 0.01 * zero


def _small_shared_program(alpha=1e-2):
    """The default classifier's shared-neuron program on the five samples above."""
    model = ConvexReLUClassifier(alpha=alpha, n_gates=4, random_state=0)
    Y = encode_targets(BREAKDOWN_Y, "softmax", 3)
    patterns, directions, _ = model._sample(BREAKDOWN_X, Y, "softmax")
    return SharedNeuronProgram(BREAKDOWN_X, Y, patterns, directions, "softmax", alpha)


def test_shared_program_falls_back_to_cvxpy_when_ipm_fails(monkeypatch):
    from convexnn import solvers

    program = _small_shared_program()
    reference = solve(program, "cvxpy")
    solve_ipm = ipm.solve_ipm

    def broken(program, **options):
        result = solve_ipm(program, **options)
        result.solution.U[:] = np.nan
        return result

    monkeypatch.setitem(solvers.SOLVERS, "ipm", broken)
    with pytest.warns(UserWarning, match="falling back to 'cvxpy'"):
        result = solve(program)
    assert result.solver.startswith("cvxpy")
    assert program.objective(result.solution) == pytest.approx(
        program.objective(reference.solution), rel=1e-6)


def test_degenerate_cone_sends_the_shared_program_to_cvxpy(monkeypatch):
    # ipm refuses a program with a pattern whose cone has an empty interior; "auto" used to ask
    # the registry again, which answered ipm, for ever
    from convexnn import solvers

    program = _small_shared_program()
    calls = []

    def degenerate(program, **options):
        calls.append(1)
        raise ipm.DegenerateConeError("empty interior")

    monkeypatch.setitem(solvers.SOLVERS, "ipm", degenerate)
    result = solve(program)
    assert calls == [1] and result.solver.startswith("cvxpy")


def _random_shared_problem(monkeypatch, chunk_entries, rng, n, d, K, P):
    """A softmax :class:`~convexnn.solvers.ipm.SharedReluProblem` on random data, random masks and
    random output directions, its sums formed ``chunk_entries`` at a time (None: the default)."""
    from convexnn.losses import get_loss
    from convexnn.patterns import add_bias_column

    if chunk_entries is not None:
        monkeypatch.setattr(ipm, "SHARED_CHUNK_ENTRIES", chunk_entries)
    Xt = add_bias_column(rng.standard_normal((n, d)))
    M = rng.random((n, P)) < 0.5
    E = rng.standard_normal((K, P))
    Y = np.eye(K)[rng.integers(0, K, n)]
    return ipm.SharedReluProblem(Xt, M, Y, 1e-2, get_loss("softmax"), E)


@pytest.mark.parametrize("chunk_entries", [None, 1])
def test_coupled_matrix_matches_the_product_of_the_masked_design(chunk_entries, monkeypatch):
    """``SharedReluProblem._coupled`` sums ``E[a, k] E[b, k] G_k`` over the patterns before the
    curvature roots are applied; its upper triangle (all the Cholesky factorisation reads) must
    equal that of ``Z Zᵀ`` with ``Z = [S_i E_k D_k X̃ L_k]_k`` formed in full (``L_kL_kᵀ = C_k``),
    rows ordered output by output (also when the ``G_k`` come in blocks of one sample)."""
    rng = np.random.default_rng(1)
    n, d, K, P = 23, 3, 4, 6
    problem = _random_shared_problem(monkeypatch, chunk_entries, rng, n, d, K, P)
    Xt, M, E = problem.Xt, problem.M, problem.E
    root = rng.standard_normal((n, K, K))
    L = rng.standard_normal((1, P, d + 1, d + 1))
    C = np.matmul(L, L.transpose(0, 1, 3, 2))  # the summed inverse blocks, L_k L_kᵀ
    Z = np.zeros((K, n, P, d + 1))
    for i in range(n):
        for k in range(P):
            Z[:, i, k] = np.outer(root[i] @ E[:, k], M[i, k] * (Xt[i] @ L[0, k]))
    Z = Z.reshape(K * n, P * (d + 1))
    assert np.allclose(np.triu(problem._coupled(root, C)), np.triu(Z @ Z.T), rtol=1e-12, atol=1e-11)


@pytest.mark.parametrize("chunk_entries", [None, 1])
def test_primal_data_term_matches_the_masked_design(chunk_entries, monkeypatch):
    """``SharedReluProblem._data_term`` forms ``(1/n) JᵀS P S J`` on the pairs ``k ≤ l`` of
    patterns and ``j ≤ j'`` of features only; it must equal the product formed in full from the
    ``nK × P(d + 1)`` map ``J`` (rows ``(i, o)``, entry ``E[o, k] m_ik x̃_ij``), with ``P`` the
    projection orthogonal to ``Q`` (also when the samples come in chunks of one)."""
    rng = np.random.default_rng(2)
    n, d, K, P = 29, 4, 3, 7
    problem = _random_shared_problem(monkeypatch, chunk_entries, rng, n, d, K, P)
    Xt, M, E = problem.Xt, problem.M, problem.E
    root = rng.standard_normal((n, K, K))
    root = root + root.transpose(0, 2, 1)  # symmetric, as the roots of a loss's Hessian are
    Q = np.linalg.qr(rng.standard_normal((n * K, 2)))[0]
    F, data_term = problem._data_term(root, Q)
    J = np.einsum("ok,ik,ij->iokj", E, M, Xt).reshape(n, K, P * (d + 1))
    SJ = np.matmul(root, J).reshape(n * K, P * (d + 1))  # rows (i, o)
    expected = SJ.T @ (SJ - Q @ (Q.T @ SJ)) / n
    assert np.allclose(F, expected, rtol=1e-12, atol=1e-13)
    difference = rng.standard_normal((P, d + 1))
    assert np.allclose(data_term(difference), (expected @ difference.ravel()).reshape(P, -1),
                       rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("loss", ["softmax", "squared"])
def test_float32_data_are_certified_in_float64(loss):
    """The certificate of float32 data is computed on the same numbers in float64: float64
    blocks give float64 outputs, so the residual (the dual point) is that of the float64 copy
    of the program. Rounded to float32, the outputs held the default classifier's certified gap
    at 1e-6 to 4e-6 on four small UCI sets (post-operative, teaching, two of pittsburg-bridges)
    where float64 certifies 1e-10, and it fell back to CVXPY."""
    X, y = _three_classes(n=200, d=4, seed=3)
    Y = encode_targets(y, "softmax") if loss == "softmax" else np.eye(3)[y]
    program, _ = _program(X.astype(np.float32), Y, loss, 1e-3)
    exact = SharedNeuronProgram(program.X.astype(np.float64), Y, program.patterns,
                                program.directions, loss, 1e-3)
    solution = solve(program, "ipm", tol=1e-9).solution
    assert solution.U.dtype == np.float64
    for method in (SharedNeuronProgram.predict, SharedNeuronProgram.residual):
        np.testing.assert_allclose(method(program, solution), method(exact, solution),
                                   rtol=1e-12, atol=1e-12)
    assert program.duality_gap(solution).gap == pytest.approx(
        exact.duality_gap(solution).gap, rel=1e-6, abs=1e-13)
    assert program.duality_gap(solution).gap <= 1e-9
