"""scikit-learn estimators for deep ReLU networks trained by convex programs.

- :class:`ConvexDeepReLURegressor` / :class:`ConvexDeepReLUClassifier`: layer-wise convex stacking
  (:mod:`convexnn.deep.stacking`); every block is a certified global optimum of its own two-layer
  program, with no guarantee for the network as a whole.
- :class:`ConvexDeep1DRegressor`: the exact training problem of a deep narrow ReLU network on
  one-dimensional inputs, solved as a Lasso (:mod:`convexnn.deep.oned`).
"""

from __future__ import annotations

import time
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions

from .._memory import check_memory
from .._outputs import (
    ClassifierOutputsMixin,
    NetworkEstimator,
    RegressorOutputsMixin,
    validated_fit,
)
from ..losses import encode_targets
from ..network import network_objective
from ..patterns import SAMPLERS
from ..solvers import SOLVERS, solve
from .dictionary import DEPTHS, estimate_dictionary_memory
from .objective import deep_objective
from .oned import DictionaryProgram, dictionary_to_network
from .stacking import stack_convex_blocks

__all__ = ["ConvexDeepReLURegressor", "ConvexDeepReLUClassifier", "ConvexDeep1DRegressor"]


class _BaseConvexDeepReLU(NetworkEstimator):
    """Shared fitting logic of the stacked estimators."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "n_gates": [Interval(Integral, 1, None, closed="left")],
        "sampler": [StrOptions(set(SAMPLERS))],
        "solver": [StrOptions({"auto"} | set(SOLVERS))],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "max_memory": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"}), None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(50, 50),
        alpha=1e-3,
        *,
        n_gates=100,
        sampler="gaussian",
        solver="auto",
        tol=1e-6,
        max_iter=1000,
        random_state=None,
        verbose=False,
        max_memory="auto",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.alpha = alpha
        self.n_gates = n_gates
        self.sampler = sampler
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.verbose = verbose
        self.max_memory = max_memory

    def _widths(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if np.isscalar(sizes) else list(sizes)
        if len(sizes) == 0 or any(
            not isinstance(m, Integral | np.integer) or isinstance(m, bool) or m < 1 for m in sizes
        ):
            raise ValueError(
                "hidden_layer_sizes must be a positive integer or a non-empty sequence of positive "
                f"integers (the maximum width of each hidden layer); "
                f"got {self.hidden_layer_sizes!r}"
            )
        return [int(m) for m in sizes]

    def _fit_stack(self, X, Y, loss):
        start = time.perf_counter()
        # every other parameter is one of stack_convex_blocks' keywords, under the same name
        options = self.get_params()
        del options["hidden_layer_sizes"]
        options["verbose"] = bool(options["verbose"])
        with warnings.catch_warnings():
            # every block's solve would warn on its own: the fit warns once, naming the blocks
            warnings.simplefilter("ignore", ConvergenceWarning)
            coefs, intercepts, reports = stack_convex_blocks(X, Y, loss, self._widths(), **options)
        self.coefs_, self.intercepts_ = coefs, intercepts
        self.loss_ = loss
        self._n_train = X.shape[0]
        self.n_layers_ = len(coefs) + 1
        self.hidden_layer_sizes_ = tuple(c.shape[1] for c in coefs[:-1])
        self.blocks_ = reports
        self.block_gaps_ = [r.gap for r in reports]
        self.block_objectives_ = [r.objective for r in reports]
        self.objective_ = network_objective(coefs, intercepts, X, Y, self.alpha, loss)
        # the attributes of the two-layer estimators, over the whole stack: the worst block's gap
        # and status, the iterations and solvers of all blocks
        failed = [r.status for r in reports if r.status != "optimal"]
        late = [i + 1 for i, r in enumerate(reports) if r.status != "optimal" or r.gap > self.tol]
        self._record_solve(
            max(self.block_gaps_), failed[0] if failed else "optimal",
            ",".join(dict.fromkeys(r.solver for r in reports)),
            sum(r.n_iter for r in reports), self.block_gaps_, start,
            where=f" in block(s) {late}" if late else "", X=X,
            Y=Y if loss == "squared" else None,
        )  # fmt: skip
        return self


_STACK_DOC = """
    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(50, 50)
        Maximum width of each hidden layer; the number of entries is the number of hidden layers
        (one convex block each). Actual widths (``hidden_layer_sizes_``) can be smaller: a block
        keeps only the neurons its optimum uses.
    alpha : float, default=1e-3
        Weight decay of every block, Lasso convention (:ref:`maths-objective`). Ten times below
        the two-layer estimators' default: on real data neither value scores better on average,
        and ``1e-2`` fits two to five times faster and overfits diabetes less (``docs/deep.md``,
        "Choosing alpha").
    n_gates : int, default=100
        Gates drawn on every block's input.
    sampler : {"gaussian", "data", "exact"}, default="gaussian"
        Sampler of every block's patterns (:func:`convexnn.patterns.sample_patterns`), on the
        block's input.
    solver : str, default="auto"
        Solver of every block (see :func:`convexnn.solvers.solve`).
    tol : float, default=1e-6
        Target relative duality gap of every block.
    max_iter : int, default=1000
    random_state : int, RandomState instance or None, default=None
    verbose : bool, default=False
    max_memory : "auto", float or None, default="auto"
        Memory budget in bytes. Before sampling and again before solving every block, ``fit``
        estimates the memory the step needs and raises a :class:`MemoryError` that states the
        estimate when it exceeds the budget, instead of exhausting the machine. ``"auto"``: 90 %
        of the memory available; ``None``: no check.

    Attributes
    ----------
    coefs_, intercepts_ : list of ndarray
        The deep network in scikit-learn's layout.
    hidden_layer_sizes_ : tuple of int
        Actual widths of the hidden layers.
    n_layers_ : int
        Layers including input and output (scikit-learn's convention).
    blocks_ : list of BlockReport
        Per block: patterns, neurons, convex objective, certified gap, solver.
    block_gaps_, block_objectives_ : list of float
    gap_history_ : list of float
        The blocks' certified gaps, in block order (as ``block_gaps_``).
    gap_ : float
        The largest of the blocks' certified gaps (each block's program is certified on its own).
    status_ : str
        ``"optimal"`` when every block certified its gap, else the first other status.
    solver_ : str
        The solvers that answered, in block order, comma-separated.
    n_iter_ : int
        Solver iterations over all blocks.
    objective_ : float
        Weight-decay objective of record (:ref:`maths-objective`, summed over all layers) of the whole network:
        for information, it is not certified.
    fit_time_ : float
