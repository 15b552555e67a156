"""convexnn._memory: the memory estimate and the check made before a program is built."""

import sys
from pathlib import Path

import numpy as np
import pytest

from convexnn._memory import (
    available_memory,
    check_memory,
    estimate_memory,
    estimate_sampling_memory,
)


def test_memory_estimate_grows_with_the_problem():
    base = estimate_memory(1000, 10, 100, 1, "relu", "cvxpy")
    assert estimate_memory(2000, 10, 100, 1, "relu", "cvxpy") > base
    assert estimate_memory(1000, 10, 200, 1, "relu", "cvxpy") > base
    assert estimate_memory(1000, 10, 100, 3, "relu", "cvxpy") > base
    assert estimate_memory(1000, 10, 100, 1, "gated", "cvxpy") < base
    # the dense backend grows with the features, a matrix-free solver hardly does
    assert estimate_memory(1000, 10, 100, 1, "relu", "fista") < base / 10
    assert estimate_memory(1000, 10, 100, 1, "gated", "fista", np.float32) < estimate_memory(
        1000, 10, 100, 1, "gated", "fista", np.float64
    )
    assert estimate_sampling_memory(200, 3, 10**9) > 2 * 2**40 * 0.9
    # the interior point works in the row space of X: features beyond the samples cost only
    # their share of the data (40 samples of 300 features in 4 classes were refused for 43 GiB)
    wide = estimate_memory(40, 300, 84, 4, "relu", "ipm", loss="softmax", shared=True)
    assert wide - estimate_memory(40, 40, 84, 4, "relu", "ipm", loss="softmax", shared=True) == (
        40 * 260 * 8 + 3 * 8 * 40 * 300  # X, and the SVD that finds its row space
    )
    assert wide < 2**30


def test_memory_check_refuses_with_the_estimate_and_can_be_turned_off():
    with pytest.raises(MemoryError, match=r"step needs about 1\.91 GiB \(2048000000 bytes\)"):
        check_memory(2_048_000_000, 1e9, "step")
    check_memory(2_048_000_000, None, "step")  # no check
    check_memory(10, "auto", "step")
    available = available_memory()
    assert available is None or available > 0


@pytest.mark.slow
@pytest.mark.parametrize("formulation", ["gated", "relu"])
def test_memory_estimate_is_above_the_measured_peak(formulation, tmp_path):
    """The estimate for the CVXPY backend is above the peak memory measured in a fresh process."""
    import subprocess

    n, d, n_gates = 300, 6, 60
    script = tmp_path / "measure.py"
    script.write_text(
        "import resource, sys, numpy as np\n"
        "from convexnn import ConvexProgram, sample_patterns\n"
        "from convexnn.losses import encode_targets\n"
        "from convexnn.solvers import solve_cvxpy\n"
        f"X = np.random.default_rng(0).standard_normal(({n}, {d}))\n"
        "y = np.sin(X[:, 0]) + X[:, 1]\n"
        f"p = sample_patterns(X, {n_gates}, random_state=0)\n"
        "Y = encode_targets(y, 'squared')\n"
        f"prog = ConvexProgram(X, Y, p, 'squared', 1e-3, '{formulation}')\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "solve_cvxpy(prog)\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(p.n_patterns, (after - before) * 1024)\n"
    )
    root = str(Path(__file__).resolve().parents[1])
    out = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": root, "PATH": ""},
    ).stdout.split()
    n_patterns, measured = int(out[0]), int(out[1])
    assert measured < estimate_memory(n, d, n_patterns, 1, formulation, "cvxpy")


def _ipm_peak(program, max_iter):
    """The peak memory traced while ``ipm`` runs ``max_iter`` iterations on ``program`` (it stops
    on that budget, with its warning)."""
    import tracemalloc

    from convexnn.solvers import solve

    tracemalloc.start()
    try:
        with pytest.warns(Warning):
            solve(program, "ipm", max_iter=max_iter)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_estimate_of_the_shared_woodbury_form_is_above_its_peak(monkeypatch):
    """The interior point on the shared-neuron softmax program in its Woodbury form holds about
    five ``nK × nK`` arrays at its peak (the pattern sums and their products with the curvature
    roots, then the matrix and its Fortran-ordered Cholesky copy); the estimate counted two and
    was below the measured peak (529 MB against 784 MB at n = 400, K = 11)."""
    from convexnn.losses import encode_targets
    from convexnn.patterns.mlp import fit_mlp
    from convexnn.shared import SharedNeuronProgram, mlp_directions
    from convexnn.solvers import ipm

    rng = np.random.default_rng(0)
    n, d, K = 200, 5, 10
    X = rng.standard_normal((n, d))
    Y = encode_targets(rng.integers(0, K, n), "softmax", K)
    patterns, directions = mlp_directions(X, fit_mlp(X, Y, "softmax", 1e-3, 60, 0, max_iter=30))
    program = SharedNeuronProgram(X, Y, patterns, directions, "softmax", 1e-3)
    monkeypatch.setattr(ipm.SharedReluProblem, "forced_form", "dual")
    peak = _ipm_peak(program, max_iter=3)
    assert peak < estimate_memory(n, d, patterns.n_patterns, K, "relu", "ipm", shared=True)


