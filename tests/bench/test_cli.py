"""The ``convexnn bench`` command: end to end on tiny data, and clear errors for bad arguments."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import make_data

from convexnn.bench.cli import main
from convexnn.bench.datasets import load_npz_folder

ROOT = Path(__file__).resolve().parents[2]


QUICK = ["--n-gates", "8", "--epochs", "3", "--lrs", "0.1,0.01", "--quiet"]


def _write_csv(path, X, y):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([f"x{j}" for j in range(X.shape[1])] + ["label"])
        for row, label in zip(X, y, strict=True):
            writer.writerow([*row, label])


def test_bench_end_to_end_writes_table_csv_json_and_plots(tmp_path, capsys):
    X, y = make_data("logistic", n=40, d=3)
    data = tmp_path / "tiny.csv"
    _write_csv(data, X, np.where(y == 1, "yes", "no"))
    out = tmp_path / "out"
    methods = ["convex-gated", "sgd", "adam"]
    status = main(
        [
            "bench",
            "--csv",
            str(data),
            "--target",
            "label",
            "--alphas",
            "1e-3,1e-2",
            "--methods",
            ",".join(methods),
            "--out",
            str(out),
            *QUICK,
        ]
    )
    assert status == 0
    printed = capsys.readouterr().out
    assert "| tiny | random | 1e-03 | convex-gated |" in printed
    assert str(out / "profile.png") in printed
    for name in [
        "table.md",
        "results.csv",
        "results.json",
        "profile.png",
        "objectives.png",
        "metrics.png",
    ]:
        assert (out / name).stat().st_size > 0, name
    assert (out / "profile.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(out / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted((r["method"], float(r["alpha"])) for r in rows) == sorted(
        (m, a) for m in methods for a in (1e-3, 1e-2)
    )
    records = json.loads((out / "results.json").read_text())["records"]
    for alpha in (1e-3, 1e-2):
        runs = [r for r in records if r["alpha"] == alpha]
        # the best run of each problem defines J*: its relative excess is exactly 0
        assert min(r["rel_excess"] for r in runs) == 0.0
        for r in runs:
            assert r["objective"] == min(j for _, j in r["trajectory"])
            assert 0.0 <= r["train_metric"] <= 1.0
    convex = [r for r in records if r["method"] == "convex-gated"]
    assert all(r["gap"] <= 1e-6 and r["status"] == "optimal" for r in convex)
    sgd = [r for r in records if r["method"] == "sgd"]
    assert all(r["lr"] in (0.1, 0.01) and r["time_sweep"] >= r["time"] for r in sgd)
    assert all(len(r["trajectory"]) == 3 for r in sgd)  # one point per epoch


def test_bench_npz_folder_and_series(tmp_path, capsys):
    rng = np.random.default_rng(0)
    folder = tmp_path / "npz"
    folder.mkdir()
    X, y = make_data("softmax", n=36, d=3)
    perm = rng.permutation(36)
    np.savez(
        folder / "cls.npz",
        X=X.astype(np.float32),
        y=y.astype(np.int16),
        fold0_train=perm[:27],
        fold0_test=perm[27:],
        fold1_train=perm[9:],
        fold1_test=perm[:9],
    )
    Xr, yr = make_data("squared", n=30, d=2)
    np.savez(
        folder / "reg.npz",
        X=Xr,
        y=100 + 10 * yr,
        split0_train=np.arange(24),
        split0_test=np.arange(24, 30),
    )
    series = tmp_path / "series.npz"
    np.savez(series, price=np.exp(np.cumsum(0.01 * rng.standard_normal(60))) * 50)
    out = tmp_path / "out"
    status = main(
        [
            "bench",
            "--data-dir",
            str(folder),
            "--splits",
            "all",
            "--series",
            str(series),
            "--key",
            "price",
            "--lag",
            "3",
            "--log-returns",
            "--methods",
            "convex-gated,adam",
            "--out",
            str(out),
            "--no-plots",
            "--tag",
            "@t",
            *QUICK,
        ]
    )
    assert status == 0
    records = json.loads((out / "results.json").read_text())["records"]
    problems = {(r["dataset"], r["split"]) for r in records}
    assert {r["method"] for r in records} == {"convex-gated@t", "adam@t"}
    assert problems == {
        ("cls", "fold0"),
        ("cls", "fold1"),
        ("reg", "split0"),
        ("series:price:logret", "lag3/chrono"),
    }
    reg = [r for r in records if r["dataset"] == "reg"]
    assert all(r["metric"] == "r2" and r["test_rmse"] > 0 for r in reg)
    assert not (out / "profile.png").exists()
    assert all(r["n_train"] == 45 for r in records if r["dataset"].startswith("series"))
    # 'convexnn plot' remakes the outputs from the JSON, keeping the methods asked for
    merged = tmp_path / "merged"
    argv = ["plot", str(out / "results.json"), "--methods", "adam@t", "--out", str(merged)]
    assert main(argv) == 0
    kept = json.loads((merged / "results.json").read_text())["records"]
    assert len(kept) == 4 and {r["method"] for r in kept} == {"adam@t"}
    assert (merged / "profile.png").is_file()
    with pytest.raises(SystemExit):
        main(["plot", str(out / "results.json"), "--methods", "sgd", "--out", str(merged)])
    assert "['sgd'] not in the results" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["bench", "nope"], "unknown dataset 'nope'"),
        (["bench", "iris", "--alphas", "-1"], "must be a positive finite number, got '-1'"),
        (["bench", "iris", "--alphas", "abc"], "not a number: 'abc'"),
        (["bench", "iris", "--alphas", "1e-3,0"], "bad value '0'"),
        (["bench", "iris", "--methods", "sgd,newton"], "unknown method(s) ['newton']"),
        (["bench"], "no datasets"),
        (["bench", "--csv", "x.csv"], "--csv needs --target"),
        (["bench", "iris", "--convex-opt", "n_gatez=3"], "unknown parameter(s) ['n_gatez']"),
        (["bench", "iris", "--epochs", "0"], "must be at least 1"),
    ],
)
def test_bad_arguments_exit_with_a_message(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--out", str(tmp_path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_empty_folder_and_bad_npz(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--data-dir", str(empty), "--out", str(tmp_path)])
    assert exc.value.code == 2
    assert "no .npz files in" in capsys.readouterr().err
    np.savez(empty / "nosplit.npz", X=np.zeros((4, 2)), y=np.arange(4))
    with pytest.raises(ValueError, match="nosplit.npz has no split indices"):
        load_npz_folder(empty)


def test_console_command_reports_errors_without_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "convexnn.bench.cli", "bench", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert result.returncode == 2
    assert "convexnn bench: error: no .npz files in" in result.stderr
    assert "Traceback" not in result.stderr


def test_summarise_prints_the_profile_misses_and_certificates_without_excluded_methods(
    tmp_path, capsys
):
    """``benchmarks/summarise.py profile``: fractions solved, the profile verdicts, the misses and
    the share of fits certified optimal for their patterns; ``--exclude`` takes a method out of
    every figure (``J*`` included). convex-relu's trajectory starts at the MLP its patterns come
    from, which is a feasible point of its program."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import summarise

    X, y = make_data("logistic", n=50, d=3, seed=2)
    data = tmp_path / "tiny.csv"
    _write_csv(data, X, y)
    out = tmp_path / "out"
    argv = ["bench", "--csv", str(data), "--target", "label", "--alphas", "1e-3",
            "--methods", "convex-relu,convex-gated,sgd", "--out", str(out), "--no-plots", *QUICK]
    assert main(argv) == 0
    capsys.readouterr()
    relu = next(r for r in json.loads((out / "results.json").read_text())["records"]
                if r["method"] == "convex-relu")
    assert len(relu["trajectory"]) >= 2 and relu["trajectory"][0][0] < relu["time"]
    summarise.main(["profile", str(out / "results.json"), "--method", "convex-relu"])
    printed = capsys.readouterr().out
    assert "convex-gated" in printed and "convex-relu vs sgd" in printed
    assert "(certified optimal for its patterns) in 1 of 1 runs (100.0%)" in printed
    summarise.main(["profile", str(out / "results.json"), "--method", "convex-relu",
                    "--exclude", "convex-gated"])
    printed = capsys.readouterr().out
    assert "convex-gated" not in printed and "convex-relu vs sgd" in printed


