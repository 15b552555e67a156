"""Differential fuzzing of the estimators, their solvers and samplers against the CVXPY reference.

One *case* is a small problem built on purpose to be awkward (tiny ``n``, ``n < d``, duplicate and
near-duplicate rows, collinear and constant features, feature scales from 1e-8 to 1e8, one sample
of a class, nearly separable labels, ``alpha`` from 1e-8·alpha_max to past alpha_max) and an
estimator configuration (loss, formulation, sampler, solver the registry accepts, dtype).
:func:`check` fits it and returns every broken promise (docs/reliability.md, "Fuzzing"):

- the fit certifies its gap, or warns with the gap it reached, or raises a clear error from
  convexnn's own code (never from inside numba, NumPy, SciPy or CVXPY);
- the certified gap is ≥ −1e-9 − (the point's relative cone violation), and ≤ ``tol`` when
  the status says optimal;
- the mapped network's ``J`` equals the convex objective to 1e-8, relative, and an optimal point
  holds its cone constraints;
- ``J`` is never above the zero network's;
- CVXPY's optimum of the same program is not below ``J`` by more than the certified gap allows,
  and ``J`` is not above it by more than ``tol`` when the fit says optimal;
- predictions are finite; the same seed gives the same model;
- ``certify()`` (exact ReLU networks) never bounds above the objective of the network or of the
  program's optimum.

The same generator serves hypothesis (``case_strategy``, which shrinks a failure to a small case)
and the long campaign (``case_from_seed``; ``python tests/fuzzing.py --examples 20000``), which
runs each case in a worker process with a time limit and writes what it found.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import sys
import time
import traceback
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from convexnn import ConvexProgram, ConvexReLUClassifier, ConvexReLURegressor, sample_patterns
from convexnn.losses import encode_targets
from convexnn.patterns import cover_count
from convexnn.shared import SharedNeuronProgram
from convexnn.solvers import solve

#: The solvers the registry offers each formulation, and the losses they accept.
SOLVERS_BY_FORMULATION = {
    "relu": ["ipm", "al", "cvxpy"],
    "gated": ["fista", "bcd", "kernel_newton", "cvxpy"],
}
SQUARED_ONLY = {"kernel_newton"}
#: The exact sampler is drawn only where it enumerates quickly (Cover's count at most this).
EXACT_MAX_PATTERNS = 400
#: The CVXPY reference is solved where its program stays this small (n · P · (d + 1) · K).
REFERENCE_MAX_SIZE = 60_000
#: A tiny problem (n ≤ 50) that takes longer than this to fit counts as a failure in the campaign.
SLOW_SECONDS = 10.0
#: A case of the campaign (fit, reference, refit) is stopped after this many seconds.
TIMEOUT_SECONDS = 120
GAP_ROUNDING = 1e-9
#: CVXPY's own accuracy (Clarabel at its default tolerances), relative to the objective.
REFERENCE_ACCURACY = 1e-6


# --------------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------------


class RandomDraws:
    """Choices drawn from a NumPy generator (the campaign)."""

    def __init__(self, rng):
        self.rng = rng

    def integer(self, low, high):
        return int(self.rng.integers(low, high + 1))

    def uniform(self, low, high):
        return float(self.rng.uniform(low, high))

    def choice(self, options):
        return options[int(self.rng.integers(len(options)))]

    def flag(self, probability):
        return bool(self.rng.random() < probability)


class HypothesisDraws:
    """The same choices through hypothesis's ``draw`` (which can then shrink them)."""

    def __init__(self, draw):
        from hypothesis import strategies as st

        self.draw, self.st = draw, st

    def integer(self, low, high):
        return self.draw(self.st.integers(low, high))

    def uniform(self, low, high):
        return self.draw(self.st.floats(low, high))

    def choice(self, options):
        return self.draw(self.st.sampled_from(options))

    def flag(self, probability):
        return self.draw(self.st.integers(0, 99)) < round(100 * probability)


@dataclass
class Case:
    X: np.ndarray
    y: np.ndarray
    task: str  # "squared", "multi" (several squared outputs), "logistic" or "softmax"
    params: dict
    quirks: list = field(default_factory=list)

    @property
    def estimator(self):
        return ConvexReLURegressor if self.task in ("squared", "multi") else ConvexReLUClassifier

    def describe(self):
        n, d = self.X.shape
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.task} n={n} d={d} {self.X.dtype} [{', '.join(self.quirks)}] {params}"


