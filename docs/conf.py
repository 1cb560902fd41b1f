"""Sphinx configuration of the skcoinmix documentation.

Build the HTML site (offline, warnings as errors) from the repository root::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

and check that its equations render without network (MathJax is copied into
the site by ``sphinx-mathjax-offline``)::

    python docs/check_offline_math.py docs/_build/html

Set ``SKCOINMIX_DOCS_INTERSPHINX=1`` to link to the numpy, scipy and
scikit-learn documentation (needs the network at build time).
"""

import os
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: every figure is written to a file

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# Document the working tree's skcoinmix, installed or not.
sys.path.insert(0, str(ROOT))

import skcoinmix  # noqa: E402

# -- Project ----------------------------------------------------------------
project = "skcoinmix"
author = "The skcoinmix developers"
copyright = "the skcoinmix developers"
version = release = skcoinmix.__version__

# -- General ----------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # MathJax from the built site's _static/mathjax, not from a CDN: the
    # equations render in a browser without network.
    "sphinx-mathjax-offline",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
templates_path = ["_templates"]
# examples/ holds the gallery scripts, rendered into auto_examples/.
exclude_patterns = ["_build", "examples", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"

# Intersphinx only on request: CI and the development machines reach no
# documentation host, and the offline build must pass with -W.
if os.environ.get("SKCOINMIX_DOCS_INTERSPHINX", "") not in ("", "0"):
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable/", None),
        "scipy": ("https://docs.scipy.org/doc/scipy/", None),
        "sklearn": ("https://scikit-learn.org/stable/", None),
    }

# -- autodoc, autosummary, numpydoc -----------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# Every documented parameter and return value, checked at each build (a
# failed check is a warning, so an error with -W).
numpydoc_validation_checks = {
    "GL06",  # unknown section
    "GL07",  # sections in the wrong order
    "PR01",  # parameter not documented
    "PR02",  # documented parameter that does not exist
    "PR03",  # parameters in the wrong order
    "PR07",  # parameter without a description
    "RT01",  # no Returns section
    "RT03",  # return value without a description
    "SS01",  # no summary line
}
numpydoc_validation_exclude = {
    # Inherited from scikit-learn, documented there.
    r"\.(get_params|set_params|set_output|get_metadata_routing|fit_transform"
    r"|get_feature_names_out|set_\w+_request)$",
    # A dataclass: its fields are documented as Attributes.
    r"^skcoinmix\.FitReport$",
    # The results of skcoinmix.inference: dataclasses and named tuples too
    # (a named tuple's count and index are tuple's).
    r"^skcoinmix\.inference\.[A-Z]\w*(\.count|\.index)?$",
    r"\.__init__$",
}

# -- sphinx-gallery ---------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "doc_module": ("skcoinmix",),
    "backreferences_dir": "generated/backreferences",
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
}

# -- HTML -------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skcoinmix {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"**": ["sidebar-nav-bs"]}
html_show_sourcelink = False


# -- The benchmark table, from benchmarks/README.md --------------------------
BENCHMARKS_README = ROOT / "benchmarks" / "README.md"
BENCHMARK_INCLUDE = DOCS / "generated" / "benchmark_results.inc"
#: The results block of each README marker name, and the file it is written to.
BENCHMARK_INCLUDES = {
    "results": BENCHMARK_INCLUDE,
    "categorical-results": DOCS / "generated" / "benchmark_categorical_results.inc",
    "time_to_solution": DOCS / "generated" / "benchmark_time_to_solution.inc",
    "mixed_precision": DOCS / "generated" / "benchmark_mixed_precision.inc",
}


def _inline_markdown(text):
    """Markdown inline code and bold to reST."""
    text = re.sub(r"`([^`]+)`", r"``\1``", text)
    return re.sub(r"\*\*([^*]+)\*\*", r"**\1**", text)


def markdown_results_to_rst(markdown, marker="results"):
    """The block between the ``marker`` markers of benchmarks/README.md, as reST.

    The block holds paragraphs, bullet lists and one pipe table; the table
    becomes a ``list-table``, the rest keeps its lines with inline code
    converted.
    """
    match = re.search(
        rf"<!-- {marker}:start.*?-->\n(.*?)<!-- {marker}:end -->", markdown, re.S
    )
    if match is None:
        raise ValueError(f"no results markers in {BENCHMARKS_README}")
    out = []
    table = []

    def flush_table():
        if not table:
            return
        header, rows = table[0], table[2:]
        out.extend(
            [".. list-table::", "   :header-rows: 1", "   :class: benchmark-table", ""]
        )
        for row in [header, *rows]:
            cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
            for i, cell in enumerate(cells):
                bullet = "   * - " if i == 0 else "     - "
                out.append(bullet + (_inline_markdown(cell) or ""))
        out.append("")
        table.clear()

    for line in match.group(1).splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        flush_table()
        out.append(_inline_markdown(line))
    flush_table()
    return "\n".join(out) + "\n"


def write_benchmark_include(app):
    readme = BENCHMARKS_README.read_text(encoding="utf-8")
    for marker, include in BENCHMARK_INCLUDES.items():
        include.parent.mkdir(parents=True, exist_ok=True)
        text = markdown_results_to_rst(readme, marker)
        if not include.exists() or include.read_text() != text:
            include.write_text(text, encoding="utf-8")


def offline_sklearn_references(app, env, node, contnode):
    """Keep the text of scikit-learn's own glossary and label links, offline.

    The API pages show the methods the estimator inherits from scikit-learn
    (``get_params``, ``set_output``, ``set_fit_request``...), whose
    docstrings link to scikit-learn's glossary and user guide with
    ``:term:`` and ``:ref:``. Intersphinx resolves those when it is on;
    without it they are shown as plain text instead of failing the build.
    Only references from scikit-learn's docstrings are treated so.
    """
    if node.get("refdomain") != "std" or node.get("reftype") not in ("term", "ref"):
        return None
    source = node.source or ""
    if "docstring of sklearn." not in source:
        return None
    return contnode


def setup(app):
    app.connect("builder-inited", write_benchmark_include)
    # After intersphinx (priority 500 by default), so that it wins when on.
    app.connect("missing-reference", offline_sklearn_references, priority=900)
