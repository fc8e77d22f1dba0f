"""Sphinx configuration of the skmdn documentation (``make docs``)."""

import skmdn

project = "skmdn"
author = "The skmdn developers"
copyright = "The skmdn developers"
version = release = skmdn.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
templates_path = ["_templates"]
root_doc = "index"

# API reference: one page per public name, from the numpydoc docstrings.
autosummary_generate = True
autodoc_default_options = {"members": True}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# The user guide is Markdown (MyST); headings get anchors for links such as
# estimator.md#saving-and-loading-models.
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

html_theme = "pydata_sphinx_theme"
html_title = f"skmdn {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_static_path = ["_static"]
html_css_files = ["skmdn.css"]
html_show_sourcelink = False

# Gallery: every plot_*.py under examples/ runs at each build. With the CI
# variable set, the examples train for fewer epochs (they read it).
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"demo\.py",
    "subsection_order": [
        f"../examples/{name}"
        for name in ("tutorial", "distributions", "model_selection", "applications")
    ],
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("skmdn",),
    "backreferences_dir": "generated/backreferences",
    "download_all_examples": False,
    "remove_config_comments": True,
    "min_reported_time": 1,
    "show_memory": False,
    "matplotlib_animations": False,
    # Only HTML reprs (tables): not the repr of each display or Axes setter.
    "capture_repr": ("_repr_html_",),
    "image_scrapers": ("matplotlib",),
}


def skip_metadata_requests(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated ``set_*_request`` methods.

    scikit-learn adds them to every estimator for metadata routing and
    documents them in its own user guide, which this site does not carry.
    """
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return skip


def setup(app):
    app.connect("autodoc-skip-member", skip_metadata_requests)
