"""convexnn.patterns.core: the Patterns type and the patterns gates induce."""

import numpy as np

from convexnn.patterns import Patterns, add_bias_column
from convexnn.patterns.core import gate_patterns, unique_patterns


def test_gate_patterns_are_the_distinct_nonzero_activations_of_the_gates():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    G = rng.standard_normal((4, 12))
    G = np.hstack([G, G[:, :3], np.r_[np.zeros(3), -1e6][:, None]])  # repeats, an all-off gate
    patterns = gate_patterns(X, G)
    assert isinstance(patterns, Patterns)
    masks = patterns.masks
    assert masks.any(axis=0).all()  # no all-zero pattern
    assert np.unique(masks, axis=1).shape[1] == masks.shape[1]  # no repeat
    np.testing.assert_array_equal(add_bias_column(X) @ patterns.gates >= 0, masks)
    assert patterns.n_patterns <= 12


def test_unique_patterns_keeps_the_first_gate_of_each_pattern():
    gates = np.arange(8.0).reshape(2, 4)
    masks = np.array([[1, 0, 1, 0], [0, 0, 0, 0], [1, 0, 1, 1]], dtype=bool)
    patterns = unique_patterns(gates, masks)
    np.testing.assert_array_equal(patterns.gates, gates[:, [0, 3]])
    np.testing.assert_array_equal(patterns.masks, masks[:, [0, 3]])


def test_settled_gates_keeps_every_gate_and_settles_ties_as_gate_patterns_does():
    """Gate by gate, the masks ``gate_patterns`` keeps (a tie on a hyperplane moved onto the
    active side); a gate with no room between its ties and the other samples is marked
    unusable and left as it was."""
    from convexnn.patterns import gate_patterns, settled_gates

    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    gates = np.array([[1.0, 1.0, -1.0, 0.0], [-1.0, -1.0, 2.5, 0.0]])  # x − 1 (twice), 2.5 − x, 0
    settled, masks, usable, ties = settled_gates(X, gates)
    assert masks.shape == (4, 4) and usable.tolist() == [True, True, True, False]
    assert masks[:, 0].tolist() == [False, True, True, True]  # the tie at x = 1 made active
    assert settled[1, 0] > gates[1, 0] and settled[1, 2] == gates[1, 2]
    assert ties[:, 0].tolist() == [False, True, False, False] and ties[:, 3].all()
    patterns = gate_patterns(X, gates)
    assert np.array_equal(patterns.masks, masks[:, [0, 2]])
