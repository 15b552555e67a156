"""convexnn.distributed: the gated program solved chunk by chunk, in memory and on Dask arrays
(an in-process ``LocalCluster``), against the in-memory program and estimators."""

import pickle
import sys

import numpy as np
import pytest

from convexnn import (
    ConvexProgram,
    ConvexReLUClassifier,
    ConvexReLURegressor,
    distributed,
    sample_patterns,
)
from convexnn.distributed import is_dask_array, solve_chunked
from convexnn.losses import encode_targets

da = pytest.importorskip("dask.array")
distributed_lib = pytest.importorskip("distributed")

LOSSES = ["squared", "logistic"]


def _data(loss, n=900, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.standard_normal(n)
    return X, (y > 0).astype(float) if loss == "logistic" else y


@pytest.fixture(scope="module")
def client():
    cluster = distributed_lib.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    with distributed_lib.Client(cluster) as client:
        yield client
    cluster.close()


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("seed", [0, 1])
def test_chunked_solver_certifies_the_in_memory_program(loss, seed, monkeypatch):
    """Its certified gap is the program's own gap at its point, and its objective the program's
    optimum (CVXPY) to the gap; small row blocks, so that a chunk is summed in several parts."""
    from convexnn import solve

    monkeypatch.setattr(distributed, "ROW_BLOCK", 97)
    X, y = _data(loss, n=600, seed=seed)
    patterns = sample_patterns(X, 15, random_state=seed)
    program = ConvexProgram(X, encode_targets(y, loss), patterns, loss, 1e-3, "gated")
    result = solve_chunked(X, y, patterns.gates, loss, 1e-3, tol=1e-9)
    assert result.status == "optimal" and result.gap <= 1e-9
    own = program.duality_gap(result.solution)
    assert result.objective == pytest.approx(own.primal, rel=1e-12)
    assert result.gap == pytest.approx(own.gap, rel=1e-3, abs=1e-13)
    reference = program.objective(solve(program, "cvxpy", tol=1e-10).solution)
    assert result.objective == pytest.approx(reference, rel=1e-8)


def test_squared_loss_is_solved_by_one_newton_step():
    """The model of a squared loss is the objective: one step lands on the optimum."""
    X, y = _data("squared")
    patterns = sample_patterns(X, 20, random_state=0)
    result = solve_chunked(X, y, patterns.gates, "squared", 1e-3, tol=1e-8)
    assert result.status == "optimal" and result.n_iter <= 2


@pytest.mark.parametrize("loss", LOSSES)
def test_dask_chunks_give_the_in_memory_answer(client, loss):
    X, y = _data(loss)
    gates = sample_patterns(X, 15, random_state=0).gates
    memory = solve_chunked(X, y, gates, loss, 1e-3, tol=1e-10)
    Xd, yd = da.from_array(X, chunks=(250, 4)), da.from_array(y, chunks=250)
    chunked = solve_chunked(Xd, yd, gates, loss, 1e-3, tol=1e-10)
    assert chunked.gap <= 1e-10
    assert chunked.objective == pytest.approx(memory.objective, rel=1e-8)


def test_hessian_rows_are_the_same_whatever_the_chunking():
    first = distributed.hessian_rows_mask(0, 1000, 0.3, seed=5)
    pieces = [distributed.hessian_rows_mask(a, b, 0.3, seed=5) for a, b in [(0, 333), (333, 1000)]]
    np.testing.assert_array_equal(first, np.concatenate(pieces))
    assert 0.2 < first.mean() < 0.4


CASES = [
    (ConvexReLURegressor, "squared", lambda y: y),
    (ConvexReLUClassifier, "logistic", lambda y: np.where(y > 0, "yes", "no")),
]


@pytest.mark.parametrize("estimator, loss, labels", CASES)
def test_dask_fit_matches_the_in_memory_fit(client, estimator, loss, labels):
    """Same data, gates and settings: the same objective to 1e-8 and the same predictions; the
    predictions of a Dask array are a Dask array; the fitted estimator pickles."""
    X, y = _data("squared")
    y = labels(y)
    params = dict(alpha=1e-3, formulation="gated", n_gates=20, sampler="gaussian",
                  random_state=0, tol=1e-9)  # fmt: skip
    memory = estimator(**params).fit(X, y)
    Xd, yd = da.from_array(X, chunks=(200, 4)), da.from_array(y, chunks=200)
    fitted = estimator(**params).fit(Xd, yd)
    assert fitted.solver_ == "chunked_newton" and fitted.status_ == "optimal"
    assert fitted.gap_ <= 1e-9 and fitted.n_iter_ >= 1
    assert fitted.objective_ == pytest.approx(memory.objective_, rel=1e-8)
    np.testing.assert_array_equal(fitted.gates_.shape[0], X.shape[1] + 1)
    lazy = fitted.predict(Xd)
    assert is_dask_array(lazy)
    if loss == "squared":
        np.testing.assert_allclose(lazy.compute(), memory.predict(X), atol=1e-5)
    else:
        np.testing.assert_array_equal(lazy.compute(), memory.predict(X))
        proba = fitted.predict_proba(Xd)
        assert is_dask_array(proba)
        np.testing.assert_allclose(proba.compute(), memory.predict_proba(X), atol=1e-5)
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict(X), fitted.predict(X))


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(), "formulation='relu'"),
        (dict(formulation="gated", solver="fista"), "solver='fista'"),
        (dict(formulation="gated", warm_start=True), "warm_start=True"),
    ],
)
def test_what_a_dask_fit_cannot_honour_is_refused(client, params, match):
    X, y = _data("squared", n=100)
    with pytest.raises(ValueError, match=match):
        ConvexReLURegressor(**params).fit(da.from_array(X, chunks=50), da.from_array(y, chunks=50))


