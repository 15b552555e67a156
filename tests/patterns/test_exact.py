"""convexnn.patterns.exact: every pattern of the data (Cover's count), enumerated exactly."""

import numpy as np
import pytest
from conftest import check_valid_patterns

from convexnn.patterns import add_bias_column, cover_count, exact_arrangement, sample_patterns


def test_cover_count_formula():
    # :ref:`maths-patterns`: n = 30 points in general position in the plane have 872 patterns
    assert cover_count(30, 3) == 872
    assert cover_count(5, 1) == 2


@pytest.mark.parametrize("n, d", [(12, 1), (30, 2), (25, 2), (15, 3), (10, 4), (9, 5)])
def test_exact_sampler_reaches_cover_count(n, d):
    rng = np.random.default_rng(n + d)
    # general position, uneven scales and an offset: the gates must still reproduce every pattern
    X = rng.standard_normal((n, d)) * np.geomspace(1e-2, 1e2, d) + 5.0
    p = sample_patterns(X, 1, "exact")
    assert p.n_patterns == cover_count(n, d + 1) - 1  # the all-zero pattern is dropped
    check_valid_patterns(X, p)


def test_exact_sampler_ignores_n_gates():
    X = np.random.default_rng(0).standard_normal((20, 2))
    a, b = sample_patterns(X, 1, "exact"), sample_patterns(X, 10_000, "exact")
    assert np.array_equal(a.masks, b.masks)


def test_exact_sampler_on_degenerate_points_matches_brute_force():
    # duplicated and collinear points; and rank-deficient data
    X = np.array([[0, 0], [1, 0], [2, 0], [0, 1], [1, 1], [0, 0], [3, 3.0], [2, 2]])
    p = sample_patterns(X, 1, "exact")
    check_valid_patterns(X, p)
    rng = np.random.default_rng(0)
    G = rng.standard_normal((3, 200_000))
    G[:2] *= rng.exponential(1, 200_000)  # include steep and shallow hyperplanes
    brute = {m.tobytes() for m in (add_bias_column(X) @ G > 0).T if m.any()}
    ours = {m.tobytes() for m in p.masks.T}
    assert brute <= ours and len(ours) == len(brute)
    line = np.column_stack([np.arange(10.0), 2 * np.arange(10.0)])  # rank X̃ = 2
    p = sample_patterns(line, 1, "exact")
    assert p.n_patterns == cover_count(10, 2) - 1
    check_valid_patterns(line, p)


def test_exact_sampler_refuses_huge_enumerations():
    X = np.random.default_rng(0).standard_normal((200, 5))
    expected = cover_count(200, 6) - 1
    with pytest.raises(ValueError, match=f"up to {expected} patterns"):
        sample_patterns(X, 1, "exact")
    with pytest.raises(ValueError, match="max_patterns=10"):
        exact_arrangement(X[:20, :2], max_patterns=10)


def test_exact_gates_keep_a_margin_at_every_sample():
    """Regression (the fuzz case ``exact-gates-along-a-direction-orthogonal-but-for-rounding``):
    on two samples the direction that breaks a tie was orthogonal to the other sample's row but
    for rounding, the step along it came out as 1e15, and the gate passed through that sample to
    1e-16 of its norm. The float32 features then put the sample on the other side, and the
    gated network's J was 9.9 against its program's 2.3. The step is now no longer than the
    smallest margin off the ties."""
    X = np.array([[0.7185753], [1.5543746]], dtype=np.float32)
    patterns = sample_patterns(X, 1, sampler="exact", random_state=0)
    Xt = add_bias_column(X.astype(np.float64))
    values = Xt @ patterns.gates
    scale = np.linalg.norm(Xt, axis=1)[:, None] * np.linalg.norm(patterns.gates, axis=0)[None]
    assert np.min(np.abs(values) / scale) > 1e-3
    assert np.array_equal(add_bias_column(X) @ patterns.gates >= 0, patterns.masks)
