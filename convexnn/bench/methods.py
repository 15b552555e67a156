"""Training methods compared by the benchmark, all scored by the objective of record ``J``.

Each runner fits one method on one :class:`~convexnn.bench.datasets.Dataset` at one ``alpha`` and
returns a record (a plain ``dict``). ``J`` is always :func:`convexnn.network_objective` of the
returned network on the training split (:ref:`maths-objective`), whatever trained it. scikit-learn's MLPs get
the matched regularisation: ``alpha_sklearn = alpha * batch_size`` for mini-batch SGD/Adam,
``alpha * n`` for full-batch L-BFGS.
"""

from __future__ import annotations

import importlib.util
import math
import time
import warnings
from dataclasses import replace

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelEncoder

from ..estimators import ConvexReLUClassifier, ConvexReLURegressor
from ..network import network_objective, solution_to_network

__all__ = ["METHODS", "DEFAULT_LEARNING_RATES", "MethodConfig", "run_method"]

# the step sizes of Mishkin, Sahiner & Pilanci (:ref:`benchmarks-protocol`)
DEFAULT_LEARNING_RATES = (10.0, 5.0, 1.0, 0.5, 0.1, 0.01, 0.001)


class MethodConfig:
    """Settings shared by all runs of a benchmark (see ``convexnn bench --help``).

    Parameters
    ----------
    n_gates : int
        Gates sampled by the convex methods.
    solver : str
        Convex solver name (``"auto"`` picks the fastest available for the formulation).
    tol, max_iter : float, int
        Convex solver's target relative duality gap and iteration budget.
    convex_options : dict
        Further keyword arguments for the convex estimators (``set_params``).
    hidden : int
        Width of scikit-learn's MLPs.
    epochs : int
        Epochs of SGD/Adam per learning rate.
    learning_rates : sequence of float
        SGD/Adam step sizes swept; the best by training objective is reported.
    batch_fraction : float
        Mini-batch size as a fraction of the training set (10 % in :ref:`benchmarks-protocol`).
    lbfgs_max_iter : int
        Iteration budget (``max_iter``) of the MLP trained by L-BFGS.
    seed : int
        ``random_state`` of every method: the convex estimators' pattern sampler and the MLPs'
        initialisation and shuffling.
    """

    def __init__(
        self,
        n_gates=100,
        solver="auto",
        tol=1e-6,
        max_iter=1000,
        convex_options=None,
        hidden=100,
        epochs=100,
        learning_rates=DEFAULT_LEARNING_RATES,
        batch_fraction=0.1,
        lbfgs_max_iter=500,
        seed=0,
    ):
        self.n_gates = n_gates
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.convex_options = dict(convex_options or {})
        self.hidden = hidden
        self.epochs = epochs
        self.learning_rates = tuple(learning_rates)
        self.batch_fraction = batch_fraction
        self.lbfgs_max_iter = lbfgs_max_iter
        self.seed = seed

    def as_dict(self):
        return dict(vars(self))


def _targets(dataset):
    """Loss name and the encoded training targets ``network_objective`` expects."""
    if dataset.task == "regression":
        return "squared", dataset.y_train
    codes = LabelEncoder().fit_transform(dataset.y_train)
    return ("logistic" if codes.max() == 1 else "softmax"), codes


def _metrics(dataset, predict):
    """Train and test metric (accuracy, or R² and RMSE in the original units)."""
    out = {}
    if dataset.task == "classification":
        out["train_metric"] = float(accuracy_score(dataset.y_train, predict(dataset.X_train)))
        out["test_metric"] = float(accuracy_score(dataset.y_test, predict(dataset.X_test)))
        out["metric"] = "accuracy"
        return out
    p_train, p_test = np.ravel(predict(dataset.X_train)), np.ravel(predict(dataset.X_test))
    out["train_metric"] = float(r2_score(dataset.y_train, p_train))
    out["test_metric"] = (
        float(r2_score(dataset.y_test, p_test)) if len(dataset.y_test) > 1 else math.nan
    )
    out["metric"] = "r2"
    out["test_rmse"] = float(np.sqrt(np.mean((p_test - dataset.y_test) ** 2)) * dataset.y_scale)
    return out


def _objective(coefs, intercepts, dataset, alpha, gates=None):
    loss, codes = _targets(dataset)
    with np.errstate(all="ignore"):
        value = network_objective(coefs, intercepts, dataset.X_train, codes, alpha, loss, gates)
    return float(value) if np.isfinite(value) else math.inf