def test_a_dask_fit_takes_two_classes_and_one_output(client):
    X, y = _data("squared", n=120)
    Xd = da.from_array(X, chunks=60)
    with pytest.raises(ValueError, match="two classes"):
        ConvexReLUClassifier(formulation="gated").fit(Xd, da.from_array(np.arange(120) % 3, 60))
    with pytest.raises(ValueError, match="one output"):
        ConvexReLURegressor(formulation="gated").fit(Xd, da.from_array(np.c_[y, y], 60))


def test_without_dask_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)
    with pytest.raises(ImportError, match=r"convexnn\[dask\]"):
        distributed.require_dask()


def test_a_non_finite_row_outside_the_gate_sample_is_reported(monkeypatch):
    """The gates see a row sample; a NaN elsewhere is caught by the first pass, with a clear
    error instead of a solver breakdown."""
    from convexnn import estimators

    monkeypatch.setattr(estimators, "CHUNKED_SAMPLE_ROWS", 50)
    X, y = _data("squared", n=400)
    X[-1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        ConvexReLURegressor(formulation="gated", sampler="gaussian").fit(
            da.from_array(X, chunks=100), da.from_array(y, chunks=100)
        )


def test_hessian_rows_are_gathered_into_one_block_per_worker_thread(client):
    """The rows drawn for the Hessian are stacked once into as many blocks as the cluster has
    worker threads (two here), whatever the chunking: a worker then holds one ``p × p`` sum per
    block, not one per chunk."""
    X, y = _data("logistic", n=1000)
    chunks = distributed._OnDask(da.from_array(X, chunks=(90, 4)), da.from_array(y, chunks=90))
    chunks.draw_hessian_rows(0.3, seed=5)
    assert len(chunks.HX) == len(chunks.HY) == 2
    drawn = distributed.hessian_rows_mask(0, 1000, 0.3, seed=5)
    blocks_X, blocks_y = chunks.dask.compute(chunks.HX, chunks.HY)
    np.testing.assert_array_equal(np.concatenate(blocks_X), X[drawn])
    np.testing.assert_array_equal(np.concatenate(blocks_y), y[drawn])


def test_sums_add_into_the_per_call_dicts_only():
    """The reduction adds the arrays of the per-chunk dicts in place (each made for that sum
    alone) and leaves other arrays — the line search's values, read from kept results — alone."""
    first, second = np.ones(3), np.full(3, 2.0)
    np.testing.assert_array_equal(distributed._total([first, second]), np.full(3, 3.0))
    np.testing.assert_array_equal(first, np.ones(3))
    total = distributed._total([{"hess": first, "sum": 1.0}, {"hess": second, "sum": 2.0}])
    np.testing.assert_array_equal(total["hess"], np.full(3, 3.0))
    assert total["sum"] == 3.0


@pytest.mark.parametrize("loss", LOSSES)
def test_the_hessian_is_built_only_for_a_step(loss, monkeypatch):
    """The Hessian's pass, the costliest, runs once per Newton step taken, not at the point
    that certifies."""
    calls = []
    hessian = distributed._hessian

    def counted(*args, **kwargs):
        calls.append(1)
        return hessian(*args, **kwargs)

    monkeypatch.setattr(distributed, "_hessian", counted)
    X, y = _data(loss)
    gates = sample_patterns(X, 10, random_state=0).gates
    result = solve_chunked(X, y, gates, loss, 1e-3, tol=1e-9)
    assert result.status == "optimal" and len(calls) == result.n_iter >= 1


def test_hessian_row_sample_by_default_when_rows_far_outnumber_weights():
    # p = 100 · 21 = 2,100 weights: a sample of 50,400 rows above 201,600; at least 10,000 rows;
    # never below 250 weights
    assert distributed.default_hessian_rows(201_600, 20, 100) is None
    assert distributed.default_hessian_rows(201_601, 20, 100) == 50_400
    assert distributed.default_hessian_rows(2_000_000, 20, 200) == 100_800
    assert distributed.default_hessian_rows(40_001, 4, 50) == 10_000
    assert distributed.default_hessian_rows(10**7, 3, 3) is None


@pytest.mark.parametrize("threads", [None, 1], ids=["blas-default", "one-blas-thread"])
def test_dask_fit_with_a_sampled_hessian_reaches_the_in_memory_optimum(client, monkeypatch, threads):
    """Rows far outnumber the weights (p = 50 · 5 = 250; 50,000 rows, 10,000 of them for the
    Hessian): the default Dask fit builds its Hessians from a sample, and still certifies the
    optimum of the same gates solved with every row's Hessian. With one BLAS thread the gap used
    to hover between 1e-9 and 2e-8 from the 20th iteration to the 50th (each Newton model solved
    by Clarabel only to √1e-12 of its minimiser): the model's minimiser is now polished."""
    from threadpoolctl import threadpool_limits

    X, y = _data("logistic", n=50_000, d=4)
    params = dict(alpha=1e-3, formulation="gated", n_gates=50, sampler="gaussian",
                  random_state=0, tol=1e-9)  # fmt: skip
    seen = []

    def spy(*args, **kwargs):
        seen.append(kwargs["hessian_rows"])
        return solve_chunked(*args, **kwargs)

    monkeypatch.setattr("convexnn.estimators.solve_chunked", spy)
    with threadpool_limits(limits=threads):  # None: as the machine has it
        fitted = ConvexReLUClassifier(**params).fit(da.from_array(X, chunks=(10_000, 4)), y)
    assert seen == [10_000]
    assert fitted.status_ == "optimal" and fitted.gap_ <= 1e-9
    exact = solve_chunked(X, y, fitted._patterns.gates, "logistic", 1e-3, tol=1e-11)
    assert exact.status == "optimal"
    assert fitted.objective_ == pytest.approx(exact.objective, rel=1e-8)