def test_a_wide_multiclass_fit_is_not_refused_for_a_repeat_it_would_never_take():
    """120 samples of 1,000 features in 3 classes (88 patterns), the default classifier with
    ``max_memory`` 1 GiB. The shared program is solved in the Woodbury form (360 coupled rows), but
    the estimate counted the matrices of a repeat in the primal form over 2P(n + 2) = 21,000
    unknowns (7.8 GiB), and the fit was refused; at 200 samples of 2,000 features the estimate was
    25.9 GiB. That repeat is now taken only up to ``LARGE_MAX_UNKNOWNS`` unknowns, and the
    estimate counts the forms the solve may take."""
    from convexnn import ConvexReLUClassifier
    from convexnn.solvers import ipm

    rng = np.random.default_rng(0)
    n, d = 120, 1000
    X = rng.standard_normal((n, d))
    y = np.digitize(X[:, 0] + X[:, 1], [-0.5, 0.5])
    model = ConvexReLUClassifier(random_state=0, max_memory=2**30).fit(X, y)
    assert model.status_ == "optimal" and model.solver_ == "ipm"
    P = model.n_patterns_
    assert ipm.shared_newton_form(n, d, P, 3) == "dual"
    assert ipm.shared_other_form("dual", n, d, P, 3) is None
    assert ipm.shared_other_form("dual", 200, 5, 100, 2) == "primal"  # small repeats stay
    assert estimate_memory(n, d, P, 3, "relu", "ipm", loss="softmax", shared=True) < 2**28


def test_a_multiclass_fit_of_many_features_and_coupled_rows_is_not_refused():
    """1,500 samples of 200 features in 5 classes (``make_classification``, the default
    classifier): the shared program has 7,500 coupled rows, above ``COUPLED_MAX_ROWS``, so it was
    given the primal form over 2P(d + 2) = 40,400 unknowns, whose matrices and whole-system
    fallback the guard estimated at 28 GiB, and the fit was refused. The Woodbury form costs 17
    times fewer flops there and certifies it (1.2e-7, 23 Newton iterations); above
    ``COUPLED_MAX_ROWS`` it is taken where the primal form has more than ``LARGE_MAX_UNKNOWNS``
    unknowns, and programs with fewer features keep the primal form."""
    from convexnn.solvers import ipm

    n, d, P, K = 1500, 200, 100, 5
    assert n * K > ipm.COUPLED_MAX_ROWS
    assert ipm.shared_newton_form(n, d, P, K) == "dual"
    assert estimate_memory(n, d, P, K, "relu", "ipm", loss="softmax", shared=True) < 4 * 2**30
    # fewer features (a primal form that can fall back to its whole matrix): unchanged
    assert ipm.shared_newton_form(1347, 64, 100, 10) == "primal"  # digits' training split
    assert ipm.shared_newton_form(900, 4, 100, 9) == "primal"


def test_memory_estimate_of_the_primal_form_is_above_its_peak():
    """Many samples and few patterns: the interior point's primal form. Its polish took a full
    SVD of each block's rows for their equalities (a rows × rows factor: 467 MB for 7,800 rows),
    and its data term holds more copies of the ``n × P(d + 1)`` masked design than the estimate
    counted: a peak of 652 MB here against an estimate of 237 MB. The default classifier on
    97,548 samples of 50 features (the shape of UCI's miniboone), estimated at 13 GB, was killed
    by the system at 23.5 GB. With the SVD fixed the peak was 466 MiB (five copies of the
    design: its scaled copy and the last iteration's, their projection and the BLAS's
    Fortran-ordered copy); the data term now holds one besides the design, 325 MiB."""
    from convexnn import ConvexProgram, sample_patterns
    from convexnn.solvers import ipm

    rng = np.random.default_rng(0)
    n, d, P = 20_000, 10, 30
    X = rng.standard_normal((n, d))
    y = (X[:, 0] + 0.5 * rng.standard_normal(n) > 0).astype(float)[:, None]
    patterns = sample_patterns(X, P, random_state=0)
    program = ConvexProgram(X, y, patterns, "logistic", 1e-3)
    assert ipm.newton_form(n, d, patterns.n_patterns) == "primal"
    peak = _ipm_peak(program, max_iter=2)
    assert peak < estimate_memory(n, d, patterns.n_patterns, 1, "relu", "ipm", loss="logistic")