def _record(dataset, method, alpha, **fields):
    base = {
        "dataset": dataset.name,
        "split": dataset.split,
        "task": dataset.task,
        "n_train": dataset.n_train,
        "n_test": int(dataset.X_test.shape[0]),
        "n_features": dataset.n_features,
        "alpha": float(alpha),
        "method": method,
        "objective": math.inf,
        "train_metric": math.nan,
        "test_metric": math.nan,
        "metric": "accuracy" if dataset.task == "classification" else "r2",
        "test_rmse": math.nan,
        "time": math.nan,
        "time_sweep": math.nan,
        "neurons": 0,
        "gap": math.nan,
        "lr": math.nan,
        "status": "ok",
        "trajectory": [],
        "notes": "; ".join(dataset.notes),
    }
    base.update(fields)
    return base


def run_convex(dataset, alpha, config, formulation):
    """A convex estimator (``formulation`` "gated" or "relu").

    The trajectory holds the objective ``J`` of the network of every iterate the solver reports
    (``fit``'s callback; CVXPY reports none), best so far, against the fit's time without the
    time spent scoring iterates — the rules of the SGD/Adam trajectories — and ends at the fitted
    network.
    """
    estimator = ConvexReLUClassifier if dataset.task == "classification" else ConvexReLURegressor
    model = estimator(
        alpha=alpha,
        n_gates=config.n_gates,
        formulation=formulation,
        solver=config.solver,
        tol=config.tol,
        max_iter=config.max_iter,
        random_state=config.seed,
    )
    model.set_params(**config.convex_options)
    trajectory, scoring = [], 0.0

    def record(program, solution):
        nonlocal scoring
        now = time.perf_counter()
        coefs, intercepts, gates = solution_to_network(program, solution)
        J = _objective(coefs, intercepts, dataset, alpha, gates)
        best = min(J, trajectory[-1][1]) if trajectory else J
        trajectory.append([now - start - scoring, best])
        scoring += time.perf_counter() - now

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(dataset.X_train, dataset.y_train, callback=record)
    elapsed = time.perf_counter() - start - scoring
    gates = getattr(model, "gates_", None)
    J = _objective(model.coefs_, model.intercepts_, dataset, alpha, gates)
    trajectory = [p for p in trajectory if p[1] > J] + [[elapsed, J]]
    status = model.status_ if model.gap_ <= model.tol else f"{model.status_} (gap {model.gap_:.2g})"
    return _record(
        dataset,
        f"convex-{formulation}",
        alpha,
        objective=J,
        time=elapsed,
        time_sweep=elapsed,
        neurons=int(model.n_neurons_),
        gap=float(model.gap_),
        status=status,
        trajectory=trajectory,
        solver=model.solver_,
        **_metrics(dataset, model.predict),
    )


def _mlp(dataset, **params):
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    cls = MLPClassifier if dataset.task == "classification" else MLPRegressor
    return cls(activation="relu", **params)


def _stochastic_run(dataset, alpha, config, solver, lr):
    """Epochs of ``partial_fit``; keeps the best iterate by training objective.

    Returns the best-so-far trajectory ``[[time, J], ...]`` (time counts training only, not the
    objective evaluations), the best network and the run's total training time.
    """
    batch = max(1, int(round(config.batch_fraction * dataset.n_train)))
    model = _mlp(
        dataset,
        hidden_layer_sizes=(config.hidden,),
        solver=solver,
        alpha=alpha * batch,
        batch_size=batch,
        learning_rate_init=lr,
        learning_rate="constant",
        shuffle=True,
        random_state=config.seed,
    )
    classes = np.unique(dataset.y_train) if dataset.task == "classification" else None
    trajectory, best, elapsed = [], (math.inf, None), 0.0
    for _ in range(config.epochs):
        start = time.perf_counter()
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                if classes is not None:
                    model.partial_fit(dataset.X_train, dataset.y_train, classes=classes)
                else:
                    model.partial_fit(dataset.X_train, dataset.y_train)
            except ValueError:  # diverged: scikit-learn refuses non-finite weights or outputs
                elapsed += time.perf_counter() - start
                break
        elapsed += time.perf_counter() - start
        J = _objective(model.coefs_, model.intercepts_, dataset, alpha)
        if not math.isfinite(J):
            break
        if J < best[0]:
            best = (J, ([c.copy() for c in model.coefs_], [b.copy() for b in model.intercepts_]))
        trajectory.append([elapsed, best[0]])
    if best[1] is not None:
        model.coefs_, model.intercepts_ = best[1]
    return trajectory, best[0], model, elapsed


