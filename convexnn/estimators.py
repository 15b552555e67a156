"""scikit-learn estimators that train two-layer ReLU networks by convex optimisation.

The estimators only wire the stages together: sample patterns → build the convex program →
solve it → map the solution to network weights (:mod:`convexnn.network`).
"""

from __future__ import annotations

import time
import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._memory import check_program_memory, check_sampling_memory
from ._outputs import (
    ClassifierOutputsMixin,
    NetworkEstimator,
    RegressorOutputsMixin,
    validated_fit,
)
from .certificate import certify
from .distributed import default_hessian_rows, is_dask_array, require_dask, solve_chunked
from .generation import generate_patterns, has_all_patterns
from .losses import encode_targets
from .network import network_objective, network_to_solution, solution_to_network
from .patterns import SAMPLERS, gate_patterns, sample_patterns
from .patterns import mlp as mlp_sampler
from .patterns.mlp import hidden_gates
from .program import FORMULATIONS, ConvexProgram
from .shared import SharedNeuronProgram, mlp_directions
from .solvers import SOLVERS, solve, solves_program, takes
from .solvers.ipm import COUPLED_MAX_ROWS, newton_form, shared_newton_flops

__all__ = ["ConvexReLURegressor", "ConvexReLUClassifier"]

#: ``fit`` on a Dask array samples the gates on this many rows drawn at random (on every row when
#: there are fewer): a sampler sees the data's shape and scale, not every sample.
CHUNKED_SAMPLE_ROWS = 10_000

#: With ``sampler="exact"``, above this many patterns the exact ReLU program is solved by column
#: generation priced over every pattern (the same optimum, certified globally) instead of at once:
#: a direct interior-point solve of all 39,801 patterns of 200 points in the plane stalls in their
#: thin cones, while generation from 100 of them certifies the optimum in 5 rounds.
EXACT_DIRECT_MAX_PATTERNS = 2000


