"""Sphinx configuration of the fastloss documentation.

Build (with fastloss installed in the running Python; tools/build_docs.sh does this
with warnings as errors and also runs the examples of the pages as doctests):

    python -P -m sphinx -W -b html docs docs/_build/html

Two project-specific pieces live here:

- the ``:loss:`` role names a loss of the catalogue (``:loss:`BinaryFocal```). It
  links to the API reference when the installed fastloss has that name, and marks
  it "†" (with a note on the page) when it does not, so the guides can cover the
  whole catalogue while linking only what exists;
- a check that every public name of ``fastloss.__all__`` is listed in api.rst,
  so a new family cannot be left out of the API reference silently.
"""

import os
import re
from pathlib import Path

from docutils import nodes
from sphinx.util import logging

import fastloss

# The API reference imports fastloss.keras, and Keras imports its backend on import:
# TensorFlow unless told otherwise. The documentation is built with the torch backend.
os.environ.setdefault("KERAS_BACKEND", "torch")

project = "fastloss"
author = "the fastloss developers"
copyright = "2026, the fastloss developers"
version = release = fastloss.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "numpydoc",
]

exclude_patterns = ["_build"]
templates_path = ["_templates"]
html_theme = "alabaster"
html_theme_options = {
    "description": "Fast, exact, reproducible loss functions for the CPU",
    "fixed_sidebar": True,
}
html_static_path = []

autosummary_generate = True
autodoc_default_options = {"members": True}  # class.rst adds inherited-members for losses
# Signatures show the names of the annotation types (api.rst explains them), not
# their expansions (numpy's ArrayLike alone is a union of seven types).
autodoc_type_aliases = {
    name: name
    for name in ("ArrayLike", "FloatArray", "LossValue", "Reduction", "Pair", "Triple", "Strategy")
}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# Examples in the pages (">>>" blocks) run under `sphinx-build -b doctest`.
doctest_global_setup = "import numpy as np\nimport fastloss as fl"

DOCS = Path(__file__).parent
logger = logging.getLogger("fastloss.docs")


def loss_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """:loss:`Name`: a link to fastloss.Name when it exists, else the name marked †."""
    target = text.strip()
    if hasattr(fastloss, target):
        env = inliner.document.settings.env
        py_obj = env.get_domain("py").role("obj")
        return py_obj("py:obj", rawtext, f"~fastloss.{target}", lineno, inliner,
                      options or {}, content or [])
    literal = nodes.literal(rawtext, target, classes=["xref", "loss-planned"])
    return [literal, nodes.superscript("", "†", classes=["loss-planned"])], []


def note_planned_losses(app, doctree):
    """Explain the † marks on any page that has them."""
    if not any("loss-planned" in node["classes"] for node in doctree.findall(nodes.superscript)):
        return
    note = nodes.note()
    note += nodes.paragraph(
        "", "Names marked † are part of the fastloss catalogue but not in this "
        f"version ({fastloss.__version__}) of the package.")
    section = next(iter(doctree.findall(nodes.section)), doctree)
    title_index = 1 if section.children and isinstance(section[0], nodes.title) else 0
    section.insert(title_index, note)


def check_api_reference(app):
    """Warn (an error under -W) for public names missing from api.rst."""
    listed = set(re.findall(r"^\s{3}(\w+)\s*$", (DOCS / "api.rst").read_text(), re.MULTILINE))
    missing = [name for name in fastloss.__all__ if name not in listed]
    if missing:
        logger.warning(
            "public names missing from the API reference (docs/api.rst): %s; "
            "add them to their family's list", ", ".join(missing))


def tidy_signature(app, what, name, obj, options, signature, return_annotation):
    """Print an alias of autodoc_type_aliases inside a union (``ArrayLike | None``) by
    its name: Sphinx leaves it as ``TypeAliasForwardRef('ArrayLike')`` there."""
    def tidy(text):
        return text and re.sub(r"TypeAliasForwardRef\('(\w+)'\)", r"\1", text)

    return tidy(signature), tidy(return_annotation)


def setup(app):
    app.add_role("loss", loss_role)
    app.connect("autodoc-process-signature", tidy_signature)
    app.connect("doctree-read", note_planned_losses)
    app.connect("builder-inited", check_api_reference)
    return {"parallel_read_safe": True}