def draw_case(draws) -> Case:
    """One awkward problem and one configuration the estimators accept."""
    rng = np.random.default_rng(draws.integer(0, 2**32 - 1))
    task = draws.choice(["squared", "multi", "logistic", "softmax"])
    n = draws.integer(2, 6) if draws.flag(0.25) else draws.integer(7, 50)
    if task == "softmax":
        n = max(n, 3)
    d = draws.integer(1, 6)
    quirks = []
    if draws.flag(0.15):
        d, quirks = min(n + draws.integer(1, 4), 12), ["n<d"]
    X = rng.standard_normal((n, d))
    if n >= 4 and draws.flag(0.2):
        rows = rng.choice(n, n // 3, replace=False)
        X[rows] = X[rng.choice(n, rows.size)]
        quirks.append("duplicate rows")
    if n >= 4 and draws.flag(0.15):
        rows = rng.choice(n, n // 3, replace=False)
        X[rows] = X[rng.choice(n, rows.size)] + 1e-9 * rng.standard_normal((rows.size, d))
        quirks.append("near-duplicate rows")
    if d >= 2 and draws.flag(0.15):
        X[:, 1] = draws.uniform(-3, 3) * X[:, 0]
        quirks.append("collinear features")
    if draws.flag(0.15):
        X[:, -1] = draws.uniform(-2, 2)
        quirks.append("constant feature")
    signal = np.sin(2 * X[:, 0]) + X[:, -1] * X[:, (d - 1) // 2] + 0.3 * rng.standard_normal(n)
    if draws.flag(0.3):
        X = X * 10.0 ** rng.uniform(-8, 8, d) + draws.uniform(-5, 5) * 10.0 ** rng.uniform(-8, 8, d)
        quirks.append("feature scales 1e-8..1e8")
    y = _targets(task, signal, X, n, rng, draws, quirks)
    if task in ("logistic", "softmax") and np.unique(y).size < 2:
        y[0] = 1 - y[0] if task == "logistic" else (y[0] + 1) % 3
    dtype = np.float32 if draws.flag(0.2) else np.float64
    X = X.astype(dtype)
    formulation = draws.choice(["relu", "gated"])
    sampler = draws.choice(["mlp", "gaussian", "data", "exact"])
    if sampler == "exact" and cover_count(n, min(d + 1, n)) > EXACT_MAX_PATTERNS:
        sampler = "gaussian"
    loss = "squared" if task in ("squared", "multi") else None
    solvers = [s for s in SOLVERS_BY_FORMULATION[formulation] if loss or s not in SQUARED_ONLY]
    solver = "auto" if draws.flag(0.5) else draws.choice(solvers)
    ratio = 10.0 ** draws.uniform(-8, 0.2)
    params = dict(
        alpha=float(ratio * _reference_alpha_max(X, y, task)),
        n_gates=draws.integer(1, 20),
        formulation=formulation,
        sampler=sampler,
        solver=solver,
        random_state=draws.integer(0, 2**16),
    )
    return Case(X, y, task, params, quirks)


def _targets(task, signal, X, n, rng, draws, quirks):
    if task == "squared":
        return signal * 10.0 ** draws.uniform(-3, 3)
    if task == "multi":
        return np.column_stack([signal, np.cos(X[:, 0] / (np.abs(X[:, 0]).max() + 1e-300))])
    if task == "logistic":
        if draws.flag(0.2):
            quirks.append("one sample of a class")
            y = np.zeros(n, dtype=int)
            y[rng.integers(n)] = 1
            return y
        y = (signal > np.median(signal)).astype(int)
        if draws.flag(0.3):  # a linear rule with one label flipped: nearly separable
            y = (X @ rng.standard_normal(X.shape[1]) > 0).astype(int)
            y[rng.integers(n)] ^= 1
            quirks.append("nearly separable")
        return y
    k = draws.integer(3, 5)
    y = np.digitize(signal, np.quantile(signal, np.linspace(0, 1, k + 1)[1:-1]))
    if draws.flag(0.25):
        y[y == k - 1] = 0
        y[rng.integers(n)] = k - 1
        quirks.append("one sample of a class")
    return y


def _reference_alpha_max(X, y, task):
    """alpha_max of the gated program on 20 Gaussian gates: the scale ``alpha`` is drawn on."""
    loss = {"multi": "squared"}.get(task, task)
    if task == "softmax":
        y = np.unique(y, return_inverse=True)[1]
    Y = encode_targets(y, loss)
    program = ConvexProgram(X.astype(np.float64), Y, sample_patterns(X, 20, "gaussian", 0), loss,
                            1.0, "gated")
    return max(program.alpha_max(), 1e-12)


#: Failing cases found by fuzzing, each kept under the name of its bug (tests/test_fuzz.py).
REGRESSIONS = Path(__file__).resolve().parent / "fuzz_regressions"


def save_case(case, name):
    """Keep ``case`` as ``fuzz_regressions/<name>.npz`` (the failing input, not its seed)."""
    REGRESSIONS.mkdir(exist_ok=True)
    np.savez_compressed(REGRESSIONS / f"{name}.npz", X=case.X, y=case.y, task=case.task,
                        params=json.dumps(case.params), quirks=json.dumps(case.quirks))


def load_case(path) -> Case:
    data = np.load(path)
    return Case(data["X"], data["y"], str(data["task"]), json.loads(str(data["params"])),
                json.loads(str(data["quirks"])))


def case_from_seed(seed) -> Case:
    return draw_case(RandomDraws(np.random.default_rng(seed)))


def case_strategy():
    from hypothesis import strategies as st

    return st.composite(lambda draw: draw_case(HypothesisDraws(draw)))()


# --------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    failures: list
    solver: str = ""
    loss: str = ""
    status: str = ""
    gap: float = float("nan")
    seconds: float = 0.0
    raised: str = ""


def _fit(case):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = case.estimator(**case.params).fit(case.X, case.y)
    return model, [w for w in caught if issubclass(w.category, ConvergenceWarning)]


def _own_error(error):
    """Whether ``error`` is a deliberate error of convexnn's (raised in its own code)."""
    frames = traceback.extract_tb(error.__traceback__)
    return (
        isinstance(error, ValueError | RuntimeError | MemoryError)
        and bool(frames) and f"{os.sep}convexnn{os.sep}" in frames[-1].filename
        and f"{os.sep}tests{os.sep}" not in frames[-1].filename
        and "numba" not in frames[-1].filename and str(error) != ""
    )


def check(case, reference=True, repeat=True, certify=True) -> Outcome:
    """Fit ``case`` and return what broke (an empty ``failures`` list when nothing did)."""
    start = time.perf_counter()
    try:
        model, convergence = _fit(case)
    except Exception as error:  # noqa: BLE001 - every exception is examined
        seconds = time.perf_counter() - start
        if _own_error(error):
            return Outcome([], raised=f"{type(error).__name__}: {error}", seconds=seconds)
        return Outcome([f"crash {type(error).__name__}: {error}\n{traceback.format_exc()}"],
                       seconds=seconds)
    outcome = Outcome([], model.solver_, model.loss_, model.status_, model.gap_,
                      time.perf_counter() - start)
    failures = outcome.failures
    tol, J = model.tol, model.objective_
    scale = max(abs(J), 1e-300)
    certified = model.status_ == "optimal" and model.gap_ <= tol
    if not certified and not any("gap" in str(w.message) for w in convergence):
        failures.append(f"not certified (status {model.status_}, gap {model.gap_:.3g}) and no "
                        "ConvergenceWarning with the gap")
    if len(convergence) > 1:
        failures.append(f"{len(convergence)} ConvergenceWarnings for one fit")
    program = _program(case, model)
    # the objective (primal and network) is itself defined only to the rounding of its products,
    # which cancel when features carry offsets of 1e8: that much is allowed on top of the bounds
    rounding = 1e-13 * _product_scale(program, model._solution)
    # a point outside its cones by v (relative) may score about v below the dual bound
    if not model.gap_ >= -GAP_ROUNDING - model.constraint_violation_ - rounding / scale:
        failures.append(f"gap {model.gap_:.3g} below -{GAP_ROUNDING:g} - cone violation "
                        f"{model.constraint_violation_:.2g} - product rounding "
                        f"{rounding / scale:.2g}")
    if model.status_ == "optimal" and not model.gap_ <= tol:
        failures.append(f"status optimal with gap {model.gap_:.3g} > tol")
    if not abs(J - model.convex_objective_) <= 1e-8 * scale + rounding + 1e-14:
        failures.append(f"network J {J:.12g} != convex objective {model.convex_objective_:.12g}")
    if model.status_ == "optimal" and not model.constraint_violation_ <= 1e-6:
        failures.append(f"optimal with cone violation {model.constraint_violation_:.3g}")
    zero = program.objective(program.zero_solution())
    if not J <= zero + 1e-9 * max(abs(zero), 1e-300):
        failures.append(f"J {J:.6g} above the zero network's {zero:.6g}")
    outputs = [model.predict(case.X)]
    if case.estimator is ConvexReLUClassifier:
        outputs.append(model.predict_proba(case.X))
    if not all(np.all(np.isfinite(np.asarray(o, dtype=float))) for o in outputs):
        failures.append("non-finite predictions")
    if reference:
        _check_reference(program, model, certified, failures)
    if repeat:
        again, _ = _fit(case)
        if not all(np.array_equal(a, b) for a, b in zip(
                model.coefs_ + model.intercepts_, again.coefs_ + again.intercepts_, strict=False)
                ) or len(model.coefs_[0].T) != len(again.coefs_[0].T):
            failures.append("the same random_state gave a different model")
    if certify and case.params["formulation"] == "relu" and model.n_neurons_ > 0:
        _check_certificate(case, model, failures, rounding)
    return outcome


def _product_scale(program, solution):
    """``(1/n) Σ_i |θ_i|ᵀ Σ_k |X̃_i| |u_k|``: how far rounding each product ``x̃ᵀu`` by one part
    moves the objective (to first order)."""
    Xa = np.abs(program.Xt.astype(np.float64))
    blocks = np.abs(np.asarray(solution.U, np.float64))
    if solution.V is not None:
        blocks = blocks + np.abs(np.asarray(solution.V, np.float64))
    sizes = np.stack([Xa @ blocks[o] for o in range(blocks.shape[0])], axis=1).sum(axis=2)
    theta = np.abs(program.residual(solution))
    return float(np.sum(theta * sizes)) / program.n_samples


def _program(case, model):
    """The program the model solved (the shared-neuron one where it has output directions)."""
    Y = encode_targets(np.searchsorted(model.classes_, case.y), model.loss_, len(model.classes_)) \
        if hasattr(model, "classes_") else encode_targets(case.y, "squared")
    if getattr(model, "_directions", None) is not None:
        return SharedNeuronProgram(case.X, Y, model._patterns, model._directions, model.loss_,
                                   case.params["alpha"])
    return ConvexProgram(case.X, Y, model._patterns, model.loss_, case.params["alpha"],
                         case.params["formulation"])


def _check_reference(program, model, certified, failures):
    size = program.n_samples * program.n_patterns * (program.n_features + 1) * program.n_outputs
    if size > REFERENCE_MAX_SIZE or program.zero_is_optimal():
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = solve(program, "cvxpy")
        except Exception:  # noqa: BLE001 - the reference failing is not the case's failure
            return
    if result.status != "optimal":
        return
    best = program.objective(result.solution)
    J = model.objective_
    slack = REFERENCE_ACCURACY * max(abs(J), abs(best)) + 1e-12
    if best < J - model.gap_ * abs(J) - slack:
        failures.append(f"CVXPY reaches {best:.10g}, below J {J:.10g} by more than the certified "
                        f"gap {model.gap_:.3g} allows")
    if certified and J > best + model.tol * abs(J) + slack:
        failures.append(f"certified J {J:.10g} above CVXPY's optimum {best:.10g}")


def _check_certificate(case, model, failures, rounding):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            certificate = model.certify(case.X, case.y, n_starts=20, max_patterns=2000,
                                        random_state=0)
    except ValueError:
        return  # certify() refuses some inputs with a clear error: that is its promise
    J = model.objective_
    # J is defined to the rounding of its products (check's ``rounding``): with features offset by
    # 5e6 the hidden biases are 5e8 and J as evaluated is 1.2e-4 below J in extended precision
    if not certificate.lower_bound <= J + GAP_ROUNDING * max(abs(J), 1e-300) + rounding:
        failures.append(f"certify() lower bound {certificate.lower_bound:.10g} above the "
                        f"network's J {J:.10g} (product rounding {rounding:.2g})")


# --------------------------------------------------------------------------------------------------
# The long campaign
# --------------------------------------------------------------------------------------------------


class Timeout(BaseException):
    """Raised in a campaign worker when a case runs past its time limit."""


def _alarm(signum, frame):
    raise Timeout


def _run_one(seed, limit=TIMEOUT_SECONDS):
    case = case_from_seed(seed)
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(limit)
    try:
        outcome = check(case, repeat=seed % 4 == 0)
    except Timeout:
        outcome = Outcome([f"timed out after {limit} s"], seconds=float(limit))
    finally:
        signal.alarm(0)
    if case.X.shape[0] <= 50 and outcome.seconds > SLOW_SECONDS:
        outcome.failures.append(f"slow: {outcome.seconds:.1f} s to fit n={case.X.shape[0]}")
    return seed, case.describe(), outcome


def campaign(examples, start, processes, out):
    """Run ``examples`` cases from seed ``start`` and write the findings to ``out`` (JSON)."""
    warnings.simplefilter("ignore")
    found, by_kind, slowest = [], Counter(), []
    raised = Counter()
    progress = max(1, min(500, examples // 20))
    began = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(processes, maxtasksperchild=200) as pool:
        for i, (seed, description, outcome) in enumerate(
                pool.imap_unordered(_run_one, range(start, start + examples), chunksize=4)):
            formulation = "gated" if "formulation='gated'" in description else "relu"
            by_kind[(outcome.solver or "raised", outcome.loss or "-", formulation)] += 1
            slowest = sorted([*slowest, (outcome.seconds, seed, description)], reverse=True)[:10]
            if outcome.raised:
                raised[outcome.raised.split(":")[0] + ": " + outcome.raised[:80]] += 1
            if outcome.failures:
                found.append(dict(seed=seed, case=description, failures=outcome.failures))
                print(f"seed {seed}: {description}\n  " + "\n  ".join(outcome.failures),
                      flush=True)
            if (i + 1) % progress == 0:
                print(f"{i + 1} examples, {len(found)} failing, "
                      f"{time.perf_counter() - began:.0f} s", flush=True)
    summary = dict(
        examples=examples, first_seed=start, failing=len(found),
        seconds=round(time.perf_counter() - began, 1),
        by_solver_loss_formulation={" / ".join(k): v for k, v in sorted(by_kind.items())},
        raised=dict(raised.most_common()),
        slowest=[dict(seconds=round(s, 2), seed=seed, case=c) for s, seed, c in slowest],
        failures=found,
    )
    Path(out).write_text(json.dumps(summary, indent=1))
    return summary


def _print_summary(summary):
    print(f"\n{summary['examples']} examples from seed {summary['first_seed']} in "
          f"{summary['seconds']:.0f} s: {summary['failing']} failing")
    table = defaultdict(int, summary["by_solver_loss_formulation"])
    print("\n| solver | loss | formulation | examples |\n|---|---|---|---|")
    for key, count in table.items():
        print("| " + " | ".join(key.split(" / ")) + f" | {count} |")
    print("\nslowest:")
    for row in summary["slowest"]:
        print(f"  {row['seconds']:.2f} s  seed {row['seed']}: {row['case']}")


def main(argv=None):
    parser = argparse.ArgumentParser(description="the long fuzzing campaign (tests/fuzzing.py)")
    parser.add_argument("--examples", type=int, default=20_000)
    parser.add_argument("--start", type=int, default=0, help="first seed")
    parser.add_argument("--processes", type=int, default=os.cpu_count())
    parser.add_argument("--out", default="fuzz-campaign.json")
    parser.add_argument("--seed", type=int, default=None, help="run and print one case")
    parser.add_argument("--save", default=None, help="with --seed: keep the case under this name")
    args = parser.parse_args(argv)
    if args.save:
        save_case(case_from_seed(args.seed), args.save)
        return 0
    if args.seed is not None:
        case = case_from_seed(args.seed)
        print(case.describe())
        outcome = check(case)
        print(outcome)
        return 1 if outcome.failures else 0
    summary = campaign(args.examples, args.start, args.processes, args.out)
    _print_summary(summary)
    return 1 if summary["failing"] else 0


if __name__ == "__main__":
    sys.exit(main())
