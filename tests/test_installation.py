"""The version and the ``python -m skmdn`` report of the installed package.

The clash with scikit-mdn, which needs its wheel installed over this
package's files, is tested on a fresh environment by ``make install-check``.
"""

import subprocess
import sys
from importlib import metadata
from pathlib import Path

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
