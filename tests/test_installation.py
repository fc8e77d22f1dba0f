"""The version and the ``python -m skmdn`` report of the installed package.

The clash with scikit-mdn, which needs its wheel installed over this
package's files, is tested on a fresh environment by ``make install-check``.
"""

import importlib
import subprocess
import sys
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path

import pytest

import skmdn


def test_version_is_the_installed_metadata():
    assert skmdn.__version__ == metadata.version("skmdn")


def test_python_m_skmdn_reports_this_package_and_exits_0(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "skmdn"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    where = Path(skmdn.__file__).parent
    assert lines[0] == f"skmdn {skmdn.__version__} at {where}"
    assert f"torch {metadata.version('torch')}" in lines[-1]
    assert "error" not in result.stderr


@pytest.mark.skipif(find_spec("skpro") is not None, reason="skpro is installed")
def test_skpro_adapter_without_skpro_says_how_to_install_it():
    with pytest.raises(ImportError, match=r'pip install "\.\[skpro\]"'):
        importlib.import_module("skmdn.skpro")
