"""convexnn.bench.report: performance profiles and solved fractions."""

from convexnn.bench.report import performance_profile, solved_fractions


def test_performance_profile_counts_solved_problems():
    def rec(dataset, method, trajectory):
        return {
            "dataset": dataset,
            "split": "s",
            "alpha": 1.0,
            "method": method,
            "objective": trajectory[-1][1],
            "trajectory": trajectory,
            "time": 0.0,
            "time_sweep": 0.0,
        }

    records = [
        rec("p1", "a", [[1.0, 1.0]]),
        rec("p1", "b", [[0.5, 3.0], [2.0, 1.05]]),
        rec("p2", "a", [[1.0, 2.0]]),
        rec("p2", "b", [[0.5, 10.0]]),
    ]
    grid, frac = performance_profile(records, tol=0.1, grid=[0.1, 0.5, 1.0, 2.0, 10.0])
    assert list(frac["a"]) == [0, 0, 1, 1, 1]
    assert list(frac["b"]) == [0, 0, 0, 0.5, 0.5]
    _, frac = performance_profile(records, tol=2.0, grid=[0.5])
    assert list(frac["b"]) == [0.5]
    assert solved_fractions(records, (0.1, 5.0)) == {
        "a": {0.1: 1.0, 5.0: 1.0},
        "b": {0.1: 0.5, 5.0: 1.0},
    }
