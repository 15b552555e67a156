"""The public API the README and the docs use exists: every ``from convexnn… import …`` in their
code and every dotted ``convexnn.…`` name in their text resolves, so a refactor that moves or
renames a documented name fails here instead of in a reader's session."""

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")),
         *sorted((ROOT / "docs").glob("*.rst")), *sorted((ROOT / "docs" / "examples").glob("*.py"))]
PAGES = [p for p in PAGES if "_build" not in p.parts and "_autosummary" not in p.parts]

FROM_IMPORT = re.compile(
    r"^[ \t]*from[ \t]+(convexnn(?:\.\w+)*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#]+)", re.M
)
DOTTED = re.compile(r"\bconvexnn(?:\.\w+)+")


def _used_names():
    names = set()
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for module, imported in FROM_IMPORT.findall(text):
            for name in imported.strip("()").replace("\n", " ").split(","):
                name = name.split(" as ")[0].strip()
                if name:
                    names.add(f"{module}.{name}")
        names.update(DOTTED.findall(text))
    return sorted(names)


def _resolve(dotted):
    """The object a dotted name refers to: the longest importable module prefix, then
    attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            obj = getattr(obj, attribute)
        return obj
    raise ModuleNotFoundError(dotted)


def test_the_pages_name_public_objects():
    names = _used_names()
    assert len(names) > 30, names  # the pattern still finds what the pages use


@pytest.mark.parametrize("name", _used_names())
def test_every_name_the_readme_and_docs_use_exists(name):
    _resolve(name)
