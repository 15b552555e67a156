"""A new program type is a few lines on :class:`convexnn.program.Program`, its solvers are
registered with :func:`convexnn.solvers.register_solver`, and :func:`convexnn.solvers.solve`
runs them with the same checks as the two-layer solvers."""

import numpy as np
import pytest

from convexnn import ConvexProgram, sample_patterns, solve
from convexnn.deep import DictionaryProgram
from convexnn.losses import encode_targets
from convexnn.program import ConvexSolution, Program
from convexnn.solvers import AUTO_SOLVERS, SOLVER_PROGRAMS, SOLVERS, SolverFailure, register_solver
from convexnn.solvers.base import SolverResult


class LassoProgram(Program):
    """``(1/n) Σ ½((A z)_i + c − y_i)² + alpha ‖z‖₁``: the model, nothing else."""

    formulation = "lasso"

    def __init__(self, A, y, alpha):
        self.X = np.asarray(A, dtype=np.float64)
        self.Y = self._checked(self.X, np.reshape(y, (-1, 1)), "squared", alpha)
        self.loss, self.alpha = "squared", float(alpha)

    @property
    def block_shape(self):
        return (1, 1, self.X.shape[1])

    def predict(self, solution):
        return self.X @ solution.U[:, 0, :].T + solution.intercept

    def block_norms(self, blocks):
        return np.abs(blocks[:, 0, :])

    def dual_block_norms(self, Theta, threshold=None):
        return np.abs(Theta.T @ self.X)


def _ista(program, *, tol=1e-8, max_iter=20_000):
    """Proximal gradient with the exact intercept: enough to solve LassoProgram."""
    A = program.X - program.X.mean(axis=0)
    step = program.n_samples / np.linalg.norm(A, 2) ** 2
    y = program.Y[:, 0] - program.Y[:, 0].mean()
    z = np.zeros(A.shape[1])
    history = []
    for it in range(1, max_iter + 1):
        w = z + step * A.T @ (y - A @ z) / program.n_samples
        z = np.sign(w) * np.maximum(np.abs(w) - step * program.alpha, 0.0)
        if it % 50 == 0:
            c = program.Y[:, 0].mean() - program.X.mean(axis=0) @ z
            solution = ConvexSolution(z.reshape(1, 1, -1).copy(), None, np.array([c]))
            gap = program.duality_gap(solution).gap
            history.append(gap)
            if gap <= tol:
                return SolverResult(solution, "ista", "optimal", gap, 0.0, it, history)
    return SolverResult(solution, "ista", "max_iter", gap, 0.0, it, history)


@pytest.fixture
def lasso_registered(monkeypatch):
    """``ista`` registered for LassoProgram (and picked by "auto"), undone after the test."""
    monkeypatch.setattr("convexnn.solvers.SOLVERS", dict(SOLVERS))
    monkeypatch.setattr("convexnn.solvers.SOLVER_PROGRAMS", dict(SOLVER_PROGRAMS))
    monkeypatch.setattr("convexnn.solvers.AUTO_SOLVERS", dict(AUTO_SOLVERS))
    register_solver("ista", _ista, LassoProgram, auto=True)


def _lasso(seed=0, n=60, m=8, alpha=0.05):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, m))
    y = A[:, :3] @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(n) + 3.0
    return LassoProgram(A, y, alpha)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_program_on_the_base_is_solved_and_certified_like_scikit_learns_lasso(
    lasso_registered, seed
):
    """The base gives the new program its zero network, objective, certified gap and alpha_max;
    "auto" picks the registered solver, and its answer is scikit-learn's Lasso."""
    from sklearn.linear_model import Lasso

    program = _lasso(seed)
    result = solve(program, tol=1e-9)
    assert result.solver == "ista" and result.status == "optimal" and result.gap <= 1e-9
    reference = Lasso(alpha=program.alpha, tol=1e-12, max_iter=100_000).fit(
        program.X, program.Y[:, 0]
    )
    np.testing.assert_allclose(result.solution.U[0, 0], reference.coef_, atol=1e-5)
    # alpha_max: zero optimal at it and returned exactly, not at 0.99 of it
    top = program.alpha_max()
    assert solve(program.with_alpha(top)).solver == "alpha_max"
    assert solve(program.with_alpha(0.99 * top), tol=1e-9).solution.U.any()


def test_a_registered_programs_broken_solver_is_refused_like_a_two_layer_one(monkeypatch):
    """The checks of solve() hold for every program type: a Lasso solver of the deep programs
    returning a point worse than the zero network raises instead of handing it back."""
    rng = np.random.default_rng(3)
    x = np.sort(rng.uniform(-1, 1, 20))[:, None]
    program = DictionaryProgram(x, np.sin(3 * x), depth=2, loss="squared", alpha=1e-3)

    def broken(program, *, tol=1e-8, max_iter=10):
        solution = program.zero_solution()
        solution.U[:] = 5.0
        return SolverResult(solution, "broken", "optimal", 0.0, 0.0, 1, [0.0])

    monkeypatch.setattr("convexnn.solvers.SOLVERS", dict(SOLVERS))
    monkeypatch.setattr("convexnn.solvers.SOLVER_PROGRAMS", dict(SOLVER_PROGRAMS))
    register_solver("broken", broken, DictionaryProgram)
    with pytest.raises(SolverFailure, match="above the zero network"):
        solve(program, "broken")


def test_a_solver_refuses_a_program_type_it_does_not_solve():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 2))
    Y = encode_targets(X[:, :1], "squared")
    program = ConvexProgram(X, Y, sample_patterns(X, 5, random_state=0), "squared", 1e-2)
    with pytest.raises(ValueError, match="'lasso_ip' solves DictionaryProgram programs"):
        solve(program, "lasso_ip")
    x = np.linspace(-1, 1, 10)[:, None]
    deep = DictionaryProgram(x, x, depth=2, loss="squared", alpha=1e-3)
    with pytest.raises(ValueError, match="'fista' solves ConvexProgram programs"):
        solve(deep, "fista")


def test_register_solver_wants_a_program_type():
    with pytest.raises(TypeError, match="Program subclass"):
        register_solver("nothing", _ista, program_type=dict)


def test_solves_program_reads_the_registry(lasso_registered):
    from convexnn import solvers
    from convexnn.program import ConvexProgram
    from convexnn.shared import SharedNeuronProgram
    from convexnn.solvers import solves_program

    names = ["auto", *solvers.SOLVERS]  # "ista" registered by the fixture
    assert [s for s in names if solves_program(s, SharedNeuronProgram)] == ["auto", "ipm", "cvxpy"]
    assert [s for s in names if solves_program(s, LassoProgram)] == ["auto", "ista"]
    assert [s for s in names if solves_program(s, ConvexProgram)] == [
        "auto", "fista", "kernel_newton", "ipm", "bcd", "al", "cvxpy",
    ]
    assert not solves_program("ista", ConvexProgram) and not solves_program("nope", LassoProgram)
