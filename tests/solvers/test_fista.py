"""convexnn.solvers.fista: R-FISTA on the gated program."""

import numpy as np
import pytest
from conftest import make_program

from convexnn import ConvexProgram, solve


def test_float32_programs_are_solved_in_float32():
    program64 = make_program("squared", "gated", n=60, d=3, n_gates=20, alpha=1e-2)
    p = program64
    program32 = ConvexProgram(p.X.astype(np.float32), p.Y, p.patterns, p.loss, p.alpha, p.formulation)
    r32 = solve(program32, "fista", tol=1e-5)
    r64 = solve(program64, "fista", tol=1e-7)
    assert r32.solution.U.dtype == np.float32
    assert r32.gap <= 1e-5
    assert program64.objective(r32.solution) == pytest.approx(program64.objective(r64.solution), rel=1e-5)