class _BaseConvexReLU(NetworkEstimator):
    """Shared fitting logic; see the public estimators for the parameters."""

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "n_gates": [Interval(Integral, 1, None, closed="left")],
        "formulation": [StrOptions(set(FORMULATIONS))],
        "sampler": [StrOptions(set(SAMPLERS) | {"mlp"})],
        "solver": [StrOptions({"auto"} | set(SOLVERS))],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "pattern_generation": ["boolean", StrOptions({"exact", "heuristic"})],
        "max_pattern_rounds": [Interval(Integral, 1, None, closed="left")],
        "mlp_max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "max_memory": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"}), None],
    }

    def __init__(
        self,
        alpha=1e-2,
        *,
        n_gates=100,
        formulation="relu",
        sampler="mlp",
        solver="auto",
        tol=1e-6,
        max_iter=None,
        pattern_generation=False,
        max_pattern_rounds=20,
        mlp_max_iter=None,
        random_state=None,
        verbose=False,
        warm_start=False,
        max_memory="auto",
    ):
        self.alpha = alpha
        self.n_gates = n_gates
        self.formulation = formulation
        self.sampler = sampler
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.pattern_generation = pattern_generation
        self.max_pattern_rounds = max_pattern_rounds
        self.mlp_max_iter = mlp_max_iter
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.max_memory = max_memory

    def _fit_program(self, X, Y, loss, callback=None):
        """The stages of a fit: check the options, choose the patterns, solve the program, map
        its solution to the network, record the solve."""
        start = time.perf_counter()
        self._check_fit_options(callback)
        patterns, directions, init, search, mlp = self._patterns_for(X, Y, loss)
        if search:
            program, result = self._generate(X, Y, loss, patterns, callback, search)
        else:
            if directions is not None:
                program = SharedNeuronProgram(X, Y, patterns, directions, loss, self.alpha)
            else:
                program = ConvexProgram(X, Y, patterns, loss, self.alpha, self.formulation)
            # the MLP that gave the patterns is a feasible point of the exact ReLU program: the
            # fit never ends worse (the gated program's first-order solvers descend from zero)
            incumbent = None if mlp is None or self.formulation != "relu" else (
                network_to_solution(program, mlp.coefs_, mlp.intercepts_)
            )  # fmt: skip
            result = self._solve(program, init, callback, incumbent)
            self.n_generation_rounds_, self.generation_converged_ = 0, False
        self._set_network(program, result, X, Y, loss)
        self._record_solve(
            result.gap, result.status, result.solver, result.n_iter, result.gap_history, start,
            X=X, Y=Y if loss == "squared" else None,
        )  # fmt: skip
        if self.n_neurons_ == 0 and self.alpha > 0:
            _warn_constant(type(self).__name__, self.alpha, program)
        if self.verbose:
            print(
                f"[convexnn] {result.solver}: status {result.status}, gap {result.gap:.2e}, "
                f"objective {self.objective_:.6g}, {self.n_neurons_} neurons of "
                f"{program.n_patterns} patterns, {self.fit_time_:.2f}s"
            )
        return self

    def _fit_chunked(self, X, y, callback):
        """``fit`` on a Dask array (:mod:`convexnn.distributed`): gates sampled on a row sample,
        the gated program solved chunk by chunk where the chunks live, the same fitted
        attributes as in memory."""
        start = time.perf_counter()
        name = type(self).__name__
        refused = {
            "formulation='relu'": self.formulation != "gated",
            "callback": callback is not None,
            "warm_start=True": self.warm_start,
            "pattern_generation": bool(self.pattern_generation),
            f"solver={self.solver!r}": self.solver != "auto",
            "alpha=0": self.alpha == 0,
        }
        refused = [option for option, applies in refused.items() if applies]
        if refused:
            raise ValueError(
                f"{name}.fit on a Dask array solves the gated program (formulation='gated') "
                f"with solver='auto', alpha > 0 and none of warm_start, pattern_generation or a "
                f"callback; got {', '.join(refused)}. The exact ReLU program's cone constraints "
                "hold on every sample and are not solved chunk by chunk."
            )
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-D Dask array; got shape {X.shape}")
        n, d = (int(v) for v in X.shape)
        if n < 2:
            raise ValueError(f"{name} needs at least 2 samples; got {n}")
        dask = require_dask()
        import dask.array as da

        if not is_dask_array(y):

            y = np.asarray(y)
            if y.shape[0] != n:
                raise ValueError(f"X and y have different numbers of samples: {n}, {y.shape[0]}")
            y = da.from_array(y, chunks=(X.chunks[0],) + y.shape[1:])
        Y, loss = self._chunked_targets(y, n)
        # computed once, kept where the chunks are: the row sample and every pass read them
        X, Y = dask.persist(X.rechunk({1: -1}), Y.rechunk((X.chunks[0],)))
        self.n_features_in_ = d
        # the gates are sampled on a row sample (every row when there are few)
        rng = check_random_state(self.random_state)
        rows = np.arange(n) if n <= CHUNKED_SAMPLE_ROWS else np.sort(
            rng.choice(n, CHUNKED_SAMPLE_ROWS, replace=False)
        )  # fmt: skip
        X_sample = np.asarray(X[rows].compute(), dtype=np.float64)
        Y_sample = np.asarray(Y[rows].compute(), dtype=np.float64).reshape(-1, 1)
        if not (np.all(np.isfinite(X_sample)) and np.all(np.isfinite(Y_sample))):
            raise ValueError("X or y contains NaN or infinity")
        patterns = self._sample(X_sample, Y_sample, loss)[0]  # one output: no directions
        result = solve_chunked(
            X, Y, patterns.gates, loss, self.alpha, tol=self.tol,
            hessian_rows=default_hessian_rows(n, d, patterns.n_patterns),
            max_iter=50 if self.max_iter is None else self.max_iter,
            random_state=0 if self.random_state is None else rng.randint(2**31 - 1),
            verbose=bool(self.verbose),
        )  # fmt: skip
        if not np.isfinite(result.objective):
            raise ValueError("the objective is not finite: X or y contains NaN or infinity")
        sample_program = ConvexProgram(X_sample, Y_sample, patterns, loss, self.alpha, "gated")
        self._patterns, self._solution = patterns, result.solution
        self.coefs_, self.intercepts_, self.gates_ = solution_to_network(
            sample_program, result.solution
        )
        self.loss_, self._n_train = loss, n
        self.n_patterns_, self.n_neurons_ = patterns.n_patterns, self.coefs_[0].shape[1]
        # the mapped gated network's objective is the convex objective, term by term
        self.objective_ = self.convex_objective_ = result.objective
        self.constraint_violation_ = 0.0
        self.n_generation_rounds_, self.generation_converged_ = 0, False
        self._record_solve(
            result.gap, result.status, result.solver, result.n_iter, result.gap_history, start
        )
        return self

    def _check_fit_options(self, callback):
        """Refuse what the fit cannot honour; warn about ``alpha=0``."""
        name = type(self).__name__
        if callback is not None and not callable(callback):
            raise TypeError(
                f"{name}.fit: callback must be callable as callback(program, solution), "
                f"got {type(callback).__name__}"
            )
        if self.alpha == 0:
            warnings.warn(
                f"{name} with alpha=0 solves the unregularised program: the network can "
                "interpolate the training data, a classifier of separable data has no minimiser "
                "(its weights grow until the solver stops), and the relative duality gap certifies "
                "only a zero loss. Use a small positive alpha for a regularised, certified fit.",
                UserWarning,
                stacklevel=5,
            )
        if self.warm_start and not takes(self.solver, "init"):
            raise ValueError(
                f"{name}: warm_start=True needs a solver that starts from a given point; "
                f"solver={self.solver!r} does not (use 'auto', or one of "
                f"{sorted(s for s in SOLVERS if takes(s, 'init'))})"
            )

    def _patterns_for(self, X, Y, loss):
        """``(patterns, directions, init, search, mlp)``: the previous fit's patterns and point
        under ``warm_start``, else freshly sampled ones; ``directions`` the output directions of
        shared neurons (None for the per-output program); ``search`` the pattern generation to
        run (False for a direct solve); ``mlp`` the MLP whose patterns these are (None for the
        other samplers)."""
        init, directions, mlp = self._warm_start_point(X, Y), None, None
        if init is not None:
            patterns, init = init
        else:
            draws = mlp_sampler.mlp_count(X, loss) if self.sampler == "mlp" else 1
            check_sampling_memory(X, self.n_gates, self.max_memory, type(self).__name__, draws)
            patterns, directions, mlp = self._sample(X, Y, loss)
        search = self.pattern_generation
        if (
            not search and init is None and self.sampler == "exact"
            and self.formulation == "relu" and patterns.n_patterns > EXACT_DIRECT_MAX_PATTERNS
        ):
            # every pattern at once makes a program of thousands of mostly thin cones; column
            # generation from a few of them, priced over all of them, reaches the same optimum
            rng = check_random_state(self.random_state)
            keep = rng.choice(patterns.n_patterns, min(self.n_gates, patterns.n_patterns), False)
            patterns, search = patterns.subset(np.sort(keep)), "exact"
        return patterns, directions, init, search, mlp

    def _shares_neurons(self, Y):
        """Whether the fit solves the shared-neuron program (:mod:`convexnn.shared`): several
        outputs, exact ReLU, the MLP's patterns and their output directions, no pattern
        generation, and a solver that takes the program."""
        return (
            Y.shape[1] > 1 and self.formulation == "relu" and self.sampler == "mlp"
            and not self.pattern_generation and solves_program(self.solver, SharedNeuronProgram)
        )

    def _solve(self, program, init, callback, incumbent=None):
        """Solve ``program`` once (memory checked first), its solvers' own warnings silenced:
        the fit warns once, with the gap reached; never a point worse than ``incumbent``."""
        name = type(self).__name__
        # (the solver "auto" runs: where memory rules out the interior point, it is not slow)
        _warn_if_slow(program, check_program_memory(program, self.solver, self.max_memory, name),
                      name)
        budget = {} if self.max_iter is None else {"max_iter": self.max_iter}
        if callback is not None:
            budget["callback"] = partial(callback, program)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return solve(
                program, self.solver, tol=self.tol, verbose=bool(self.verbose), init=init,
                incumbent=incumbent, max_memory=self.max_memory, **budget,
            )

    def _set_network(self, program, result, X, Y, loss):
        """The network of ``result`` and what describes it (``coefs_``, ``objective_``, ...)."""
        self._patterns, self._solution = program.patterns, result.solution
        # the output directions of a shared-neuron program (None: one output per neuron)
        self._directions = getattr(program, "directions", None)
        coefs, intercepts, gates = solution_to_network(program, result.solution)
        self.coefs_, self.intercepts_ = coefs, intercepts
        if gates is not None:
            self.gates_ = gates
        elif hasattr(self, "gates_"):
            del self.gates_
        self.loss_ = loss
        self._n_train = X.shape[0]
        self.n_patterns_ = program.n_patterns
        self.n_neurons_ = coefs[0].shape[1]
        self.objective_ = network_objective(coefs, intercepts, X, Y, self.alpha, loss, gates)
        self.convex_objective_ = program.objective(result.solution)
        self.constraint_violation_ = result.violation

    def _sample(self, X, Y, loss):
        """``(patterns, directions, mlp)``: the sampler's patterns, with the output directions
        of the MLP's neurons where the fit shares them (:meth:`_shares_neurons`; None otherwise),
        and the MLP they come from, the better of the two where the regressor trains two
        (:func:`~convexnn.patterns.mlp.sampler_mlps`; None for the other samplers)."""
        if self.sampler == "mlp":
            directions = None
            shared = self._shares_neurons(Y)
            if not shared:
                X = np.asarray(X, dtype=np.float64)  # as mlp_patterns trains it
            # one MLP, or two on features far from the origin (centred, and on X itself)
            mlps = mlp_sampler.sampler_mlps(X, Y, loss, self.alpha, self.n_gates,
                                            self.random_state, max_iter=self._mlp_budget())
            gates = hidden_gates(*mlps)
            if shared:
                patterns, directions = mlp_directions(X, *mlps)
                if patterns.n_patterns == 0:  # no neuron feeds an output: one output per neuron
                    patterns, directions = gate_patterns(X, gates), None
            else:
                patterns = gate_patterns(X, gates)
            if patterns.n_patterns > 0:
                # the better MLP is the fit's incumbent
                mlp = mlps[0] if len(mlps) == 1 else min(mlps, key=lambda m: network_objective(
                    m.coefs_, m.intercepts_, X, Y, self.alpha, loss))
                return patterns, directions, mlp
            # every hidden neuron of the MLPs died (alpha near alpha_max): random patterns instead
        sampler = "gaussian" if self.sampler == "mlp" else self.sampler
        return sample_patterns(X, self.n_gates, sampler, self.random_state), None, None

    _MLP_MAX_ITER = 200  # mlp_max_iter=None (each estimator states its own)

    def _mlp_budget(self):
        """The L-BFGS iterations of the MLP that ``sampler="mlp"`` trains."""
        return self._MLP_MAX_ITER if self.mlp_max_iter is None else self.mlp_max_iter

    def _warm_start_point(self, X, Y):
        """The previous patterns and solution, when ``warm_start`` applies to this data."""
        if not (self.warm_start and hasattr(self, "_solution")):
            return None
        previous = self._solution
        gated = previous.V is None
        if (
            gated != (self.formulation == "gated")
            or self._patterns.masks.shape[0] != X.shape[0]
            or previous.U.shape[:2] != (Y.shape[1], X.shape[1] + 1)
        ):
            return None
        return self._patterns, previous

    def _generate(self, X, Y, loss, patterns, callback, search):
        """Pattern generation (:func:`convexnn.generation.generate_patterns`) from ``patterns``."""
        if self.formulation != "relu":
            raise ValueError("pattern_generation needs formulation='relu'")
        if search is True:
            search = "exact" if has_all_patterns(X) else "heuristic"
        generated = generate_patterns(
            X, Y, loss, self.alpha, patterns, search=search, solver=self.solver, tol=self.tol,
            max_iter=self.max_iter, max_rounds=self.max_pattern_rounds,
            random_state=self.random_state, verbose=bool(self.verbose), callback=callback,
            max_memory=self.max_memory,
        )  # fmt: skip
        self.n_generation_rounds_ = generated.n_rounds
        self.generation_converged_ = generated.converged
        return generated.program, generated.result

    def _certify(self, X, Y, **kwargs):
        check_is_fitted(self, "coefs_")
        if self.formulation != "relu":
            raise ValueError(
                "certify() needs formulation='relu': the certificate is for ReLU networks, "
                "not gated ones"
            )
        return certify(self.coefs_, self.intercepts_, X, Y, self.alpha, self.loss_, **kwargs)

    def _check_exportable(self):
        if self.formulation != "relu":
            raise ValueError(
                "to_mlp() needs formulation='relu': a gated network has no scikit-learn equivalent"
            )


