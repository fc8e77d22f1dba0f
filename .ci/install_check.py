"""The checks of .ci/install-check, run by the fresh environment's Python.

It needs Python 3.11 or later (tomllib). Each stage is one argument;
.ci/install-check runs them as it installs:

- ``base``: the wheel alone. skmdn imports from the environment (not the
  checkout) without a warning, its version is the one of skmdn/_version.py
  in the metadata too, the metadata has the name, dependencies and extras of
  pyproject.toml, the wheel holds every module of skmdn/ and nothing else
  (no tests), a small model fits and predicts, and matplotlib is absent.
- ``plot``: with the extra [plot], a predicted density can be drawn.
- ``skpro``: with the extra [skpro], the skpro adapter fits, and skpro's
  log-loss of its prediction is skmdn's mean log-likelihood.
- ``clash-overwritten``: scikit-mdn was installed over skmdn, so
  ``from skmdn import MDNRegressor`` fails.
- ``clash-warned``: skmdn was installed again over scikit-mdn: it works, and
  its import warns that scikit-mdn is installed too.
- ``clash-uninstalled``: uninstalling scikit-mdn took skmdn/__init__.py away.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import re
import sys
import warnings
import zipfile
from importlib import metadata
from pathlib import Path

import tomllib


def fail(message: str) -> None:
    sys.exit(f"install-check failed: {message}")


def expect(condition: bool, message: str) -> None:
    if not condition:
        fail(message)


def source_version(checkout: Path) -> str:
    tree = ast.parse((checkout / "skmdn" / "_version.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "__version__":
            return node.value.value
    fail("skmdn/_version.py sets no __version__")


def _normalized(requirement: str) -> str:
    return re.sub(r"\s+", "", requirement).replace("'", '"')


def expected_requirements(checkout: Path) -> set[str]:
    """Requires-Dist entries that pyproject.toml declares."""
    project = tomllib.loads((checkout / "pyproject.toml").read_text())["project"]
    expected = {_normalized(r) for r in project["dependencies"]}
    for extra, requirements in project["optional-dependencies"].items():
        expected |= {_normalized(f'{r}; extra == "{extra}"') for r in requirements}
    return expected


def import_skmdn():
    """Import skmdn, returning it and the warnings its import raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        skmdn = importlib.import_module("skmdn")
    return skmdn, [str(w.message) for w in caught if "scikit-mdn" in str(w.message)]


def fit_small_model(skmdn):
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(80, 2))
    y = X[:, 0] + 0.1 * rng.standard_normal(80)
    mdn = skmdn.MDNRegressor(
        n_components=2, hidden_layer_sizes=(8,), max_epochs=5, random_state=0
    ).fit(X, y)
    mean, std = mdn.predict(X[:5], return_std=True)
    expect(mean.shape == (5,) and np.all(std > 0), "predict(return_std=True)")
    expect(np.isfinite(mdn.score(X, y)), "score is not finite")
    return mdn, X


def check_base(checkout: Path, wheel: Path) -> None:
    skmdn, clash_warnings = import_skmdn()
    location = Path(skmdn.__file__).resolve()
    expect(checkout not in location.parents, f"skmdn imported from {location}")
    expect(not clash_warnings, f"import warned: {clash_warnings}")

    version = source_version(checkout)
    dist = metadata.distribution("skmdn")
    expect(dist.metadata["Name"] == "skmdn", f"name {dist.metadata['Name']!r}")
    expect(
        skmdn.__version__ == dist.version == version,
        f"skmdn.__version__ {skmdn.__version__}, metadata {dist.version}, "
        f"skmdn/_version.py {version}",
    )
    declared = {_normalized(r) for r in dist.requires or []}
    expected = expected_requirements(checkout)
    expect(
        declared == expected,
        "Requires-Dist differs from pyproject.toml: only in the metadata "
        f"{sorted(declared - expected)}, only in pyproject.toml "
        f"{sorted(expected - declared)}",
    )

    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    expect(
        tops == {"skmdn", f"skmdn-{version}.dist-info"},
        f"the wheel's top-level entries are {sorted(tops)}",
    )
    tests = [
        n
        for n in names
        if "tests" in n.split("/")
        or Path(n).name.startswith("test_")
        or Path(n).name == "conftest.py"
    ]
    expect(not tests, f"the wheel ships tests: {tests}")
    modules = {
        p.relative_to(checkout).as_posix() for p in (checkout / "skmdn").rglob("*.py")
    }
    missing = modules - set(names)
    expect(not missing, f"the wheel lacks {sorted(missing)}")

    fit_small_model(skmdn)
    expect(
        importlib.util.find_spec("matplotlib") is None,
        "matplotlib was installed without the extra [plot]",
    )


def check_plot() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    skmdn, _ = import_skmdn()
    mdn, X = fit_small_model(skmdn)
    grid = np.linspace(-2, 2, 50)
    density = mdn.predict_proba_density(X[:1], grid[None, :])
    fig, ax = plt.subplots()
    ax.plot(grid, density[0])
    fig.canvas.draw()
    plt.close(fig)


def check_skpro() -> None:
    import pandas as pd
    from skpro.metrics import LogLoss

    skmdn, _ = import_skmdn()
    from skmdn.skpro import MDNProbaRegressor

    _, X = fit_small_model(skmdn)
    X = pd.DataFrame(X, columns=["a", "b"])
    y = pd.DataFrame({"t": X["a"] ** 2})
    reg = MDNProbaRegressor(
        skmdn.MDNRegressor(n_components=2, hidden_layer_sizes=(8,), max_epochs=5)
    ).fit(X, y)
    log_loss = LogLoss()(y, reg.predict_proba(X))
    score = reg.estimator_.score(X, y["t"])
    expect(abs(log_loss + score) < 1e-9, f"LogLoss {log_loss}, score {score}")
    print(
        f"install-check: skpro {metadata.version('skpro')}, "
        f"pandas {metadata.version('pandas')}"
    )


def check_clash_overwritten() -> None:
    skmdn, _ = import_skmdn()
    expect(not hasattr(skmdn, "MDNRegressor"), "skmdn/__init__.py is still ours")
    expect(metadata.version("scikit-mdn") == "0.0.3", "scikit-mdn not installed")


def check_clash_warned() -> None:
    skmdn, clash_warnings = import_skmdn()
    expect(
        any("scikit-mdn 0.0.3 is installed too" in w for w in clash_warnings),
        f"no warning about scikit-mdn at import; got {clash_warnings}",
    )
    fit_small_model(skmdn)


def check_clash_uninstalled() -> None:
    skmdn, _ = import_skmdn()
    expect(
        skmdn.__file__ is None and not hasattr(skmdn, "MDNRegressor"),
        "uninstalling scikit-mdn left skmdn/__init__.py in place",
    )


STAGES = {
    "base": check_base,
    "plot": check_plot,
    "skpro": check_skpro,
    "clash-overwritten": check_clash_overwritten,
    "clash-warned": check_clash_warned,
    "clash-uninstalled": check_clash_uninstalled,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=STAGES)
    parser.add_argument("--checkout", type=Path, required=True)
    parser.add_argument("--wheel", type=Path, required=True)
    args = parser.parse_args()
    if args.stage == "base":
        check_base(args.checkout.resolve(), args.wheel)
    else:
        STAGES[args.stage]()
    print(f"install-check: {args.stage} ok")


if __name__ == "__main__":
    main()
