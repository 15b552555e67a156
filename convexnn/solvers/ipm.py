"""A primal-dual interior-point method for the exact ReLU program with squared loss.

Per output, the program over the blocks ``w_b`` (``b`` runs over the ``u_k`` and the ``v_k``) and
their norm bounds ``t_b`` is

    min  f(W) + α Σ_b t_b    s.t.  (t_b, w_b[:d]) ∈ Q (second-order cone),  (2D_k − I) X̃ w_b ≥ 0,

with ``f(W) = (1/2n)‖P_c(Σ_k D_k X̃ (u_k − v_k) − y)‖²``: ``P_c`` centres, which eliminates the
free intercept. Mehrotra's predictor-corrector method runs on it, with Nesterov–Todd scaling for
the second-order cones and slack variables for the ``n`` rows of every cone (the iterates may
start outside the row constraints, and reach them along the way). A few rows bound each cone;
the barrier starts with those of each block that pass closest to it, and the others join it
where an iterate reaches them (:meth:`ReluProblem.select_rows`).

The Newton matrix is block diagonal (one ``(d + 2)²`` block per ``(w_b, t_b)``) plus the data term
``(1/n) HᵀP_cH``, ``H`` the masked design. By the Woodbury identity one step costs one ``n × n``
Cholesky factorisation of ``nI + P_c (Σ_k D_k X̃ C_k X̃ᵀ D_k) P_c``, ``C_k`` the inverse blocks of
``u_k`` and ``v_k`` summed; that matrix is one BLAS product ``ZZᵀ`` with ``Z = [D_k X̃ L_k]_k`` and
``L_kL_kᵀ = C_k``: the solver never forms the design times itself. Interior-point methods need a few
tens of iterations whatever the conditioning, where the augmented Lagrangian needs thousands.

Certificate (:ref:`maths-gap`): the residual of the iterate, made dual feasible. Every block's dual
norm is bounded first by the iterate's own row multipliers (all blocks in a few matrix products,
:func:`convexnn.cone.multiplier_bounds`); the blocks that bound leaves above ``n·α`` get the
non-negative least squares of :mod:`convexnn.cone`, restricted to the rows whose multipliers the
solver found non-negligible (and on every row wherever that is not enough), so the certified gap
costs a fraction of a full certificate. The solver stops when that gap is below ``tol`` and the rows
hold to ``tol``. An interior point leaves the blocks that the optimum does not use tiny but
non-zero; once the gap is certified they are set to zero, provided the zeroed point certifies too
(a few more iterations shrink them first), so the mapped network lists the neurons it uses.
Mehrotra's corrector is followed by up to three of Gondzio's centrality correctors, which reuse
the factorisation and lengthen the steps.
"""

from __future__ import annotations

import time
import warnings
from functools import cached_property

import numpy as np
from scipy.linalg import blas, cho_solve, cholesky, null_space, qr
from scipy.optimize import linprog
from sklearn.exceptions import ConvergenceWarning

from .._linalg import eigh as _eigh
from ..cone import multiplier_bounds, paired_block_norms
from ..kernels import pair_weights, right_sandwich_rows
from ..patterns.core import far_centroid
from ..program import ConvexProgram, ConvexSolution, relative_gap
from ..shared import SharedNeuronProgram
from .base import SolverResult, numpy_blas_single_threaded

__all__ = ["solve_ipm", "interior_start", "newton_form", "DegenerateConeError"]


class DegenerateConeError(ValueError):
    """A pattern's cone has an empty interior, where an interior-point method cannot start."""


def interior_start(Xt, masks, gates):
    """A strictly interior point of every pattern's cone ``{u : (2D_k − I) X̃ u > 0}``, (P, d + 1).

    The gate itself when it puts no sample on its hyperplane (Gaussian gates); otherwise the
    centre found by a small linear program, ``max s`` s.t. ``(2D_k − I) X̃ u ≥ s``, ``|u| ≤ 1``.
    Raises :class:`DegenerateConeError` for a pattern whose cone has an empty interior.

    Parameters
    ----------
    Xt : ndarray of shape (n_samples, n_features + 1)
        Inputs with the bias column, ``X̃ = [X, 1]``.
    masks : ndarray of shape (n_samples, n_patterns), bool
        The patterns ``D_k``.
    gates : ndarray of shape (n_features + 1, n_patterns)
        The gates that induced the patterns, bias last (the first candidates).

    Returns
    -------
    ndarray of shape (n_patterns, n_features + 1)
        One interior point per pattern, each of unit norm.
    """
    S = np.where(masks, 1.0, -1.0)
    G = np.array(gates, dtype=np.float64).T  # (P, d + 1)
    margins = np.min(S * (Xt @ G.T), axis=0)
    for k in np.flatnonzero(margins <= 0):
        G[k], width = _widest_point(S[:, k, None] * Xt)
        if width <= 1e-9 * max(1.0, float(np.abs(Xt).max())):
            raise DegenerateConeError(
                f"pattern {k} has a cone with an empty interior (a degenerate arrangement); the "
                "interior-point solver needs strictly feasible cones: use solver='al' or 'cvxpy'"
            )
    return G / np.linalg.norm(G, axis=1, keepdims=True)


def _widest_point(A):
    """The point ``u`` of the box ``|u|∞ ≤ 1`` with the largest margin ``s = min(A u)``, and that
    margin (a small linear program; ``s = 0`` where it fails): how wide the cone ``A u ≥ 0`` is."""
    p = A.shape[1]
    res = linprog(
        np.r_[np.zeros(p), -1.0], A_ub=np.hstack([-A, np.ones((len(A), 1))]),
        b_ub=np.zeros(len(A)), bounds=[(-1, 1)] * p + [(None, 1)], method="highs",
    )
    return (res.x[:p], -res.fun) if res.status == 0 else (np.zeros(p), 0.0)


def thin_cones(Xt, masks, gates):
    """Which patterns' cones are thinner than ``THIN`` (the widest margin of a point of the unit
    box, :func:`_widest_point`, relative to the largest entry of ``X̃`` or one): a linear program
    for each pattern whose gate's own margin is below that, none for the others (a gate of unit
    norm lies in the box). Boolean (P,)."""
    S = np.where(masks, 1.0, -1.0)
    G = np.array(gates, dtype=np.float64)
    G /= np.linalg.norm(G, axis=0, keepdims=True)
    limit = THIN * max(1.0, float(np.abs(Xt).max()))
    thin = np.zeros(masks.shape[1], dtype=bool)
    for k in np.flatnonzero(np.min(S * (Xt @ G), axis=0) < limit):
        thin[k] = _widest_point(S[:, k, None] * Xt)[1] < limit
    return thin