def test_default_estimators_takes_the_split_asked_for_and_names_the_ones_there_are(tmp_path):
    """``benchmarks/default_estimators.py --fold``: the sets come from that split, and a split an
    archive does not have is an error naming the ones it has, not a ``KeyError`` from numpy."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import default_estimators

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((8, 2)), np.arange(8) % 2
    (tmp_path / "uci121").mkdir()
    np.savez(tmp_path / "uci121" / "tiny.npz", X=X, y=y, fold0_train=[0, 1, 2, 3],
             fold0_test=[4, 5], fold1_train=[2, 3, 4, 5], fold1_test=[6, 7])
    (name, X_train, y_train, X_test, _), = default_estimators.classification_sets(tmp_path, fold=1)
    assert name == "tiny"
    assert np.array_equal(X_train, X[2:6]) and np.array_equal(y_train, y[2:6])
    assert np.array_equal(X_test, X[6:])
    with pytest.raises(ValueError, match="tiny has no fold4; its folds are 0-1"):
        list(default_estimators.classification_sets(tmp_path, fold=4))


def test_random_problems_draw_every_family_and_check_the_default_fit(capsys):
    """``benchmarks/random_problems.py``: each family draws data of its task whose size and
    shape the seed chooses; a run prints a row per problem and the summary of what the fits
    promise; an unknown family is an error that names the known ones."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import random_problems

    for family, (task, _) in random_problems.FAMILIES.items():
        drawn, X, y = random_problems.draw(family, 3)
        assert drawn == task and X.dtype == np.float64 and len(X) == len(y)
        assert len(X) in random_problems.SAMPLES and np.all(np.isfinite(X))
        assert (y.dtype.kind in "iub") == (task == "classification"), family
    assert random_problems.draw("moons", 5)[1].shape != random_problems.draw("moons", 0)[1].shape
    random_problems.main(["--families", "moons", "--seeds", "1", "--first", "1"])
    printed = capsys.readouterr().out
    assert "| moons | 1 | 150 | 2 |" in printed
    assert "certified to tol without a warning: 1" in printed
    assert "J at or below the zero network's: 1" in printed
    with pytest.raises(SystemExit):
        random_problems.main(["--families", "moons,spirals"])
    assert "unknown families ['spirals']" in capsys.readouterr().err
