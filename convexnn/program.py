"""One description of the convex training program, consumed by every solver (:ref:`maths-programs`, :ref:`maths-gap`).

A :class:`ConvexProgram` holds the data, the activation patterns, the loss, ``alpha`` and the
formulation, and scores any :class:`ConvexSolution` with the one objective of record:

``"relu"`` (C-ReLU, exact ReLU with cone constraints)::

    min (1/n) Σ_i ℓ(F_i + c, y_i) + alpha Σ_{k,o} (‖u_{k,o}[:d]‖ + ‖v_{k,o}[:d]‖)
    s.t. (2D_k − I) X̃ u_{k,o} ≥ 0,  (2D_k − I) X̃ v_{k,o} ≥ 0,     F = Σ_k D_k X̃ (u_k − v_k)

``"gated"`` (C-GReLU, unconstrained; the bias coordinate is penalised too)::

    min (1/n) Σ_i ℓ(F_i + c, y_i) + alpha Σ_{k,o} ‖u_{k,o}‖,           F = Σ_k D_k X̃ u_k

The output intercept ``c`` is free. ``alpha`` follows the Lasso convention (next to a mean loss).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.optimize import nnls

from .cone import gated_block_norms, relu_block_norms, relu_exceeds
from .losses import get_loss
from .operators import masked_forward, max_cone_violation, numeric_masks
from .patterns import Patterns, add_bias_column

__all__ = [
    "ConvexProgram",
    "ConvexSolution",
    "DualityGap",
    "FORMULATIONS",
    "PatternProgram",
    "Program",
    "certified_bound",
    "feasible_dual",
    "feasible_scale",
    "relative_gap",
]

FORMULATIONS = ("relu", "gated")


@dataclass
class ConvexSolution:
    """A point of a convex program.

    Each parameter is kept as the attribute of the same name.

    Parameters
    ----------
    U : ndarray of shape (n_outputs, n_features + 1, n_patterns)
        Blocks ``u_{k,o} = U[o, :, k]``.
    V : ndarray of the same shape, or None
        The negative blocks ``v_{k,o}`` of the exact ReLU program; ``None`` for the gated program.
    intercept : ndarray of shape (n_outputs,)
        The free output intercept ``c``.
    """

    U: np.ndarray
    V: np.ndarray | None
    intercept: np.ndarray

    def copy(self) -> ConvexSolution:
        return ConvexSolution(
            self.U.copy(), None if self.V is None else self.V.copy(), self.intercept.copy()
        )

    @property
    def net(self) -> np.ndarray:
        """``U − V`` (or ``U``): the blocks the model output depends on."""
        return self.U if self.V is None else self.U - self.V


def relative_gap(primal, dual):
    """The relative gap of a primal value to a dual bound (:ref:`maths-gap`).

    Parameters
    ----------
    primal, dual : float
        The objective ``P`` at a point of the program and a dual bound ``D`` on its optimum.

    Returns
    -------
    float
        ``(P − D) / max(|P|, 1e-12)``.
    """
    return (primal - dual) / max(abs(primal), 1e-12)


def certified_bound(primal, gap):
    """The dual bound that a relative gap certified at a primal value: the inverse of
    :func:`relative_gap`. Any point of the same program is measured against it.

    Parameters
    ----------
    primal, gap : float
        The objective ``P`` at the certified point and its relative gap.

    Returns
    -------
    float
        ``P − gap · max(|P|, 1e-12)``.
    """
    return primal - gap * max(abs(primal), 1e-12)


@dataclass(frozen=True)
class DualityGap:
    """Primal and dual objectives and the relative gap ``(P − D) / max(|P|, ε)``.

    Each parameter is kept as the attribute of the same name.

    Parameters
    ----------
    primal : float
        The primal objective ``P`` at the solution.
    dual : float
        The dual objective ``D`` at the scaled dual point (``−inf`` when none is certified).
    gap : float
        The relative gap ``(P − D) / max(|P|, 1e-12)`` (``inf`` when no dual bound is certified).
    dual_scale : float
        Factor by which the residual was shrunk to make it dual feasible (1 means no shrinking;
        with the squared loss and several outputs, each output has its own, and this is the
        smallest).
    """

    primal: float
    dual: float
    gap: float
    dual_scale: float
    """Factor by which the residual was shrunk to make it dual feasible (1 means no shrinking)."""


def feasible_dual(loss_fn, Theta, Y, block_norms, bound):
    """The dual objective at ``Θ`` shrunk into the dual feasible set, and the factor it took.

    Every block constraint reads ``norm_k(θ) ≤ bound`` (``n·alpha``); ``Θ`` is shrunk by
    ``min(1, bound / max_k norm_k(θ))``, which keeps ``1ᵀθ = 0`` (:ref:`maths-gap`).

    Parameters
    ----------
    loss_fn : Loss
        The program's loss (its ``dual`` is the negated conjugate).
    Theta : ndarray of shape (n_samples, n_outputs)
        A dual point whose columns sum to zero.
    Y : ndarray of shape (n_samples, n_outputs)
        The encoded targets.
    block_norms : ndarray
        The dual norms of ``Θ``'s blocks, or upper bounds on them.
    bound : float
        ``n·alpha``.

    Returns
    -------
    dual : float
    scale : float
        The shrinking factor (1 when ``Θ`` was feasible).
    """
    scale = feasible_scale(block_norms, bound)
    return loss_fn.dual(scale * Theta, np.asarray(Y, dtype=np.float64)), scale


def feasible_scale(block_norms, bound):
    """``min(1, bound / max_k norm_k)``: the factor that brings a dual point whose blocks have
    these dual norms (or upper bounds on them) inside every constraint ``norm_k ≤ bound``.

    Parameters
    ----------
    block_norms : ndarray
        The dual norms of the point's blocks, or upper bounds on them.
    bound : float
        ``n·alpha``.

    Returns
    -------
    float
    """
    worst = float(np.max(block_norms, initial=0.0))
    return 1.0 if worst <= bound else bound / worst


class Program:
    """What every convex program offers its solvers, the answer checks of
    :func:`~convexnn.solvers.solve` and the certificate: a mean loss at a linear model output
    plus ``alpha`` times a sum of block norms (:ref:`maths-programs`, :ref:`maths-gap`).

    A subclass holds ``X``, ``Y`` (encoded targets, float64), ``loss``, ``loss_fn``, ``alpha`` and
    ``formulation``, and defines the model: ``block_shape``, :meth:`predict`, :meth:`block_norms`
    and :meth:`dual_block_norms`. Everything else (the zero network, the penalty and objective,
    the residual, the certified gap, ``alpha_max``) is written here once. A program with cone
    constraints (``formulation == "relu"``) also overrides :meth:`constraint_violation`,
    :meth:`network_objective` and :meth:`feasible`.
    """

    formulation: str

    def _checked(self, X, Y, loss: str, alpha: float) -> np.ndarray:
        """Check the targets, the loss and ``alpha`` against the inputs ``X``; set ``loss_fn``.
        Returns ``Y`` in float64: the targets stay float64 with float32 features (the program
        is the user's, not a rounding of it)."""
        Y = np.asarray(Y, dtype=np.float64)
        if Y.ndim != 2 or Y.shape[0] != X.shape[0]:
            raise ValueError(f"Y must have shape (n_samples, n_outputs); got {Y.shape}")
        if alpha < 0:
            raise ValueError(f"alpha must be non-negative, got {alpha}")
        self.loss_fn = get_loss(loss)
        if loss == "logistic" and Y.shape[1] != 1:
            raise ValueError("the logistic loss takes a single output")
        if loss == "softmax" and Y.shape[1] < 2:
            raise ValueError("the softmax loss needs at least two outputs")
        return Y

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def n_outputs(self) -> int:
        return self.Y.shape[1]

    @property
    def block_shape(self) -> tuple[int, int, int]:
        """Shape of ``ConvexSolution.U``: (n_outputs, block size, n_patterns)."""
        raise NotImplementedError

    def with_alpha(self, alpha: float):
        """The same program with another ``alpha`` (shares the data and what is derived from it).

        Parameters
        ----------
        alpha : float
            The new regularisation strength (non-negative).
        """
        if alpha < 0:
            raise ValueError(f"alpha must be non-negative, got {alpha}")
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.alpha = float(alpha)
        return new

    def zero_solution(self) -> ConvexSolution:
        """All blocks zero, the intercept optimal for them."""
        U = np.zeros(self.block_shape, dtype=self.X.dtype)
        V = np.zeros_like(U) if self.formulation == "relu" else None
        return ConvexSolution(U, V, self._zero_intercept.copy())

    @cached_property
    def _zero_intercept(self) -> np.ndarray:
        # asked for by alpha_max, the solvers' start and the first gap: computed once
        c = self.loss_fn.intercept_shift(np.zeros(self.Y.shape), self.Y)
        return np.asarray(c, dtype=self.X.dtype)

    # -- primal -----------------------------------------------------------------------------------
    def predict(self, solution: ConvexSolution) -> np.ndarray:
        """Model output at ``solution``, shape (n_samples, n_outputs).

        Parameters
        ----------
        solution : ConvexSolution
            A point of this program.
        """
        raise NotImplementedError

    def block_norms(self, blocks: np.ndarray) -> np.ndarray:
        """The penalised norm of every block: shape (n_outputs, n_patterns).

        Parameters
        ----------
        blocks : ndarray of shape ``block_shape``
            ``U`` or ``V`` of a :class:`ConvexSolution`.
        """
        raise NotImplementedError

    def penalty(self, solution: ConvexSolution) -> float:
        """``alpha`` times the sum of the penalised block norms.

        Parameters
        ----------
        solution : ConvexSolution
            A point of this program.
        """
        total = float(np.sum(self.block_norms(solution.U)))
        if solution.V is not None:
            total += float(np.sum(self.block_norms(solution.V)))
        return self.alpha * total

    def objective(self, solution: ConvexSolution) -> float:
        """The convex objective (mean loss plus group penalty) at ``solution``.

        Parameters
        ----------
        solution : ConvexSolution
            A point of this program.
        """
        return self.loss_fn.value(self.predict(solution), self.Y) + self.penalty(solution)

    def constraint_violation(self, solution: ConvexSolution) -> float:
        """Largest relative constraint violation at ``solution``: 0 without constraints.

        Parameters
        ----------
        solution : ConvexSolution
            A point of this program.
        """
        return 0.0

    def network_objective(self, solution: ConvexSolution) -> float:
        """The objective of the network ``solution`` maps to (the convex objective, where the
        program has no constraints to leave).

        Parameters
        ----------
        solution : ConvexSolution
            A point of this program.
        """
        return self.objective(solution)

    def feasible(self, solution: ConvexSolution, tol: float = 1e-10) -> ConvexSolution:
        """``solution`` moved into the program's constraints (itself, where there are none).

        Parameters
        ----------
        solution : ConvexSolution
            A point of this program.
        tol : float, default=1e-10
            Relative violation below which a block is left where it is.
        """
        return solution

    # -- dual ----------------------------------------------------------------------------------
    def residual(self, solution: ConvexSolution) -> np.ndarray:
        """``θ = −∇ℓ`` at the model output after the optimal intercept shift (so ``1ᵀθ = 0``).

        Parameters
        ----------
        solution : ConvexSolution
            A point of this program.
        """
        return self.residual_at(self.predict(solution))

    def residual_at(self, F: np.ndarray) -> np.ndarray:
        """``θ = −∇ℓ(F + δ)`` for model outputs ``F``, ``δ`` the optimal intercept shift.

        Parameters
        ----------
        F : ndarray of shape (n_samples, n_outputs)
            Model outputs (taken in float64).
        """
        F = np.asarray(F, dtype=np.float64)
        Y = self.Y.astype(np.float64)
        return self.loss_fn.dual_point(F + self.loss_fn.intercept_shift(F, Y), Y)

    def dual_block_norms(self, Theta: np.ndarray, threshold: float | None = None) -> np.ndarray:
        """Per block, the value the dual constraint bounds by ``n·alpha``: shape (K, P); upper
        bounds, tight wherever they exceed ``threshold``, for a program that only bounds them.

        Parameters
        ----------
        Theta : ndarray of shape (n_samples, n_outputs)
            A dual point.
        threshold : float, optional
            Values below it may be upper bounds rather than exact (None: all exact).
        """
        raise NotImplementedError

    @cached_property
    def _block_reach(self) -> float:
        """A bound on how much a move of the dual point by ``Δ`` changes any block's dual norm,
        per unit of ``‖Δ‖`` (used to widen a solver's own bounds, :meth:`duality_gap`)."""
        raise NotImplementedError

    def _moved(self, delta: np.ndarray) -> np.ndarray:
        """How far a move ``delta`` (n, K) of the dual point moves each block's dual vector:
        broadcastable to the shape of :meth:`dual_block_norms` (here one column per output)."""
        return np.linalg.norm(delta, axis=0)[:, None]

    def output_direction(self, o: int, k: int) -> np.ndarray:
        """The output weights, per unit of the block's scale, of the neuron of block ``(o, k)``:
        the ``o``-th unit vector where each neuron feeds one output.

        Parameters
        ----------
        o, k : int
            The block's output index (first axis of ``ConvexSolution.U``) and pattern.
        """
        direction = np.zeros(self.n_outputs)
        direction[o] = 1.0
        return direction

    def duality_gap(
        self, solution: ConvexSolution, theta: np.ndarray | None = None, block_norms=None
    ) -> DualityGap:
        """Certified relative duality gap at ``solution`` (:ref:`maths-gap`).

        The dual point is the residual ``θ`` (after the optimal intercept shift), shrunk by
        ``min(1, n·alpha / max_k norm_k(θ))`` so that every block constraint holds. A solver may
        pass its own ``block_norms`` of ``θ`` (shape (K, P)): valid *upper bounds* on the dual
        norms, such as :func:`convexnn.cone.supported_block_norms` builds from an interior
        point's multipliers.

        Parameters
        ----------
        solution : ConvexSolution
            A point of this program.
        theta : ndarray of shape (n_samples, n_outputs), optional
            The dual point before shrinking; by default the residual at ``solution``.
        block_norms : ndarray of shape (n_outputs, n_patterns), optional
            Upper bounds on the dual norms of ``theta``'s blocks; by default they are computed
            (:meth:`dual_block_norms`).
        """
        primal = self.objective(solution)
        Theta = np.asarray(self.residual(solution) if theta is None else theta, dtype=np.float64)
        centred = self.loss_fn.zero_sum(Theta, self.Y)
        if block_norms is not None and centred is not Theta:
            # the solver's bounds were for θ: widen them by what the move can add
            block_norms = block_norms + self._block_reach * self._moved(centred - Theta)
        Theta = centred
        if np.abs(Theta.sum(axis=0)).max() > 1e-9 * max(1.0, float(np.abs(Theta).sum())):
            # the intercept shift did not converge: 1ᵀθ = 0 fails and no dual bound is certified
            return DualityGap(primal, -np.inf, np.inf, 0.0)
        bound = self.n_samples * self.alpha
        if block_norms is None:
            block_norms = self.dual_block_norms(Theta, threshold=bound)
        dual, scale = self._feasible_dual(Theta, block_norms, bound)
        return DualityGap(primal, dual, relative_gap(primal, dual), scale)

    def _feasible_dual(self, Theta, block_norms, bound):
        """The dual objective at ``Θ`` shrunk into the dual feasible set (:func:`feasible_dual`),
        and the factor it took."""
        return feasible_dual(self.loss_fn, Theta, self.Y, block_norms, bound)

    def zero_is_optimal(self) -> bool:
        """Whether the all-zero blocks solve the program (``alpha >= alpha_max``)."""
        if self.alpha <= 0:
            return False
        Theta = self.residual(self.zero_solution())
        bound = self.n_samples * self.alpha * (1.0 + 1e-12)  # alpha = alpha_max(), up to rounding
        return float(np.max(self.dual_block_norms(Theta, threshold=bound), initial=0.0)) <= bound

    def alpha_max(self) -> float:
        """The smallest ``alpha`` for which the all-zero blocks are optimal."""
        Theta = self.residual(self.zero_solution())
        return float(np.max(self.dual_block_norms(Theta), initial=0.0)) / self.n_samples


class PatternProgram(Program):
    """What the programs over activation patterns share: the data with its bias column, the
    pattern masks, the group norms and, for the exact ReLU formulation, the cone constraints
    ``(2D_k − I) X̃ u ≥ 0`` of every block (:ref:`maths-programs`). A subclass sets ``X``, ``Y``,
    ``patterns``, ``loss``, ``loss_fn``, ``alpha`` and ``formulation`` and defines how the blocks
    make the model output."""

    def _set_data(self, X, Y, patterns: Patterns, loss: str, alpha: float, formulation: str):
        """Check and keep the data, the patterns and the program's settings."""
        if formulation not in FORMULATIONS:
            raise ValueError(f"unknown formulation {formulation!r}; expected one of {FORMULATIONS}")
        X = np.asarray(X)
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        Y = self._checked(X, Y, loss, alpha)
        if patterns.masks.shape[0] != X.shape[0]:
            raise ValueError("the patterns were computed on a different number of samples")
        if patterns.gates.shape[0] != X.shape[1] + 1:
            raise ValueError("the gates do not match the number of features (plus the bias)")
        self.X, self.Y, self.patterns = X, Y, patterns
        self.loss, self.alpha, self.formulation = loss, float(alpha), formulation

    @cached_property
    def Xt(self) -> np.ndarray:
        """``X̃ = [X, 1]``."""
        return add_bias_column(self.X)

    @property
    def masks(self) -> np.ndarray:
        """Boolean pattern masks, shape (n_samples, n_patterns)."""
        return self.patterns.masks

    @cached_property
    def mask_matrix(self) -> np.ndarray:
        """The masks as zeros and ones in the data's dtype: the operand of the BLAS products of
        :mod:`convexnn.operators`."""
        return numeric_masks(self.masks, self.X.dtype)

    @property
    def n_features(self) -> int:
        return self.X.shape[1]

    @property
    def n_patterns(self) -> int:
        return self.patterns.n_patterns

    @property
    def size(self) -> int:
        """``n·P·(d + 1)·K``: the entries of the program's products, the measure of its cost that
        the solvers' size rules read (``"auto"``'s CVXPY rule, ``ipm``'s default budget)."""
        return self.n_samples * self.n_patterns * (self.n_features + 1) * self.n_outputs

    def block_norms(self, blocks: np.ndarray) -> np.ndarray:
        """The penalised norm of every block: shape (n_outputs, n_patterns).

        Parameters
        ----------
        blocks : ndarray of shape (n_outputs, n_features + 1, n_patterns)
            ``U`` or ``V`` of a solution; the bias row is left out of the norm for the exact ReLU
            program, included for the gated one.
        """
        penalised = blocks[:, :-1, :] if self.formulation == "relu" else blocks
        return np.sqrt(np.sum(penalised.astype(np.float64) ** 2, axis=1))

    def constraint_violation(self, solution: ConvexSolution) -> float:
        """Largest cone-constraint violation ``max (−(2D_k − I) X̃ u_k)_+``, relative to
        ``max(1, max |X̃ u_k|)``; 0 for the gated program.

        Parameters
        ----------
        solution : ConvexSolution
            A point of this program.
        """
        if self.formulation == "gated":
            return 0.0
        worst, size = 0.0, 1.0
        for blocks in (solution.U, solution.V):
            w, s = max_cone_violation(self.Xt, self.masks, blocks)
            worst, size = max(worst, w), max(size, s)
        return worst / size

    @cached_property
    def _block_reach(self) -> float:
        """``‖X̃‖_F + R√n`` (``R = max_i ‖x_i‖``): a move ``Δ`` of a dual point changes every
        block's value by at most ``‖X̃ᵀD_kΔ‖ + R|1ᵀD_kΔ| ≤`` this times ``‖Δ‖`` (docs/maths.md,
        "The duality gap and the certificate")."""
        X = self.X.astype(np.float64)
        radius = float(np.max(np.linalg.norm(X, axis=1), initial=0.0))
        return float(np.linalg.norm(add_bias_column(X))) + np.sqrt(self.n_samples) * radius

    def feasible(self, solution: ConvexSolution, tol: float = 1e-10) -> ConvexSolution:
        """``solution`` with every exact-ReLU block inside its cone, so that the mapped network
        reproduces the program's outputs.

        A solver may stop at a point slightly outside a cone (an iteration budget, a tolerance):
        block ``u_k`` then violates ``(2D_k − I) X̃ u_k ≥ 0`` on a few rows, and the neuron
        ``relu(X̃ u_k)`` differs from ``D_k X̃ u_k`` there. Each block violated by more than ``tol``
        (relative to its largest ``|X̃ u_k|``) is replaced by its Euclidean projection onto the cone
        (Moreau: ``u + Aᵀλ``, ``λ ≥ 0`` the non-negative least-squares solution of ``Aᵀλ ≈ −u``,
        ``A = (2D_k − I) X̃`` with unit rows), in float64. Returns ``solution`` itself when nothing
        moved.

        Parameters
        ----------
        solution : ConvexSolution
            A point of this program.
        tol : float, default=1e-10
            Relative violation a block may keep without being projected.
        """
        if self.formulation != "relu":
            return solution
        signs = np.where(self.masks, 1.0, -1.0)
        Xt = self.Xt.astype(np.float64)
        rows = Xt / np.maximum(np.linalg.norm(Xt, axis=1, keepdims=True), 1e-300)
        families = [np.array(solution.U, dtype=np.float64), np.array(solution.V, dtype=np.float64)]
        moved = False
        for blocks in families:
            for o in range(blocks.shape[0]):
                Z = Xt @ blocks[o]  # (n, P): X̃ u_k
                size = np.abs(Z).max(axis=0)
                for k in np.flatnonzero((signs * Z < -tol * size).any(axis=0) & (size > 0)):
                    A = rows * signs[:, k, None]
                    lam, _ = nnls(A.T, -blocks[o, :, k], maxiter=50 * A.shape[0])
                    blocks[o, :, k] += A.T @ lam
                    moved = True
        if not moved:
            return solution
        # float64 whatever the data's dtype: float32 blocks would leave their cones by rounding
        return ConvexSolution(families[0], families[1], np.asarray(solution.intercept, np.float64))


class ConvexProgram(PatternProgram):
    """The convex program of a two-layer ReLU network with weight decay.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training inputs (the bias column is added here).
    Y : ndarray of shape (n_samples, n_outputs)
        Targets encoded for the loss (see :func:`convexnn.losses.encode_targets`).
    patterns : Patterns
        Gates and activation masks on ``X``.
    loss : {"squared", "logistic", "softmax"}
    alpha : float
        Regularisation strength, Lasso convention (:ref:`maths-objective`).
    formulation : {"relu", "gated"}
    """

    def __init__(self, X, Y, patterns: Patterns, loss: str, alpha: float, formulation: str = "relu"):
        self._set_data(X, Y, patterns, loss, alpha, formulation)

    # -- shapes ---------------------------------------------------------------------------------
    @property
    def block_shape(self) -> tuple[int, int, int]:
        """(n_outputs, n_features + 1, n_patterns): one block of the weights and bias of a
        neuron per output and pattern."""
        return (self.n_outputs, self.n_features + 1, self.n_patterns)

    def with_outputs(self, columns) -> ConvexProgram:
        """The program of the squared-loss outputs ``columns`` alone, sharing the data and whatever
        the program has already derived from it (``Xt``, ``mask_matrix``). Squared loss and penalty
        separate over outputs, so its optimum is the full program's on those outputs.

        Parameters
        ----------
        columns : sequence of int
            Indices of the outputs (columns of ``Y``) to keep, in the new order.
        """
        if self.loss != "squared":
            raise ValueError(f"only the squared loss separates over outputs, not {self.loss!r}")
        new = object.__new__(ConvexProgram)
        new.__dict__.update(self.__dict__)
        new.__dict__.pop("_zero_intercept", None)  # derived from Y
        new.Y = self.Y[:, list(columns)]
        return new

    # -- primal -----------------------------------------------------------------------------------
    def predict(self, solution: ConvexSolution) -> np.ndarray:
        """Model output ``Σ_k D_k X̃ (u_k − v_k) + c``, shape (n_samples, n_outputs).

        Parameters
        ----------
        solution : ConvexSolution
            A point of this program.
        """
        return masked_forward(self.Xt, self.mask_matrix, solution.net) + solution.intercept

    def objective(self, solution: ConvexSolution) -> float:
        """The convex objective (mean loss plus group penalty) at ``solution``, evaluated in float64
        whatever the dtype of ``X`` (so that it is the mapped network's objective to rounding).

        Parameters
        ----------
        solution : ConvexSolution
            A point of this program.
        """
        net = solution.U.astype(np.float64)  # U − V in float64: float32 blocks round it otherwise
        if solution.V is not None:
            net = net - solution.V
        F = masked_forward(self.Xt, self.mask_matrix, net, np.float64) + solution.intercept
        return self.loss_fn.value(F, self.Y) + self.penalty(solution)

    def network_objective(self, solution: ConvexSolution) -> float:
        """The objective of the network that ``solution`` maps to: each exact-ReLU block acts as
        ``relu(X̃ u)`` rather than ``D X̃ u`` (the two agree where the block holds its cone).

        Parameters
        ----------
        solution : ConvexSolution
            A point of this program.
        """
        if self.formulation != "relu":
            return self.objective(solution)
        Xt = self.Xt.astype(np.float64)
        F = np.zeros((self.n_samples, self.n_outputs)) + solution.intercept
        for o in range(self.n_outputs):
            F[:, o] += np.maximum(Xt @ np.asarray(solution.U[o], np.float64), 0.0).sum(axis=1)
            F[:, o] -= np.maximum(Xt @ np.asarray(solution.V[o], np.float64), 0.0).sum(axis=1)
        return self.loss_fn.value(F, self.Y) + self.penalty(solution)

    # -- dual ---------------------------------------------------------------------------------------
    def dual_block_norms(self, Theta: np.ndarray, threshold: float | None = None) -> np.ndarray:
        """Per block, the value the dual constraint bounds by ``n·alpha``: shape (K, P).

        For the exact ReLU program the values are upper bounds, tight wherever they exceed
        ``threshold`` (all of them when it is None); see :func:`convexnn.cone.relu_block_norms`.

        Parameters
        ----------
        Theta : ndarray of shape (n_samples, n_outputs)
            A dual point, one column per output.
        threshold : float, optional
            Exact ReLU program only: values that may exceed it are computed tightly (by NNLS),
            the others are left at a cheap upper bound. Ignored by the gated program.
        """
        X = self.X.astype(np.float64)
        if self.formulation == "gated":
            return gated_block_norms(add_bias_column(X), self.mask_matrix, Theta)
        return relu_block_norms(X, self.masks, Theta, threshold)

    def _feasible_dual(self, Theta, block_norms, bound):
        """As :meth:`Program._feasible_dual`; with the squared loss each output's column is shrunk
        by its own factor (the program and its dual separate over outputs, :ref:`maths-gap`), and
        the factor returned is the smallest."""
        if self.loss != "squared" or self.n_outputs == 1:
            return super()._feasible_dual(Theta, block_norms, bound)
        norms = np.broadcast_to(block_norms, (self.n_outputs, self.n_patterns))
        scales = np.array([feasible_scale(row, bound) for row in norms])
        return self.loss_fn.dual(Theta * scales, self.Y), float(scales.min())

    def zero_is_optimal(self) -> bool:
        """Whether the all-zero blocks solve the program (``alpha >= alpha_max``), cheaply: the
        exact ReLU test stops at the first violated block (no NNLS for the others)."""
        if self.formulation != "relu" or self.alpha <= 0:
            return super().zero_is_optimal()
        Theta = self.residual(self.zero_solution())
        bound = self.n_samples * self.alpha * (1.0 + 1e-12)  # alpha = alpha_max(), up to rounding
        return not relu_exceeds(self.X.astype(np.float64), self.masks, Theta, bound)
