"""The version of skmdn: the one place it is written.

``pyproject.toml`` reads it (``[tool.setuptools.dynamic]``) into the
package metadata, and ``skmdn.__version__`` imports it, so the two cannot
disagree.
"""

__version__ = "0.1.0.dev0"
