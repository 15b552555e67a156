"""Run every script in ``docs/examples`` when the documentation is built.

Each script runs in its own process with the working directory ``docs/_generated/examples``, so the
figures it saves land there; its standard output is written beside them as ``<name>.txt``.
Pages show a script with ``literalinclude`` and its output and figures from that folder.
A script that fails stops the build, so the documentation never shows an example that does not run.

The module is importable without Sphinx (the tests use :func:`run_examples` directly when Sphinx is
not installed).
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

DOCS_DIR = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = DOCS_DIR / "examples"
OUTPUT_DIR = DOCS_DIR / "_generated" / "examples"


class ExampleError(RuntimeError):
    """An example script exited with an error."""


def example_scripts(examples_dir: Path = EXAMPLES_DIR) -> list[Path]:
    """The example scripts, sorted by name (files starting with ``_`` are helpers, not examples)."""
    return sorted(p for p in examples_dir.glob("*.py") if not p.name.startswith("_"))


def run_example(script: Path, output_dir: Path = OUTPUT_DIR, timeout: float = 300.0) -> float:
    """Run one example; write its standard output to ``output_dir/<name>.txt``.

    Returns the wall time in seconds. Raises :class:`ExampleError` with the script's error output
    when it exits with a non-zero status.
    """
    import time

    output_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    # the documented package is the one in this source tree, whatever is installed
    repo_root = str(DOCS_DIR.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [repo_root, env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "Agg"
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=output_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise ExampleError(
            f"example {script.name} failed with exit status {proc.returncode}:\n"
            + proc.stderr[-4000:]
        )
    (output_dir / f"{script.stem}.txt").write_text(proc.stdout)
    return elapsed


def run_examples(scripts=None, output_dir: Path = OUTPUT_DIR, n_jobs: int | None = None):
    """Run the example scripts (all of them by default), two at a time; return their wall times."""
    scripts = example_scripts() if scripts is None else list(scripts)
    # the longest scripts tend to be the slowest: start them first so the workers finish together
    scripts.sort(key=lambda s: s.stat().st_size, reverse=True)
    n_jobs = n_jobs or min(2, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        times = list(pool.map(lambda s: run_example(s, output_dir), scripts))
    return dict(sorted(zip([s.name for s in scripts], times, strict=True)))


def _on_builder_inited(app):
    from sphinx.errors import ExtensionError
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    try:
        times = run_examples()
    except ExampleError as exc:
        raise ExtensionError(str(exc)) from exc
    for name, seconds in times.items():
        logger.info(f"example {name}: {seconds:.1f}s")


def setup(app):
    app.connect("builder-inited", _on_builder_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
