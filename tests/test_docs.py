"""The documentation's sources stay complete (the site is built by make docs)."""

import re
from pathlib import Path

import skmdn
from skmdn import datasets, metrics, model_selection, plotting

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _documented():
    """Every name listed in an autosummary of the API reference."""
    text = (DOCS / "api.rst").read_text()
    names, module = set(), None
    for line in text.splitlines():
        current = re.match(r"\.\. currentmodule:: (\S+)", line)
        if current:
            module = current.group(1)
        entry = re.match(r"   ([A-Za-z_]\w*)$", line)
        if entry and module:
            names.add(f"{module}.{entry.group(1)}")
    return names


def test_the_api_reference_lists_every_public_name():
    modules = {"datasets", "metrics", "model_selection", "plotting"}
    public = {
        f"skmdn.{name}"
        for name in skmdn.__all__
        if name not in modules and not name.startswith("__")
    }
    for module in (datasets, metrics, model_selection, plotting):
        public |= {f"{module.__name__}.{name}" for name in module.__all__}
    assert _documented() == public


def test_every_user_guide_page_is_in_the_guide():
    pages = {p.stem for p in DOCS.glob("*.md")} - {"changelog", "citing"}
    toctree = (DOCS / "user_guide.rst").read_text().split()
    assert pages <= set(toctree)
