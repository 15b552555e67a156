"""Numba kernels of the solvers: the masked parts of the linear maps and the group prox.

Each kernel has a plain NumPy twin in ``tests/naive.py`` that it is tested against. The matrix
products around them are left to BLAS. Kernels work for float32 and float64 alike (numba compiles
one version per dtype and caches it on disk).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "masked_rowsum",
    "group_soft_threshold",
    "cone_violation",
    "augmented_residual",
    "augmented_residuals",
    "update_multipliers",
    "pair_weights",
    "right_sandwich_rows",
]


@njit(cache=True)
def masked_rowsum(Z, M):
    """``out[i] = Σ_k M[i, k] Z[i, k]`` for a boolean mask ``M``: the forward map after ``Z = X̃U``.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_patterns)
        ``Z = X̃U``: every block's pre-activation at every sample (float32 or float64).
    M : ndarray of shape (n_samples, n_patterns), bool
        The patterns, one per column.

    Returns
    -------
    ndarray of shape (n_samples,), of ``Z``'s dtype
    """
    n, P = Z.shape
    out = np.zeros(n, dtype=Z.dtype)
    for i in range(n):
        s = 0.0
        for k in range(P):
            s += Z[i, k] * M[i, k]  # branch-free, so the loop vectorises
        out[i] = s
    return out


@njit(cache=True)
def group_soft_threshold(W, threshold, n_penalised):
    """In place, ``w ← (1 − threshold/‖w[:n_penalised]‖)_+ w[:n_penalised]`` for every block
    ``w = W[o, :, k]``; coordinates from ``n_penalised`` on (an unpenalised bias) pass unchanged.

    This is the proximal map of ``threshold · Σ ‖w[:n_penalised]‖``.

    Parameters
    ----------
    W : ndarray of shape (n_outputs, block_size, n_patterns)
        The blocks, overwritten by the result (float32 or float64).
    threshold : float
        The threshold (``≥ 0``): a block whose penalised part has at most this norm becomes zero
        there.
    n_penalised : int
        How many leading coordinates of each block are penalised (``n_features`` when the last
        coordinate is the bias, ``block_size`` when all are).

    Returns
    -------
    ndarray
        ``W`` itself.
    """
    K, g, P = W.shape
    for o in range(K):
        for k in range(P):
            s = 0.0
            for j in range(n_penalised):
                s += W[o, j, k] * W[o, j, k]
            norm = np.sqrt(s)
            scale = 1.0 - threshold / norm if norm > threshold else 0.0
            for j in range(n_penalised):
                W[o, j, k] *= scale
    return W


@njit(cache=True)
def cone_violation(Z, M):
    """``max_{i,k} (−(2M − 1) ∘ Z)_+`` and ``max |Z|``: how far ``Z = X̃U`` leaves the cones.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_patterns)
        ``Z = X̃U``: every block's pre-activation at every sample (float32 or float64).
    M : ndarray of shape (n_samples, n_patterns), bool
        The patterns, one per column.

    Returns
    -------
    worst, size : float
        The largest violation and the largest ``|Z|`` (to make it relative).
    """
    n, P = Z.shape
    worst = 0.0
    size = 0.0
    for i in range(n):
        for k in range(P):
            z = Z[i, k]
            v = -z if M[i, k] else z
            if v > worst:
                worst = v
            if abs(z) > size:
                size = abs(z)
    return worst, size


@njit(cache=True)
def augmented_residual(Z, M, Lam, delta, g, sign, out):
    """Pieces of the augmented Lagrangian of the cone constraints for one block matrix.

    With ``S = 2M − 1`` and ``H = (Λ − δ S ∘ Z)_+``, writes ``out = sign · M ∘ g − S ∘ H`` (the
    matrix whose ``X̃ᵀ`` product is the gradient) and returns ``Σ H²`` (the penalty is
    ``Σ H² / (2δ)``). ``Z = X̃U`` (n × P), ``g`` the loss gradient of the output (n,).

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_patterns)
        ``Z = X̃U``: every block's pre-activation at every sample (float32 or float64).
    M : ndarray of shape (n_samples, n_patterns), bool
        The patterns, one per column.
    Lam : ndarray of shape (n_samples, n_patterns)
        Multipliers ``Λ ≥ 0`` of the cone constraints.
    delta : float
        Penalty parameter ``δ > 0`` of the augmented Lagrangian.
    g : ndarray of shape (n_samples,)
        Gradient of the loss with respect to the output the blocks feed.
    sign : float
        ``+1`` for the ``U`` blocks, ``−1`` for the ``V`` blocks (which enter the output negated).
    out : ndarray of shape (n_samples, n_patterns)
        Overwritten with ``sign · M ∘ g − S ∘ H``.

    Returns
    -------
    float
        ``Σ H²``.
    """
    n, P = Z.shape
    total = 0.0
    for i in range(n):
        gi = sign * g[i]
        for k in range(P):
            if M[i, k]:
                h = Lam[i, k] - delta * Z[i, k]
                if h > 0.0:
                    total += h * h
                    out[i, k] = gi - h
                else:
                    out[i, k] = gi
            else:
                h = Lam[i, k] + delta * Z[i, k]
                if h > 0.0:
                    total += h * h
                    out[i, k] = h
                else:
                    out[i, k] = 0.0
    return total


@njit(cache=True)
def augmented_residuals(Z, M, Lam, delta, G, out):
    """:func:`augmented_residual` for every block matrix at once: ``Z``, ``Lam`` and ``out`` of
    shape (2, K, n, P) (the ``U`` and ``V`` families, one per output), ``G`` the loss gradient
    (n, K). Returns the sum of ``Σ H²`` over all of them; one call instead of ``2K`` (the augmented
    Lagrangian evaluates it at every inner iteration).

    Parameters
    ----------
    Z : ndarray of shape (2, n_outputs, n_samples, n_patterns)
        ``X̃U`` and ``X̃V`` of every output.
    M : ndarray of shape (n_samples, n_patterns), bool
        The patterns, one per column.
    Lam : ndarray of shape (2, n_outputs, n_samples, n_patterns)
        The multipliers of the ``U`` and ``V`` cone constraints.
    delta : float
        Penalty parameter ``δ > 0`` of the augmented Lagrangian.
    G : ndarray of shape (n_samples, n_outputs)
        Gradient of the loss with respect to the outputs.
    out : ndarray of shape (2, n_outputs, n_samples, n_patterns)
        Overwritten, block matrix by block matrix, as ``out`` of :func:`augmented_residual`.

    Returns
    -------
    float
    """
    total = 0.0
    g = np.empty(G.shape[0], dtype=out.dtype)
    for s in range(2):
        sign = 1.0 if s == 0 else -1.0
        for o in range(Z.shape[1]):
            for i in range(G.shape[0]):
                g[i] = G[i, o]
            total += augmented_residual(Z[s, o], M, Lam[s, o], delta, g, sign, out[s, o])
    return total


@njit(cache=True)
def update_multipliers(Z, M, Lam, delta):
    """``Λ ← (Λ − δ S ∘ Z)_+`` in place, ``S = 2M − 1``.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_patterns)
        ``Z = X̃U``: every block's pre-activation at every sample (float32 or float64).
    M : ndarray of shape (n_samples, n_patterns), bool
        The patterns, one per column.
    Lam : ndarray of shape (n_samples, n_patterns)
        Multipliers ``Λ ≥ 0`` of the cone constraints, overwritten.
    delta : float
        Penalty parameter ``δ > 0`` of the augmented Lagrangian.
    """
    n, P = Z.shape
    for i in range(n):
        for k in range(P):
            h = Lam[i, k] - delta * Z[i, k] if M[i, k] else Lam[i, k] + delta * Z[i, k]
            Lam[i, k] = h if h > 0.0 else 0.0


@njit(cache=True)
def pair_weights(A, out):
    """``out[i, pair(k, l)] = A[i, k] · A[i, l]`` for every pair ``k ≤ l`` of rows of each ``A[i]``
    (in the order of ``np.triu_indices``): the curvature weights of the shared program's data
    term. Rows of ``A[i]`` that are zero (the patterns inactive at sample ``i``) are skipped.

    Parameters
    ----------
    A : ndarray of shape (n_samples, n_patterns, n_outputs), float64
        ``A[i, k] = m_ik S_i e_k``: pattern ``k``'s output direction at sample ``i``.
    out : ndarray of shape (n_samples, n_patterns (n_patterns + 1) / 2), float64
        Overwritten.
    """
    n, P, K = A.shape
    active = np.empty(P, dtype=np.intp)
    for i in range(n):
        out[i, :] = 0.0
        count = 0
        for k in range(P):
            for a in range(K):
                if A[i, k, a] != 0.0:
                    active[count] = k
                    count += 1
                    break
        for x in range(count):
            k = active[x]
            row = k * P - (k * (k - 1)) // 2  # position of the pair (k, k)
            for y in range(x, count):
                q = active[y]
                total = 0.0
                for a in range(K):
                    total += A[i, k, a] * A[i, q, a]
                out[i, row + q - k] = total


@njit(cache=True)
def right_sandwich_rows(U, St, start, A):
    """``A[o, i, q, j] = Σ_b U[i − start, o, b, j] · St[q, b, j]`` for the rows ``i`` from
    ``start`` and the output blocks ``q ≥ o`` alone (the upper triangle the Cholesky factorisation
    reads; the others are left as they are): the right half of the shared program's ``S T S``
    (the interior point's Woodbury matrix), ``U`` its left half for a block of samples.

    Parameters
    ----------
    U : ndarray of shape (n_rows, n_outputs, n_outputs, n_samples), float64
        The left half for samples ``start`` to ``start + n_rows``.
    St : ndarray of shape (n_outputs, n_outputs, n_samples), float64
        The curvature roots, ``St[q, b, j] = S_j[q, b]`` (contiguous over the samples ``j``).
    start : int
        The sample of ``U``'s first row.
    A : ndarray of shape (n_outputs, n_samples, n_outputs, n_samples), float64
        Written in place.
    """
    rows, K, _, n = U.shape
    for r in range(rows):
        i = start + r
        for o in range(K):
            for q in range(o, K):
                for j in range(n):
                    A[o, i, q, j] = 0.0
                for b in range(K):
                    for j in range(n):
                        A[o, i, q, j] += U[r, o, b, j] * St[q, b, j]


@njit(cache=True)
def _softmax_value_and_probabilities(F, c, P):
    """``Σ_i logsumexp(F_i + c)``, and the softmax of every ``F_i + c`` written into ``P``."""
    n, K = F.shape
    value = 0.0
    for i in range(n):
        top = F[i, 0] + c[0]
        for j in range(1, K):
            top = max(top, F[i, j] + c[j])
        total = 0.0
        for j in range(K):
            P[i, j] = np.exp(F[i, j] + c[j] - top)
            total += P[i, j]
        for j in range(K):
            P[i, j] /= total
        value += top + np.log(total)
    return value


@njit(cache=True)
def softmax_loss_sum(F, Y):
    """``Σ_i logsumexp(F_i) − Y_iᵀF_i``: the softmax loss, summed (``SoftmaxLoss.value``, which
    ``bcd`` evaluates several times an epoch)."""
    n, K = F.shape
    value = 0.0
    for i in range(n):
        first = 0
        for j in range(1, K):
            if F[i, j] > F[i, first]:
                first = j
        top = F[i, first]
        # log1p of the other classes' mass: log(1 + ε) would round a confident sample's loss
        # to zero, and with it the certified gap of a program whose J is that small
        others, fit = 0.0, 0.0
        for j in range(K):
            if j != first:
                others += np.exp(F[i, j] - top)
            fit += Y[i, j] * F[i, j]
        value += (top - fit) + np.log1p(others)
    return value


@njit(cache=True)
def logistic_intercept(f, target, c, max_iter=200):
    """The root ``c`` of ``Σ_i σ(f_i + c) = target`` (``0 < target < n``), by Newton's method from
    ``c``, kept inside the bracket the signs of the residual have established (bisection when a
    step leaves it): the solve behind ``LogisticLoss.intercept_shift``, after every epoch of
    ``bcd``. Stops when a step is below ``1e-15 + 4 eps |c|``, as ``brentq`` would."""
    n = f.shape[0]
    lo, hi = -np.inf, np.inf
    eps = np.finfo(np.float64).eps
    for _ in range(max_iter):
        total, curvature = 0.0, 0.0
        for i in range(n):
            z = f[i] + c
            if z >= 0.0:
                p = 1.0 / (1.0 + np.exp(-z))
            else:
                e = np.exp(z)
                p = e / (1.0 + e)
            total += p
            curvature += p * (1.0 - p)
        excess = total - target
        if excess == 0.0:
            return c
        if excess > 0.0:
            hi = min(hi, c)
        else:
            lo = max(lo, c)
        step = excess / curvature if curvature > 0.0 else np.inf * np.sign(excess)
        reach = max(1.0, 2.0 * abs(c))
        bracketed = np.isfinite(lo) and np.isfinite(hi)
        if not bracketed:  # no bracket yet: grow it at most geometrically
            step = min(max(step, -reach), reach)
        if abs(step) <= 1e-15 + 4.0 * eps * abs(c):
            return c - step
        new = c - step
        if not (lo < new < hi):
            if bracketed:
                new = 0.5 * (lo + hi)
            elif np.isfinite(hi):
                new = hi - reach
            else:
                new = lo + reach
        c = new
    return c


@njit(cache=True)
def _softmax_residual_sums(P, Y):
    """``Σ_i p_i − y_i`` (one-hot ``y_i``) without differences of terms of order one, and
    ``Σ_i |p_i − y_i|`` summed over classes too."""
    n, K = P.shape
    grad = np.zeros(K)
    scale = 0.0
    for i in range(n):
        others = 0.0
        for j in range(K):
            if Y[i, j] == 0.0:
                others += P[i, j]
                grad[j] += P[i, j]
        for j in range(K):
            if Y[i, j] != 0.0:
                grad[j] -= others
        scale += 2.0 * others
    return grad, scale


@njit(cache=True)
def softmax_intercept(F, Y, c, max_iter=50):
    """Minimise the mean softmax loss of ``F + c`` over the intercept ``c`` (last entry fixed), in
    place, by damped Newton from the current ``c`` (the solve behind
    ``SoftmaxLoss.intercept_shift``, called after every epoch of ``bcd``)."""
    n, K = F.shape
    counts = np.zeros(K)
    for i in range(n):
        for j in range(K):
            counts[j] += Y[i, j]
    P = np.empty((n, K))
    trial = c.copy()
    value = _softmax_value_and_probabilities(F, c, P) - np.dot(counts, c)
    eps = np.finfo(np.float64).eps
    last = np.inf
    for _ in range(max_iter):
        # Σ_i p_i − y_i with each sample's true class entry summed from its other classes, and
        # the scale Σ_i |p_i − y_i| of its terms. The certificate needs the sum as small as
        # rounding allows: a tolerance of 1e-13 n left 1ᵀθ at 1e-5 of its largest entry on
        # confident samples, the certified gap at 5e-6 (nine samples in three classes at alpha
        # 4e-8), and 1e-13 of the scale gives 1e-8 on make_blobs(400, 6, centers=20) where
        # Newton's method to the rounding of the sum gives 5e-13 (tests/solvers/test_ipm.py).
        # So the steps go on until the sum is at rounding level or, once it is small, a step no
        # longer halves it.
        grad, scale = _softmax_residual_sums(P, Y)
        size = np.max(np.abs(grad[: K - 1]))
        if size <= eps * scale or (size <= 1e-10 * scale and size > 0.5 * last):
            break
        last = size
        H = np.zeros((K - 1, K - 1))  # Σ_i diag(p_i) − p_i p_iᵀ, the last class left out
        for i in range(n):
            for a in range(K - 1):
                H[a, a] += P[i, a]
                for b in range(K - 1):
                    H[a, b] -= P[i, a] * P[i, b]
        ridge = 1e-14 * np.trace(H) + 1e-300
        for a in range(K - 1):
            H[a, a] += ridge
        step = np.linalg.solve(H, grad[: K - 1])
        norm = np.sqrt(np.sum(step**2))
        if norm > 10.0:
            step *= 10.0 / norm
        slope = -np.dot(grad[: K - 1], step)
        t = 1.0
        accepted = False
        while t > 1e-10:
            trial[:] = c
            trial[: K - 1] -= t * step
            new = _softmax_value_and_probabilities(F, trial, P) - np.dot(counts, trial)
            # near the optimum the decrease is below the rounding of the value: take the step
            if new <= value + 1e-4 * t * slope or -slope <= 1e-12 * abs(value):
                accepted = True
                break
            t *= 0.5
        if not accepted:
            _softmax_value_and_probabilities(F, c, P)
            break
        c[:] = trial
        value = new