"""


class ConvexDeepReLURegressor(RegressorOutputsMixin, RegressorMixin, _BaseConvexDeepReLU):
    __doc__ = (
        """Deep ReLU network regressor trained by layer-wise convex stacking.

    Each hidden layer is the hidden layer of a two-layer convex program (exact ReLU formulation)
    from the previous layer's activations to the targets, solved to a certified duality gap;
    the last block's output layer is the output layer. Every block is a global optimum of its
    own program; no optimality is claimed for the network as a whole.
"""
        + _STACK_DOC
    )

    @validated_fit
    def fit(self, X, y):
        """Fit the network to ``X`` (n_samples, n_features) and ``y`` (n_samples[, k]).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Training targets.

        Returns
        -------
        self
            The fitted estimator.
        """
        X, y = self._check_X_y(X, y, multi_output=True, y_numeric=True)
        self._y_was_1d = y.ndim == 1
        return self._fit_stack(X, encode_targets(y, "squared"), "squared")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class ConvexDeepReLUClassifier(ClassifierOutputsMixin, ClassifierMixin, _BaseConvexDeepReLU):
    __doc__ = (
        """Deep ReLU network classifier trained by layer-wise convex stacking.

    Blocks use the logistic loss (binary) or the softmax loss (multiclass, one output per class),
    as :class:`~convexnn.ConvexReLUClassifier`; with several classes a block's neurons feed every
    class (the shared-neuron program, :mod:`convexnn.deep.stacking`), and any width of at least 2
    is attainable (at least ``2k`` with ``k`` classes for ``solver="al"``, which solves the
    per-output program). Every block is a global optimum of its own program; no
    optimality is claimed for the network as a whole.
