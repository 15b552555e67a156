"""Sphinx configuration of the convexnn documentation.

Build with ``sphinx-build -W -b html docs docs/_build/html`` (``pip install -e ".[docs]"``).
Pages are Markdown (MyST) or reStructuredText; to add one, create the file and add its name to the
``toctree`` of ``index.md`` (or of ``guide/index.md`` for a user-guide page). A new public module
needs one line in ``api.rst``. Example scripts in ``examples/`` run at every build (``_ext``).
"""

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # document this source tree, whatever is installed
sys.path.insert(0, str(DOCS / "_ext"))

import convexnn  # noqa: E402

project = "convexnn"
author = "convexnn developers"
copyright = "convexnn developers"
release = version = convexnn.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "run_examples",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
templates_path = ["_templates"]
exclude_patterns = ["_build", "_generated", "examples", "README.md", "Thumbs.db", ".DS_Store"]

# MyST: $…$ and $$…$$ maths, ::: fences, and heading anchors for cross-page links
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# API reference: one generated page per public module listed in api.rst, one per public object
autosummary_generate = True
autosummary_imported_members = False
autosummary_ignore_module_all = False
autodoc_typehints = "none"  # numpydoc sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
# numpydoc checks every documented object's docstring; a failure is a build warning (an error
# under -W). GL08: the object has no docstring; PR01: a parameter of the signature is not
# described; PR02: a described parameter is not in the signature; PR10: "name: type" lacks the
# space before the colon ("name : type"). Excluded are only methods scikit-learn's base classes
# give every estimator (should a page ever list inherited members): their docstrings are not ours.
numpydoc_validation_checks = {"GL08", "PR01", "PR02", "PR10"}
numpydoc_validation_exclude = {
    r"\.get_params$",
    r"\.set_params$",
    r"\.score$",
    r"\.get_metadata_routing$",
    r"\.set_\w+_request$",
}

html_theme = "furo"
html_title = f"convexnn {version}"
html_static_path = []


def _skip_generated_request_setters(app, what, name, obj, skip, options):
    """scikit-learn adds ``set_<method>_request`` methods (metadata routing) to every estimator;
    their docstrings refer to scikit-learn's own glossary, which this site does not have."""
    if (name.startswith("set_") and name.endswith("_request")) or name == "get_metadata_routing":
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_generated_request_setters)