class ReluProblem:
    """The exact ReLU program in primal-dual form, for one output (squared or logistic loss) or
    for the ``K`` coupled outputs of the softmax loss.

    The blocks ``w_b`` are the rows of ``W`` (``K · 2P`` of them: for every output its ``u_k`` then
    its ``v_k``); the free intercept is eliminated by minimising over it, so the smooth part of the
    objective is ``f(W) = min_c (1/n) Σ_i ℓ(F_i(W) + c, y_i)``. Its Hessian is ``(1/n) HᵀS P S H``
    with ``S`` the per-sample roots of the loss's Hessian and ``P`` the projection orthogonal to the
    range of ``S`` on the intercept's directions (for the squared loss: the centring ``P_c``).
    """

    def __init__(self, Xt, masks, Y, alpha, loss):
        self.Xt = np.asarray(Xt, dtype=np.float64)
        self.M = np.asarray(masks, dtype=np.float64)
        self.Y = np.asarray(Y, dtype=np.float64).reshape(self.Xt.shape[0], -1)
        self.loss = loss
        self.K = self.Y.shape[1]
        self._set_rows(2 * self.K)
        self.alpha = float(alpha)
        self.n, self.p = self.Xt.shape
        self.P = self.M.shape[1]
        self.outer = (self.Xt[:, :, None] * self.Xt[:, None, :]).reshape(self.n, -1)  # x̃x̃ᵀ rows
        self.regularisation = 1e-13 * float(np.sum(self.Xt**2)) / self.n
        self.mask_outer = self.M.T @ self.outer  # (P, p²): Σ_i m_ik x̃_i x̃_iᵀ
        self.groups = self.K  # block families: one (u_k, v_k) set per output
        self._last = self._curvature = (None, None)
        self._data_cache = None  # (root, Q, data term) of the last primal factorisation
        # the proximal damping of the Newton systems (:func:`_model_error`), in units of the
        # features' mean square (the scale of the data term's curvature)
        self.proximal, self.proximal_unit = 0.0, float(np.mean(self.Xt**2))
        # whether the iterations only shrink the blocks to be pruned, a certified point in hand:
        # the primal form then takes reduced solves to ``PRUNING_REDUCED_RESIDUAL``
        self.pruning = False
        # whether the iterate is still far from the optimum (``COARSE``): the Woodbury form's
        # Gram matrices are then formed, and the primal form's reduced systems factored, in
        # single precision
        self.coarse = False
        # the flops the polishes of this problem may still spend, all its forms' solves together
        # (:func:`_polished`)
        self.polish_budget = POLISH_MAX_FLOPS

    #: Whether the primal form reduces its Newton systems through the sums ``B_u + B_v`` (else
    #: through the blocks' inverses): see :func:`_reduced_by_sums`.
    reduce_through_sums = False
    #: Set to a form of :func:`newton_form` to solve in it whatever it costs.
    forced_form = None
    #: Whether the primal form takes reduced solves only to ``PRIMAL_REDUCED_RESIDUAL``, however
    #: large the whole system (``PRIMAL_STRICT``).
    strict_reduced = False
    #: Whether every row is in the barrier from the start (:meth:`select_rows`): the repeat of a
    #: solve that stalled with the rows it selected.
    every_row = False
    #: Whether a stalled Woodbury-form solve is repeated in the primal form whatever its cost
    #: against the Woodbury form's (else up to ``REPEAT_COST_RATIO``).
    costly_repeats = True

    @property
    def n_blocks(self):
        return 2 * self.groups * self.P

    def _set_rows(self, copies):
        """The signs ``S2`` (n, copies·P) of every block's rows, ``copies`` blocks per pattern,
        without the rows of the blocks whose pattern is active on every sample (``free``, one
        flag per block). Their rows ``X̃w_b ≥ 0`` constrain nothing: the intercept absorbs the
        bias, so any ``w_b[:d]`` is feasible with the bias ``−min_i x_iᵀw_b[:d]``
        (:meth:`with_feasible_biases`), and a bias above it changes no objective. Kept, they made
        that bias a direction without cost along which the barrier pushes without end, and the
        Newton matrices singular there: the default regressor stalled at certified gaps of
        1.6e-4 and 4.4e-6 on naval-propulsion-plant's splits 1 and 3
        (tests/test_real_data.py). Their signs are set to zero and their slacks to one
        (``row_offset``); the bias stays where it starts (:meth:`_block_hessians`)."""
        self.S2 = np.tile(2.0 * self.M - 1.0, (1, copies))
        self.free = np.tile(self.M.all(axis=0), copies)
        self.S2[:, self.free] = 0.0
        self.row_offset = self.free.astype(np.float64)
        self.live, self.barrier_signs = None, self.S2  # every row in the barrier (select_rows)

    def select_rows(self, W):
        """The rows the barrier starts with: all of them up to ``BARRIER_ROWS · (d + 1)`` samples,
        else that many per block, those whose hyperplanes pass closest (in angle) to the block at
        ``W``; the others enter as the iterates reach them (:meth:`enter_rows`).

        A pattern's cone is the intersection of its ``n`` half-spaces, but a few of them bound it
        (a hundred or so of W1's 1,500 in 19 dimensions, benchmarks/problems.py), and the others
        only crowd the barrier: its central path keeps away from each row, and the steps it
        allows shrink. On W1's logistic program over 500 Gaussian gates the interior point took
        39 Newton iterations with every row, of steps 0.5-0.6 until complementarity reached 1e-9.
        Rows left out of the barrier are still the program's: an iterate that violates one is
        not feasible (nor certified), and the row joins the barrier. The point found is then
        the optimum of the program with the barrier's rows, which all the rows hold: the
        optimum of the whole program.

        The angles are measured where the features are white (the metric of ``(X̃ᵀX̃)⁻¹``): the
        rows that bound a cone are the same in any coordinates, and on features of scales far
        apart (1 to 2e5) the plain angles are those of the largest feature alone; with them a
        classifier that certified (tests/solvers/test_ipm.py, two BLAS threads) stalled at
        2.3e-6."""
        count = BARRIER_ROWS * self.p
        if self.every_row or self.n <= count:
            self.live, self.barrier_signs = None, self.S2
            return
        norms = np.sqrt(np.einsum("ij,ij->i", self.Xt, np.linalg.lstsq(
            self.Xt.T @ self.Xt, self.Xt.T, rcond=None)[0].T))
        angles = np.abs(self.Xt @ W.T) / np.maximum(norms, 1e-300)[:, None]
        nearest = np.argpartition(angles, count - 1, axis=0)[:count]
        live = np.zeros(self.S2.shape, dtype=bool)
        np.put_along_axis(live, nearest, True, axis=0)
        live &= self.S2 != 0
        self.live = live
        self.barrier_signs = np.where(live, self.S2, 0.0)
        self.row_offset = np.where(live, 0.0, 1.0)

    def enter_rows(self, XW, S, Z, mu):
        """Rows outside the barrier that the iterate at ``XW`` violates, or holds with less slack
        than the least of its block's barrier rows, join the barrier (:meth:`select_rows`) with a
        slack of the mean of their block's and a multiplier on the central path, ``μ/s``. Returns
        the slacks and the multipliers, new arrays where a row joined (the loop keeps references
        to earlier iterates' arrays)."""
        if self.live is None:
            return S, Z
        signed = XW * self.S2
        least = np.min(np.where(self.live, S, np.inf), axis=0)
        enter = ~self.live & (self.S2 != 0) & (signed < least)
        count = int(np.count_nonzero(enter))
        if count:
            mean = (np.sum(np.where(self.live, S, 0.0), axis=0)
                    / np.maximum(np.count_nonzero(self.live, axis=0), 1))
            slack = np.broadcast_to(mean, S.shape)[enter]
            self.live |= enter
            self.barrier_signs = np.where(self.live, self.S2, 0.0)
            self.row_offset[enter] = 0.0
            S, Z = S.copy(), Z.copy()
            S[enter] = np.maximum(signed[enter], slack)
            Z[enter] = mu / S[enter]
        return S, Z

    @property
    def n_live(self):
        """How many rows are in the barrier."""
        return self.S2.size if self.live is None else int(np.count_nonzero(self.live))

    def rows(self, XW, S):
        """The rows' residual ``(2D_k − I)X̃w_b − s_b`` in the barrier (zero for the rows outside
        it and for the free blocks' dropped rows, whose slacks stay at one)."""
        return XW * self.barrier_signs - S + self.row_offset

    def with_feasible_biases(self, W):
        """``W`` with the free blocks' biases at the least that keeps their rows, ``X̃w_b ≥ 0``,
        satisfied (the intercept absorbs the change)."""
        if not self.free.any():
            return W
        W = W.copy()
        W[self.free, -1] = -np.min(self.Xt[:, :-1] @ W[self.free, :-1].T, axis=0)
        return W

    def block_duals(self, Theta, group):
        """The dual vector of each pattern's blocks in family ``group``: (n, P)."""
        return np.broadcast_to(Theta[:, group, None], (self.n, self.P))

    def products(self, W):
        """``X̃w_b`` for every block: (n, 2PK)."""
        return self.Xt @ W.T

    def outputs(self, XW):
        """``F = Σ_k D_k X̃ (u_k − v_k)`` for every output: (n, K)."""
        XW = XW.reshape(self.n, self.K, 2, self.P)
        return np.einsum("ik,iok->io", self.M, XW[:, :, 0] - XW[:, :, 1])

    def adjoint_outputs(self, R):
        """``Hᵀr``: ``±X̃ᵀD_k r_o`` for every block, (2PK, p), of output residuals ``R`` (n, K)."""
        data = self.Xt.T @ (self.M[:, None, :] * R[:, :, None]).reshape(self.n, -1)
        data = data.T.reshape(self.K, 1, self.P, self.p)
        return np.concatenate([data, -data], axis=1).reshape(-1, self.p)

    def block_outputs(self, b):
        """The outputs' change per unit of ``X̃w_b`` (block ``b`` alone): (n, K)."""
        o, sign, k = b // (2 * self.P), 1.0 - 2.0 * ((b // self.P) % 2), b % self.P
        C = np.zeros((self.n, self.K))
        C[:, o] = sign * self.M[:, k]
        return C

    def fit_at(self, XW):
        """The model outputs at their optimal intercept, ``z = F + c`` (n, K), and ``c``; cached
        for the last ``XW``."""
        if self._last[0] is not XW:
            F = self.outputs(XW)
            if np.all(np.isfinite(F)):
                c = np.asarray(self.loss.intercept_shift(F, self.Y), dtype=np.float64)
            else:  # a step overflowed: the iterate is rejected on its non-finite objective
                c = np.full(self.K, np.nan)
            self._last = (XW, (F + c, c))
        return self._last[1]

    def objective(self, XW, T):
        return self.loss.value(self.fit_at(XW)[0], self.Y) + self.alpha * float(T.sum())

    def adjoint(self, V):
        """``X̃ᵀ(2D_k − I)v_b`` for every block of rows ``V`` (n, 2PK): shape (2PK, p)."""
        return (self.Xt.T @ (self.S2 * V)).T

    def smooth_gradient(self, XW):
        """Gradient of ``f + αΣt`` over ``(w_b, t_b)``: (2PK, p + 1)."""
        g = np.empty((self.n_blocks, self.p + 1))
        g[:, :-1] = self.adjoint_outputs(self.loss.gradient(self.fit_at(XW)[0], self.Y) / self.n)
        g[:, -1] = self.alpha
        return g

    def curvature(self, XW):
        """``S`` (n, K, K) at ``XW`` and an orthonormal basis ``Q`` (nK, r) of the range of ``S``
        on the intercepts' directions, the directions the projection ``P`` removes; cached for
        the last ``XW`` (the factorisation and the step's model check both ask for it: 1 s a
        call for the softmax roots of 21,042 samples in 18 classes)."""
        if self._curvature[0] is not XW:
            root = np.array(self.loss.hessian_root(self.fit_at(XW)[0], self.Y), dtype=np.float64)
            self._curvature = (XW, (root, _range_basis(root.reshape(self.n * self.K, self.K))))
        return self._curvature[1]

    def factor(self, XW, weights, cone_hessian):
        """Factor the Newton matrix ``(1/n)HᵀSPSH + blockdiag(X̃ᵀdiag(weights_b)X̃ + cone_hessian_b)``
        (the last on the cone coordinates ``(t_b, w_b[:d])``), the curvature taken at ``XW``;
        returns a function solving it for a right-hand side (2PK, p + 1)."""
        n, p, P, K = self.n, self.p, self.P, self.K
        root, Q = self.curvature(XW)
        B, exact = self._block_hessians(weights, cone_hessian)
        form = self.form()
        if form == "primal":
            return self._primal(B, exact, *self._data_term_at(root, Q))
        Binv = _psd_inverse(B)

        # Woodbury: the data term through (nI + P S H B⁻¹ Hᵀ S P)
        G = self.groups
        C = Binv[:, :p, :p].reshape(G, 2, P, p, p)
        # what the data term needs of C_u + C_v, for every pattern and family
        L = self._summed_inverses(C[:, 0] + C[:, 1])
        Q = Q.reshape(n, K, -1).transpose(1, 0, 2).reshape(K * n, -1)  # rows ordered (o, i)

        def scaled(V):  # S v sample by sample, as one vector ordered (o, i)
            return np.einsum("iab,ib->ai", root, V).ravel()

        def scaled_back(x):  # S v for v ordered (o, i), as (n, K)
            return np.einsum("iab,bi->ia", root, x.reshape(K, n))

        def project(h):
            return h - Q @ (Q.T @ h)

        def matvec(x):
            h = project(scaled(self.outputs(self.products(x[:, :p]))))
            out = np.einsum("bij,bj->bi", exact, x)
            out[:, :p] += self.adjoint_outputs(scaled_back(h) / n)
            return out

        if form == "cg":
            return self._preconditioned_solver(
                matvec, Binv, [self._gram(L[o]) for o in range(K)], root
            )

        # The nK × nK system is nI + P S G S P on the range of P (G = H B⁻¹ Hᵀ); with
        # A = nI + S G S its solution is A⁻¹(h + Qβ), β making it orthogonal to Q: no projection
        # of A, whose entries may be huge. Where every S_i is singular along the same direction
        # (softmax: the all-ones one), S = U Ŝ Uᵀ with U an orthonormal basis of the others
        # (K × (K − 1)) and Q = U Q̂ sample by sample: the same system on the n(K − 1)
        # coordinates Uᵀ, formed and factored there (((K − 1)/K)³ of the factorisation's flops),
        # and refined against the exact matrix all the same.
        basis = self._curved_outputs()
        if basis is None:
            factored_root, factored_Q = root, Q
            into, back = scaled, scaled_back
        else:
            r = basis.shape[1]
            factored_root = np.matmul(np.matmul(basis.T, root), basis)  # Ŝ_i = UᵀS_iU
            # Q̂ from the intercepts' images ŜUᵀe_b themselves, not from UᵀQ: the rounding in
            # S_i's square roots gives S_i·1 a norm of 1e-8 or so, which Q spans and Uᵀ does not
            # keep orthonormal (ŜUᵀ·1 is zero to the last digit)
            factored_Q = _range_basis(np.matmul(factored_root, basis.T).reshape(n * r, K))
            factored_Q = factored_Q.reshape(n, r, -1).transpose(1, 0, 2).reshape(r * n, -1)

            def into(V):  # ŜUᵀv sample by sample, as one vector ordered (a, i)
                return np.einsum("iab,ib->ai", factored_root, V @ basis).ravel()

            def back(x):  # UŜx for x ordered (a, i), as (n, K)
                return np.einsum("iab,bi->ia", factored_root, x.reshape(r, n)) @ basis.T

        A = self._coupled(factored_root, L, basis)
        A[np.diag_indices(A.shape[0])] += n
        # the upper triangle of a C-ordered matrix is the lower one of its transpose, which is
        # Fortran-ordered: LAPACK factors it in place (a copy of A first cost 0.8 s of 2.3 s at
        # 6,000 rows)
        factor = ((cholesky(A, lower=False, overwrite_a=True, check_finite=False), False)
                  if A.flags.f_contiguous else
                  (cholesky(A.T, lower=True, overwrite_a=True, check_finite=False), True))
        AQ = cho_solve(factor, factored_Q, check_finite=False)
        QAQ = factored_Q.T @ AQ

        def solve(rhs, refine=REFINE):
            return _refined(approximate, matvec, rhs, refine)

        def approximate(rhs):
            d0 = np.einsum("bij,bj->bi", Binv, rhs)
            h = into(self.outputs(self.products(d0[:, :p])))
            h -= factored_Q @ (factored_Q.T @ h)
            x = cho_solve(factor, h, check_finite=False)
            x -= AQ @ np.linalg.solve(QAQ, factored_Q.T @ x)
            Hs = np.zeros((self.n_blocks, p + 1))
            Hs[:, :p] = self.adjoint_outputs(back(x))
            return d0 - np.einsum("bij,bj->bi", Binv, Hs)

        return solve

    def _summed_inverses(self, C):
        """``L`` with ``L_kL_kᵀ = C_k`` (``C`` the inverse blocks of ``u_k`` and ``v_k`` summed,
        (G, P, p, p)): ``Z`` and its Gram matrix are built from them."""
        G, P, p = C.shape[:3]
        return _psd_root(C.reshape(G * P, p, p)).reshape(G, P, p, p)

    def form(self):
        """How the Newton systems are solved (:func:`newton_form`)."""
        if self.forced_form is not None:
            return self.forced_form
        return newton_form(self.n, self.p - 1, self.P, self.K)

    def retry_form(self):
        """The form to solve again in, from the start, after a solve that stopped short of
        ``tol`` (None: no other); one output only. Each form's last directions can lose their
        precision where the other's do not. The Woodbury form's at a small ``alpha`` relative
        to the targets: on 300 standardised samples the default regressor (seeds 0-3) at
        alpha 1e-6 and 1e-7, and at alpha 1e-3 on features of order 1e4 (the same program),
        ended at certified gaps near 1 in 9 fits of 12 and in CVXPY's second opinion in the
        other 3; the primal form certified all 12. The primal form's on the first 3,000
        training rows of naval-propulsion-plant at alpha 1e-3: a certified gap of 6e-4, then
        68 s in CVXPY; the Woodbury form certifies 1.5e-8 in 19 s. Which form fits:
        :func:`other_form`.

        A primal-form solve is repeated in the primal form first, rounded another way, which
        costs far less than the Woodbury form's ``n × n`` factorisations: with its reduced solves
        to ``PRIMAL_REDUCED_RESIDUAL`` where they were accepted to ``LARGE_REDUCED_RESIDUAL``
        (``PRIMAL_STRICT``), then with its systems reduced through the sums ``B_u + B_v``
        instead of the blocks' inverses (``PRIMAL_THROUGH_SUMS``), then in the Woodbury form
        where it fits. On all of naval-propulsion-plant's training rows (split0, alpha 1e-3)
        the first way stalled at a certified gap of 2.3e-6 and the sums certify 3.4e-9. On
        4,784 windows of 20 values of an ECG the first stopped at 3.9e-4 and the Woodbury
        form's repeat took 53 s of 4,784 × 4,784 factorisations; the strict repeat certifies,
        6 s in all (tests/test_real_data.py); on 4,785 such windows (11 patterns) both primal
        ways stop short and the sums certify, 5 s where the Woodbury form took 52 s."""
        if self.K != 1:
            return None
        form = self.form()
        if form == "primal" and not self.reduce_through_sums:
            return PRIMAL_STRICT if self._loose_reduced() else PRIMAL_THROUGH_SUMS
        return other_form(form, self.n, self.p - 1, self.P,
                          np.inf if self.costly_repeats else REPEAT_COST_RATIO)

    def force(self, form):
        """Solve in ``form`` from now on (:meth:`retry_form`)."""
        if form == PRIMAL_THROUGH_SUMS:
            form, self.reduce_through_sums = "primal", True
        if form == PRIMAL_STRICT:
            form, self.strict_reduced = "primal", True
        self.forced_form = form

    def _loose_reduced(self):
        """Whether the primal form accepts reduced solves up to ``LARGE_REDUCED_RESIDUAL``: the
        whole system's ``n_blocks · (p + 1)`` unknowns exceed ``PRIMAL_DENSE_UNKNOWNS``."""
        return not self.strict_reduced and self.n_blocks * (self.p + 1) > PRIMAL_DENSE_UNKNOWNS

    def _data_term_at(self, root, Q):
        """:meth:`_data_term`, formed again only when the curvature changed: the squared loss's
        is constant (``S = I``), and its data term cost 40 % of each iteration at 20,000
        samples."""
        cached = self._data_cache
        if cached is not None and np.array_equal(cached[0], root) and np.array_equal(cached[1], Q):
            return cached[2]
        found = self._data_term(root, Q)
        self._data_cache = (root, Q, found)
        return found

    def _data_term(self, root, Q):
        """The primal form's data term ``(1/n) JᵀS P S J`` on the differences (one output):
        its matrix (Pp × Pp) and its action on ``d`` (P, p).

        It holds one ``n × Pp`` array besides the design ``J``: ``PSJ``, projected in place by
        chunks of rows and handed to the BLAS as the Fortran-ordered ``(PSJ)ᵀ``, not copied, and
        freed once its Gram matrix is formed; the action goes through ``J`` and the roots. With a
        copy for ``SJ``, one for ``PSJ``, the BLAS's own and those the cache kept of the last
        iteration, a data term held five: 97,548 samples of 50 features (the shape of UCI's
        miniboone) needed 21.7 GiB."""
        n, p, P = self.n, self.p, self.P
        s = root[:, 0, 0]
        # Q has no column when every sample's curvature has underflowed to zero
        PSJ = self.design * s[:, None]
        QtSJ = Q.T @ PSJ
        for start in range(0, n, DATA_TERM_CHUNK):  # P S J, its Gram matrix semi-definite
            rows = slice(start, start + DATA_TERM_CHUNK)
            PSJ[rows] -= Q[rows] @ QtSJ
        gram = blas.dsyrk(1.0 / n, PSJ.T, trans=0)  # upper triangle of (PSJ)ᵀPSJ / n
        del PSJ
        J = self.design

        def data_term(d):
            h = (J @ d.ravel()) * s
            return (J.T @ ((h - Q @ (Q.T @ h)) * s) / n).reshape(P, p)

        return np.triu(gram) + np.triu(gram, 1).T, data_term

    def _curved_outputs(self):
        """An orthonormal basis (K, r) of the output directions along which the loss curves, where
        that is fewer than the ``K`` outputs at every sample, for the Woodbury form's matrix; None
        where it is all of them."""
        return None

    def _coupled(self, root, L, basis=None):
        """``S H B⁻¹ Hᵀ S`` (nK × nK, rows ordered output by output ``(o, i)``; the upper triangle
        is all the Cholesky factorisation reads), from ``L`` with ``L_kL_kᵀ`` the inverse blocks
        of ``u_k`` and ``v_k`` summed: ``H B⁻¹ Hᵀ = blockdiag_o(Z_oZ_oᵀ)``, ``Z_o = [D_k X̃ L_k]_k``."""
        n, K = self.n, self.K
        if K == 1:  # the curvature roots scale Z's rows: no pass over the n × n matrix
            return self._gram(L[0], rows=root[:, 0, 0])
        grams = [self._gram(L[o]) for o in range(K)]
        A = np.zeros((K * n, K * n))
        for a, gram in enumerate(grams):
            gram = np.triu(gram) + np.triu(gram, 1).T
            for o in range(K):
                left = root[:, o, a, None] * gram
                for q in range(o, K):  # block (o, q) = Σ_a diag(S_oa) G_a diag(S_aq)
                    A[o * n:(o + 1) * n, q * n:(q + 1) * n] += left * root[None, :, a, q]
        return A

    def _block_hessians(self, weights, cone_hessian):
        """The block-diagonal part of the Newton matrix, ``X̃ᵀdiag(weights_b)X̃ + cone_hessian_b``
        per block (the latter on the cone coordinates ``(t_b, w_b[:d])``): regularised for the
        factorisation, and exact for the refinement."""
        p = self.p
        B = np.zeros((self.n_blocks, p + 1, p + 1))
        cone = cone_index(p)
        B[np.ix_(np.arange(self.n_blocks), cone, cone)] = cone_hessian
        if self.free.any():  # the free blocks have no rows
            weights = np.where(self.free, 0.0, weights)
        # X̃ᵀdiag(weights_b)X̃ for every block at once: one product with the outer products x̃x̃ᵀ
        B[:, :p, :p] += blas.dgemm(1.0, weights, self.outer, trans_a=1).reshape(-1, p, p)
        # nor any curvature along their bias (the intercept's direction): the block's largest
        # curvature there keeps the bias where it is (its gradient is zero) and leaves the
        # matrix's scale, hence the factorisations' shifts, as they are
        free = np.flatnonzero(self.free)
        B[free, p - 1, p - 1] += np.max(np.einsum("bii->bi", B[free]), axis=1)
        if self.proximal:  # part of the system: the damped Newton step (``MODEL_ERROR``)
            B[:, np.arange(p), np.arange(p)] += self.proximal
        exact = B.copy()
        # a static regularisation far below the data term's curvature keeps B invertible where a
        # coordinate has none (the bias of a block whose rows are all inactive); iterative
        # refinement against the exact matrix removes its effect and that of rounding
        B[:, np.arange(p + 1), np.arange(p + 1)] += self.regularisation
        return B, exact

    def _primal(self, B, exact, F, data_term):
        """A solver of the Newton system of one family of blocks ``(u_k, v_k)`` whose data term,
        with matrix ``F`` (Pp × Pp) and action ``data_term(d)``, sees only the differences
        ``d = w_u − w_v`` (P, p): reduced to a system over the differences
        (:func:`_reduced_by_inverses`, or :func:`_reduced_by_sums` where
        ``reduce_through_sums``), then refined against the exact blocks; where that misses the
        residual asked for, conjugate gradients, and then the whole system."""
        p, P = self.p, self.P

        def reduced(coarse):
            try:
                return (_reduced_by_sums if self.reduce_through_sums
                        else _reduced_by_inverses)(B, F, coarse)
            except np.linalg.LinAlgError:  # a sum B_u + B_v that does not factor
                return _reduced_by_inverses(B, F, coarse)

        approximate = reduced(self.coarse)

        def matvec(x):
            h = data_term(x[:P, :p] - x[P:, :p])  # the data term sees the differences
            out = np.einsum("bij,bj->bi", exact, x)
            out[:P, :p] += h
            out[P:, :p] -= h
            return out

        dense = []

        def solve(rhs, refine=REFINE):
            nonlocal approximate
            if dense:
                return dense[0](rhs, refine)
            x = _refined(approximate, matvec, rhs, refine)
            # where one refinement is not enough, conjugate gradients preconditioned by the
            # reduced solve recover the precision for a few products each (on sklearn's digits,
            # 2P(d + 2) = 13,200 unknowns, the dense factor costs 8 times the reduced one)
            bound = (PRUNING_REDUCED_RESIDUAL if self.pruning else
                     LARGE_REDUCED_RESIDUAL if self._loose_reduced() else PRIMAL_REDUCED_RESIDUAL)
            x, residual = _conjugate_gradients(matvec, approximate, rhs, x, bound,
                                               PRIMAL_CG_MAX_ITER)
            if not residual <= bound * np.linalg.norm(rhs) and approximate.single:
                # the single-precision factor may be what falls short: the reduced factor in
                # double precision before the whole system's (8 times the cost on digits)
                approximate = reduced(False)
                x, residual = _conjugate_gradients(matvec, approximate, rhs, x, bound,
                                                   PRIMAL_CG_MAX_ITER)
            if not residual <= bound * np.linalg.norm(rhs):  # NaN included
                if self.pruning and (2 * P * (p + 1)) ** 3 / 3 > PRUNING_DENSE_FLOPS:
                    # the iterations after a certified point only shrink the blocks to prune:
                    # not worth the whole system's factor (they end, the certified point kept)
                    raise np.linalg.LinAlgError("the reduced Newton system lost its precision")
                dense.append(self._primal_dense(B, exact, F, matvec))
                solve.whole = True
                return dense[0](rhs, refine)
            return x

        solve.whole = False  # whether it fell back to the whole system's factor
        return solve

    def _primal_dense(self, B, exact, F, matvec):
        """The same system through its dense matrix over the ``2P(d + 2)`` unknowns (one
        Cholesky factorisation): the fallback of :meth:`_primal` when the reduced system has
        lost too much precision (near the end of the barrier, on thin cones)."""
        p, P = self.p, self.P
        size = p + 1
        N = np.zeros((2 * P * size, 2 * P * size))
        _add_diagonal_blocks(N, B)
        # the data term on the weights of u_k and v_k (+F on uu and vv, −F on uv and vu), through
        # strided views of N (fancy indices over its 2P(d + 2) rows cost seconds at this size)
        weights = N.reshape(2, P, size, 2, P, size)[:, :, :p, :, :, :p]
        F4 = F.reshape(P, p, P, p)
        for a in (0, 1):
            for b in (0, 1):
                weights[a, :, :, b] += F4 if a == b else -F4
        R = _shifted_cholesky(N)

        def approximate(rhs):
            return cho_solve((R, False), rhs.ravel(), check_finite=False).reshape(rhs.shape)

        def solve(rhs, refine=REFINE):
            return _refined(approximate, matvec, rhs, refine)

        return solve

    @cached_property
    def _masks_single(self):
        """The masks ``D_k`` as rows (P, n), in single precision (:meth:`_gram`)."""
        return np.ascontiguousarray(self.M.T, dtype=np.float32)

    @cached_property
    def design(self):
        """The masked design ``J = [D_k X̃]_k`` (n, P·p), built once for the primal form."""
        return (self.M[:, :, None] * self.Xt[:, None, :]).reshape(self.n, self.P * self.p)

    def _preconditioned_solver(self, matvec, Binv, grams, root):
        """A solver of the Newton system by preconditioned conjugate gradients, for ``K`` coupled
        outputs too many to factor together. The preconditioner drops the coupling of the outputs
        (the off-diagonal ``−p_o p_q`` of each sample's softmax Hessian, and the intercepts'
        projection): one ``n × n`` Woodbury factor per output, ``nI + D_o G_o D_o`` with ``D_o²``
        the diagonal ``p_o(1 − p_o)``."""
        n, p = self.n, self.p
        diagonal = np.einsum("iab,iab->ia", root, root)  # diag(S²) = p(1 − p)
        factors = []
        for a, gram in enumerate(grams):
            d = np.sqrt(diagonal[:, a])
            A = gram * d[:, None] * d[None, :]
            A[np.diag_indices(n)] += n
            factors.append(cholesky(A, lower=False, overwrite_a=True, check_finite=False))

        def precondition(rhs):
            d0 = np.einsum("bij,bj->bi", Binv, rhs)
            h = self.outputs(self.products(d0[:, :p])) * np.sqrt(diagonal)
            x = np.column_stack([cho_solve((R, False), h[:, a], check_finite=False)
                                 for a, R in enumerate(factors)])
            Hs = np.zeros_like(rhs)
            Hs[:, :p] = self.adjoint_outputs(x * np.sqrt(diagonal))
            return d0 - np.einsum("bij,bj->bi", Binv, Hs)

        def solve(rhs):
            return _conjugate_gradients(matvec, precondition, rhs, precondition(rhs), CG_TOL,
                                        CG_MAX_ITER, checked=False)[0]

        solve.factored = False  # each solve costs tens of products: no Gondzio correctors
        return solve

    def _gram(self, L, rows=None):
        """``ZZᵀ`` (upper triangle) for ``Z = [D_k X̃ L_k]_k``, one output's ``L`` (P, p, p); with
        ``rows`` (n,), for ``diag(rows) Z`` instead."""
        n, p, P = self.n, self.p, self.P
        # Z built as (P, p, n) so that its transpose is already the Fortran (n, P·p) matrix the
        # BLAS wants
        Lt = np.ascontiguousarray(L.transpose(0, 2, 1)).reshape(P * p, p)
        # columns of Z whose share of ZZᵀ is far below nI barely change the factor: leave them
        # out (the iterative refinement against the exact matrix makes up for them)
        # diag(L_kᵀ (X̃ᵀD_kX̃) L_k): one batched product first (numpy's three-operand einsum loops
        # in C without BLAS, 0.45 s a call at 93 patterns of 200 features against 0.06 s)
        weight = np.einsum("kaj,kaj->kj", np.matmul(self.mask_outer.reshape(P, p, p), L), L)
        weight = weight.ravel()
        keep = np.flatnonzero(weight > DROP * n)
        Xt = self.Xt if rows is None else self.Xt * rows[:, None]
        # far from the optimum a single-precision Gram matrix serves as well (the refinement
        # against the exact matrix makes up for its rounding as for the columns left out) at
        # half the cost
        coarse = self.coarse and n * n * keep.size >= COARSE_FLOPS
        gemm, syrk, dtype = ((blas.sgemm, blas.ssyrk, np.float32) if coarse
                             else (blas.dgemm, blas.dsyrk, np.float64))
        Zt = gemm(1.0, Xt.astype(dtype, copy=False), Lt[keep].astype(dtype, copy=False),
                  trans_b=1).T  # L_kᵀX̃ᵀ, kept
        Zt *= (self._masks_single if coarse else self.M.T)[keep // p]
        return syrk(1.0, Zt.T).astype(np.float64, copy=False)


class SharedReluProblem(ReluProblem):
    """The exact ReLU program whose neurons feed every output along fixed directions
    (:class:`~convexnn.shared.SharedNeuronProgram`): one family of blocks ``(u_k, v_k)``, pattern
    ``k``'s output ``D_k X̃ (u_k − v_k)`` entering the ``K`` outputs along ``E[:, k]``.

    Its Newton systems are solved in the primal form (``2P(d + 2)`` unknowns whatever ``K``; the
    data term ``(1/n) JᵀS P S J``, ``J`` the ``nK × P(d + 1)`` map from the differences to the
    outputs, accumulated over chunks of samples) or, where it costs less, in the Woodbury form
    through one ``nK × nK`` matrix.
    """

    def __init__(self, Xt, masks, Y, alpha, loss, directions):
        super().__init__(Xt, masks, Y, alpha, loss)
        self.E = np.asarray(directions, dtype=np.float64)  # (K, P)
        self.groups = 1
        self._set_rows(2)

    def block_duals(self, Theta, group):
        return Theta @ self.E

    def outputs(self, XW):
        return (self.M * (XW[:, :self.P] - XW[:, self.P:])) @ self.E.T

    def adjoint_outputs(self, R):
        data = (self.Xt.T @ (self.M * (R @ self.E))).T  # (P, p): X̃ᵀD_k R e_k
        return np.concatenate([data, -data])

    def block_outputs(self, b):
        sign, k = 1.0 - 2.0 * (b // self.P), b % self.P
        return sign * self.M[:, k, None] * self.E[None, :, k]

    #: The shared program's primal systems are reduced through the sums (:func:`_reduced_by_sums`).
    reduce_through_sums = True

    def form(self):
        """How the Newton systems are solved (:func:`shared_newton_form`)."""
        if self.forced_form is not None:
            return self.forced_form
        return shared_newton_form(self.n, self.p - 1, self.P, self.K)

    def retry_form(self):
        """The form to solve again in after a solve that stopped short of ``tol``
        (:func:`shared_other_form`; None: no other). Where the Woodbury form does not fit, a
        primal-form solve that accepted reduced solves to ``LARGE_REDUCED_RESIDUAL`` is repeated
        with them to ``PRIMAL_REDUCED_RESIDUAL`` (``PRIMAL_STRICT``): on ``make_blobs(900,
        n_features=4, centers=9, random_state=3)`` (nK = 8,100) the default classifier's first
        solve stopped at a certified gap of 7.8e-6, the strict one certifies 6.7e-7."""
        form = self.form()
        other = shared_other_form(form, self.n, self.p - 1, self.P, self.K)
        if other is None and form == "primal" and self._loose_reduced():
            return PRIMAL_STRICT
        return other

    def _data_term(self, root, Q):
        """``(1/n)(JᵀS²J − (QᵀSJ)ᵀ(QᵀSJ))``: entry ``((k, j), (l, j'))`` of ``JᵀS²J`` is
        ``Σ_i m_ik m_il (e_kᵀS_i²e_l) x̃_ij x̃_ij'``, one product of the ``n × P²`` weights with the
        ``n × (d + 1)²`` outer products (``nP²(d + 1)²`` flops, ``K`` times fewer than forming
        ``S J``)."""
        n, p, P, K = self.n, self.p, self.P, self.K
        # m_ik S_i e_k, as (i, k, a): the rows of S J, pattern by pattern
        SE = np.ascontiguousarray(np.matmul(root, self.E).transpose(0, 2, 1) * self.M[:, :, None])
        r = Q.shape[1]
        T = np.matmul(SE, Q.reshape(n, K, r))  # (i, k, r): BLAS, not einsum's C loops
        QSJ = (T.transpose(0, 2, 1).reshape(n, r * P).T @ self.Xt).reshape(r, P * p)
        # both factors are symmetric (in k, l and in j, j'): the product is formed on the pairs
        # k ≤ l and j ≤ j' alone, a quarter of the flops, and gathered into F
        outer = self.upper_outer
        gram = np.zeros((P * (P + 1) // 2, outer.shape[1]))
        size = max(1, SHARED_CHUNK_ENTRIES // (P * P))
        weights = np.empty((min(size, n), P * (P + 1) // 2))
        for start in range(0, n, size):
            stop = min(start + size, n)
            chunk = weights[:stop - start]
            # e_kᵀS_i²e_l on the pairs of patterns active at sample i (a compiled loop: the
            # batched products and the gathers of the pairs cost 2-3 times as much)
            pair_weights(SE[start:stop], chunk)
            # gramᵀ += outerᵀ weights in scipy's BLAS, on Fortran views (no copies, no temporary)
            blas.dgemm(1.0, outer[start:stop].T, chunk.T, trans_b=1, beta=1.0, c=gram.T,
                       overwrite_c=True)
        # F[(k, j), (l, j')] = gram[pair(k, l), pair(j, j')]: every (j, j') of each pair of
        # patterns, then the pairs gathered row by row of patterns (slices, not a 4-d fancy index)
        full = np.take(gram, _pair_index(p).ravel(), axis=1)
        del gram
        index = _pair_index(P)
        F = np.empty((P, p, P, p))
        for k in range(P):
            F[k] = full[index[k]].reshape(P, p, p).transpose(1, 0, 2)
        del full
        F = F.reshape(P * p, P * p)
        if r:  # F −= (QᵀSJ)ᵀ(QᵀSJ) in place (numpy's ``QSJ.T @ QSJ`` took up to 30× longer)
            blas.dgemm(-1.0, QSJ, QSJ, trans_a=1, beta=1.0, c=F.T, overwrite_c=True)
        F /= n

        def data_term(d):  # through the operators: S, the projection, and S again
            h = np.einsum("iab,ib->ia", root, self.outputs_of(d)).ravel()
            h = (h - Q @ (Q.T @ h)).reshape(n, K)
            return self.adjoint_outputs(np.einsum("iab,ib->ia", root, h))[:P] / n

        return F, data_term

    @cached_property
    def upper_outer(self):
        """The entries ``j ≤ j'`` of the outer products ``x̃_ix̃_iᵀ``: (n, p(p + 1)/2)."""
        j, k = np.triu_indices(self.p)
        return self.outer.reshape(self.n, self.p, self.p)[:, j, k]

    def outputs_of(self, d):
        """``Σ_k D_k X̃ d_k e_kᵀ`` for differences ``d`` (P, p): (n, K)."""
        return (self.M * (self.Xt @ d.T)) @ self.E.T

    def _summed_inverses(self, C):
        """``C`` itself: :meth:`_coupled` needs no roots of it."""
        return C

    def _curved_outputs(self):
        """The softmax loss curves along no output direction but the all-ones one's orthogonal
        complement, at every sample: a basis of that (K, K − 1); None for the other losses."""
        if self.loss.name != "softmax" or self.K < 2:
            return None
        return _sum_free_basis(self.K)

    def _coupled(self, root, C, basis=None):
        """``S H B⁻¹ Hᵀ S`` (nK × nK, rows ordered ``(o, i)``; its upper triangle, all the
        Cholesky factorisation reads) without forming ``Z``: pattern ``k`` enters every output
        along ``E[:, k]``, so entry ``((o, i), (q, j))`` is ``Σ_ab S_i[o, a] T_ab[i, j] S_j[q, b]``
        with ``T_ab = Σ_k E[a, k] E[b, k] G_k`` and ``G_k = (D_k X̃) C_k (D_k X̃)ᵀ`` (n × n, ``C_k``
        the inverse blocks of ``u_k`` and ``v_k`` summed, ``C`` of shape (1, P, p, p)):
        ``n²P(d + 1) + K²Pn² + 2n²K³`` flops instead of the ``(nK)²P(d + 1)/2`` of ``ZZᵀ``,
        ``Z = [S E_k D_k X̃ L_k]_k`` with ``L_kL_kᵀ = C_k`` (1.2–6 times less time on the shapes
        of five UCI multi-class sets, K = 5–11, n = 146–1,000), and no roots ``L_k``.

        The ``T_ab`` are formed for blocks of samples ``i`` (rows of the ``G_k``), and ``S`` is
        applied to each block at once, from the left by BLAS and from the right by a compiled
        loop (:func:`~convexnn.kernels.right_sandwich_rows`): no temporary of the matrix's size.
        The default classifier on the first 600 of scikit-learn's digits as loaded (nK = 6,000)
        spent 2.7 s a call here, most of it in permuted copies of the ``K²n²`` entries of ``T``
        that applied ``S`` to all of it at once (86 s of 157 s); now 0.6 s."""
        n, K, P = self.n, root.shape[1], self.P
        # with ``basis`` U: the same matrix on the coordinates Uᵀ of the outputs, ``root`` the
        # Ŝ_i = UᵀS_iU and the directions UᵀE
        E = self.E if basis is None else basis.T @ self.E
        MX = self.M.T[:, :, None] * self.Xt  # D_k X̃: (P, n, p)
        MXC = np.matmul(MX, C[0])  # D_k X̃ C_k
        EE = (E[:, None, :] * E[None, :, :]).reshape(K * K, P)
        St = np.ascontiguousarray(root.transpose(1, 2, 0))  # S_j[q, b] as (q, b, j)
        A = np.zeros((K, n, K, n))
        rows = max(1, SHARED_CHUNK_ENTRIES // (max(P, K * K) * n))
        for start in range(0, n, rows):
            stop = min(start + rows, n)
            G = np.matmul(MXC[:, start:stop], MX.transpose(0, 2, 1))  # G_k's rows: (P, r, n)
            # (r, K², n); each sample's (P, n) slice of G is a strided matrix BLAS takes as
            # it is (a contiguous copy first cost five times the product)
            T = np.matmul(EE, G.transpose(1, 0, 2))
            U = np.matmul(root[start:stop], T.reshape(stop - start, K, K * n))
            right_sandwich_rows(U.reshape(stop - start, K, K, n), St, start, A)
        return A.reshape(n * K, n * K)


#: Where a solve ends short of ``tol``, the patterns whose cones are thinner than this
#: (:func:`thin_cones`) are left out of a solve before any repeat in another form; it stands
#: where it certifies the whole program (their blocks zero). The barrier's slacks on such a cone
#: are bounded by its width, and its Newton directions lose their precision: on 8 samples of 5
#: features, two rows 2.5e-9 apart (logistic loss, ``alpha = 0.23``), 114 of the ``exact``
#: sampler's 239 cones are at most 1.6e-9 wide, the others at least 3.6e-2; with them the
#: interior point stalled at a certified gap of 2e-4 in each of its four forms (29 s), without
#: them it certifies the whole program to 4e-11 in 0.05 s (fuzzing seed 1,337,464). A cone with
#: no interior at all, which stops the start, is left out likewise. The widths are measured only
#: after a stop short of ``tol``: they cost a linear program per pattern whose own gate does not
#: clear the threshold (72 of magic's 95 MLP patterns, 8-14 s), and fits that certify with thin
#: cones in them (chess-krvk's MLP has 5) would pay for those and for a solve without them.
THIN = 1e-6
#: The rows each block starts its barrier with, per coordinate (``d + 1``): every row where the
#: samples are no more (:meth:`ReluProblem.select_rows`).
BARRIER_ROWS = 10
#: Above this many unknowns (2P(d + 2)) the primal form of the Newton system is not factored ...
PRIMAL_MAX_UNKNOWNS = 6000
#: ... unless one output has more samples than ``LARGE_SAMPLES``, where the Woodbury form's
#: ``n × n`` matrices are not formed (``"auto"`` gives such a program to the interior point only
#: in the primal form, ``convexnn.solvers.ipm_fits``): the primal form is then taken up to
#: ``LARGE_MAX_UNKNOWNS`` unknowns (its whole matrix, factored where a reduced solve loses its
#: precision, 2 GB at that size). On a binary ``make_classification(20000, 50)`` (the default
#: classifier, 6,968 unknowns) it certified 4.8e-7 in 76 Newton iterations, 658 s, where the
#: augmented Lagrangian was chosen.
LARGE_SAMPLES, LARGE_MAX_UNKNOWNS = 10_000, 16_000
#: The retry of a primal-form solve where the Woodbury form does not fit
#: (:meth:`ReluProblem.retry_form`).
PRIMAL_THROUGH_SUMS = "primal through sums"
#: The retry of a primal-form solve that took its reduced solves to ``LARGE_REDUCED_RESIDUAL``:
#: the same form, its reduced solves to ``PRIMAL_REDUCED_RESIDUAL`` (the whole system factored
#: where they miss it), before any other form (:meth:`ReluProblem.retry_form`).
PRIMAL_STRICT = "primal, strict reduced solves"
#: Most repeats of a solve that stopped short of ``tol``, each in a way not yet tried
#: (:meth:`ReluProblem.retry_form`).
RETRIES = 3
#: Where CVXPY's second opinion follows a stall (``solve_ipm(costly_repeats=False)``, which
#: ``"auto"`` sets on programs small enough for CVXPY), a Woodbury-form solve that stalled is
#: repeated in the primal form only where the primal form's iterations cost at most this many
#: times its own (:func:`other_form`). Those are programs of a few samples, where CVXPY is
#: quick. On 8 samples of 6 features of scales 1e-8 to 1e8 (two outputs, 253 exact patterns,
#: 4,048 unknowns) the fit took 539 s, nearly all of it the dense factorisations of the three
#: primal repeats of each output, none certifying, before CVXPY certified the program: 2.5 s
#: without them. On 60 samples of 16 raw features at ``alpha=1e-5``
#: (``benchmarks/random_problems.py``, raw-scales-regression, seeds 23, 27 and 37) the primal
#: repeat certified in 9–16 s, and CVXPY in about 1 s.
REPEAT_COST_RATIO = 1000.0
#: The softmax loss couples its K outputs in one nK × nK system, factored while it has at most this
#: many rows; above, each Newton system is solved by conjugate gradients preconditioned by one n × n
#: factor per output (K n³/3 flops instead of (nK)³/3).
COUPLED_MAX_ROWS = 6000
#: Relative residual and most iterations of those conjugate gradients.
CG_TOL, CG_MAX_ITER = 1e-11, 500
#: Most conjugate-gradient iterations, preconditioned by the reduced solve, that the primal form
#: spends on a Newton system before it falls back to factoring the whole system.
PRIMAL_CG_MAX_ITER = 50
#: Entries of the ``c × P²`` curvature weights formed at once by :class:`SharedReluProblem`'s
#: primal data term (chunks of ``c`` samples).
SHARED_CHUNK_ENTRIES = 2**22
#: The primal form solves for the differences ``u_k − v_k`` first (a system of half the size); when
#: a solve leaves a relative residual above this (the barrier's last iterations on thin cones), it
#: factors the whole system instead, for the rest of the iteration ...
PRIMAL_REDUCED_RESIDUAL = 1e-10
#: ... or above ``LARGE_REDUCED_RESIDUAL`` where the whole system has more than
#: ``PRIMAL_DENSE_UNKNOWNS`` unknowns. In the barrier's last iterations the reduced solves leave
#: 1e-10 to 1e-8, which conjugate gradients do not improve (rounding in the products themselves),
#: and those directions served as well as the whole system's or better: the default classifier on
#: scikit-learn's digits as loaded (10 classes, 13,200 unknowns, 15 s a factorisation) factored
#: the whole system in 8 iterations, 236 s, and with 1e-8 in none, 108 s, the same objective to 8
#: digits; statlog-image 31.5 s → 19.5 s; the default regressor on naval-propulsion-plant
#: (split0, standardised, alpha 1e-3) 41.2 s → 11.2 s, the same objective, where the whole
#: system's directions stalled and the solve was repeated. Where the whole system is that small, its
#: factorisation costs under a millisecond, and on five samples of three classes
#: (tests/test_shared.py, 12 unknowns) directions to 1e-9 stalled at a certified gap of 0.41
#: where the whole system's certify 3.4e-7.
LARGE_REDUCED_RESIDUAL, PRIMAL_DENSE_UNKNOWNS = 1e-8, 500
#: Rows of the primal form's ``n × P(d + 1)`` projected design per chunk of its in-place
#: projection (:meth:`ReluProblem._data_term`): a chunk's temporary, not another whole copy.
DATA_TERM_CHUNK = 4096
#: The same bound in the iterations that follow a certified point only to shrink the blocks to be
#: pruned (``PRUNE_ITERATIONS``): the best certified point is kept whatever they do. On digits
#: the two that followed the certificate had factored the whole system, 30 s of the fit.
PRUNING_REDUCED_RESIDUAL = 1e-6
#: Where their reduced solves miss even that bound, those iterations end (the certified point is
#: kept, its blocks zeroed as the best dual bound allows) rather than factor the whole system of
#: ``2P(d + 2)`` unknowns, when that costs more than this many flops. On scikit-learn's digits
#: (75 % of it, 12,600 unknowns, 15-25 s a factorisation) the default classifier with
#: ``random_state`` 4 and 11 took 342 s and 250 s, four and three such factorisations after its
#: certificate, and takes 183 s and 158 s, the same objective to seven digits (one BLAS thread).
PRUNING_DENSE_FLOPS = 1e10
#: An iterate is certified once its complementarity is below 0.1 ``tol`` (relative to the
#: objective), or below this times ``tol`` where its iteration had to factor the primal form's
#: whole system (:meth:`ReluProblem._primal`), which the next would likely do too: on
#: scikit-learn's digits (75 % of it, ``random_state=11``) the default classifier certified one
#: such iterate at 5.1e-7 and took 111 s instead of 158 s, one factorisation and two iterations
#: fewer.
WHOLE_FACTOR_CERTIFICATE = 1.0
#: A solve that ends short of ``tol`` certifies the first iterate of each decade of
#: complementarity below ``DECADES_FROM`` for its dual bound, until one certifies more than
#: ``BREAKDOWN`` times the best gap of those before it (:func:`_solve_output`).
DECADES_FROM, BREAKDOWN = 1.0, 10.0
#: Iterative refinements of each Newton solve against the exact matrix.
REFINE = 1
#: Columns of Z whose share of ZZᵀ (trace) is below this fraction of n are left out of the factor.
#: On a 1,500-sample, 20-feature regression over 500 patterns (benchmarks/problems.py) the
#: factorisation is then 1.6× cheaper with the same iterates; at 0.1 refinement no
#: longer makes up for what is left out.
DROP = 1e-2
#: While the complementarity relative to the objective exceeds ``COARSE``, the Woodbury form's
#: Gram matrices ``ZZᵀ`` of ``n² c ≥ COARSE_FLOPS`` (``c`` the columns kept) are formed in
#: single precision, at half the cost, and so are the primal form's reduced factorisations of
#: ``m³/3 ≥ COARSE_FLOPS`` (``m`` rows); the iterative refinement against the exact matrix makes
#: up for the rounding. On W1's logistic program over 500 Gaussian gates (benchmarks/problems.py)
#: the iterations are the same, 39, and the solve takes 20.0 s instead of 24.2 s (one BLAS
#: thread); the default classifier on a standardised 3-class ``make_classification(1500, 30)``
#: 15.7 s instead of 21.6 s, and on scikit-learn's digits (75 % of it, 6,370 reduced unknowns)
#: 93 s instead of 107 s, the same iterations and objective. Smaller factorisations gain nothing:
#: on twonorm (5,550 samples, about 2,100 reduced unknowns, 3e9 flops) forming the data term
#: costs more than factoring, and the fit took 54 s instead of 51 s with a threshold of 1e9.
COARSE, COARSE_FLOPS = 1e-2, 1e10
#: Most Gondzio centrality correctors per iteration (each one more solve with the same factor).
#: A corrector aims at the step ``a + TRIAL`` and is kept when the step grows by ``ACCEPT``. On the
#: same regression over an MLP's 500 patterns they cut the iterations from 51 to 34 (30 s to 21 s).
CORRECTORS = 3
TRIAL, ACCEPT = 0.3, 0.03
#: Blocks below this fraction of the largest are set to zero once the gap is certified, when the
#: zeroed point still certifies; up to ``PRUNE_ITERATIONS`` further iterations shrink them first.
PRUNE = 1e-6
#: ... and they are given those iterations too where no block is below ``PRUNE`` but some are
#: below ``SHRINKING`` times the largest: at the first certified point the blocks that the optimum
#: leaves out may not have shrunk that far yet. A stacked regressor's first block (sklearn's
#: regression check data, 6 patterns, alpha 0.01, random_state=8) certified with two blocks at
#: 1.3e-6 and 1.5e-5 of the largest, and its layer kept both as neurons (tests/solvers/test_ipm.py).
SHRINKING = 1e-4
PRUNE_ITERATIONS = 4
#: A solve that ends short of ``tol`` is polished (:func:`_polished`): Newton steps on the
#: program restricted to the iterate's support, at most ``POLISH_STEPS`` of them and at most
#: ``POLISH_MAX_FLOPS`` in all (``n K m² + 10 m³`` a step for ``m`` unknowns: forming the Hessian
#: and its eigendecomposition; a few seconds on one core), all the polishes of one problem's
#: solves together: on seven samples whose interior point stalled in each of its four forms
#: (tests/fuzz_regressions), four budgets of their own took 10 of the fit's 12.6 s, one shared
#: 2.8 of 5.1 s, the same gap. A step that meets a row adds
#: that one row to the equalities: on 6,000 samples of 3 features (the default regressor, 100
#: patterns) the first 30 steps all did. The default classifier on a standardised
#: ``make_blobs(400, 6, centers=30)`` (about 95 patterns, 12,000 coupled rows, 500-600
#: unknowns at first) stalled on seeds 0-2 of 6 with 3e10 flops (12 steps): its polish needs
#: about 110, 8 s; with 1.5e11 all six certify, seeds 0 and 2 in 9.5 s where they took 17 s.
POLISH_STEPS, POLISH_MAX_FLOPS = 200, 1.5e11
#: Once its Newton decrement is within the objective's rounding the polish takes up to
#: ``POLISH_REFINE`` more full steps, each kept where the gradient on the support halves and the
#: objective rises by no more than ``ROUNDING`` of itself.
POLISH_REFINE, ROUNDING = 3, 1e-14
#: A block that its equalities would move by more than this fraction of its norm starts the
#: polish with only the rows it meets within this fraction of its norm (:func:`_polished`).
MISPLACED = 1e-3
#: Most times blocks outside the polished support join it (:func:`_polished`).
POLISH_ENTRIES = 20
#: Below this fraction of ``tol`` of the complementarity, a gap the multipliers' bounds leave
#: above ``tol`` is certified again from the blocks' exact dual norms (one NNLS per block).
FULL_CERTIFICATE = 1e-2
#: Feasible iterates whose complementarity is within this factor of ``tol`` (the last
#: ``LATE_KEPT`` of them, and the ``LATE_KEPT`` with the least dual residual) are certified after
#: the iterations when no iterate certified itself: their dual points bound the optimum for the
#: best primal point.
LATE, LATE_KEPT = 10.0, 3
#: A late iterate whose dual residual exceeds the smallest kept one's by this factor shows that
#: the Newton directions have lost their precision: the kept iterates are certified at once.
LOST = 100.0
#: A step over which the smooth objective exceeds its Newton model by more than ``MODEL_ERROR``
#: of the model's terms (:func:`_model_error`) is rejected and the iteration repeated with a
#: proximal term ``ρI`` on the blocks' weights added to the Newton matrix, ``ρ`` growing by
#: ``PROXIMAL_GROWTH`` from ``PROXIMAL_MIN`` up to ``PROXIMAL_MAX`` (in units of the features'
#: mean square); an iteration whose error is ``PROXIMAL_GROWTH`` times smaller shrinks ``ρ`` by
#: ``PROXIMAL_SHRINK``, to zero below ``PROXIMAL_MIN``. On seven programs of the default
#: classifier with 3-20 positive labels among 500-2,000 samples (all of which had ended with
#: no usable point), a damping released ten times at once, or laid on the bounds ``t_b`` too,
#: let the iterates diverge again on one or two of them.
MODEL_ERROR = 0.25
PROXIMAL_MIN, PROXIMAL_MAX, PROXIMAL_GROWTH, PROXIMAL_SHRINK = 1e-3, 1e3, 10.0, 3.0
#: Fraction of the way to the boundary of the cones that a step may go.
FRACTION = 0.99
#: Feasible iterations in which none of the complementarity ``μ``, the certified gap, the dual
#: residual and the rows' residual fell by ``PROGRESS`` (relative to its value at the last
#: progress) after which the iterations stop as stalled. Where the Newton directions lose their
#: precision (the Woodbury form at a small ``alpha`` relative to the targets) one step can throw
#: the iterate off the central path, its dual residual from 1e-10 to 1e-2, and the steps that
#: follow are a few thousandths long: the default regressor at alpha 1e-6 on 300 standardised
#: samples then ran its 100 iterations at a certified gap of 0.97 (tests/solvers/test_ipm.py).
STALL_WINDOW = 8
PROGRESS = 0.1
#: The default budget: ``MAX_ITER`` Newton iterations of each form, and up to ``FINISHING_ITER``
#: more while the complementarity, and the certified gap once there is one, are within
#: ``FINISHING`` times ``tol`` (a solve in its last decades, not one that crawls far from the
#: optimum, :func:`in_last_decades`). With 100 iterations in all, the default
#: regressor on 40,000 samples of a standardised ``make_friedman1`` (8 features) stopped at a
#: certified gap of 8.8e-6: after its first 50 iterations the complementarity falls by about a
#: tenth an iteration (steps of 0.02-0.8, limited by rows of the active blocks), 8.9e-6 at the
#: 100th; it stalls after 118 and its polished point certifies 1.7e-10. The full ECG of
#: docs/benchmarks.md ends its 100 iterations at gaps of 1e-3 to 4e-3 and gets none more.
#: Programs of at most ``SMALL_PROGRAM_SIZE`` entries ``n·P·(d + 1)·K`` (iterations of tens of
#: milliseconds) get ``SMALL_MAX_ITER`` instead: on R's datasets as published, features of
#: scales up to 1e5 and targets far from unit spread (a small effective alpha), the default
#: estimators' solves crawl with steps of 0.01-0.3 for about a hundred iterations and then
#: converge: Ecdat::HI classified (2,250 samples) certified after 101-115 iterations instead of
#: stopping at a certified gap of 0.24, gap::mfblong regressed (2,250 samples) after 144, in
#: 2-4 s (benchmarks/r_datasets.py, docs/benchmarks.md). That is the first form's budget; a
#: repeat in another form keeps ``MAX_ITER``: there the 200 let the primal form's crawl on
#: statsmodels' star98 run 100 iterations longer (375 s instead of 194 s, the same answer).
MAX_ITER, FINISHING_ITER, FINISHING = 100, 100, 100.0
#: ... or while the certified gap falls ``FALL`` times within ``FALL_WINDOW`` iterations
FALL, FALL_WINDOW = 10.0, 5
SMALL_MAX_ITER, SMALL_PROGRAM_SIZE = 200, 2_000_000


def default_budget(program):
    """The Newton iterations each form of ``program`` gets by default (``MAX_ITER``, or
    ``SMALL_MAX_ITER`` for a program of at most ``SMALL_PROGRAM_SIZE`` entries)."""
    return SMALL_MAX_ITER if program.size <= SMALL_PROGRAM_SIZE else MAX_ITER


def _range_basis(M):
    """An orthonormal basis of the range of ``M`` (its left singular vectors of singular values
    above 1e-10 of the largest; none where every one underflowed to zero)."""
    Q, sigma, _ = np.linalg.svd(M, full_matrices=False)
    return Q[:, sigma > 1e-10 * max(float(sigma[0]), 1e-300)]


def _sum_free_basis(K):
    """An orthonormal basis (K, K − 1) of the vectors whose entries sum to zero."""
    return null_space(np.ones((1, K)))


def newton_form(n_samples, n_features, n_patterns, n_outputs=1):
    """How the interior-point method solves its Newton systems for a problem of this size (one
    problem: one output, or the ``K`` coupled outputs of the softmax loss).

    ``"primal"``: with one output, the dense matrix over the blocks' ``2P(d + 2)`` unknowns, when
    forming and factoring it (``n (P(d + 1))² + (2P(d + 2))³/3`` flops) costs less than the Woodbury
    form — many samples, few patterns and features — and, above ``LARGE_SAMPLES`` samples, up to
    ``LARGE_MAX_UNKNOWNS`` unknowns whatever the Woodbury form would cost. ``"dual"``: the
    Woodbury form through ``n × n`` (softmax: ``nK × nK``) matrices (``n² P (d + 1) + n³/3`` flops
    per output). ``"cg"``: softmax above ``COUPLED_MAX_ROWS``, conjugate gradients preconditioned
    by one ``n × n`` factor per output.

    Parameters
    ----------
    n_samples, n_features, n_patterns : int
        The program's sizes ``n``, ``d`` and ``P`` (with more features than samples the solver
        works with ``n`` of them, :func:`_row_space`).
    n_outputs : int, default=1
        Number ``K`` of coupled outputs (softmax); 1 for one output of the squared or logistic
        loss.

    Returns
    -------
    {"primal", "dual", "cg"}
    """
    n, P, p, K = n_samples, n_patterns, min(n_features, n_samples) + 1, n_outputs
    if K > 1:
        return "dual" if n * K <= COUPLED_MAX_ROWS else "cg"
    unknowns = 2 * P * (p + 1)
    if n > LARGE_SAMPLES and unknowns <= LARGE_MAX_UNKNOWNS:
        return "primal"
    primal, dual = _form_flops(n, P, p)
    return "primal" if unknowns <= PRIMAL_MAX_UNKNOWNS and primal < dual else "dual"


def _form_flops(n, P, p):
    """The flops of one Newton iteration's matrix, formed and factored, in the primal form
    (``2P(p + 1)`` unknowns) and in the Woodbury form (``n × n``), ``p`` the blocks' length."""
    return n * (P * p) ** 2 + (2 * P * (p + 1)) ** 3 / 3, n * n * P * p + n**3 / 3


def other_form(form, n_samples, n_features, n_patterns, max_cost_ratio=np.inf):
    """The form a one-output solve in ``form`` that stalled is repeated in
    (:meth:`ReluProblem.retry_form`), or None: the primal form where its ``2P(d + 2)`` unknowns
    are at most ``PRIMAL_MAX_UNKNOWNS`` and its iterations cost at most ``max_cost_ratio`` times
    the Woodbury form's, the Woodbury form up to ``COUPLED_MAX_ROWS`` samples. ``n_features``
    counts the coordinates the solver works in."""
    if form == "dual":
        primal, dual = _form_flops(n_samples, n_patterns, n_features + 1)
        fits = 2 * n_patterns * (n_features + 2) <= PRIMAL_MAX_UNKNOWNS
        return "primal" if fits and primal <= max_cost_ratio * dual else None
    return "dual" if n_samples <= COUPLED_MAX_ROWS else None


def shared_newton_form(n_samples, n_features, n_patterns, n_outputs):
    """How the interior-point method solves the shared program's Newton systems
    (:class:`SharedReluProblem`): ``"primal"`` (``2P(d + 2)`` unknowns, reduced through the sums
    to ``P(d + 2)``) or ``"dual"`` (Woodbury, ``nK × nK``), whichever costs fewer flops to form
    and factor. The Woodbury form above ``COUPLED_MAX_ROWS`` rows only where the primal form has
    more than ``LARGE_MAX_UNKNOWNS`` unknowns, too many for the whole matrix it falls back to: on
    1,500 samples of 200 features in 5 classes (``make_classification``, 7,500 rows, 40,400
    unknowns) the default classifier was refused for an estimated 28 GiB, the primal matrices
    and their fallback; the Woodbury form (3 GiB, 17 times fewer flops) certifies 1.2e-7 in
    23 Newton iterations, 5 minutes on one thread.

    Parameters
    ----------
    n_samples, n_features, n_patterns, n_outputs : int
        The program's sizes ``n``, ``d``, ``P`` and ``K`` (with more features than samples the
        solver works with ``n`` of them, :func:`_row_space`).

    Returns
    -------
    {"primal", "dual"}
    """
    n, P, K = n_samples, n_patterns, n_outputs
    primal, dual = _shared_flops(n, n_features, P, K)
    p = min(n_features, n_samples) + 1
    factored = n * K <= COUPLED_MAX_ROWS or 2 * P * (p + 1) > LARGE_MAX_UNKNOWNS
    return "dual" if dual < primal and factored else "primal"


def _shared_flops(n, d, P, K):
    """Flops to form and factor the shared program's Newton matrix: (primal form, Woodbury)."""
    p = min(d, n) + 1
    primal = n * (P * p) ** 2 + (P * p) ** 3 / 3
    dual = n * n * P * (p + K * K) + 2 * n * n * K**3 + (n * K) ** 3 / 3  # _coupled, Cholesky
    return primal, dual


def shared_newton_flops(n_samples, n_features, n_patterns, n_outputs):
    """Flops to form and factor one Newton matrix of the shared program in the form
    :func:`shared_newton_form` takes."""
    primal, dual = _shared_flops(n_samples, n_features, n_patterns, n_outputs)
    form = shared_newton_form(n_samples, n_features, n_patterns, n_outputs)
    return dual if form == "dual" else primal


def shared_other_form(form, n_samples, n_features, n_patterns, n_outputs):
    """The form the shared program is solved again in after a solve in ``form`` that stopped
    short of ``tol``, or None.

    The Woodbury form after the primal one, where it fits: the primal directions can lose
    precision (on fold0 of six small UCI sets at ``alpha`` 1e-2 and 1e-3 they stalled short of
    ``tol = 1e-6`` in 3 of 12 fits, wine and vertebral-column-3clases at 1e-2 and lenses at
    1e-3, on standardised iris at 1e-2 and on conn-bench-vowel-deterding at 1e-3; the Woodbury
    form in none of them), and the primal form costs up to 40 times fewer flops (vowel). The
    primal form after the Woodbury one, as for one output: the default regressor with two
    outputs on 300 standardised samples at alpha 1e-5 stalled at a certified gap of 4e-2 in the
    Woodbury form. The primal form only up to ``LARGE_MAX_UNKNOWNS`` unknowns: on 200 samples
    of 2,000 features in 3 classes it would have had 39,000, whose matrix (25 GiB) made the
    memory guard refuse a fit that the Woodbury form certifies in under a minute.
    """
    n, P, K = n_samples, n_patterns, n_outputs
    if form == "primal":
        return "dual" if n * K <= COUPLED_MAX_ROWS else None
    unknowns = 2 * P * (min(n_features, n_samples) + 2)
    return "primal" if unknowns <= LARGE_MAX_UNKNOWNS else None


def _centring(v, target, low=0.1, high=10.0):
    """Gondzio's correction of complementarity products ``v``: towards ``[low, high]·target``."""
    return np.maximum(np.clip(v, low * target, high * target) - v, -high * target)


def _centring_soc(v, target):
    """:func:`_centring` on the two spectral values ``v₀ ± ‖v̄‖`` of Jordan products ``v``."""
    norm = np.sqrt(np.sum(v[:, 1:] ** 2, axis=1))
    unit = v[:, 1:] / np.maximum(norm, 1e-300)[:, None]
    r1, r2 = _centring(v[:, 0] + norm, target), _centring(v[:, 0] - norm, target)
    return np.concatenate([((r1 + r2) / 2)[:, None], ((r1 - r2) / 2)[:, None] * unit], axis=1)


def cone_index(p):
    """Where the cone coordinates ``(t, w[:d])`` of a block sit in its ``(w, t)`` vector."""
    return np.r_[p, np.arange(p - 1)]


def _jordan(x, y):
    """Jordan product of second-order-cone vectors (first coordinate is the axis)."""
    return np.concatenate([np.sum(x * y, axis=1, keepdims=True),
                           x[:, :1] * y[:, 1:] + y[:, :1] * x[:, 1:]], axis=1)


def _jordan_solve(lam, v):
    """``u`` with ``lam ∘ u = v``."""
    det = lam[:, 0] ** 2 - np.sum(lam[:, 1:] ** 2, axis=1)
    inner = np.sum(lam[:, 1:] * v[:, 1:], axis=1)
    u0 = (lam[:, 0] * v[:, 0] - inner) / det
    return np.concatenate([u0[:, None], (v[:, 1:] - u0[:, None] * lam[:, 1:]) / lam[:, :1]], axis=1)


def _soc_det(x):
    """``x₀² − ‖x̄‖²``, factored so that points near the boundary keep their relative precision."""
    norm = np.sqrt(np.sum(x[:, 1:] ** 2, axis=1))
    return (x[:, 0] - norm) * (x[:, 0] + norm)


def _nesterov_todd(s, z):
    """Nesterov–Todd scaling of second-order-cone pairs: ``(W, W⁻¹)`` with ``Wz = W⁻¹s``."""
    s_bar = s / np.sqrt(_soc_det(s))[:, None]
    z_bar = z / np.sqrt(_soc_det(z))[:, None]
    w = s_bar.copy()
    w[:, 0] += z_bar[:, 0]
    w[:, 1:] -= z_bar[:, 1:]
    w /= np.sqrt(np.maximum(_soc_det(w), 1e-300))[:, None]
    w[:, 0] = np.sqrt(1.0 + np.sum(w[:, 1:] ** 2, axis=1))  # renormalise against rounding
    eta = (_soc_det(s) / _soc_det(z)) ** 0.25
    m = s.shape[1]
    core = np.zeros((len(s), m, m))
    outer = w[:, 1:, None] * w[:, None, 1:] / (1.0 + w[:, 0])[:, None, None]
    core[:, 1:, 1:] = np.eye(m - 1) + outer
    scale, inverse = core.copy(), core
    scale[:, 0, 0] = inverse[:, 0, 0] = w[:, 0]
    scale[:, 0, 1:] = scale[:, 1:, 0] = w[:, 1:]
    inverse = inverse.copy()
    inverse[:, 0, 1:] = inverse[:, 1:, 0] = -w[:, 1:]
    return scale * eta[:, None, None], inverse / eta[:, None, None]


def _soc_step(x, dx):
    """Largest ``a ≤ 1`` keeping ``x + a·dx`` inside the second-order cones, times 0.99."""
    a = _soc_det(dx)
    b = 2.0 * (x[:, 0] * dx[:, 0] - np.sum(x[:, 1:] * dx[:, 1:], axis=1))
    c = np.maximum(_soc_det(x), 0.0)
    disc = b**2 - 4 * a * c
    step = np.full(len(x), np.inf)
    real = (disc >= 0) & ~((a > 0) & (b > 0)) & (a != 0) & (c > 0)
    # the root of larger magnitude first (np.sign(0) = 0 would lose it: a direction with no
    # component along the axis of a point on it, b = 0, left the cone at any step)
    q = -b[real] - np.where(b[real] >= 0, 1.0, -1.0) * np.sqrt(disc[real])
    with np.errstate(divide="ignore", invalid="ignore"):
        r1, r2 = 2 * c[real] / q, q / (2 * a[real])
    r1 = np.where(r1 > 0, r1, np.inf)
    r2 = np.where(r2 > 0, r2, np.inf)
    step[real] = np.minimum(r1, r2)
    return min(1.0, FRACTION * float(np.min(step, initial=np.inf)))


def _max_step(x, dx):
    """Largest ``a ≤ 1`` with ``x + a·dx ≥ 0`` (``x > 0``), times 0.99."""
    # 1/a is the largest −dx/x: one pass over the arrays, no boolean indexing (10× faster on
    # the millions of rows of a 500-pattern program); fmax passes over the 0/0 of an entry of x
    # at zero with dx = 0 there (underflowed, or a row's multiplier outside the barrier)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = float(np.fmax.reduce(-dx / x, axis=None, initial=0.0))
    return 1.0 if rate <= FRACTION else FRACTION / rate


class _Point:
    """An iterate with its factored Newton system: Newton directions for given targets."""

    def __init__(self, problem, S, Z, X, Zc, lam, inverse, residual, smooth, solve):
        self.problem, self.S, self.Z, self.X, self.Zc = problem, S, Z, X, Zc
        self.lam, self.inverse, self.residual, self.smooth, self.solve = (
            lam, inverse, residual, smooth, solve
        )

    def direction(self, shift_rows, shift_cones):
        """Newton direction for the complementarity targets ``s∘z = shift_rows`` and
        ``λ∘λ → shift_cones`` (Jordan product, Nesterov–Todd scaled), with the largest steps that
        keep the primal and the dual iterates inside their cones. Raises ``LinAlgError`` for a
        direction that is not finite (a scaled point at the limits of double precision)."""
        problem, S, Z, Zc, inverse = self.problem, self.S, self.Z, self.Zc, self.inverse
        cone = cone_index(problem.p)
        if problem.live is not None:  # the rows outside the barrier keep s = 1, z = 0
            shift_rows = shift_rows * problem.live
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            rt = _jordan_solve(self.lam, shift_cones)  # W Δz + W⁻¹ Δx = rt (λ∘λ removed)
            rhs = -self.smooth
            rhs[:, cone] += np.einsum("bij,bj->bi", inverse, rt)
            rhs[:, :-1] += problem.adjoint((shift_rows - Z * self.residual) / S)
            if not np.all(np.isfinite(rhs)):
                raise np.linalg.LinAlgError("the Newton right-hand side is not finite")
        step = self.solve(rhs)
        if not np.all(np.isfinite(step)):
            raise np.linalg.LinAlgError("the Newton direction is not finite")
        dS = problem.products(step[:, :-1]) * problem.barrier_signs + self.residual
        dX = step[:, cone]
        dZ = shift_rows / S - Z - (Z / S) * dS
        dZc = np.einsum("bij,bj->bi", inverse, rt - np.einsum("bij,bj->bi", inverse, dX)) - Zc
        a_p = min(_max_step(S, dS), _soc_step(self.X, dX))
        a_d = min(_max_step(Z, dZ), _soc_step(Zc, dZc))
        return step, dS, dX, dZ, dZc, a_p, a_d


def _model_error(problem, XW, T, smooth, step, a):
    """How much the smooth objective ``f + αΣt`` at the step ``a`` along ``step`` exceeds its
    Newton model ``f₀ + a·g + a²κ/2``, relative to the model's terms ``a|g| + a²κ/2`` (infinite
    where the objective there is not finite). The model holds to third order: on W1's logistic
    program over 500 patterns (benchmarks/problems.py) this is below 3e-5 in every iteration. It
    fails where most samples are fitted with confidence, whose curvature the Hessian barely sees:
    with 9 positive labels among 1,000 samples the undamped steps took the objective from 0.05
    to 4e7 in four iterations (tests/solvers/test_ipm.py)."""
    dXW = problem.products(step[:, :-1])
    value = problem.objective(XW, T)
    with np.errstate(over="ignore", invalid="ignore"):
        moved = problem.objective(XW + a * dXW, T + a * step[:, -1])
    if not np.isfinite(moved):
        return np.inf
    slope = a * float(np.sum(smooth * step))
    root, Q = problem.curvature(XW)
    h = np.einsum("iab,ib->ia", root, problem.outputs(dXW)).ravel()
    h -= Q @ (Q.T @ h)
    quadratic = a * a * float(h @ h) / (2 * problem.n)
    return (moved - value - slope - quadratic) / (abs(slope) + quadratic + 1e-12 * abs(value))


def _dual_residual(problem, XW, Z, Zc):
    """The residual of the blocks' stationarity at the iterate: (2PK, p + 1)."""
    dual = problem.smooth_gradient(XW)
    dual[:, cone_index(problem.p)] -= Zc
    dual[:, :-1] -= problem.adjoint(Z)
    return dual


def in_last_decades(estimate, gap, tol, earlier=np.inf):
    """Whether an iterate past the budget is in the last decades of its solve, which earns it the
    finishing iterations (``FINISHING_ITER``): its complementarity ``estimate`` within
    ``FINISHING`` times ``tol``, and its certified ``gap`` too wherever one has been certified (an
    iterate that has none yet gets the benefit of the doubt). Complementarity alone let a solve
    whose certified gap crawled, limited by its dual residual, spend the whole of them far from
    ``tol``: the default regressor on statsmodels' ``star98`` as shipped (303 samples, 20 features
    of scales 0.6 to 1.2e4, two outputs) ran its repeat in the primal form to 200 iterations, its
    certified gap from 8.4e-3 at the 100th to 6.0e-4, before CVXPY's second opinion certified
    the program (348 s; 216 s with this rule, the same answer).

    A gap above that limit still earns them while it falls fast: ``FALL`` times or more within
    the last ``FALL_WINDOW`` iterations, where ``earlier`` is the gap certified that many
    iterations before (inf when there was none yet: a first certificate gets the benefit of the
    doubt too). On features as published the certificate trails the complementarity by decades
    (the dual point's errors are multiplied by the largest features' scale): a classifier on
    records with scales 0.7 to 2.2e5 (tests/solvers/test_ipm.py) first certified 2.0e-4 at
    complementarity 7.5e-7 in the 104th iteration of its repeat, and certified 5.9e-7 ten
    iterations later given them; without, it stopped there."""
    limit = FINISHING * tol
    if estimate > limit:
        return False
    return not (np.isfinite(gap) and gap > limit) or gap * FALL <= earlier


def _solve_output(problem, W, T, *, tol, max_iter, certify, verbose, on_iterate=None,
                  finishing=0):
    """Primal-dual iterations on one output, ``max_iter`` of them and up to ``finishing`` more
    while the iterate is in the last decades of its solve (:func:`in_last_decades`).
    ``certify(W, Z, exact=False)`` returns the :class:`~convexnn.program.DualityGap` at ``W``,
    its dual bound from bounds on the blocks' dual norms that the row multipliers ``Z`` give, or
    from the exact norms; ``on_iterate(W)`` is called after every iteration."""
    problem.select_rows(W)
    n_rows = problem.n_live
    n_cones = W.shape[0]
    # every certified point: (primal objective, point), and the best dual bound of any of them
    certified_points, dual_bound = [], -np.inf
    seen = []  # (blocks, gap) of every point certified

    def certified(W, T, Z, estimate, exact=False):
        nonlocal dual_bound
        found = certify(W, Z, exact=exact)
        if found.gap > tol and estimate <= FULL_CERTIFICATE * tol and not exact:
            # the multipliers' bounds are loose where the gap is (ecoli, alpha 1e-5: 1.1e-6
            # from them, 8.8e-9 from the blocks' exact dual norms)
            exact_found = certify(W, Z, exact=True)
            found = exact_found if exact_found.gap < found.gap else found
        if np.isfinite(found.primal):
            certified_points.append((found.primal, (W, T, Z)))
            dual_bound = max(dual_bound, found.dual)
        seen.append((W, found.gap))
        return found

    def certified_once(point):  # the gap of ``point`` (W, T, Z), certified unless it already was
        known = [value for blocks, value in seen if blocks is point[0]]
        return known[0] if known else certified(*point, estimate=np.inf).gap

    problem.proximal = 0.0
    G = problem.products(W) * problem.barrier_signs
    # infeasible start on the rows: slacks S apart from G = (2D − I)X̃W, S − G → 0
    if problem.live is None:
        S = np.maximum(G, np.mean(np.abs(G), axis=0, keepdims=True))
    else:  # the mean over the rows in the barrier
        S = np.maximum(G, np.sum(np.abs(G), axis=0, keepdims=True)
                       / np.maximum(np.count_nonzero(problem.live, axis=0), 1))
        S[~problem.live] = 1.0
    S[:, problem.free] = 1.0  # the free blocks' dropped rows (ReluProblem._set_rows)
    # the cone duals on their axis, at the complementarity where the bounds t_b cost α each (or,
    # for a tiny α, where the objective is shared out over the constraints); the row duals alike
    X = np.concatenate([T[:, None], W[:, :-1]], axis=1)  # the cone variables (t_b, w_b[:d])
    value = problem.objective(problem.products(W), T)
    mu = max(float(np.mean(X[:, 0])) * problem.alpha, value / (n_rows + n_cones))
    Zc = np.zeros_like(X)
    Zc[:, 0] = mu / X[:, 0]
    Z = mu / S
    if problem.live is not None:
        Z[~problem.live] = 0.0
    gap, history = np.inf, []
    # the point ``gap`` was certified at (the iterations may move on from it), and the rows'
    # violation at the last iterate
    gap_at, infeasible = None, np.inf
    best, best_gap, stalled, extra = (W.copy(), T.copy(), Z.copy()), np.inf, 0, 0
    # (complementarity, gap, dual residual, rows' residual) at the last progress, and the
    # iterations since then
    reference, idle = (np.inf,) * 4, 0
    # the feasible iterates with the least complementarity and the least objective: certified
    # at the end when no iterate came close enough to be (a breakdown in the last iterations
    # must not lose them)
    closest, closest_estimate, lowest, lowest_value = None, np.inf, None, np.inf
    entering = {}  # the first feasible iterate of each decade of complementarity, by decade
    # feasible iterates whose complementarity is near tol but above what is certified at once:
    # their dual points may bound the optimum better than the last iterates' (below)
    # [dual residual, point, its gap once certified]: the last late iterates, and those closest
    # to stationary (once a step has thrown the iterate off the central path, the later ones
    # are not; where every residual is at rounding level, the last are the best)
    recent, stationary = [], []

    def certify_late():  # the kept late iterates not yet certified, from exact norms
        for entry in recent + stationary:
            if entry[2] is None:
                entry[2] = certified(*entry[1], exact=True).gap

    def against_bound(primal):  # the relative gap of a primal value to the best dual bound
        return relative_gap(primal, dual_bound)

    def zeroed(W, T, Z, gap):  # the blocks left out zeroed where the best dual bound allows it
        sparse = _pruned(W, T)
        if sparse is not None:
            sparse_gap = against_bound(certified(*sparse, Z, np.inf).primal)
            if sparse_gap <= tol:
                return sparse, sparse_gap
        return (W, T), gap

    estimate = np.inf  # the complementarity relative to the objective (none yet)
    certified_at = []  # (iteration, gap) of the iterations certified in the loop
    for n_iter in range(1, max_iter + finishing + 1):
        if n_iter > max_iter:
            # the gap certified FALL_WINDOW iterations before the last one (inf: none then)
            earlier = next((g for i, g in reversed(certified_at)
                            if i <= n_iter - 1 - FALL_WINDOW), np.inf)
            if not in_last_decades(estimate, gap, tol, earlier):
                n_iter -= 1
                break
        XW = problem.products(W)
        X = np.concatenate([T[:, None], W[:, :-1]], axis=1)
        mu = (float(np.sum(S * Z)) + float(np.sum(X * Zc))) / (n_rows + n_cones)
        S, Z = problem.enter_rows(XW, S, Z, mu)
        if problem.n_live != n_rows:
            n_rows = problem.n_live
            mu = (float(np.sum(S * Z)) + float(np.sum(X * Zc))) / (n_rows + n_cones)
        residual = problem.rows(XW, S)  # primal residual of the rows
        # at the limits of double precision the scaling can overflow: the Newton matrix is then
        # not finite and does not factor, which ends the iterations (no warning for it)
        with np.errstate(over="ignore", invalid="ignore"):
            scale, inverse = _nesterov_todd(X, Zc)
            lam = np.einsum("bij,bj->bi", scale, Zc)
            cone_hessian = np.matmul(inverse, inverse)
        if not (np.all(np.isfinite(cone_hessian)) and np.all(np.isfinite(lam))):
            break  # the best (or closest) point is kept
        problem.pruning = bool(extra)
        # (never in the iterations that only prune, nor near a loose tol)
        problem.coarse = estimate > max(COARSE, LATE * tol) and not extra
        try:
            solve = problem.factor(XW, Z / S, cone_hessian)
        except np.linalg.LinAlgError:
            break  # a Newton matrix that no longer factors: the best (or closest) point is kept
        point = _Point(problem, S, Z, X, Zc, lam, inverse, residual, problem.smooth_gradient(XW),
                       solve)
        direction = point.direction
        e = np.zeros_like(lam)
        e[:, 0] = 1.0

        # Mehrotra: an affine predictor sets the centring, a corrector its second-order terms
        try:
            _, dS, dX, dZ, dZc, a_p, a_d = direction(np.zeros_like(S), np.zeros_like(lam))
            a_p = a_d = min(a_p, a_d)
            mu_affine = (float(np.sum((S + a_p * dS) * (Z + a_d * dZ)))
                         + float(np.sum((X + a_p * dX) * (Zc + a_d * dZc)))) / (n_rows + n_cones)
            target = mu * min(1.0, (mu_affine / mu) ** 3)
            corr = _jordan(np.einsum("bij,bj->bi", inverse, dX),
                           np.einsum("bij,bj->bi", scale, dZc))
            shifts = (target - dS * dZ, target * e - corr)
            found = direction(*shifts)
        except np.linalg.LinAlgError:
            # a direction that is not finite (ConvexDeepReLURegressor's blocks on diabetes, one
            # BLAS thread): the best (or closest) point is kept, as for a matrix that no longer
            # factors, and numpy's warnings of 0/0 stay inside
            break
        a = min(found[-2:])  # one step: the dual residual of a QP couples x and z
        for _ in range(CORRECTORS if getattr(point.solve, "factored", True) else 0):
            # Gondzio: aim a little further, and pull the products that would leave the band
            # around the target back into it; keep the correction when it lengthens the step
            _, dS, dX, dZ, dZc = found[:5]
            trial = min(1.0, a + TRIAL)
            rows = (S + trial * dS) * (Z + trial * dZ)
            cones = _jordan(np.einsum("bij,bj->bi", inverse, X + trial * dX),
                            np.einsum("bij,bj->bi", scale, Zc + trial * dZc))
            more = (shifts[0] + _centring(rows, target), shifts[1] + _centring_soc(cones, target))
            try:
                again = direction(*more)
            except np.linalg.LinAlgError:
                break
            if min(again[-2:]) < a + ACCEPT:
                break
            shifts, found, a = more, again, min(again[-2:])
        step, dS, dX, dZ, dZc = found[:5]
        a_p = a_d = a
        if problem.loss.name != "squared":  # the squared loss is its own quadratic model
            error = _model_error(problem, XW, T, point.smooth, step, a)
            unit = problem.proximal_unit
            if error > MODEL_ERROR and problem.proximal < PROXIMAL_MAX * unit:
                # the loss's quadratic model fails over this step: the same iteration again,
                # its Newton systems damped (a trust region on the primal step)
                problem.proximal = max(PROXIMAL_GROWTH * problem.proximal, PROXIMAL_MIN * unit)
                if verbose:
                    print(f"[ipm] iter {n_iter:3d}  step {a:.2f} rejected: model error "
                          f"{error:.1e}; damping {problem.proximal / unit:.0e}")
                continue
            if error < MODEL_ERROR / PROXIMAL_GROWTH:
                damping = problem.proximal / PROXIMAL_SHRINK
                problem.proximal = damping if damping >= PROXIMAL_MIN * unit else 0.0
        W, T = W + a_p * step[:, :-1], T + a_p * step[:, -1]
        S, Z, Zc = S + a_p * dS, Z + a_d * dZ, Zc + a_d * dZc
        XW = problem.products(W)
        value = problem.objective(XW, T)
        X = np.concatenate([T[:, None], W[:, :-1]], axis=1)
        infeasible = float(np.max(np.maximum(-XW * problem.S2, 0.0)))
        infeasible /= max(1.0, float(np.abs(XW).max()))
        estimate = (float(np.sum(S * Z)) + float(np.sum(X * Zc))) / max(abs(value), 1e-300)
        if not (np.isfinite(value) and np.all(np.isfinite(Zc)) and np.all(_soc_det(Zc) > 0)
                and np.all(_soc_det(X) > 0)):
            # rounding has pushed an iterate out of its cone: the iterations end there. Its
            # blocks are a point of the program all the same where their rows hold (the
            # certificate reads W alone), and near the optimum that last step is a full one: on
            # the raw-scales regressions of random_problems.py, seed 41 stopped at 1.7e-6 with
            # the point before it and certifies 1.3e-7 with this one (seed 64: 5.2e-6 to 1.5e-6)
            if (np.isfinite(value) and np.all(np.isfinite(W)) and np.all(np.isfinite(Z))
                    and infeasible <= tol):
                T = np.linalg.norm(W[:, :-1], axis=1)
                last = certified(W, T, Z, estimate).gap
                history.append(last)
                if last < best_gap:
                    best, best_gap = (W, T, Z), last
            (W, T, Z), gap = best, best_gap
            gap_at = W
            break
        if infeasible <= tol:
            if 0.1 * tol < estimate <= DECADES_FROM:  # (below 0.1 tol every one is certified)
                entering.setdefault(int(np.floor(np.log10(estimate))), (W, T, Z))
            # every iteration makes new arrays (none is changed in place): no copies needed
            if estimate < closest_estimate and not np.isfinite(best_gap):
                closest, closest_estimate = (W, T, Z), estimate
            if value < lowest_value:
                lowest, lowest_value = (W, T, Z), value
        stalled = stalled + 1 if a_p < 1e-6 else 0
        if stalled >= 5:
            break  # no progress: keep the best point
        fell = 1.0 - PROGRESS
        if infeasible > tol or mu < fell * reference[0] or gap < fell * reference[1]:
            reference, idle = (mu, gap, np.inf, np.inf), 0
        else:  # at a constant μ the residuals may still fall (spect, alpha 1e-5)
            residuals = (float(np.abs(_dual_residual(problem, XW, Z, Zc)).max()),
                         float(np.abs(problem.rows(XW, S)).max()))
            if any(r < fell * old for r, old in zip(residuals, reference[2:], strict=True)):
                reference, idle = (*reference[:2], *residuals), 0
            else:
                idle += 1
                if idle >= STALL_WINDOW:
                    break  # the iterates wander off the central path: keep the best point
        if LATE * tol >= estimate > 0.1 * tol and infeasible <= tol:
            entry = [float(np.abs(_dual_residual(problem, XW, Z, Zc)).max()),
                     (W, T, Z, estimate), None]
            lost = bool(stationary) and entry[0] > LOST * stationary[0][0]
            recent = [*recent[-(LATE_KEPT - 1):], entry]
            stationary = sorted([*stationary, entry], key=lambda e: e[0])[:LATE_KEPT]
            if lost:
                # the directions have lost their precision: an iterate closest to stationary
                # may certify itself (naval-propulsion-plant); then only the iterations that
                # may still zero the blocks the optimum leaves out follow, as after a certificate
                certify_late()
                _, point, late_gap = min(recent + stationary, key=lambda entry: entry[2])
                if late_gap <= tol:
                    extra = max(extra, 1)
                    if late_gap < best_gap:
                        best, best_gap = point[:3], late_gap
                        history.append(late_gap)
        # certified once the complementarity is well below tol, or sooner where this iteration
        # took the whole system's factor (the next would likely take it too)
        if (estimate <= 0.1 * tol
                or (getattr(solve, "whole", False)
                    and estimate <= WHOLE_FACTOR_CERTIFICATE * tol)) \
                and infeasible <= tol:
            gap, gap_at = certified(W, T, Z, estimate).gap, W
            history.append(gap)
            certified_at.append((n_iter, gap))
            if gap < best_gap:
                best, best_gap = (W.copy(), T.copy(), Z.copy()), gap
            elif estimate <= 1e-4 * tol and not extra:
                # complementarity is far below what the gap needs, and the gap no longer falls:
                # the Newton systems have reached the limits of double precision (unless the
                # iterations go on to shrink the blocks to be pruned)
                (W, T, Z), gap = best, best_gap
                gap_at = W
                break
        if on_iterate is not None:
            on_iterate(W)
        if verbose:
            dual = _dual_residual(problem, XW, Z, Zc)
            print(f"[ipm] iter {n_iter:3d}  mu {mu:.2e}  step {a_p:.2f}  "
                  f"dual residual {np.abs(dual).max():.1e}  "
                  f"estimate {estimate:.2e}  violation {infeasible:.1e}  gap {gap:.2e}")
        if extra:
            extra += 1
            if extra > PRUNE_ITERATIONS:
                break  # the best certified point is kept
        if gap <= tol:
            # the blocks the optimum leaves at zero are only near zero at an interior point (they
            # shrink with μ), and the mapped network would list them all as neurons: zero them
            # when the certificate still holds, else iterate a little further
            sparse = _pruned(W, T)
            if sparse is None:
                if not extra and _pruned(W, T, SHRINKING) is not None:
                    extra = 1  # blocks that may still shrink below PRUNE (SHRINKING)
                    continue
                break
            sparse_gap = certified(*sparse, Z, estimate).gap
            if sparse_gap <= tol:
                (W, T), gap = sparse, sparse_gap
                gap_at = W
                break
            extra = max(extra, 1)
    unsure = () if np.isfinite(best_gap) else (closest, lowest if lowest is not closest else None)
    for point in unsure:
        # a breakdown may leave a small complementarity at a point far from the optimum (five
        # samples of three classes, tests/test_shared.py): the least objective is tried too
        point_gap = certified(*point, estimate=np.inf).gap if point is not None else np.inf
        if point_gap < best_gap:
            best, best_gap = point, point_gap
            history.append(point_gap)
    if W is not gap_at:
        # the iterations moved on from the point their last gap was certified at (a stall, the
        # budget): that gap is not this point's, which is certified now where its rows hold
        # (after the closest and the lowest iterates, which a solve never certified tries first:
        # raw-scales-regression 72 of random_problems.py ends at 0.79 with them, 0.999 without).
        # Six samples of one feature (fuzzing seed 1303228, logistic) stalled at a point of
        # gap 2.0e-2 reported with the 8.5e-4 of an earlier iterate
        gap = certified(W, T, Z, estimate).gap if infeasible <= tol else np.inf
        if np.isfinite(gap):
            history.append(gap)
            if gap < best_gap:
                best, best_gap = (W, T, Z), gap
    if gap > max(best_gap, tol):
        (W, T, Z), gap = best, best_gap
        if gap <= tol:  # certified, but its blocks not zeroed: the best dual bound may allow it
            (W, T), gap = zeroed(W, T, Z, gap)
    if gap > tol:
        # the feasible iterate of least objective joins the certified points, of which the
        # least objective is kept (below): a breakdown that certified only later iterates must
        # not hand back a point above it. On raw-scales-regression 106 of random_problems.py
        # (400 samples, 30 raw features) the Woodbury form lost its precision at a
        # complementarity of 1e-4, the iterates after it certified gaps near 1, and the fit
        # returned J = 5.57 where an iterate before it had reached 0.3093
        if lowest is not None:
            certified_once(lowest)
        # their dual points too, for the best dual bound: the first iterate of each decade of
        # complementarity from 1 down, until one certifies far worse than the best before it
        # (the directions have lost their precision there, and so have the later ones). On
        # raw-scales-regression 96 of random_problems.py (900 samples of 16 raw features) the
        # Woodbury form broke down at a complementarity of 2e-5 and its last iterate certified
        # 0.36; the first of the decade 1e-4 certifies the best point to 7.6e-4 (106: 0.26 to
        # 4.6e-3), a few certificates of 0.05-0.9 s each. On raw-scales-regression 0 at
        # alpha 1e-4 the breakdown came at 1e-2, and the decade 1e-2 certifies 0.081 (from 1)
        least = np.inf
        for _, point in sorted(entering.items(), reverse=True):
            found = certified_once(point)
            if found > BREAKDOWN * least:
                break
            least = min(least, found)
    if gap > tol and (recent or certified_points):
        # A dual bound holds for every primal point: when the Newton directions have lost their
        # precision, later iterates still lower the objective while their own dual points get
        # worse (make_moons, 510 samples: gaps 1.3e-6 at complementarity 1.4e-6, then 2e-5).
        # The best primal point is then certified by the best dual point of any iterate.
        certify_late()
        primal, point = min(certified_points, key=lambda entry: entry[0], default=(np.inf, None))
        if against_bound(primal) < gap:
            (W, T, Z), gap = point, against_bound(primal)
            history.append(gap)
            (W, T), gap = zeroed(W, T, Z, gap)
    if gap > tol:
        zero = (np.zeros_like(W), np.zeros_like(T))  # the zero network (no blocks at all)
        if problem.objective(problem.products(W), T) > problem.objective(
                problem.products(zero[0]), zero[1]):
            # the polish refines a point near the optimum; one above the zero network's
            # objective is not, and the zero network is taken where its gap is smaller. On six
            # samples with features of scales 1e-8 to 1e8 (the exact sampler's 126 blocks,
            # tests/fuzz_regressions) the interior point stopped after 7 iterations at objectives
            # 1e6-1e11 times the zero network's in each of four forms, and each polish spent
            # 3-4 s on steps that left them there; on a constant second output the zero network
            # is the optimum, and certifies
            candidate = zero
        else:
            try:
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    candidate = _polished(problem, W, Z)
            except np.linalg.LinAlgError:  # an eigendecomposition that does not converge
                candidate = None
        if candidate is not None:
            candidate_gap = certified(*candidate, Z, np.inf, exact=True).gap
            if candidate_gap < gap:
                (W, T), gap = candidate, candidate_gap
                history.append(gap)
    return W, T, Z, n_iter, gap, history


def solve_ipm(
    program: ConvexProgram | SharedNeuronProgram,
    *,
    tol: float = 1e-6,
    max_iter: int | None = None,
    verbose: bool = False,
    callback=None,
    costly_repeats: bool = True,
) -> SolverResult:
    """Solve the exact ReLU program by a primal-dual interior-point method.

    Every loss is handled by the same Newton systems (Woodbury through ``n × n`` matrices, or
    ``nK × nK`` for the ``K`` coupled outputs of the softmax loss): the squared loss separates over
    outputs and is solved output by output.

    Parameters
    ----------
    program : ConvexProgram or SharedNeuronProgram
        ``formulation="relu"``, ``alpha > 0``; any loss.
    tol : float
        Target relative duality gap, certified at the returned point (whose cone constraints
        hold exactly).
    max_iter : int, optional
        Newton iterations of each form (per output for the squared loss): a solve that stalls
        and is repeated in the other form gets a budget of its own there (``MAX_ITER`` by
        default). None (the default): ``MAX_ITER`` (100; ``SMALL_MAX_ITER``, 200, for a program
        of at most ``SMALL_PROGRAM_SIZE`` entries ``n·P·(d + 1)·K``, :func:`default_budget`),
        and up to ``FINISHING_ITER`` (100) more while the complementarity and the certified gap
        are within ``FINISHING`` (100) times ``tol``. Most fits certify in
        20-70 iterations in all; on raw features of scales 1e-3 to 1e3 (a small effective alpha)
        the first form lost its precision after about 50-65 and the repeat took 108-156 in all
        on 12 random problems of 500 samples, all of which had stopped short of ``tol`` within
        100 in all (tests/test_estimators.py). Iterations that make no progress stop before the
        budget (``STALL_WINDOW``).
    verbose : bool
    callback : callable, optional
        ``callback(solution)`` after every iteration (one problem) or at the end.
    costly_repeats : bool, default=True
        Whether a one-output solve that stalled in the Woodbury form is repeated in the primal
        form however much more its iterations cost; False: only up to ``REPEAT_COST_RATIO``
        times the Woodbury form's. ``"auto"`` sets it False on programs small enough for CVXPY,
        whose second opinion follows a stall.

    Raises
    ------
    DegenerateConeError
        When a pattern's cone has an empty interior (``solver="auto"`` then falls back to the
        next solver).
    """
    if program.formulation != "relu":
        raise ValueError(
            "solver 'ipm' solves the exact ReLU program; use 'kernel_newton' for 'gated'"
        )
    if program.alpha <= 0:
        raise ValueError("solver 'ipm' needs alpha > 0")
    budget, finishing = ((default_budget(program), FINISHING_ITER) if max_iter is None
                         else (max_iter, 0))
    repeat_budget = MAX_ITER if max_iter is None else max_iter
    start = time.perf_counter()
    # One scale for all features: the program on (X/s, α/s) has the blocks (s·w[:d], w[d]), and
    # the barrier's start, regularisation and tolerances assume features of order one.
    Xt = program.Xt.astype(np.float64)
    masks = program.masks
    P, K = program.n_patterns, program.n_outputs
    gates = np.asarray(program.patterns.gates, dtype=np.float64)
    # Features far from the origin are centred: the same program, the unpenalised bias of
    # every block carrying the shift (``w[d] + shiftᵀw[:d]``). On the raw features the bias is
    # all but collinear with them: with XOR labels on features offset by 1e5 the iterations
    # stalled at a certified gap of 6e-4, and offsets of 1e3-1e4 left regressions to CVXPY.
    shift = far_centroid(Xt[:, :-1])
    if shift is not None:
        Xt[:, :-1] -= shift
        gates = np.vstack([gates[:-1], gates[-1:] + shift @ gates[:-1]])
    # X of rank below its number of features: the blocks live in its row space (below)
    basis = _row_space(Xt[:, :-1])
    if basis is not None:
        Xt = np.column_stack([Xt[:, :-1] @ basis, Xt[:, -1]])
        gates = np.vstack([basis.T @ gates[:-1], gates[-1:]])
    p = Xt.shape[1]
    options = dict(tol=tol, max_iter=max_iter, verbose=verbose, costly_repeats=costly_repeats)
    try:
        centres = interior_start(Xt, masks, gates)
    except DegenerateConeError:
        # a cone with no interior is left out (a thin cone): the solve without it stands where
        # the whole program certifies
        thin = thin_cones(Xt, masks, gates)
        if thin.all():
            raise
        found = _without_thin(program, thin, callback=callback, **options)
        if found.gap > tol:
            raise
        found.time = time.perf_counter() - start
        return found
    thin = None  # the cones thinner than THIN, once a solve has ended short of tol
    scale = float(np.sqrt(np.mean(Xt[:, :-1] ** 2))) if Xt.shape[1] > 1 else 1.0
    scale = scale if np.isfinite(scale) and scale > 0 else 1.0
    Xt[:, :-1] /= scale
    centres[:, :-1] *= scale  # the same cones in the rescaled coordinates
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    shared = isinstance(program, SharedNeuronProgram)
    # the squared loss separates over outputs (unless the neurons are shared): one problem per
    # output, else one for all of them
    separate = program.loss == "squared" and not shared
    groups = [[o] for o in range(K)] if separate else [list(range(K))]
    U = np.zeros(program.block_shape)
    V = np.zeros(program.block_shape)
    intercept = np.zeros(K)
    n_iter, gaps, history, stalled = 0, [], [], False
    with numpy_blas_single_threaded():
        for outputs in groups:
            Y = program.Y[:, outputs].astype(np.float64)
            if shared:
                problem = SharedReluProblem(
                    Xt, masks, Y, program.alpha / scale, program.loss_fn, program.directions
                )
                W, T = _start(Xt, centres, Y[:, :1])
            else:
                problem = ReluProblem(Xt, masks, Y, program.alpha / scale, program.loss_fn)
                problem.costly_repeats = costly_repeats
                W, T = _start(Xt, centres, Y)
            single = program.with_outputs(outputs) if len(groups) > 1 else program

            def certify(W, Z, exact=False, problem=problem, single=single):
                solution = _solution(problem, W, scale, basis, shift)
                theta = single.residual(solution)
                if exact:  # the norms at the dual point the certificate takes (1ᵀθ = 0): none
                    # of the widening that bounds at θ itself need (Program.duality_gap)
                    theta = single.loss_fn.zero_sum(theta, single.Y)
                # the rows whose multipliers matter: within a factor 1e6 of the largest, and at
                # most the 4(d + 1) largest (a vertex of a cone has d active rows); the NNLS runs
                # on them first, on every row only where that value exceeds n·α (only the largest
                # norm above n·α enters the gap). Exact: no multiplier bounds, the NNLS value
                # wherever it matters. (The NNLS over every row near the optimum took seconds a
                # block at 40,000 samples: the default classifier on a binary
                # make_classification(40000, 12) spent over ten minutes in one exact
                # certificate.)
                count = min(4 * p, Z.shape[0])
                top = np.argpartition(-Z, count - 1, axis=0)[:count]
                big = Z[top, np.arange(Z.shape[1])] >= 1e-6 * Z.max(axis=0)
                bounds = np.empty((problem.groups, P))
                for o in range(problem.groups):
                    columns = [range((2 * o + j) * P, (2 * o + j + 1) * P) for j in (0, 1)]
                    supports = [[top[big[:, c], c] for c in cols] for cols in columns]
                    duals = problem.block_duals(theta, o)
                    # the iterate's own multipliers bound every block at once (n·z_b is the λ of
                    # the block's stationarity, docs/maths.md): NNLS only where they exceed n·α
                    known = None if exact else np.array([
                        multiplier_bounds(program.X, masks, sign * duals,
                                          problem.n * Z[:, (2 * o + j) * P:(2 * o + j + 1) * P])
                        for j, sign in enumerate((1.0, -1.0))
                    ])
                    bounds[o] = paired_block_norms(
                        program.X, masks, duals, single.n_samples * single.alpha, supports,
                        known=known,
                    )
                return single.duality_gap(solution, theta=theta, block_norms=bounds)

            def on_iterate(W, problem=problem):
                callback(_solution(problem, W, scale, basis, shift, program.X.dtype))

            iterate = on_iterate if (callback is not None and len(groups) == 1) else None
            start_point = (W, T)
            W, T, _, it, gap, hist = _solve_output(
                problem, *start_point, tol=tol, max_iter=budget, certify=certify,
                verbose=verbose, on_iterate=iterate, finishing=finishing,
            )
            stopped = gap > tol and it < budget  # before its budget, short of tol
            if gap > tol:
                # before any repeat in another form: a solve without the thin cones, which
                # stands where the whole program (these outputs) certifies
                thin = thin_cones(Xt, masks, centres.T) if thin is None else thin
                if thin.any() and not thin.all():
                    found = _without_thin(single, thin, callback=callback if iterate else None,
                                          **options)
                    it, hist = it + found.n_iter, hist + found.gap_history
                    if found.gap <= tol:
                        n_iter, gaps, history = max(n_iter, it), gaps + [found.gap], history + hist
                        intercept[outputs] = found.solution.intercept
                        if shared:
                            U, V = found.solution.U, found.solution.V
                        else:
                            U[outputs], V[outputs] = found.solution.U, found.solution.V
                        continue
            tried, last_stopped = [problem.form()], stopped
            # a solve that stalled with the barrier's selected rows is repeated with every row
            # first, in the same form: a softmax fit of 40 samples at alpha 1.4e-6 (fuzzing seed
            # 1,394,683) stalled at a certified gap of 6.2e-6 with them, and certifies 1e-11
            # without
            every_row = problem.live is not None
            while last_stopped and gap > tol and len(tried) <= RETRIES:
                if every_row:
                    problem.every_row, every_row = True, False
                else:
                    retry = problem.retry_form()
                    if retry is None or retry in tried:
                        break
                    # one form's last Newton directions lost precision: once more in another
                    # form, from the start, with a budget of its own
                    tried.append(retry)
                    problem.force(retry)
                W2, T2, _, it2, gap2, hist2 = _solve_output(
                    problem, *start_point, tol=tol, max_iter=repeat_budget, certify=certify,
                    verbose=verbose, on_iterate=iterate, finishing=finishing,
                )
                it, hist = it + it2, hist + hist2
                last_stopped = gap2 > tol and it2 < repeat_budget
                if gap2 < gap:
                    W, T, gap = W2, T2, gap2
            stalled = stalled or (stopped and gap > tol)
            n_iter, gaps, history = max(n_iter, it), gaps + [gap], history + hist
            found = _solution(problem, W, scale, basis, shift)
            intercept[outputs] = found.intercept
            if shared:
                U, V = found.U, found.V
            else:
                U[outputs], V[outputs] = found.U, found.V
    # float64 blocks for float32 data too: rounding them to float32 would push them out of their
    # cones (by ~1e-8, relative), and the network would no longer reproduce the program
    solution = ConvexSolution(U, V, intercept)
    gap = max(gaps)
    if not np.isfinite(gap):  # stopped before any certificate: the full one at the point reached
        gap = program.duality_gap(solution).gap
    if not history or history[-1] != gap:
        history.append(gap)  # the program's gap: the worst output's
    if callback is not None and len(groups) > 1:
        callback(solution)
    if gap > tol:
        warnings.warn(
            f"solver 'ipm' stopped after {n_iter} Newton iterations at a certified gap of "
            f"{gap:.2e} (tol {tol:.1e})", ConvergenceWarning, stacklevel=2,
        )
    return SolverResult(
        solution=solution, solver="ipm", gap=gap,
        # a stall is reported as one even where the other form then ran out of iterations
        status="optimal" if gap <= tol else "max_iter" if n_iter >= budget and not stalled
        else "stalled",
        violation=program.constraint_violation(solution), n_iter=n_iter, gap_history=history,
        time=time.perf_counter() - start,
    )


def _without_thin(program, thin, *, tol, callback, **options):
    """:func:`solve_ipm` on ``program`` without the patterns ``thin``: its solution, their blocks
    zero, with the gap certified on the whole program (a thin cone's block enters the certificate
    through its dual norm, as every block does). ``callback`` sees the whole program's points."""
    keep = np.flatnonzero(~thin)
    patterns = program.patterns.subset(keep)
    if isinstance(program, SharedNeuronProgram):
        sub = SharedNeuronProgram(program.X, program.Y, patterns, program.directions[:, keep],
                                  program.loss, program.alpha)
    else:
        sub = ConvexProgram(program.X, program.Y, patterns, program.loss, program.alpha, "relu")

    def whole(solution):  # the blocks of ``sub`` among all of ``program``'s
        def placed(B):
            full = np.zeros(B.shape[:-1] + (program.n_patterns,), dtype=B.dtype)
            full[..., keep] = B
            return full

        return ConvexSolution(placed(solution.U), placed(solution.V), solution.intercept)

    if options["verbose"]:
        print(f"[ipm] {int(thin.sum())} of {thin.size} cones thinner than {THIN:g}: solved "
              "without them")
    # no repeat in a form of far greater cost: where this solve stops short too, the whole
    # program's own repeats follow (8 samples of 10 features, fuzzing seed 1,354,737: the
    # repeats of both took 290 s where the whole program's alone took 138 s)
    options = {**options, "costly_repeats": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the whole program's gap decides
        found = solve_ipm(sub, tol=tol, callback=None if callback is None else
                          (lambda solution: callback(whole(solution))), **options)
    solution = whole(found.solution)
    gap = program.duality_gap(solution).gap
    return SolverResult(
        solution=solution, solver="ipm", gap=gap, status="optimal" if gap <= tol else "stalled",
        violation=program.constraint_violation(solution), n_iter=found.n_iter,
        gap_history=[*found.gap_history, gap], time=found.time,
    )


def _row_space(X):
    """An orthonormal basis (d, r) of the row space of ``X`` when its rank ``r`` is below its
    number of features ``d``, else None. The penalty charges ``‖w_b[:d]‖`` and the rest of the
    program sees the blocks only through ``Xw_b[:d]``, so the optimal blocks lie in the row
    space: in its coordinates ``XV`` the program is the same with ``r`` features instead of
    ``d`` (``w = Vw'`` keeps the products and the norms), and the blocks' ``(r + 2)²`` matrices
    replace ``(d + 2)²`` ones, without the directions in which they have no curvature from the
    data (40 samples of 300 features: 57 s before; scikit-learn's digits has rank 61 of 64)."""
    n, d = X.shape
    if d <= n:  # the singular values and vectors of R (d × d) are those of X = QR
        X = qr(X, mode="r", check_finite=False)[0][:d]
    _, sigma, Vt = np.linalg.svd(X, full_matrices=False)
    rank = int(np.sum(sigma > max(n, d) * np.finfo(np.float64).eps * max(sigma[0], 1e-300)))
    if rank == d:
        return None
    return np.ascontiguousarray(Vt[:max(rank, 1)].T)


def _pair_index(m):
    """For every ``(a, b)``, the position of ``(min(a, b), max(a, b))`` in
    ``np.triu_indices(m)``."""
    index = np.zeros((m, m), dtype=np.intp)
    a, b = np.triu_indices(m)
    index[a, b] = np.arange(len(a))
    index[b, a] = index[a, b]
    return index


def _refined(approximate, matvec, rhs, steps):
    """``approximate(rhs)``, an approximate solution of ``matvec(x) = rhs``, after ``steps``
    iterative refinements against the exact ``matvec``."""
    x = approximate(rhs)
    for _ in range(steps):
        x += approximate(rhs - matvec(x))
    return x


def _conjugate_gradients(matvec, precondition, rhs, x, tol, max_iter, checked=True):
    """Preconditioned conjugate gradients for ``matvec(x) = rhs`` from ``x`` (changed in place),
    until the residual is below ``tol`` relative to ``rhs`` or after ``max_iter`` products;
    returns ``x`` and the norm of its residual: recomputed from ``x`` (one more product) when
    ``checked``, else the recurrence's."""
    r = rhs - matvec(x)
    bound = tol * float(np.linalg.norm(rhs))
    residual = float(np.linalg.norm(r))
    if residual <= bound or max_iter <= 0:
        return x, residual
    z = precondition(r)
    d, rz = z.copy(), float(np.sum(r * z))
    for _ in range(max_iter):
        Nd = matvec(d)
        curvature = float(np.sum(d * Nd))
        if not (curvature > 0 and rz > 0):  # the preconditioned system broke down: stop here
            break
        step = rz / curvature
        x += step * d
        r -= step * Nd
        residual = float(np.linalg.norm(r))
        if residual <= bound:
            break
        z = precondition(r)
        rz, previous = float(np.sum(r * z)), rz
        d = z + (rz / previous) * d
    return x, float(np.linalg.norm(rhs - matvec(x))) if checked else residual


def _equality_basis(problem, b, rows):
    """An orthonormal basis (p, m) of the directions that keep block ``b``'s equalities on
    ``rows`` (and a free block's bias)."""
    p = problem.p
    A = problem.Xt[sorted(rows)]
    if problem.free[b]:
        A = np.vstack([np.eye(p)[-1:], A])
    if not A.shape[0]:
        return np.eye(p)
    # vt whole (p × p) either way; U only as tall as A is wide: a block's rows can number in
    # the thousands (7,800 rows of 11 columns: a full U of 490 MB, and at 97,548 samples
    # the polish of the default classifier was killed for memory)
    _, sigma, vt = np.linalg.svd(A, full_matrices=A.shape[0] < p)
    return vt[int(np.sum(sigma > 1e-10 * sigma[0])):].T


def _polish_start(problem, W, signed, active, tight):
    """The polish's first point: each block of ``active`` moved onto the equalities of its rows
    in ``tight`` (a dict of sets, changed in place where rows are dropped); ``signed`` is
    ``(2D_k − I)X̃w_b`` at ``W``."""
    def projected(b):  # block b on its equalities (a free block keeps its bias)
        N = _equality_basis(problem, b, tight[b])
        moved = N @ (N.T @ W[b])
        if problem.free[b]:
            moved[-1] = W[b, -1]
        return moved

    start = np.zeros_like(W)
    for b in active:
        start[b] = projected(b)
        limit = MISPLACED * np.linalg.norm(W[b])
        if np.linalg.norm(start[b] - W[b]) > limit:
            # rows taken for equalities that the block does not nearly meet (on make_blobs(400,
            # 6, centers=20, random_state=8) they raised the objective by 7 %): only the rows
            # within the limit of it are held (the steps add the rows they meet), even where
            # they take it to zero, the apex of its cone. Started without any, blocks that met
            # 9-10 rows each to 2e-6 of their norms on 40,000 samples of make_friedman1 had the
            # polish add rows one step at a time until its budget ran out (45 s, no better gap);
            # from zero it certifies 1.7e-10 in 8 s (tests/solvers/test_ipm.py)
            rows = np.array(sorted(tight[b]), dtype=int)
            distance = np.maximum(signed[rows, b], 0.0) / np.linalg.norm(problem.Xt[rows], axis=1)
            tight[b] = set(rows[distance <= limit].tolist())
            start[b] = projected(b)
    return start


def _polished(problem, W, Z):
    """``(W, T)`` after Newton's method on the program restricted to the support of the iterate
    ``W`` (row multipliers ``Z``), or None where the iterate has no block to polish.

    The support is the blocks above ``PRUNE`` times the largest and, in each, the rows whose
    slack is far below its multiplier (both relative to the block's largest): those rows become
    equalities, ``w_b`` moves in the null space of their samples, and the objective
    ``f(W) + α Σ_b ‖w_b[:d]‖`` is smooth there (Newton's steps on its curved directions, down
    its slope on the others). Each step is limited by the other rows, and a row it stops at
    joins the equalities; at the restricted optimum a row whose multiplier is negative leaves
    them. An interior point's last iterates lose their precision
    (the barrier's Hessian spans ten orders of magnitude and more), and their dual points may
    certify only 1e-6-1e-5; near the optimum the restricted program is well conditioned, and
    its Newton steps converge quadratically to the point the certificate needs. The caller
    certifies the result and keeps it only when its gap is smaller."""
    n, p, K, d = problem.n, problem.p, problem.K, problem.p - 1
    norms = np.linalg.norm(W[:, :d], axis=1)
    largest = float(norms.max(initial=0.0))
    if not (np.isfinite(largest) and largest > 0):
        return None
    active = np.flatnonzero(norms > PRUNE * largest)
    iterate = W
    signed = at_iterate = problem.products(W) * problem.S2
    tiny = np.finfo(float).tiny

    def tight_rows(b):  # the rows of block b whose slack at the iterate is far below its multiplier
        rows = np.flatnonzero(problem.S2[:, b])
        s, z = np.maximum(at_iterate[rows, b], 0.0), Z[rows, b]
        return set(rows[s * max(float(z.max(initial=0.0)), tiny)
                        < z * max(float(s.max(initial=0.0)), tiny)].tolist())

    tight = {b: tight_rows(b) for b in active}

    def basis(b):  # the directions that keep block b's equalities (and a free block's bias)
        return _equality_basis(problem, b, tight[b])

    def value(W):
        XW = problem.products(W)
        return problem.objective(XW, np.linalg.norm(W[:, :d], axis=1)), XW

    W = _polish_start(problem, W, signed, active, tight)
    current, XW = value(W)
    if not np.isfinite(current):
        return None
    outputs = {b: problem.block_outputs(b) for b in active}
    budget, entries = problem.polish_budget, 0
    ways = {}  # per block out of the support: its basis, equalities and direction of entry

    def way_in(b, g):
        """The direction along which block ``b`` would join the support, its equalities set
        in ``tight``: its interior-point block on them (a block without rows: down the slope
        ``g``). All but the slope are fixed by the iterate: formed once per block."""
        if b not in ways:
            tight[b] = tight_rows(b)
            N, u = basis(b), None
            if not problem.free[b]:
                u = N @ (N.T @ iterate[b])
                rows = np.flatnonzero(problem.S2[:, b])
                slack = (problem.Xt[rows] @ u) * problem.S2[rows, b]
                if np.any(slack < -1e-12 * np.abs(slack).max(initial=0.0)):
                    # its equalities take the iterate's block out of its cone: the block itself
                    u, tight[b] = iterate[b], set()
            ways[b] = (N, frozenset(tight[b]), u)
        N, equalities, u = ways[b]
        tight[b] = set(equalities)
        return N @ (N.T @ -g) if u is None else u

    def enter():
        """The block out of the support along whose interior-point direction (its equalities
        kept) the objective falls fastest joins it, moved as far along it as lowers the
        objective: the optimum on the support may not be the program's, and a block the
        interior point left small, or the steps took to zero, may be one the optimum needs."""
        nonlocal W, current, XW, signed, active, entries
        out = np.setdiff1d(np.arange(W.shape[0]), active)
        if entries >= POLISH_ENTRIES or not out.size:
            return False
        gradient = problem.smooth_gradient(XW)[out, :-1]
        found = {}
        for b, g in zip(out, gradient, strict=True):
            u = way_in(b, g)
            size = float(np.linalg.norm(u[:d]))
            if size > 0:
                found[b] = (float(g @ u) / size + problem.alpha, u)  # the slope per unit norm
        if not found:
            return False
        b, (slope, u) = min(found.items(), key=lambda item: item[1][0])
        if not slope < -1e-9 * problem.alpha:
            return False
        dW = np.zeros_like(W)
        dW[b] = u
        a = 1.0  # the objective is convex along dW and falls at a = 0
        while a > 1e-12:
            trial, trial_XW = value(W + a * dW)
            if trial < current:
                break
            a *= 0.5
        else:
            return False
        entries += 1
        W, current, XW = W + a * dW, trial, trial_XW
        signed = XW * problem.S2
        active = np.union1d(active, [b])
        outputs[b] = problem.block_outputs(b)
        return True

    def merge_pairs():
        """Each pattern's ``u_k`` and ``v_k`` replaced by their difference in one of them (the
        outputs see only ``u_k − v_k``) where it stays in its cone: a penalty no higher, and the
        steps need not take one of the two to zero along the direction without curvature that
        joins them, one pattern a step (on 800 samples in 20 classes, a polish ran out of its
        budget doing only that)."""
        nonlocal W, current, XW, signed, active
        P, dropped = problem.P, []
        for b in active:
            if (b // P) % 2 or b + P not in active:
                continue  # a v_k block, or a pattern with one block in the support
            if not (np.any(W[b, :d]) and np.any(W[b + P, :d])):
                continue
            keep, drop = ((b, b + P) if np.linalg.norm(W[b, :d]) >= np.linalg.norm(W[b + P, :d])
                          else (b + P, b))
            difference = W[keep] - W[drop]
            rows = np.flatnonzero(problem.S2[:, keep])
            slack = (problem.Xt[rows] @ difference) * problem.S2[rows, keep]
            size = 1e-10 * float(np.abs(slack).max(initial=0.0))
            if np.any(slack < -size) or np.any(
                    np.abs(slack[np.isin(rows, list(tight[keep]))]) > size):
                continue  # out of the cone, or off the block's equalities
            W = W.copy() if not dropped else W
            W[keep], W[drop] = difference, 0.0
            dropped.append(drop)
        if dropped:
            active = np.setdiff1d(active, dropped)
            current, XW = value(W)
            signed = XW * problem.S2

    refined, last_flat = 0, np.inf  # steps taken past a flat objective, and their gradient
    for _ in range(POLISH_STEPS):
        merge_pairs()
        live = [b for b in active if np.any(W[b, :d])]
        bases = [basis(b) for b in live]
        offsets = np.cumsum([0] + [N.shape[1] for N in bases])
        m = int(offsets[-1])
        budget -= n * K * m * m + 10 * m**3
        if not m or budget < 0:
            break
        J = np.empty((n, K, m))  # the outputs' change per unknown
        gradient, H = np.empty(m), np.zeros((m, m))
        # each block's gradient, the norm's included (the multipliers below need it whole)
        full = problem.smooth_gradient(XW)[live, :-1]
        for j, (b, N) in enumerate(zip(live, bases, strict=True)):
            cut = slice(offsets[j], offsets[j + 1])
            J[:, :, cut] = outputs[b][:, :, None] * (problem.Xt @ N)[:, None, :]
            radius = float(np.linalg.norm(W[b, :d]))
            u = W[b, :d] / radius
            full[j, :d] += problem.alpha * u
            gradient[cut] = N.T @ full[j]
            curved = np.zeros((p, p))  # the norm's Hessian, α(I − uuᵀ)/‖w‖
            curved[:d, :d] = problem.alpha * (np.eye(d) - np.outer(u, u)) / radius
            H[cut, cut] += N.T @ curved @ N
        root, Q = problem.curvature(XW)
        SJ = np.matmul(root, J).reshape(n * K, m)
        SJ -= Q @ (Q.T @ SJ)
        H += SJ.T @ SJ / n
        # equilibrated first: features of scales far apart make directions look flat that are
        # not (on Ecdat::SumHes as published, 4 of 37, and the polish went down their "slope")
        diagonal = np.diagonal(H)
        unit = 1.0 / np.sqrt(np.where(diagonal > tiny, diagonal, 1.0))
        values, vectors = _eigh(H * unit[:, None] * unit[None, :])
        # Newton's step where the objective is curved; along the directions without curvature
        # (u_k and v_k along one ray) it falls linearly, and the step goes down its slope as far
        # as the iterate's own size, cut by the rows and the blocks' zeros below
        kept = values > 1e-10 * max(float(values[-1]), tiny)
        scaled = unit * gradient
        step = -unit * (vectors[:, kept] @ ((vectors[:, kept].T @ scaled) / values[kept]))
        slope = -unit * (vectors[:, ~kept] @ (vectors[:, ~kept].T @ scaled))
        if np.linalg.norm(slope) > 1e-9 * np.linalg.norm(gradient):
            size = np.sqrt(sum(float(W[b] @ W[b]) for b in live))
            step += size / np.linalg.norm(slope) * slope
        decrement = -float(gradient @ step)
        flat = not decrement > 1e-15 * abs(current)
        norm = float(np.linalg.norm(gradient))
        if flat and refined < POLISH_REFINE and norm < 0.5 * last_flat:
            # the objective shows no progress within its rounding, but the certificate reads the
            # gradient: a block's dual norm cancels terms far larger than alpha (on Ecdat::SumHes
            # as published 2e4 times), so a gradient 1e-9 of theirs still moves it by 1e-5. Full
            # Newton steps while they shrink it
            refined, last_flat = refined + 1, norm
        elif flat:
            # the optimum on these equalities: a row whose multiplier is negative is released
            # (the objective falls as the block leaves it), as in any active-set method
            released = False
            for b, g in zip(live, full, strict=True):
                rows = sorted(tight[b])
                if not rows:
                    continue
                A = problem.Xt[rows] * problem.S2[rows, b][:, None]
                if problem.free[b]:  # the fixed bias: a multiplier of either sign
                    A = np.vstack([A, np.eye(p)[-1:]])
                multipliers = np.linalg.lstsq(A.T, g, rcond=None)[0][:len(rows)]
                worst = int(np.argmin(multipliers))
                if multipliers[worst] < -1e-8 * np.abs(multipliers).max():
                    tight[b].discard(rows[worst])
                    released = True
            if not released and not enter():
                break
            continue
        dW = np.zeros_like(W)
        for j, (b, N) in enumerate(zip(live, bases, strict=True)):
            dW[b] = N @ step[offsets[j]:offsets[j + 1]]
        # the other rows stay satisfied: the step stops at the first, which joins the equalities;
        # and where it takes a block to zero along its own ray, the block leaves the support
        dS = problem.products(dW) * problem.S2
        limit, stop = 1.0, None
        for b in live:
            rows = np.flatnonzero((problem.S2[:, b] != 0) & (dS[:, b] < 0))
            rows = rows[~np.isin(rows, list(tight[b]))]
            if rows.size:
                ratios = np.maximum(signed[rows, b], 0.0) / -dS[rows, b]
                r = int(np.argmin(ratios))
                if ratios[r] < limit:
                    limit, stop = float(ratios[r]), (b, int(rows[r]))
            inward = -float(dW[b, :d] @ W[b, :d])
            if inward > 0 and float(W[b, :d] @ W[b, :d]) < limit * inward:
                limit, stop = float(W[b, :d] @ W[b, :d]) / inward, (b, None)
        a = limit
        while a > 1e-12:
            trial, trial_XW = value(W + a * dW)
            if trial <= current or (flat and trial <= current + ROUNDING * abs(current)):
                break
            if a == limit and stop is not None and stop[1] is None:
                # the step only takes the block to zero along its own ray: at zero itself
                zeroed = dW.copy()
                zeroed[stop[0]] = -W[stop[0]] / a
                trial, trial_XW = value(W + a * zeroed)
                if trial <= current:
                    dW = zeroed
                    break
            a *= 0.5
        else:
            if stop is None or limit > 1e-12:
                break
            a = 0.0  # at the row or at zero already
        if a:
            W, current, XW = W + a * dW, trial, trial_XW
        # a block the step took to zero, or that its rows have squeezed to nothing, leaves the
        # support
        gone = active[np.linalg.norm(W[active, :d], axis=1) <= PRUNE * largest]
        if stop is not None and a == limit:
            if stop[1] is None:
                gone = np.union1d(gone, [stop[0]])
            else:
                tight[stop[0]].add(stop[1])
        if gone.size:
            W = W.copy()
            W[gone] = 0.0
            active = np.setdiff1d(active, gone)
            current, XW = value(W)
        signed = XW * problem.S2
    problem.polish_budget = budget
    return W, np.linalg.norm(W[:, :d], axis=1)


def _pruned(W, T, fraction=PRUNE):
    """``(W, T)`` with the blocks below ``fraction`` times the largest set to zero, and the norm
    bounds of the zero blocks too (None: no block is)."""
    norms = np.linalg.norm(W[:, :-1], axis=1)
    small = norms <= fraction * norms.max()
    if not small.any() or small.all():
        return None
    sparse = W.copy()
    sparse[small] = 0.0
    return sparse, np.where(np.any(sparse, axis=1), T, 0.0)


def _start(Xt, centres, Y):
    """Starting blocks: both families at the cones' centres, scaled so that each block's products
    ``X̃w`` are a tenth of the targets' spread (the start is then invariant to rescaled data), and
    norm bounds twice the norms; one copy per output (columns of ``Y``)."""
    size = np.sqrt(np.mean((Xt @ centres.T) ** 2, axis=0))  # rms of X̃ĝ_k
    W, T = [], []
    for y in Y.T:
        spread = max(float(np.std(y)), 1e-12)
        blocks = centres * (0.1 * spread / np.maximum(size, 1e-300))[:, None]
        W += [blocks, blocks]
        bound = (2.0 * np.linalg.norm(blocks[:, :-1], axis=1)
                 + 0.1 * spread / np.maximum(size, 1e-300))
        T += [bound, bound]
    return np.vstack(W), np.concatenate(T)


def _reduced_by_inverses(B, F, coarse=False):
    """The primal form's Newton system over the blocks ``(u_k, v_k)`` (``B`` their matrices, F the
    data term on the differences of their weights), solved approximately through the differences:
    with ``x_u = B_u⁻¹(r_u − Fd)`` and ``x_v = B_v⁻¹(r_v + Fd)``, they solve
    ``(C⁻¹ + F) d = C⁻¹ g``, ``C = B_u⁻¹ + B_v⁻¹`` on the weights (block diagonal) and
    ``g = B_u⁻¹r_u − B_v⁻¹r_v``: one Cholesky factorisation of size ``P(d + 1)`` instead of
    ``2P(d + 2)`` (in single precision where ``coarse``, :func:`_cholesky_solver`). Returns the
    approximate solve."""
    P, p = B.shape[0] // 2, B.shape[1] - 1
    Binv = _psd_inverse(B)
    Cinv = _psd_inverse(Binv[:P, :p, :p] + Binv[P:, :p, :p])
    M = F.copy()
    _add_diagonal_blocks(M, Cinv)
    reduced = _cholesky_solver(M, coarse)
    del M

    def approximate(rhs):
        y = np.einsum("bij,bj->bi", Binv, rhs)
        g = y[:P, :p] - y[P:, :p]
        d = reduced(np.einsum("kij,kj->ki", Cinv, g).ravel())
        h = np.zeros_like(rhs)
        h[:P, :p] = (F @ d).reshape(P, p)
        h[P:, :p] = -h[:P, :p]
        return y - np.einsum("bij,bj->bi", Binv, h)

    approximate.single = reduced.single
    return approximate


def _reduced_by_sums(B, F, coarse=False):
    """The same reduction as :func:`_reduced_by_inverses` through the sums ``A = B_u + B_v``
    alone: the differences of the whole blocks ``d = x_u − x_v`` solve
    ``(F̃ + B_u A⁻¹ B_v) d = B_v A⁻¹ r_u − B_u A⁻¹ r_v`` (``F̃`` is ``F`` on the weights, zero on
    the bounds ``t``), then ``x_u = A⁻¹(r_u + r_v + B_v d)`` and ``x_v = A⁻¹(r_u + r_v − B_u d)``
    (one factorisation of size ``P(d + 2)``). Near the end of the barrier a block's own matrix can
    span more decades than double precision holds (eigenvalues 1e300 apart on
    vertebral-column-3clases); where the inverses then left relative residuals of 1e-4 to 1e2,
    this reduction leaves 1e-8 to 1e-11, as the whole system's factor does. The shared program
    takes it: the default classifier factored the whole system in none of its iterations on
    primary-tumor (4 before) and took 188–214 s instead of 271 s on scikit-learn's digits. The
    single-output program does not: the default regressor on the first 4,000 rows of
    naval-propulsion-plant at alpha 1e-3 (tests/test_real_data.py) then stalled at a gap of
    1e-3, its last Newton directions losing their precision earlier though every solve met the
    same residual. Where ``coarse``, the factorisation is in single precision
    (:func:`_cholesky_solver`). Returns the approximate solve."""
    P, p = B.shape[0] // 2, B.shape[1] - 1
    size = p + 1
    Bu, Bv = B[:P], B[P:]
    Ainv, parallel = _parallel_sums(Bu, Bv)
    M = np.zeros((P * size, P * size))
    M.reshape(P, size, P, size)[:, :p, :, :p] = F.reshape(P, p, P, p)
    _add_diagonal_blocks(M, parallel)
    reduced = _cholesky_solver(M, coarse)
    del M

    def approximate(rhs):
        ru, rv = rhs[:P], rhs[P:]
        d = (np.einsum("kij,kj->ki", Bv, np.einsum("kij,kj->ki", Ainv, ru))
             - np.einsum("kij,kj->ki", Bu, np.einsum("kij,kj->ki", Ainv, rv)))
        d = reduced(d.ravel()).reshape(P, size)
        total = ru + rv
        return np.concatenate([
            np.einsum("kij,kj->ki", Ainv, total + np.einsum("kij,kj->ki", Bv, d)),
            np.einsum("kij,kj->ki", Ainv, total - np.einsum("kij,kj->ki", Bu, d)),
        ])

    approximate.single = reduced.single
    return approximate


def _cholesky_solver(M, coarse=False):
    """A solver of ``M x = b`` from the Cholesky factor of ``M`` (:func:`_shifted_cholesky`; ``M``
    may be overwritten). Where ``coarse`` and the factorisation costs at least ``COARSE_FLOPS``,
    it is in single precision (half the time; the refinement and the conjugate gradients of
    :meth:`ReluProblem._primal` against the exact matrix make up for the rounding), unless ``M``
    does not factor there. The solver's attribute ``single`` says which."""
    if coarse and M.shape[0] ** 3 / 3 >= COARSE_FLOPS:
        try:
            R = cholesky(M.astype(np.float32), lower=False, check_finite=False)
        except np.linalg.LinAlgError:
            pass
        else:
            def solve_single(b):
                x = cho_solve((R, False), b.astype(np.float32), check_finite=False)
                return x.astype(np.float64)

            solve_single.single = True
            return solve_single
    R = _shifted_cholesky(M)

    def solve(b):
        return cho_solve((R, False), b, check_finite=False)

    solve.single = False
    return solve


def _add_diagonal_blocks(M, blocks):
    """``M += blockdiag(blocks)`` in place, through a strided view of ``M`` (``blocks`` of shape
    (m, s, s), ``M`` C-contiguous of shape (m·s, m·s))."""
    m, s = blocks.shape[:2]
    M.reshape(m, s, m, s)[np.arange(m), :, np.arange(m), :] += blocks


def _parallel_sums(Bu, Bv):
    """``A⁻¹`` and the parallel sums ``B_u A⁻¹ B_v`` of stacks of symmetric positive definite
    blocks, ``A = B_u + B_v``: from the Cholesky factor ``L`` of the equilibrated ``A`` as
    ``(L⁻¹B_u)ᵀ(L⁻¹B_v)``, each factor balanced between the two blocks (no difference of large
    terms, whatever decades the blocks span). Raises ``LinAlgError`` when a sum does not factor."""
    A = Bu + Bv
    scale = 1.0 / np.sqrt(np.einsum("bii->bi", A))
    L = np.linalg.cholesky(A * scale[:, :, None] * scale[:, None, :])
    Lu = np.linalg.solve(L, Bu * scale[:, :, None])
    Lv = np.linalg.solve(L, Bv * scale[:, :, None])
    parallel = np.matmul(Lu.transpose(0, 2, 1), Lv)
    Linv = np.linalg.inv(L)
    Ainv = np.matmul(Linv.transpose(0, 2, 1), Linv) * scale[:, :, None] * scale[:, None, :]
    return Ainv, 0.5 * (parallel + parallel.transpose(0, 2, 1))


def _psd_inverse(B):
    """Inverses of a stack of symmetric positive definite matrices whose entries span many
    decades (barrier Hessians near the boundary): equilibrated, through the eigendecomposition
    (clipping the smallest eigenvalues). Inverses from Cholesky factors cost 2–4 times less but
    lost the precision the last iterations need: with them the default regressor stalled on
    naval-propulsion-plant (gaps of 7e-3 and 3e-3 at alpha 1e-3 and 1e-2, even with the
    eigendecomposition kept for factors whose diagonal spanned more than four decades;
    tests/test_real_data.py). Kept where they pass a residual check (``|A A⁻¹ − I| ≤ 1e-10`` on
    the equilibrated block) they broke the Woodbury form's last iterations at small alpha: the
    default classifier on teaching at alpha 1e-5 then ran to its 100-iteration budget at a
    certified gap of 0.95 (tests/test_real_data.py), and no threshold from 1e-10 to 1e-14 made
    it certify."""
    scale = 1.0 / np.sqrt(np.einsum("bii->bi", B))
    values, vectors = _eigh(B * scale[:, :, None] * scale[:, None, :])
    values = np.maximum(values, 1e-15 * values[:, -1:])
    inverse = np.matmul(vectors / values[:, None, :], vectors.transpose(0, 2, 1))
    return inverse * scale[:, :, None] * scale[:, None, :]


def _shifted_cholesky(N):
    """The upper Cholesky factor of ``N`` (overwritten). The static regularisation of the blocks
    may be too small for the whole matrix (``u_k + v_k`` along the bias of an inactive pattern has
    no curvature), and in the barrier's last iterations rounding leaves it indefinite: the matrix
    is then scaled to a unit diagonal and the diagonal shifted up until it factors (the
    refinement against the exact matrix removes the shift). The shift is relative to each row's
    own diagonal entry: one relative to the largest entry swamped the rows of little curvature
    (the barrier's diagonal spans ten orders of magnitude there) and refinement no longer
    converged."""
    try:
        return cholesky(N, lower=False, check_finite=False)
    except np.linalg.LinAlgError:
        pass
    diagonal = np.abs(np.diagonal(N))
    largest = float(np.max(diagonal, initial=0.0))
    if not (np.isfinite(largest) and largest > 0):
        raise np.linalg.LinAlgError("the Newton matrix of 'ipm' is not positive definite")
    scale = 1.0 / np.sqrt(np.maximum(diagonal, 1e-16 * largest))
    N *= scale[:, None]
    N *= scale[None, :]
    shift = 1e-12
    for _ in range(8):  # up to 1e2 times the (unit) diagonal
        N[np.diag_indices_from(N)] += shift
        try:
            R = cholesky(N, lower=False, check_finite=False)
        except np.linalg.LinAlgError:
            shift *= 100.0
            continue
        R /= scale[None, :]  # N = (R D⁻¹)ᵀ(R D⁻¹) for the scaled N = D N D
        return R
    raise np.linalg.LinAlgError("the Newton matrix of 'ipm' is not positive definite")


def _psd_root(C):
    """``L`` with ``LLᵀ = C`` for a stack of symmetric positive semi-definite matrices (rounding
    may leave tiny negative eigenvalues: they are clipped). Eigenvectors scaled by the roots of
    the eigenvalues, not Cholesky factors: they put the weight in few columns, and the columns of
    ``Z`` that carry little are left out of the Gram matrix."""
    values, vectors = _eigh(0.5 * (C + C.transpose(0, 2, 1)))
    return vectors * np.sqrt(np.maximum(values, 0.0))[:, None, :]


def _solution(problem, W, scale=1.0, basis=None, shift=None, dtype=np.float64):
    """The program's solution at the blocks ``W`` (of the program on ``(X − shift)·basis/scale``),
    with its optimal intercept."""
    K, P, p = problem.groups, problem.P, problem.p
    W = problem.with_feasible_biases(W)
    c = problem.fit_at(problem.products(W))[1]
    W = W.reshape(K, 2, P, p) / np.r_[np.full(p - 1, scale), 1.0]
    if basis is not None:  # back from the coordinates of the row space
        W = np.concatenate([W[..., :-1] @ basis.T, W[..., -1:]], axis=-1)
    if shift is not None:  # back from the centred features
        W[..., -1] -= W[..., :-1] @ shift
    return ConvexSolution(
        W[:, 0].transpose(0, 2, 1).astype(dtype), W[:, 1].transpose(0, 2, 1).astype(dtype),
        np.asarray(c, dtype=dtype),
    )