def run_stochastic(dataset, alpha, config, solver):
    """scikit-learn's MLP with ``solver`` ("sgd" or "adam"), swept over the learning rates.

    The reported run is the learning rate with the lowest training objective; ``time`` and the
    trajectory are that run's own, ``time_sweep`` the whole sweep's. ``lr_objectives`` lists the
    final objective of every learning rate (``inf`` when it diverged).
    """
    runs, total = {}, 0.0
    for lr in config.learning_rates:
        trajectory, J, model, elapsed = _stochastic_run(dataset, alpha, config, solver, lr)
        total += elapsed
        runs[lr] = (J, trajectory, model, elapsed)
    lr = min(runs, key=lambda k: runs[k][0])
    J, trajectory, model, elapsed = runs[lr]
    fields = {}
    if math.isfinite(J):
        fields = _metrics(dataset, model.predict)
    return _record(
        dataset,
        solver,
        alpha,
        objective=J,
        time=elapsed,
        time_sweep=total,
        lr=lr,
        neurons=config.hidden,
        trajectory=trajectory,
        status="ok" if math.isfinite(J) else "diverged",
        lr_objectives={str(k): v[0] for k, v in runs.items()},
        **fields,
    )


def run_lbfgs(dataset, alpha, config):
    """scikit-learn's MLP trained full batch by L-BFGS (``alpha_sklearn = alpha * n``)."""
    model = _mlp(
        dataset,
        hidden_layer_sizes=(config.hidden,),
        solver="lbfgs",
        alpha=alpha * dataset.n_train,
        max_iter=config.lbfgs_max_iter,
        random_state=config.seed,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(dataset.X_train, dataset.y_train)
    elapsed = time.perf_counter() - start
    J = _objective(model.coefs_, model.intercepts_, dataset, alpha)
    return _record(
        dataset,
        "lbfgs",
        alpha,
        objective=J,
        time=elapsed,
        time_sweep=elapsed,
        neurons=config.hidden,
        trajectory=[[elapsed, J]],
        **_metrics(dataset, model.predict),
    )


def pyscnn_available():
    """Whether the optional ``pyscnn`` package (module ``scnn``) is importable."""
    return importlib.util.find_spec("scnn") is not None


METHODS = {
    "convex-gated": lambda ds, a, c: run_convex(ds, a, c, "gated"),
    "convex-relu": lambda ds, a, c: run_convex(ds, a, c, "relu"),
    "sgd": lambda ds, a, c: run_stochastic(ds, a, c, "sgd"),
    "adam": lambda ds, a, c: run_stochastic(ds, a, c, "adam"),
    "lbfgs": run_lbfgs,
}


#: (method, loss) pairs this process has already run: the first run of each pays one-off costs
#: (imports, loading numba's compiled kernels from its cache: ~0.15 s) that are not training
_WARM = set()


#: The warm-up run of a method trains on at most this many rows of the dataset (every class kept).
WARM_UP_ROWS = 200


def _warm_up_data(dataset):
    """``dataset`` cut to its first ``WARM_UP_ROWS`` training rows and one row of every class:
    enough to pay a method's one-off costs without training on a large set twice."""
    if dataset.n_train <= WARM_UP_ROWS:
        return dataset
    rows = np.arange(WARM_UP_ROWS)
    if dataset.task == "classification":
        firsts = np.unique(dataset.y_train, return_index=True)[1]
        rows = np.union1d(rows, firsts)
    return replace(dataset, X_train=dataset.X_train[rows], y_train=dataset.y_train[rows])


def run_method(method, dataset, alpha, config):
    """Run one method and return its record; an exception becomes a record with status "error".

    BLAS runs single-threaded: on these small matrices a thread pool costs far more than it
    saves (on a busy 2-core machine, L-BFGS ran 100× slower with the default pool), and parallel
    runs come from ``--n-jobs``. The first run of a method and loss in a process is preceded by a
    run on at most ``WARM_UP_ROWS`` rows of the same data, whose result is discarded, so that no
    method is timed with its one-off start-up costs.

    Parameters
    ----------
    method : str
        A key of :data:`METHODS`: ``"convex-gated"``, ``"convex-relu"``, ``"sgd"``, ``"adam"`` or
        ``"lbfgs"``.
    dataset : Dataset
        The split to train on (training part) and to score on (both parts).
    alpha : float
        Weight decay in the Lasso convention of :ref:`maths-objective`; the MLPs get the matched
        ``alpha_sklearn`` (see the module's description).
    config : MethodConfig
        The settings shared by all runs.

    Returns
    -------
    dict
        The run's record: the objective ``J``, metrics, times, trajectory and status.
    """
    from threadpoolctl import threadpool_limits

    try:
        with threadpool_limits(limits=1):
            key = (method, _targets(dataset)[0])
            if key not in _WARM:
                _WARM.add(key)
                METHODS[method](_warm_up_data(dataset), alpha, config)
            return METHODS[method](dataset, alpha, config)
    except Exception as exc:  # one failing run must not sink a grid of hundreds
        return _record(dataset, method, alpha, status=f"error: {type(exc).__name__}: {exc}")
