"""convexnn.solvers.al: the augmented Lagrangian solver of the exact ReLU program."""

import pytest
from conftest import make_program
from sklearn.datasets import make_friedman1
from sklearn.preprocessing import StandardScaler

from convexnn import ConvexProgram, sample_patterns, solve
from convexnn.losses import encode_targets
from convexnn.solvers import solve_al, solve_cvxpy


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_al_certifies_the_exact_relu_program_inside_its_cones(seed):
    """Certified to tol, its blocks in their cones to tol, and at CVXPY's optimum."""
    program = make_program("squared", "relu", n=25, n_gates=8, seed=seed)
    result = solve_al(program, tol=1e-6, max_iter=200)
    assert result.status == "optimal" and result.gap <= 1e-6
    assert program.constraint_violation(result.solution) <= 1e-6
    reference = program.objective(solve_cvxpy(program, tol=1e-9).solution)
    assert program.objective(result.solution) == pytest.approx(reference, rel=1e-5)


@pytest.mark.parametrize("kind,seed", [("logistic", 0), ("softmax", 2)])
def test_al_lowers_its_penalty_again_once_inside_the_cones(kind, seed):
    """Once the penalty ``δ`` has grown to pull the iterate into its cones, a ``δ`` kept that large
    makes every inner problem stiff: on these programs the gap crawled (3.1e-5 to 1.7e-5 in 200
    outer iterations of 2,000 inner ones on the logistic one, 3.8e-5 on the softmax one). With
    ``δ`` lowered again while the iterate is far inside its cones, both certify."""
    n, d, n_gates = (30, 2, 8) if kind == "logistic" else (120, 4, 30)
    program = make_program(kind, "relu", n=n, d=d, n_gates=n_gates, alpha=1e-2, seed=seed)
    result = solve_al(program, tol=1e-6, max_iter=200, max_inner=2000)
    assert result.status == "optimal" and 0 <= result.gap <= 1e-6
    assert program.constraint_violation(result.solution) <= 1e-6
    reference = program.objective(solve_cvxpy(program, tol=1e-9).solution)
    assert program.objective(result.solution) == pytest.approx(reference, rel=1e-5)


@pytest.mark.parametrize("kind", ["squared", "logistic", "softmax"])
def test_al_returns_a_warm_start_already_certified_at_once(kind):
    """Its multipliers start at zero, so the first inner solve from a certified point left the
    cones and the solve started over (7 outer iterations from the optimum on the squared
    program, as many as from zero); a point with no certificate is still solved from."""
    program = make_program(kind, "relu", n=30, d=2, n_gates=8, alpha=1e-2)
    optimum = solve_al(program, tol=1e-6, max_iter=200, max_inner=2000)
    assert optimum.status == "optimal"
    seen = []
    again = solve_al(program, tol=1e-6, init=optimum.solution, callback=seen.append)
    assert (again.status, again.n_iter) == ("optimal", 0)
    assert again.gap <= 1e-6 and again.gap_history == [again.gap]
    assert program.objective(again.solution) == program.objective(optimum.solution)
    assert again.solution.U is not optimum.solution.U and len(seen) == 1
    looser = solve_al(program, tol=1e-9, init=optimum.solution, max_iter=1)
    assert looser.n_iter == 1


def test_al_certifies_the_point_it_returns_inside_its_cones():
    """A solve that met tol at a point outside its cones by under tol had the caller's
    ``solve`` project it onto them (its network must reproduce its objective) and certify it
    anew: 5.0e-5 here, status "inaccurate". The solver now certifies the projection itself,
    and iterates on while that falls short."""
    X, y = make_friedman1(60, n_features=5, noise=0.1, random_state=0)
    X, y = StandardScaler().fit_transform(X), (y - y.mean()) / y.std()
    program = ConvexProgram(X, encode_targets(y, "squared"), sample_patterns(X, 15, random_state=0),
                            "squared", 1e-2, "relu")
    result = solve(program, "al", tol=1e-6, max_iter=200, max_inner=2000)
    assert result.status == "optimal" and 0 <= result.gap <= 1e-6
    assert program.network_objective(result.solution) == pytest.approx(
        program.objective(result.solution), rel=1e-8
    )


def test_al_network_reproduces_its_program():
    """Its blocks hold their cones, so the mapped network's objective is the program's."""
    program = make_program("squared", "relu", n=25, n_gates=8, seed=3)
    result = solve_al(program, tol=1e-6, max_iter=200)
    assert program.network_objective(result.solution) == pytest.approx(
        program.objective(result.solution), rel=1e-7
    )
