import numpy as np

from convexnn._linalg import eigh


def test_a_block_whose_eigendecomposition_does_not_converge_is_decomposed_again(monkeypatch):
    """Where numpy's ``eigh`` (LAPACK's divide and conquer) fails on a block of a stack, that
    block is decomposed by ``syevr`` and the others keep numpy's result. The interior point
    (tests/solvers/test_ipm.py) and the softmax curvature (tests/test_losses.py) use it."""
    rng = np.random.default_rng(0)
    stack = rng.standard_normal((5, 7, 7))
    stack = stack @ stack.transpose(0, 2, 1) + np.eye(7)
    stack[3, 0, 0] = 1234.5  # the block the stand-in for LAPACK fails on
    plain = np.linalg.eigh

    def failing(A):
        if np.any(A[..., 0, 0] == 1234.5):
            raise np.linalg.LinAlgError("Eigenvalues did not converge")
        return plain(A)

    monkeypatch.setattr(np.linalg, "eigh", failing)
    values, vectors = eigh(stack)
    monkeypatch.setattr(np.linalg, "eigh", plain)
    for b in (0, 1, 2, 4):
        expected = plain(stack[b])
        assert np.array_equal(values[b], expected[0]) and np.array_equal(vectors[b], expected[1])
    rebuilt = (vectors[3] * values[3]) @ vectors[3].T
    assert np.allclose(rebuilt, stack[3], rtol=1e-13, atol=1e-12)
    assert np.allclose(vectors[3].T @ vectors[3], np.eye(7), atol=1e-13)
    monkeypatch.setattr(np.linalg, "eigh", failing)
    single_values, single_vectors = eigh(stack[3])  # one matrix, not a stack
    assert np.allclose(single_values, values[3], rtol=1e-13)
    assert np.allclose((single_vectors * single_values) @ single_vectors.T, stack[3], rtol=1e-13,
                       atol=1e-12)