"""
        + _STACK_DOC
        + """    classes_ : ndarray
        Class labels.
"""
    )

    @validated_fit
    def fit(self, X, y):
        """Fit the network to ``X`` (n_samples, n_features) and labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,)
            Class labels (any label type; two classes use the logistic loss, more the softmax).

        Returns
        -------
        self
            The fitted estimator.
        """
        X, y = self._check_X_y(X, y)
        return self._fit_stack(X, *self._encode_labels(y))


class ConvexDeep1DRegressor(RegressorOutputsMixin, RegressorMixin, NetworkEstimator):
    """Deep ReLU network regressor on one-dimensional inputs, trained exactly as a Lasso.

    Solves the training problem of a deep narrow ReLU network of ``depth`` layers (``depth − 1``
    hidden layers of parallel scalar paths) with the ``ℓ_depth`` weight penalty::

        J = (1/n) Σ_i ½(f(x_i) − y_i)² + (alpha/depth) Σ_layers Σ |W|^depth   (biases free),

    through its equivalent Lasso over the ramp/reflection dictionary of Zeger, Wang & Pilanci
    (2024), to a certified duality gap, and maps the Lasso solution to network weights: the
    network's objective ``objective_`` equals the Lasso optimum ``lasso_objective_``. For
    ``depth=2`` the penalty is ordinary weight decay (:ref:`maths-objective`). See :mod:`convexnn.deep.oned`.

    :meth:`to_mlp` gives scikit-learn's ``MLPRegressor`` with the same weights and predictions;
    its ``alpha`` is ``alpha * n_samples`` but its penalty is weight decay (``ℓ2``): for
    ``depth > 2`` further training would minimise another objective than this model's
    ``ℓ_depth`` penalty.

    Parameters
    ----------
    depth : {2, 3, 4}, default=3
        Number of weight layers.
    alpha : float, default=1e-3
        Regularisation, Lasso convention (next to the mean loss).
    n_breakpoints : int or None, default=None
        ``None`` builds the paper's full dictionary on every distinct training input (exact; its
        size grows like ``n^(depth−1)``). An integer uses that many evenly spaced distinct inputs
        (by rank) as anchors when there are more: the optimum over networks whose paths are
        anchored there (an upper bound on the full problem's optimum).
    solver : {"auto", "lasso_ip", "lasso_cd"}, default="auto"
        ``"lasso_ip"`` (default): working-set interior point (Clarabel) with the certificate over
        the whole dictionary; ``"lasso_cd"``: scikit-learn's coordinate descent.
    tol : float, default=1e-8
        Target certified relative duality gap.
    max_iter : int, default=30
        Iteration budget of the solver (working-set rounds for ``"lasso_ip"``).
    verbose : bool, default=False
    max_memory : "auto", float or None, default="auto"
        Memory budget in bytes. The full dictionary has about ``2n`` features at depth 2, ``n²``
        at depth 3 and ``0.3–0.5 n³`` at depth 4 (``n`` distinct inputs, or ``n_breakpoints``):
        before building it, ``fit`` estimates the memory it needs and raises a
        :class:`MemoryError` that states the estimate when it exceeds the budget, instead of
        exhausting the machine (depth 4 on 400 inputs would need hundreds of GiB). ``"auto"``:
        90 % of the memory available; ``None``: no check.

    Attributes
    ----------
    coefs_, intercepts_ : list of ndarray
        The network in scikit-learn's layout (hidden-to-hidden matrices are diagonal).
    n_paths_ : int
        Non-zero Lasso coefficients, i.e. paths (the width of every hidden layer).
    n_dictionary_ : int
        Distinct dictionary features.
    objective_ : float
        ``J`` of the returned network.
    lasso_objective_ : float
        The Lasso objective at the solver's solution (equal to ``objective_``).
    gap_ : float
        Certified relative duality gap of the Lasso.
    solver_, status_ : str
    n_iter_ : int
        Iterations of the Lasso solver.
    fit_time_ : float
    """

    _parameter_constraints: dict = {
        "depth": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "n_breakpoints": [Interval(Integral, 2, None, closed="left"), None],
        "solver": [StrOptions({"auto", "lasso_ip", "lasso_cd"})],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
        "max_memory": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"}), None],
    }

    def __init__(
        self,
        depth=3,
        alpha=1e-3,
        *,
        n_breakpoints=None,
        solver="auto",
        tol=1e-8,
        max_iter=30,
        verbose=False,
        max_memory="auto",
    ):
        self.depth = depth
        self.alpha = alpha
        self.n_breakpoints = n_breakpoints
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.verbose = verbose
        self.max_memory = max_memory

    @validated_fit
    def fit(self, X, y):
        """Fit to one-dimensional inputs ``X`` (n_samples, 1) and targets ``y`` (n_samples,).

        Parameters
        ----------
        X : array-like of shape (n_samples, 1)
            Training inputs (one feature).
        y : array-like of shape (n_samples,)
            Training targets.

        Returns
        -------
        self
            The fitted estimator.
        """
        if self.depth not in DEPTHS:
            raise ValueError(
                f"depth must be one of {DEPTHS} for {type(self).__name__}; got {self.depth!r}"
            )
        X, y = self._check_X_y(X, y, y_numeric=True)
        if X.shape[1] != 1:
            raise ValueError(
                f"{type(self).__name__} takes one-dimensional inputs (n_samples, 1); "
                f"got X with {X.shape[1]} features"
            )
        self._y_was_1d = True
        return self._fit_lasso(X.astype(np.float64), encode_targets(y, "squared"))

    def _fit_lasso(self, X, Y):
        """The stages of a fit: build the dictionary's program, solve it, map its solution to
        the deep network, record the solve."""
        start = time.perf_counter()
        breakpoints = None
        points = np.unique(X[:, 0])
        if self.n_breakpoints is not None and points.shape[0] > self.n_breakpoints:
            ranks = np.round(np.linspace(0, points.shape[0] - 1, self.n_breakpoints)).astype(int)
            breakpoints = points[np.unique(ranks)]
        anchored = points.shape[0] if breakpoints is None else breakpoints.shape[0]
        check_memory(
            estimate_dictionary_memory(points.shape[0], anchored, self.depth),
            self.max_memory,
            f"{type(self).__name__}(depth={self.depth}): the dictionary on {points.shape[0]} "
            f"distinct inputs anchored at {anchored} of them",
            "Anchor the paths at fewer inputs (n_breakpoints, e.g. 100), or use a smaller "
            "depth. ",
        )
        program = DictionaryProgram(
            X, Y, self.depth, "squared", self.alpha, breakpoints=breakpoints
        )
        with warnings.catch_warnings():  # the fit warns once, with the gap (_record_solve)
            warnings.simplefilter("ignore", ConvergenceWarning)
            result = solve(
                program, self.solver, tol=self.tol, max_iter=self.max_iter,
                verbose=bool(self.verbose),
            )
        self.coefs_, self.intercepts_ = dictionary_to_network(program, result.solution)
        self.n_paths_ = self.coefs_[0].shape[1]
        self.n_dictionary_ = program.n_patterns
        self.exact_dictionary_ = breakpoints is None
        self.lasso_objective_ = program.objective(result.solution)
        self.objective_ = deep_objective(self.coefs_, self.intercepts_, X, Y, self.alpha)
        self._n_train = X.shape[0]
        self._record_solve(
            result.gap, result.status, result.solver, result.n_iter, result.gap_history, start,
            X=X, Y=Y,
        )  # fmt: skip
        return self