class ConvexReLURegressor(RegressorOutputsMixin, RegressorMixin, _BaseConvexReLU):
    """Two-layer ReLU network regressor trained by convex optimisation.

    Minimises ``(1/n) Σ ½‖f(x_i) − y_i‖² + (alpha/2) Σ_j (‖w_j‖² + ‖a_j‖²)`` over networks
    ``f(x) = Σ_j a_j (w_jᵀx + b_j)_+ + c`` by solving the equivalent convex program on sampled
    activation patterns (:ref:`maths-programs`). scikit-learn's ``MLPRegressor(alpha=alpha * n_samples)`` trained
    full-batch minimises the same objective.

    Parameters
    ----------
    alpha : float, default=1e-2
        Weight decay in the Lasso convention (next to the mean loss). Not scale invariant:
        standardise the features (and, for regression, the targets).
    n_gates : int, default=100
        Gates drawn by the sampler; duplicate patterns are dropped.
    formulation : {"relu", "gated"}, default="relu"
        ``"relu"``: the exact ReLU program with cone constraints (a ReLU network);
        ``"gated"``: the unconstrained gated-ReLU program (a gated network, ``gates_``).
    sampler : {"mlp", "gaussian", "data", "exact"}, default="mlp"
        How activation patterns are drawn (:mod:`convexnn.patterns`).

        - ``"mlp"``: the patterns of the ``n_gates`` hidden neurons of scikit-learn's MLP trained
          by L-BFGS on the same objective, for at most ``mlp_max_iter`` iterations
          (:func:`convexnn.patterns.mlp_patterns`). The network is then never worse on the
          objective than ``MLPRegressor``/``MLPClassifier(hidden_layer_sizes=(n_gates,),
          solver="lbfgs", alpha=alpha * n_samples, max_iter=budget,
          random_state=random_state)``, ``budget`` that of ``mlp_max_iter``: that MLP is a
          feasible point of the program, and an exact ReLU fit stopped short of ``tol`` at a worse
          point returns the MLP's network instead. Where the features' mean lies farther from
          the origin than their spread, the MLP is trained on the centred features (the same
          objective; far from the origin its initial hyperplanes miss the data; the regressor
          then adds the patterns of the MLP on the features themselves), regression
          targets more than ten times their spread from the origin likewise (its outputs start
          near zero), targets of spread below 0.5 are scaled to unit spread (its stopping
          tolerance is absolute), and the promise is to that MLP (the regressor's: to both).
          With several outputs (multi-output regression, more than two classes) and ``solver``
          ``"auto"``, ``"ipm"`` or ``"cvxpy"``, the program is the shared-neuron one
          (:mod:`convexnn.shared`): each neuron feeds every output along the direction of the
          MLP neuron it comes from; otherwise each neuron feeds one output, and the network may
          end above the MLP. If all the MLP's neurons are inactive (``alpha`` near
          ``alpha_max``) Gaussian patterns are drawn instead.
        - ``"gaussian"``: ``n_gates`` random gates (cheapest; patterns far from the optimum's in
          more than a few dimensions).
        - ``"data"``: hyperplanes through sampled data points.
        - ``"exact"``: every pattern (the fit is then the certified global optimum of the
          non-convex training problem); ``n_gates`` is ignored, except above
          ``EXACT_DIRECT_MAX_PATTERNS`` patterns, where it solves by column generation from
          ``n_gates`` of them, priced over all of them (``n_patterns_`` counts those it kept).
    solver : str, default="auto"
        A solver of :data:`convexnn.solvers.SOLVERS` (``"fista"``, ``"kernel_newton"``,
        ``"ipm"``, ``"bcd"``, ``"al"``, ``"cvxpy"``), or ``"auto"``, which picks one for the
        program (:func:`convexnn.solvers.resolve_solver`) and falls back to another when its answer
        fails the checks of :func:`convexnn.solvers.solve`. ``"cvxpy"`` solves with Clarabel (SCS
        as the fallback).
    tol : float, default=1e-6
        Target relative duality gap.
    max_iter : int or None, default=None
        Iteration budget of the solver, in its own iterations (outer iterations for ``"al"`` and
        ``"bcd"``); None: the solver's default.
    random_state : int, RandomState instance or None, default=None
        Seeds the pattern sampler (for ``"mlp"``: the MLP's initialisation).
    pattern_generation : bool or {"exact", "heuristic"}, default=False
        Grow the pattern set by the patterns whose dual constraint is violated, re-solving
        warm-started until none is (``formulation="relu"`` only; :mod:`convexnn.generation`).
        ``"exact"`` searches every pattern (small rank: the result is the certified global optimum
        of the non-convex training problem); ``"heuristic"`` searches by alternating ascent;
        ``True`` picks ``"exact"`` when the patterns can be enumerated.
    max_pattern_rounds : int, default=20
        Most solves of the pattern generation.
    mlp_max_iter : int or None, default=None
        Most L-BFGS iterations of the MLP that ``sampler="mlp"`` trains; None: 200,
        scikit-learn's default budget. More give better patterns (in the full-size regression
        runs, 500 put the network at or below a 500-iteration L-BFGS MLP on all 30 problems of the
        UCI sets and the S&P 500, 200 on 12), at the cost of a longer MLP fit, but on
        naval-propulsion-plant the interior point then stalled short of ``tol`` at alpha 1e-3 and
        1e-2 (``docs/benchmarks.md``).
    verbose : bool, default=False
        Print a line on the fit's result (solver, status, gap, objective, neurons, time), and
        let the solver print its progress.
    warm_start : bool, default=False
        Reuse the previous fit's patterns, and its solution as the starting point where the
        solver takes one (same data shape and formulation), e.g. to refit along a sequence of
        ``alpha``. The interior point that ``"auto"`` picks for the exact ReLU program starts
        from its own point, so there only the patterns are reused.
    max_memory : "auto", float or None, default="auto"
        Memory budget in bytes. Before sampling and again before building the convex program,
        ``fit`` estimates the memory the step needs and raises a :class:`MemoryError` that states
        the estimate when it exceeds the budget, instead of exhausting the machine. ``"auto"``: 90 %
        of the memory available; ``None``: no check. With ``solver="auto"`` a Newton solver whose
        estimate exceeds the budget is replaced by the matrix-free one first, with a warning
        (with ``None``, the solver is chosen by size alone).

    Attributes
    ----------
    coefs_, intercepts_ : list of ndarray
        Network weights in scikit-learn's layout: ``[W1 (d × m), W2 (m × k)]``, ``[b1, b2]``.
    gates_ : ndarray of shape (n_features + 1, m)
        Gates of the neurons (``formulation="gated"`` only), in the input space.
    objective_ : float
        The training objective ``J`` of the returned network (:ref:`maths-objective`).
    convex_objective_ : float
        The convex program's objective at the solver's solution (equal to ``objective_``).
    gap_ : float
        Certified relative duality gap of the convex program at the solution.
    gap_history_ : list of float
    constraint_violation_ : float
    n_neurons_, n_patterns_, n_iter_ : int
    solver_, status_ : str
    fit_time_ : float
    n_generation_rounds_ : int
        Solves made by the pattern generation (0 without it).
    generation_converged_ : bool
        Whether the pattern generation ended with no violated pattern.
    """

    _MLP_MAX_ITER = 200  # mlp_max_iter=None

    @validated_fit
    def fit(self, X, y, callback=None):
        """Fit the network to ``X`` (n_samples, n_features) and ``y`` (n_samples,) or (n_samples, k).

        ``callback(program, solution)``, if given, is called by the solver along the way (see
        :ref:`the callback <fit-callback>`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Training targets.
        callback : callable, optional
            ``callback(program, solution)``: the :class:`~convexnn.program.ConvexProgram` being
            solved and the solver's current :class:`~convexnn.program.ConvexSolution`.

        Returns
        -------
        self
            The fitted estimator.
        """
        if is_dask_array(X):
            return self._fit_chunked(X, y, callback)
        X, y = self._check_X_y(X, y, multi_output=True, y_numeric=True)
        self._y_was_1d = y.ndim == 1
        return self._fit_program(X, encode_targets(y, "squared"), "squared", callback)

    def _chunked_targets(self, y, n):
        """The targets of a Dask fit and their loss: one output, squared loss."""
        if y.ndim != 1 and not (y.ndim == 2 and y.shape[1] == 1):
            raise ValueError(
                f"{type(self).__name__}.fit on a Dask array takes one output; got y of shape "
                f"{y.shape}"
            )
        if int(y.shape[0]) != n:
            raise ValueError(f"X and y have different numbers of samples: {n}, {y.shape[0]}")
        self._y_was_1d = True
        return y.reshape(-1).astype(np.float64), "squared"

    def certify(self, X, y, **kwargs):
        """Certificate of global optimality of the fitted network on ``(X, y)``.

        See :func:`convexnn.certify` (keyword arguments are passed on); ``X, y`` should be the
        training data. Multi-output networks are certified for the class of networks whose
        neurons each feed one output (the structure the convex program returns).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The training targets.
        **kwargs
            Keyword arguments of :func:`convexnn.certify` (``patterns``, ``max_patterns``,
            ``structure``, ``n_starts``, ``random_state``).

        Returns
        -------
        Certificate
        """
        X, y = self._check_X_y(X, y, multi_output=True, y_numeric=True, reset=False)
        return self._certify(X, encode_targets(y, "squared"), **kwargs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class ConvexReLUClassifier(ClassifierOutputsMixin, ClassifierMixin, _BaseConvexReLU):
    """Two-layer ReLU network classifier trained by convex optimisation.

    Binary problems use one output with the logistic loss, multiclass problems one output per
    class with the softmax loss — the objective of scikit-learn's ``MLPClassifier`` with
    ``alpha_sklearn = alpha * n_samples``, trained full-batch. Parameters and attributes are those of
    :class:`ConvexReLURegressor`; in addition ``classes_`` holds the labels.

    Parameters
    ----------
    alpha : float, default=1e-2
        Weight decay in the Lasso convention (next to the mean loss); standardise the features.
    n_gates : int, default=100
        Gates drawn by the sampler; duplicate patterns are dropped.
    formulation : {"relu", "gated"}, default="relu"
        ``"relu"``: the exact ReLU program (a ReLU network); ``"gated"``: the gated-ReLU program
        (a gated network, ``gates_``).
    sampler : {"mlp", "gaussian", "data", "exact"}, default="mlp"
        How activation patterns are drawn; see :class:`ConvexReLURegressor` (with ``"mlp"`` the
        MLP is an ``MLPClassifier`` trained on the same objective).
    solver : str, default="auto"
        ``"auto"`` or a name of :data:`convexnn.solvers.SOLVERS`; ``"cvxpy"`` solves with
        Clarabel (SCS as the fallback).
    tol : float, default=1e-6
        Target relative duality gap.
    max_iter : int or None, default=None
        Iteration budget of the solver, in its own iterations; None: the solver's default.
    pattern_generation : bool or {"exact", "heuristic"}, default=False
        Grow the pattern set by violated patterns, re-solving until none is
        (``formulation="relu"`` only); see :class:`ConvexReLURegressor`.
    max_pattern_rounds : int, default=20
        Most solves of the pattern generation.
    mlp_max_iter : int or None, default=None
        Most L-BFGS iterations of the MLP that ``sampler="mlp"`` trains; None: 500. With
        scikit-learn's default budget of 200 the network ended above a 500-iteration L-BFGS MLP
        on 27 of the 354 problems of the UCI profile, all but one at alpha ≤ 6.3e-5
        (``docs/benchmarks.md``).
    random_state : int, RandomState instance or None, default=None
        Seeds the pattern sampler (for ``"mlp"``: the MLP's initialisation).
    verbose : bool, default=False
        Print a line on the fit's result, and let the solver print its progress.
    warm_start : bool, default=False
        Reuse the previous fit's patterns, and its solution as the starting point where the
        solver takes one (same data shape and formulation; see :class:`ConvexReLURegressor`).
    max_memory : "auto", float or None, default="auto"
        Memory budget in bytes, checked before sampling and before building the program
        (``MemoryError`` when exceeded); ``"auto"``: 90 % of the memory available; ``None``: no
        check. ``solver="auto"`` replaces a Newton solver that would not fit the budget by the
        matrix-free one first, with a warning (with ``None``, the solver is chosen by size
        alone).
    """

    _MLP_MAX_ITER = 500  # mlp_max_iter=None

    @validated_fit
    def fit(self, X, y, callback=None):
        """Fit the network to ``X`` (n_samples, n_features) and labels ``y`` (any label type).

        ``callback(program, solution)``, if given, is called by the solver along the way (see
        :ref:`the callback <fit-callback>`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,)
            Class labels; two classes use the logistic loss, more the softmax loss.
        callback : callable, optional
            ``callback(program, solution)``: the :class:`~convexnn.program.ConvexProgram` being
            solved and the solver's current :class:`~convexnn.program.ConvexSolution`.

        Returns
        -------
        self
            The fitted estimator.
        """
        if is_dask_array(X):
            return self._fit_chunked(X, y, callback)
        X, y = self._check_X_y(X, y)
        return self._fit_program(X, *self._encode_labels(y), callback)

    def _chunked_targets(self, y, n):
        """The 0/1 targets of a binary Dask fit and their loss (the classes are found in one
        pass over ``y``)."""
        if y.ndim != 1:
            raise ValueError(f"y must be a 1-D Dask array of labels; got shape {y.shape}")
        if int(y.shape[0]) != n:
            raise ValueError(f"X and y have different numbers of samples: {n}, {y.shape[0]}")
        import dask.array as da

        self.classes_ = np.asarray(da.unique(y).compute())
        if self.classes_.shape[0] != 2:
            raise ValueError(
                f"{type(self).__name__}.fit on a Dask array takes two classes (the logistic "
                f"loss); got {self.classes_.shape[0]}. The softmax loss is not solved chunk by "
                "chunk."
            )
        return (y == self.classes_[1]).astype(np.float64), "logistic"

    def certify(self, X, y, **kwargs):
        """Certificate of global optimality of the fitted network on ``(X, y)``.

        See :func:`convexnn.certify` (keyword arguments are passed on); ``X, y`` should be the
        training data, ``y`` labels from ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training inputs.
        y : array-like of shape (n_samples,)
            The training labels (labels not in ``classes_`` raise ``ValueError``).
        **kwargs
            Keyword arguments of :func:`convexnn.certify` (``patterns``, ``max_patterns``,
            ``structure``, ``n_starts``, ``random_state``).

        Returns
        -------
        Certificate
        """
        check_is_fitted(self, "classes_")
        X, y = self._check_X_y(X, y, reset=False)
        codes = np.searchsorted(self.classes_, y)
        if np.any(codes >= self.classes_.shape[0]) or np.any(self.classes_[codes] != y):
            raise ValueError("y contains labels not seen in fit")
        return self._certify(X, encode_targets(codes, self.loss_, self.classes_.shape[0]), **kwargs)


#: Flops a Newton iteration of the shared program may cost before the fit warns that it takes
#: tens of minutes: a standardised ``make_classification(3000, 200, n_informative=10,
#: n_classes=5)`` (1.3e12 flops in the Woodbury form) took 22 minutes, 20 Newton iterations, on
#: one core; 1,500 of those samples (1.9e11) 5 minutes.
SLOW_NEWTON_FLOPS = 1e12


def _warn_constant(name, alpha, program):
    """Warn that the fit is the zero network: its model predicts one constant for every input.
    A certified optimum, and a legitimate one, but rarely what the caller meant: ``alpha`` at or
    above the program's ``alpha_max`` (features of a small scale make it small, weight decay
    not being scale invariant). Silent where ``alpha_max`` is 0 (a constant target, or no
    feature that varies): no ``alpha`` gives neurons there."""
    amax = program.alpha_max()
    if not 0 < amax <= alpha * (1 + 1e-9):
        # alpha_max 0: a constant fits the targets exactly, or no feature varies (no surprise);
        # alpha below it: a solve that stopped at the zero network, which its
        # ConvergenceWarning reports
        return
    warnings.warn(
        f"{name}: the fitted network has no neurons (alpha={alpha:.3g} is at or above "
        f"alpha_max={amax:.3g} for these patterns): it predicts one constant for every input. "
        "Decrease alpha, or standardise the features (sklearn.preprocessing.StandardScaler): "
        "weight decay is not scale invariant.",
        UserWarning,
        stacklevel=5,
    )


def _warn_if_slow(program, solver, name):
    """Say up front when the exact ReLU softmax program is too large for one factorisation: its
    Newton systems are then solved by conjugate gradients, minutes to tens of minutes; or when
    the shared program's Newton iterations cost more than ``SLOW_NEWTON_FLOPS`` each."""
    n, d, P, K = program.n_samples, program.n_features, program.n_patterns, program.n_outputs
    rows = n * K
    shared = isinstance(program, SharedNeuronProgram) and solver in ("auto", "ipm")
    flops = shared_newton_flops(n, d, P, K) if shared else None
    if shared and flops >= SLOW_NEWTON_FLOPS:
        warnings.warn(
            f"{name}: the exact ReLU program with {K} classes on {n} samples of {d} features "
            f"costs about {flops:.1e} flops a Newton iteration: the "
            "interior point takes tens of minutes (make_classification(3000, 200, n_classes=5): "
            "22 minutes on one core). formulation='gated' certified that problem in 47 s.",
            UserWarning, stacklevel=4,
        )
    if (
        isinstance(program, ConvexProgram) and solver in ("auto", "ipm")
        and program.formulation == "relu" and program.loss == "softmax"
        and newton_form(n, d, P, K) == "cg"
    ):
        warnings.warn(
            f"{name}: the exact ReLU program with {program.n_outputs} classes on "
            f"{program.n_samples} samples couples {rows} rows (more than the {COUPLED_MAX_ROWS} "
            "factored at once): the interior point solves it by conjugate gradients, which takes "
            "minutes to tens of minutes (scikit-learn's digits, 1,797 samples and 10 classes: over "
            "20 minutes). formulation='gated' certifies such problems in about a minute.",
            UserWarning, stacklevel=4,
        )
