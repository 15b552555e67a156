"""Losses of the training objective and the pieces of their Fenchel duals.

Every loss ``ℓ(f, y)`` acts on one sample's model output ``f`` (a row of ``F``, shape
``(n_samples, n_outputs)``) and sums over outputs; the objective uses the *mean* over samples
(:ref:`maths-objective`). The dual of a program ``min (1/n) Σ ℓ(z_i, y_i) + penalty`` is written with the
negated conjugate ``-ℓ*(-θ_i, y_i)``: for a dual variable ``θ`` built from the residual
``θ = -∇ℓ(F)`` the dual objective is ``(1/n) Σ_i -ℓ*(-θ_i, y_i)`` (:ref:`maths-gap`).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit, xlog1py, xlogy

from ._linalg import eigh
from .kernels import logistic_intercept, softmax_intercept, softmax_loss_sum


# Row-wise log-sum-exp and softmax in plain NumPy: scipy.special's array-API versions cost tens
# of microseconds a call in dispatch, and the intercept of a softmax fit calls them every step.
def logsumexp(F, axis=1):
    top = np.max(F, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return np.log(np.sum(np.exp(F - top), axis=axis)) + np.squeeze(top, axis=axis)


def log_softmax(F, axis=1):
    return F - np.expand_dims(logsumexp(F, axis=axis), axis)


def softmax(F, axis=1):
    E = np.exp(F - np.max(F, axis=axis, keepdims=True))
    return E / np.sum(E, axis=axis, keepdims=True)

_TINY = 1e-300

__all__ = ["LOSSES", "get_loss", "encode_targets", "SquaredLoss", "LogisticLoss", "SoftmaxLoss"]


def _negated_gradient(cls, F, Y):
    """The dual point ``θ = −∇ℓ(F)`` the gap is certified at: ``−gradient`` (a loss whose
    ``gradient`` loses precision that the dual needs computes it apart,
    :meth:`SoftmaxLoss.dual_point`).

    Parameters
    ----------
    F : ndarray of shape (n_samples, n_outputs)
        Model outputs (after the intercept shift, where the gap takes one).
    Y : ndarray of shape (n_samples, n_outputs)
        Targets as :func:`encode_targets` returns them.

    Returns
    -------
    ndarray of shape (n_samples, n_outputs)
    """
    return -cls.gradient(F, Y)


class SquaredLoss:
    """``ℓ(f, y) = ½‖f − y‖²`` (regression, single or multi-output)."""

    name = "squared"

    @staticmethod
    def value(F, Y):
        return 0.5 * float(np.sum((F - Y) ** 2)) / F.shape[0]

    @staticmethod
    def gradient(F, Y):
        return F - Y

    dual_point = classmethod(_negated_gradient)

    @staticmethod
    def dual(theta, Y):
        # -ℓ*(-θ, y) = θᵀy − ½‖θ‖²
        return float(np.sum(theta * Y) - 0.5 * np.sum(theta**2)) / theta.shape[0]

    @staticmethod
    def intercept_shift(F, Y):
        return np.mean(Y - F, axis=0)

    @staticmethod
    def zero_sum(theta, Y):
        return theta - np.mean(theta, axis=0)

    @staticmethod
    def outputs_from_residual(theta, Y):
        """Outputs ``F`` whose residual ``−∇ℓ(F)`` is ``θ``.

        Parameters
        ----------
        theta : ndarray of shape (n_samples, n_outputs)
            Dual point (a residual ``−∇ℓ(F)``).
        Y : ndarray of shape (n_samples, n_outputs)
            Targets as :func:`encode_targets` returns them.
        """
        return Y - theta

    @staticmethod
    def hessian_root(F, Y):
        """Symmetric square roots of the per-sample Hessians ``∇²ℓ(F_i)``: shape (n, K, K).

        Parameters
        ----------
        F : ndarray of shape (n_samples, n_outputs)
            Model outputs.
        Y : ndarray of shape (n_samples, n_outputs)
            Targets; not used (the Hessian does not depend on them), kept for the common
            signature.
        """
        return np.broadcast_to(np.eye(F.shape[1]), (F.shape[0], F.shape[1], F.shape[1]))


class LogisticLoss:
    """Binary log-loss of a sigmoid output: ``ℓ(f, y) = log(1 + eᶠ) − y f`` with ``y ∈ {0, 1}``."""

    name = "logistic"

    # The value, the gradient and the dual are written without differences of terms of order one
    # (log(1 + eᶠ) − f, eᶠ/(1 + eᶠ) − 1, 1 − (1 − θ)): on nearly separable data at a tiny alpha
    # J is 6e-7 (five samples, alpha 4e-8), and rounding each sample's loss to 1e-16 of one put
    # the certified gap at −1e-9 (tests/fuzz_regressions).
    @staticmethod
    def value(F, Y):
        losses = (1.0 - Y) * np.logaddexp(0.0, F) + Y * np.logaddexp(0.0, -F)
        return float(np.sum(losses)) / F.shape[0]

    @staticmethod
    def gradient(F, Y):
        return (1.0 - Y) * expit(F) - Y * expit(-F)

    # its gradient is exact to each entry's rounding already
    dual_point = classmethod(_negated_gradient)

    @staticmethod
    def dual(theta, Y):
        # -ℓ*(-θ, y) is the binary entropy of p = y − θ ∈ [0, 1] (1 − p = q = 1 − y + θ). The
        # larger of p and q is a rounding of 1 − (the smaller), and its log carries an error
        # of 1e-16 against the smaller's share of the entropy: (1 − s) log1p(−s) instead, s the
        # smaller, which y ∈ {0, 1} gives exactly (θ or −θ). On nine nearly separable samples
        # (J = 1.5e-13) the other way put the certified gap at −8e-6 (tests/fuzz_regressions).
        p = np.clip(Y - theta, 0.0, 1.0)
        q = np.clip(1.0 - Y + theta, 0.0, 1.0)
        small = np.minimum(p, q)
        return -float(np.sum(xlogy(small, small) + xlog1py(1.0 - small, -small))) / theta.shape[0]

    @staticmethod
    def outputs_from_residual(theta, Y):
        return logit(np.clip(Y - theta, _TINY, 1.0 - np.finfo(float).epsneg))

    @staticmethod
    def zero_sum(theta, Y):
        """``θ`` moved along the loss's curvature so that ``1ᵀθ = 0`` exactly (see
        :func:`_zero_sum`); ``p = y − θ`` stays in ``[0, 1]``.

        Parameters
        ----------
        theta : ndarray of shape (n_samples, n_outputs)
            Dual point (a residual ``−∇ℓ(F)``).
        Y : ndarray of shape (n_samples, n_outputs)
            Targets as :func:`encode_targets` returns them.
        """
        p = np.clip(Y - theta, 0.0, 1.0)
        return _zero_sum(theta, p[:, :, None] * (1.0 - p)[:, None, :])

    @staticmethod
    def hessian_root(F, Y):
        """``√(σ(f)(1 − σ(f)))`` per sample, shape (n, 1, 1).

        Parameters
        ----------
        F : ndarray of shape (n_samples, 1)
            Model outputs.
        Y : ndarray of shape (n_samples, 1)
            Targets; not used (the Hessian does not depend on them), kept for the common
            signature.
        """
        p = expit(F)
        return np.sqrt(p * (1.0 - p))[:, :, None]

    @staticmethod
    def intercept_shift(F, Y):
        """The shift ``δ`` whose outputs ``F + δ`` sum their probabilities to the number of
        positives (compiled: :func:`convexnn.kernels.logistic_intercept`).

        Parameters
        ----------
        F : ndarray of shape (n_samples, 1)
            Model outputs; they must be finite.
        Y : ndarray of shape (n_samples, 1)
            Labels in ``{0, 1}``, both present.

        Returns
        -------
        ndarray of shape (1,)
        """
        target, n = float(np.sum(Y)), F.shape[0]
        if target <= 0.0 or target >= n:
            raise ValueError("the logistic loss needs both classes among the targets")
        if not np.all(np.isfinite(F)):
            raise ValueError("the model outputs are not finite")
        f = np.ascontiguousarray(F[:, 0], dtype=np.float64)
        return np.array([logistic_intercept(f, target, 0.0)])


class SoftmaxLoss:
    """Categorical log-loss of a softmax output: ``ℓ(f, y) = logsumexp(f) − yᵀf``, ``y`` one-hot."""

    name = "softmax"

    @staticmethod
    def value(F, Y):
        F = np.ascontiguousarray(F, dtype=np.float64)
        return softmax_loss_sum(F, np.ascontiguousarray(Y, dtype=np.float64)) / F.shape[0]

    @staticmethod
    def gradient(F, Y):
        return softmax(F, axis=1) - Y

    @staticmethod
    def dual_point(F, Y):
        """The dual point ``θ = y − p`` the gap is certified at, each entry to its own rounding:
        the true class's ``1 − p_y`` is the other classes' mass, so each row sums to zero and
        ``y − θ`` lies on the simplex the dual's entropy is defined on. As :meth:`gradient`
        computes it, a confident sample's ``1 − p_y`` (3e-13) keeps an error of 1e-16 of one,
        the entropy is taken off the simplex, and on three such samples of three classes
        (J = 1.2e-11) the certified gap was −2.6e-5 (tests/fuzz_regressions). ``fista`` takes
        it as its gradient too; the other solvers' iterations take :meth:`gradient`.

        Parameters
        ----------
        F : ndarray of shape (n_samples, n_classes)
            Model outputs, one per class.
        Y : ndarray of shape (n_samples, n_classes)
            One-hot labels.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            ``θ``, each row summing to zero.
        """
        P = softmax(F, axis=1)
        theta = Y - P
        true = Y == 1.0
        theta[true] = np.sum(np.where(true, 0.0, P), axis=1)[np.any(true, axis=1)]
        return theta

    @staticmethod
    def dual(theta, Y):
        # -ℓ*(-θ, y) is the entropy of p = y − θ on the simplex. As for the logistic loss, no
        # difference of terms of order one: the true class's term p log p is (1 − q) log1p(−q)
        # with q = θ_y (and the value is log1p of the other classes' mass,
        # kernels.softmax_loss_sum); else a confident sample's share of a tiny J rounds to
        # 1e-16 of one
        p = np.clip(-theta * (1.0 - Y), 0.0, 1.0)
        q = np.clip(np.sum(theta * Y, axis=1), 0.0, 1.0)
        return -float(np.sum(xlogy(p, p)) + np.sum(xlog1py(1.0 - q, -q))) / theta.shape[0]

    @staticmethod
    def outputs_from_residual(theta, Y):
        return np.log(np.clip(Y - theta, _TINY, 1.0))

    @staticmethod
    def zero_sum(theta, Y):
        """``θ`` moved along the loss's curvature so that ``1ᵀθ = 0`` exactly (see
        :func:`_zero_sum`); each ``p_i = y_i − θ_i`` stays on the simplex.

        Parameters
        ----------
        theta : ndarray of shape (n_samples, n_outputs)
            Dual point (a residual ``−∇ℓ(F)``).
        Y : ndarray of shape (n_samples, n_outputs)
            Targets as :func:`encode_targets` returns them (one-hot).
        """
        p = np.clip(Y - theta, 0.0, 1.0)
        H = np.einsum("ij,jk->ijk", p, np.eye(p.shape[1])) - p[:, :, None] * p[:, None, :]
        return _zero_sum(theta, H, shift_invariant=True)

    @staticmethod
    def hessian_root(F, Y):
        """Square roots of ``diag(p_i) − p_i p_iᵀ`` (``p_i`` the softmax of ``F_i``): (n, K, K).
        Each is singular along the all-ones direction, like the Hessian itself.

        Parameters
        ----------
        F : ndarray of shape (n_samples, n_outputs)
            Model outputs.
        Y : ndarray of shape (n_samples, n_outputs)
            Targets; not used (the Hessian does not depend on them), kept for the common
            signature.
        """
        p = softmax(F, axis=1)
        values, vectors = eigh(np.einsum("ij,jk->ijk", p, np.eye(p.shape[1]))
                               - p[:, :, None] * p[:, None, :])
        root = np.sqrt(np.maximum(values, 0.0))
        return np.matmul(vectors * root[:, None, :], vectors.transpose(0, 2, 1))

    @staticmethod
    def intercept_shift(F, Y, max_iter=200):
        """Newton's method on ``δ ↦ Σ_i ℓ(F_i + δ, Y_i)`` (fixed last coordinate), compiled
        (:func:`convexnn.kernels.softmax_intercept`).

        Parameters
        ----------
        F : ndarray of shape (n_samples, n_outputs)
            Model outputs; they must be finite.
        Y : ndarray of shape (n_samples, n_outputs)
            One-hot targets; every class must occur.
        max_iter : int, default=200
            Most Newton steps.

        Returns
        -------
        ndarray of shape (n_outputs,)
            The shift ``δ``, last entry 0.
        """
        n, k = F.shape
        counts = Y.sum(axis=0)
        if np.any(counts <= 0):
            raise ValueError("the softmax loss needs every class among the targets")
        if not np.all(np.isfinite(F)):
            raise ValueError("the model outputs are not finite")

        def objective(dl):
            return float(np.sum(logsumexp(F + dl, axis=1))) - float(counts @ dl)

        # the class frequencies are the optimum when F is constant; keep the better start
        guess = np.log(counts / n) - np.mean(log_softmax(F, axis=1), axis=0)
        guess -= guess[-1]
        delta = np.zeros(k)
        if np.all(np.isfinite(guess)) and objective(guess) < objective(delta):
            delta = guess
        softmax_intercept(np.ascontiguousarray(F, dtype=np.float64),
                          np.ascontiguousarray(Y, dtype=np.float64), delta, max_iter)
        return delta


def _zero_sum(theta, H, shift_invariant=False):
    """``θ − Δ`` with ``Δ_i = H_i λ`` (``H_i`` the loss's Hessian at sample ``i``) and ``λ`` solving
    ``(Σ_i H_i) λ = 1ᵀθ``: the linearised intercept step that makes every column of ``θ`` sum to
    zero, as the dual needs (an intercept solve converges only to its own tolerance, and
    ``c·1ᵀθ`` would otherwise enter the bound). ``Δ`` keeps ``y − θ`` in the loss's domain while
    ``|λ| ≤ 1/2``, far above the few ulps it corrects; else ``θ`` is returned unchanged. With
    ``shift_invariant`` (softmax: ``H_i 1 = 0`` and ``1ᵀθ_i = 0``) the all-ones direction, which
    ``Σ_i H_i`` does not see, is pinned by adding ``11ᵀ``."""
    excess = theta.sum(axis=0)
    if not np.any(excess):
        return theta
    A = H.sum(axis=0)
    if shift_invariant:
        A = A + np.trace(A) / A.shape[0] ** 2
    step = np.linalg.lstsq(A, excess, rcond=None)[0]
    if not np.max(np.abs(step), initial=0.0) <= 0.5:
        return theta
    return theta - np.einsum("ijk,k->ij", H, step)


LOSSES = {cls.name: cls for cls in (SquaredLoss, LogisticLoss, SoftmaxLoss)}


def get_loss(name):
    """Return the loss class called ``name`` (``"squared"``, ``"logistic"`` or ``"softmax"``).

    Parameters
    ----------
    name : str
        A key of :data:`LOSSES`; any other raises ``ValueError``.
    """
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; expected one of {sorted(LOSSES)}") from None


def encode_targets(y, loss, n_outputs=None):
    """Targets as the ``(n_samples, n_outputs)`` float array a loss acts on.

    ``squared``: ``y`` of shape ``(n,)`` or ``(n, k)``. ``logistic``: labels in ``{0, 1}``.
    ``softmax``: integer labels ``0..K-1`` (``K = n_outputs`` if given) or a one-hot matrix.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets or labels, as above.
    loss : {"squared", "logistic", "softmax"}
        Name of the loss.
    n_outputs : int, optional
        Number of classes ``K`` for the softmax loss with integer labels; by default the largest
        label plus one. Ignored by the other losses.

    Returns
    -------
    ndarray of shape (n_samples, n_outputs), float
    """
    get_loss(loss)
    y = np.asarray(y)
    if loss == "squared":
        y = y.astype(float)
        return y.reshape(-1, 1) if y.ndim == 1 else y
    if loss == "logistic":
        y = y.reshape(-1).astype(float)
        if not np.all((y == 0) | (y == 1)):
            raise ValueError("the logistic loss takes labels in {0, 1}")
        return y.reshape(-1, 1)
    if y.ndim == 2:
        if not (np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=1) == 1)):
            raise ValueError("a 2-D target for the softmax loss must be one-hot")
        return y.astype(float)
    labels = y.astype(int)
    if np.any(labels != y) or labels.min(initial=0) < 0:
        raise ValueError("the softmax loss takes integer labels 0..K-1 (or a one-hot matrix)")
    k = int(labels.max(initial=-1)) + 1 if n_outputs is None else int(n_outputs)
    if labels.max(initial=-1) >= k:
        raise ValueError(f"label {labels.max()} out of range for {k} outputs")
    return np.eye(k)[labels]
