"""The layout rules the code keeps: no module reaches into another's private names, and every
library module has a test file of its own."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _private_imports(folder):
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        yield f"{path.relative_to(ROOT)}:{node.lineno} imports {alias.name}"


@pytest.mark.parametrize("folder", ["convexnn", "tests", "benchmarks"])
def test_no_module_imports_a_private_name_from_another(folder):
    found = list(_private_imports(folder))
    assert not found, "\n".join(found)


# Every library module has a test file of its own; the tests mirror the package:
# convexnn/solvers/ipm.py → tests/solvers/test_ipm.py, convexnn/_memory.py → tests/test_memory.py.
# Beside them, a few files test what spans modules (test_bad_input, solvers/test_contract,
# test_fuzz with fuzzing.py, test_docs, test_recipes, test_real_data, test_public_api,
# test_program_registry and this file).

#: Modules whose tests the rule above does not place.
TEST_FILE_OF = {
    "convexnn/solvers/__init__.py": "tests/solvers/test_solve.py",
}

#: Modules that need no tests of their own.
NEEDS_NO_TESTS = {
    "convexnn/__init__.py": "re-exports the public names (and __version__)",
    "convexnn/bench/__init__.py": "re-exports the names of its modules",
    "convexnn/deep/__init__.py": "re-exports the names of its modules",
    "convexnn/patterns/__init__.py": "re-exports the names of its modules",
    "convexnn/solvers/base.py": "what every solver returns: pinned by solvers/test_contract.py",
}

#: Modules that have no tests of their own yet: where they are exercised. A test file for one
#: of them takes it off this list.
NO_TESTS_YET: dict[str, str] = {}


def expected_test_file(module):
    """The test file of a library module: by the rule above, or as ``TEST_FILE_OF`` says."""
    if module in TEST_FILE_OF:
        return ROOT / TEST_FILE_OF[module]
    path = Path(module).relative_to("convexnn")
    return ROOT / "tests" / path.parent / f"test_{path.stem.lstrip('_')}.py"


def test_every_library_module_has_a_test_file_of_its_own():
    modules = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "convexnn").rglob("*.py"))
    listed = {**TEST_FILE_OF, **NEEDS_NO_TESTS, **NO_TESTS_YET}
    stale = sorted(set(listed) - set(modules))
    assert not stale, f"no such modules (drop them from the lists here): {stale}"
    untested = [
        f"{m} has no {expected_test_file(m).relative_to(ROOT)}"
        for m in modules
        if m not in NEEDS_NO_TESTS and m not in NO_TESTS_YET and not expected_test_file(m).is_file()
    ]
    assert not untested, "\n".join(untested)
    tested = [m for m in NO_TESTS_YET if expected_test_file(m).is_file()]
    assert not tested, f"these have a test file now: take them off NO_TESTS_YET: {tested}"
