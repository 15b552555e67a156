"""The layout rules the code keeps: no module reaches into another's private names."""

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
