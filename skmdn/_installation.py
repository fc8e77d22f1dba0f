"""Which ``skmdn`` is imported, and the clash with the PyPI package scikit-mdn.

The unrelated package ``scikit-mdn`` installs a top-level module that is
also named ``skmdn`` (one file, ``skmdn/__init__.py``). In one environment
the two overwrite each other's ``skmdn/__init__.py`` without a word from
pip: ``import skmdn`` loads whichever came last, the other is broken, and
uninstalling either deletes the file that the other imports. This module
tells the user so: a warning when this package is imported beside
scikit-mdn, and the report of ``python -m skmdn`` (:func:`diagnose`), which
also works when scikit-mdn's file has replaced this package's.
"""

from __future__ import annotations

import sys
import warnings
from importlib import metadata
from pathlib import Path

from ._version import __version__

OTHER_DISTRIBUTION = "scikit-mdn"

# What `python -m skmdn` lists beside skmdn itself.
_DEPENDENCIES = ("numpy", "scipy", "scikit-learn", "torch", "skorch")

_FIX = (
    f"Uninstall both (pip uninstall -y {OTHER_DISTRIBUTION} skmdn), then install "
    "skmdn again (pip install . in its checkout, or its wheel); to use both "
    "packages, install them in separate virtual environments."
)


def _version_of(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def clash_message() -> str | None:
    """What is wrong when scikit-mdn is installed, or None when it is not."""
    other = _version_of(OTHER_DISTRIBUTION)
    if other is None:
        return None
    return (
        f"{OTHER_DISTRIBUTION} {other} is installed too. It is an unrelated "
        "package that also installs a module named 'skmdn': the two overwrite "
        f"each other's skmdn/__init__.py, so one of them is broken. {_FIX}"
    )


def warn_if_clashing() -> None:
    """Warn when this package is imported beside scikit-mdn."""
    message = clash_message()
    if message is not None:
        warnings.warn(message, UserWarning, stacklevel=2)


def diagnose() -> tuple[list[str], list[str]]:
    """Describe the ``skmdn`` that ``import skmdn`` loads, and what is wrong.

    Returns
    -------
    info : list of str
        The version and location of skmdn, the Python version and the
        versions of the dependencies.
    problems : list of str
        Empty when ``import skmdn`` loads this package, its installed
        metadata agrees with its files and scikit-mdn is not installed.

    Examples
    --------
    >>> from skmdn._installation import diagnose
    >>> info, problems = diagnose()
    >>> info[0].startswith("skmdn ")
    True
    """
    import skmdn

    where = Path(skmdn.__file__).parent
    info = [f"skmdn {__version__} at {where}"]
    problems = []
    installed = _version_of("skmdn")
    if installed is None:
        info.append("  not installed: imported from a source tree")
    elif installed != __version__:
        problems.append(
            f"The installed metadata says skmdn {installed}, but the files at "
            f"{where} are skmdn {__version__}: install skmdn again."
        )
    versions = [f"python {sys.version.split()[0]}"] + [
        f"{name} {_version_of(name) or 'not installed'}" for name in _DEPENDENCIES
    ]
    info.append("  " + ", ".join(versions))
    clash = clash_message()
    if not hasattr(skmdn, "MDNRegressor"):
        owner = f"it is {OTHER_DISTRIBUTION}'s" if clash else "it is another package's"
        problems.append(
            f"'import skmdn' loads {skmdn.__file__}, which is not this package's "
            f"__init__.py ({owner}), so 'from skmdn import MDNRegressor' fails. " + _FIX
        )
    elif clash:
        problems.append(clash)
    return info, problems
