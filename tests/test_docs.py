"""The documentation builds without a single warning, and every example in it runs.

The Sphinx build runs every script in ``docs/examples`` (``docs/_ext/run_examples.py``) and fails if
one fails; without Sphinx the scripts are run directly, so they are checked either way.
"""

import importlib.util
import os
import pkgutil
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import convexnn

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))
import run_examples  # noqa: E402

DOCS_REQUIREMENTS = ("sphinx", "numpydoc", "myst_parser", "furo")
MISSING = [name for name in DOCS_REQUIREMENTS if importlib.util.find_spec(name) is None]
EXAMPLES = run_examples.example_scripts()
PAGES = sorted(
    p
    for p in DOCS.rglob("*")
    if p.suffix in (".md", ".rst")
    and not any(part.startswith("_") for part in p.relative_to(DOCS).parts)
)


@pytest.fixture(scope="module")
def docs_build(tmp_path_factory):
    """Build the HTML documentation (which runs the examples), or only run the examples when the
    documentation tools are not installed. Returns the output folder (None without Sphinx)."""
    start = time.time()
    if MISSING:
        run_examples.run_examples()
        return None, start, ""
    out = tmp_path_factory.mktemp("html")
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", str(DOCS), str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    log = proc.stdout + proc.stderr
    return (out if proc.returncode == 0 else log), start, log


def test_docs_build_without_warnings(docs_build):
    if MISSING:
        missing = ", ".join(MISSING)
        pytest.skip(f"documentation tools not installed ({missing}): pip install -e '.[docs]'")
    out, _, log = docs_build
    assert isinstance(out, Path), f"sphinx-build -W failed:\n{log[-6000:]}"
    for page in PAGES:
        html = out / page.relative_to(DOCS).with_suffix(".html")
        assert html.is_file(), f"{page.name} was not built"
    api = (out / "api.html").read_text()
    assert "convexnn.estimators.ConvexReLURegressor" in api
    # classes are documented with their methods, not only their docstring
    program = (out / "_autosummary" / "convexnn.program.ConvexProgram.html").read_text()
    assert 'id="convexnn.program.ConvexProgram.duality_gap"' in program


@pytest.mark.parametrize("script", EXAMPLES, ids=[s.stem for s in EXAMPLES])
def test_example_ran(docs_build, script):
    """Each example ran during this build and left its output (and its figures) for the pages."""
    out, start, log = docs_build
    assert not isinstance(out, str), f"the build failed:\n{out[-6000:]}"
    text = run_examples.OUTPUT_DIR / f"{script.stem}.txt"
    assert text.is_file() and text.stat().st_mtime >= start - 1, f"{script.name} did not run"
    assert text.read_text().strip(), f"{script.name} printed nothing"
    for figure in re.findall(r'savefig\("([^"]+)"', script.read_text()):
        path = run_examples.OUTPUT_DIR / figure
        assert path.is_file() and path.stat().st_size > 1000, f"{script.name} did not save {figure}"
        assert path.stat().st_mtime >= start - 1


def test_every_example_is_shown_and_every_shown_file_exists():
    sources = "\n".join(p.read_text() for p in PAGES)
    for script in EXAMPLES:
        assert f"examples/{script.name}" in sources, f"{script.name} is not shown on any page"
    for shown in re.findall(r"_generated/examples/([\w.-]+)", sources):
        stem = shown.rsplit(".", 1)[0]
        producer = DOCS / "examples" / f"{stem}.py"
        assert producer.is_file() or any(f'savefig("{shown}"' in s.read_text() for s in EXAMPLES), (
            f"no example produces {shown}"
        )


def test_code_on_pages_comes_from_examples_that_run():
    """Python code is shown with literalinclude from docs/examples, never typed into a page, so
    every line of code in the documentation is run by the build."""
    for page in PAGES:
        text = page.read_text()
        assert not re.search(r"^```+[ \t]*(\{code-block\}[ \t]*)?python", text, re.M), (
            f"{page.relative_to(DOCS)} has inline Python code: move it to docs/examples/"
        )
        assert ".. code-block:: python" not in text


def test_api_reference_lists_every_public_module():
    listed = set(re.findall(r"^\s+(convexnn(?:\.\w+)+)\s*$", (DOCS / "api.rst").read_text(), re.M))
    public = {
        m.name
        for m in pkgutil.walk_packages(convexnn.__path__, "convexnn.")
        if not any(part.startswith("_") for part in m.name.split("."))
    }
    missing = public - listed
    assert not missing, f"add these modules to docs/api.rst: {sorted(missing)}"


def test_code_and_docs_cite_the_projects_own_maths_page():
    """The maths is docs/maths.md (stable labels such as ``maths-gap``); nothing in the project
    points at a document outside it."""
    outside = "MATH" + ".md"
    citing = [
        str(path.relative_to(ROOT))
        for folder in ("convexnn", "docs", "tests", "benchmarks")
        for path in (ROOT / folder).rglob("*")
        if path.suffix in {".py", ".md", ".rst", ".txt"} and "_build" not in path.parts
        and outside in path.read_text(errors="ignore")
    ] + [name for name in ("README.md",) if outside in (ROOT / name).read_text()]
    assert not citing, f"these files cite {outside}, not docs/maths.md: {citing}"
    labels = set(re.findall(r"^\((maths-[\w-]+)\)=$", (DOCS / "maths.md").read_text(), re.M))
    cited = {
        label
        for path in (ROOT / "convexnn").rglob("*.py")
        for label in re.findall(r":ref:`(maths-[\w-]+)`", path.read_text())
    }
    assert cited and cited <= labels, f"labels cited but not defined: {sorted(cited - labels)}"
