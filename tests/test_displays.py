"""The Display objects of skmdn.plotting, drawn headless (Agg)."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import norm

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.linear_model import BayesianRidge  # noqa: E402

from skmdn import MDNRegressor, MixtureDistribution, metrics  # noqa: E402
from skmdn.datasets import make_robot_arm  # noqa: E402
from skmdn.plotting import (  # noqa: E402
    CalibrationDisplay,
    ConditionalDensityDisplay,
    MixtureParametersDisplay,
)

from .conftest import FAST  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def line():
    """Two components whose means move apart along x, with known parameters."""
    x = np.linspace(-1.0, 1.0, 30)
    weights = np.c_[0.3 + 0.2 * x, 0.7 - 0.2 * x]
    means = np.c_[2.0 + x, -2.0 - x]  # the upper component first
    scales = np.c_[0.5 + 0.1 * x, 0.4 * np.ones_like(x)]
    return x, MixtureDistribution(weights, means, scales)


@pytest.fixture(scope="module")
def gaussian():
    """One Gaussian per x: the HDR of coverage c is mean +- z_c * scale."""
    x = np.linspace(0.0, 1.0, 40)
    ones = np.ones((40, 1))
    return x, MixtureDistribution(ones, (3.0 * x)[:, None], (0.5 + x)[:, None])


@pytest.fixture(scope="module")
def two_features():
    rng = np.random.default_rng(1)
    X = rng.uniform(-1.0, 1.0, size=(300, 2))
    y = X[:, 0] - 2.0 * X[:, 1] + 0.1 * rng.normal(size=300)
    return X, y, MDNRegressor(n_components=2, **FAST).fit(X, y)


@pytest.fixture(scope="module")
def arm():
    X, y = make_robot_arm(300, random_state=0)
    return X, y, MDNRegressor(n_components=2, **FAST).fit(X, y)


def _mesh(display):
    """The heatmap's values, one row per x (as ``display.density``)."""
    return (
        np.asarray(display.mesh_.get_array())
        .reshape(len(display.y_grid), len(display.x_grid))
        .T
    )


# --------------------------------------------------------------------------- #
# ConditionalDensityDisplay
# --------------------------------------------------------------------------- #
def test_density_heatmap_is_the_pdf_on_the_grid(line):
    x, dist = line
    disp = ConditionalDensityDisplay.from_distribution(x, dist, y_resolution=50)
    lower, upper = dist.interval(0.99)
    assert_allclose(disp.y_grid, np.linspace(lower.min(), upper.max(), 50))
    expected = dist.pdf(np.broadcast_to(disp.y_grid, (len(x), 50)))
    assert_allclose(disp.density, expected)
    assert_allclose(_mesh(disp), expected)
    assert disp.ax_.get_xlim() == (x[0], x[-1])
    assert disp.figure_ is disp.ax_.figure
    assert disp.colorbar_ is not None
    assert disp.data_scatter_ is None and disp.samples_scatter_ is None
    assert disp.quantile_lines_ == [] and disp.hdr_contours_ == []
    assert disp.ax_.get_xlabel() == "x" and disp.ax_.get_ylabel() == "y"


def test_density_overlays_carry_their_data(line):
    x, dist = line
    x_data = np.array([-0.5, 0.0, 0.5])
    y_data = np.array([1.0, -2.0, 3.0])
    disp = ConditionalDensityDisplay.from_distribution(
        x,
        dist,
        x_data=x_data,
        y_data=y_data,
        n_samples=3,
        quantiles=[0.1, 0.5],
        random_state=0,
        colorbar=False,
    )
    assert_array_equal(disp.data_scatter_.get_offsets(), np.c_[x_data, y_data])
    # The y grid spans the data, padded by 5% on each side.
    assert_allclose(disp.y_grid[[0, -1]], [-2.25, 3.25])
    draws = dist.sample(3, random_state=0)
    assert_allclose(disp.samples, draws)
    assert_allclose(
        disp.samples_scatter_.get_offsets(), np.c_[np.repeat(x, 3), draws.ravel()]
    )
    expected = dist.ppf(np.broadcast_to([0.1, 0.5], (len(x), 2)))
    for line_, curve in zip(disp.quantile_lines_, expected.T):
        assert_allclose(line_.get_xdata(), x)
        assert_allclose(line_.get_ydata(), curve)
    assert [t.get_text() for t in disp.ax_.get_legend().get_texts()] == [
        "data",
        "samples",
        "quantile 0.1",
        "quantile 0.5",
    ]
    assert disp.colorbar_ is None


def test_density_hdr_outline_lies_at_the_region_edges(gaussian):
    x, dist = gaussian
    disp = ConditionalDensityDisplay.from_distribution(
        x, dist, hdr=[0.5, 0.9], y_grid=np.linspace(-3.0, 6.0, 901)
    )
    assert_array_equal(disp.hdr_coverages, [0.5, 0.9])
    for j, coverage in enumerate((0.5, 0.9)):
        assert_allclose(disp.hdr_thresholds[:, j], dist.hdr(coverage).threshold)
        z = norm.ppf(0.5 + coverage / 2)
        vertices = np.concatenate(
            [path.vertices for path in disp.hdr_contours_[j].get_paths()]
        )
        mean, scale = 3.0 * vertices[:, 0], 0.5 + vertices[:, 0]
        # Every point of the outline is one of the region's two ends.
        assert_allclose(np.abs(vertices[:, 1] - mean), z * scale, atol=0.02)
    texts = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert texts == ["50% HDR", "90% HDR"]


def test_density_from_estimator_predicts_on_the_feature_grid(sinusoid, fitted):
    X, y = sinusoid
    disp = ConditionalDensityDisplay.from_estimator(
        fitted, X, y, grid_resolution=25, y_resolution=30, quantiles=0.5
    )
    assert_allclose(disp.x_grid, np.linspace(X.min(), X.max(), 25))
    assert_allclose(
        disp.y_grid[[0, -1]],
        np.array([y.min(), y.max()]) + np.ptp(y) * np.array([-0.05, 0.05]),
    )
    expected = fitted.predict_proba_density(
        disp.x_grid[:, None], np.broadcast_to(disp.y_grid, (25, 30))
    )
    assert_allclose(disp.density, expected, rtol=1e-10)
    assert_allclose(
        disp.quantile_lines_[0].get_ydata(),
        fitted.predict_quantiles(disp.x_grid[:, None], 0.5),
    )
    assert_array_equal(disp.data_scatter_.get_offsets(), np.c_[X[:, 0], y])


def test_density_holds_the_other_features_at_the_reference(two_features):
    X, y, mdn = two_features
    disp = ConditionalDensityDisplay.from_estimator(
        mdn, X, feature=1, reference=[0.5, 99.0], grid_resolution=10, y_resolution=20
    )
    rows = np.c_[np.full(10, 0.5), np.linspace(X[:, 1].min(), X[:, 1].max(), 10)]
    expected = mdn.predict_proba_density(rows, np.broadcast_to(disp.y_grid, (10, 20)))
    assert_allclose(disp.density, expected, rtol=1e-10)
    assert disp.ax_.get_xlabel() == "x1"
    # Without a reference, the other features are held at their medians.
    disp = ConditionalDensityDisplay.from_estimator(
        mdn, X, feature=0, feature_range=(-2, 2), grid_resolution=10, y_resolution=20
    )
    rows = np.c_[np.linspace(-2, 2, 10), np.full(10, np.median(X[:, 1]))]
    expected = mdn.predict_proba_density(rows, np.broadcast_to(disp.y_grid, (10, 20)))
    assert_allclose(disp.density, expected, rtol=1e-10)


def test_density_by_column_name_predicts_with_the_names(two_features):
    pd = pytest.importorskip("pandas")
    X, y, _ = two_features
    frame = pd.DataFrame(X, columns=["speed", "load"])
    mdn = MDNRegressor(n_components=2, **FAST).fit(frame, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names"
        disp = ConditionalDensityDisplay.from_estimator(
            mdn, frame, y, feature="load", grid_resolution=10, y_resolution=20
        )
    assert disp.ax_.get_xlabel() == "load"
    assert_array_equal(disp.data_scatter_.get_offsets()[:, 0], X[:, 1])


def test_density_of_one_output_of_several(arm):
    X, y, mdn = arm
    disp = ConditionalDensityDisplay.from_estimator(
        mdn, X, y, output=1, grid_resolution=10, y_resolution=20
    )
    grid = np.linspace(X[:, 0].min(), X[:, 0].max(), 10)
    rows = np.c_[grid, np.full(10, np.median(X[:, 1]))]
    marginal = mdn.predict_dist(rows).marginal(1)
    expected = marginal.pdf(np.broadcast_to(disp.y_grid, (10, 20)))
    assert_allclose(disp.density, expected, rtol=1e-10)
    assert_array_equal(disp.data_scatter_.get_offsets()[:, 1], y[:, 1])
    assert disp.ax_.get_ylabel() == "y1"
    with pytest.raises(ValueError, match="output=j"):
        ConditionalDensityDisplay.from_estimator(mdn, X, y)


def test_density_of_a_gaussian_regressor(two_features):
    X, y, _ = two_features
    ridge = BayesianRidge().fit(X, y)
    disp = ConditionalDensityDisplay.from_estimator(
        ridge, X, grid_resolution=10, y_resolution=20
    )
    grid = np.linspace(X[:, 0].min(), X[:, 0].max(), 10)
    rows = np.c_[grid, np.full(10, np.median(X[:, 1]))]
    mean, std = ridge.predict(rows, return_std=True)
    expected = norm.pdf(disp.y_grid[None, :], mean[:, None], std[:, None])
    assert_allclose(disp.density, expected, rtol=1e-10)


def test_density_draws_on_the_axes_given(line):
    x, dist = line
    _, ax = plt.subplots()
    disp = ConditionalDensityDisplay.from_distribution(x, dist, ax=ax)
    assert disp.ax_ is ax and disp.mesh_ in ax.collections


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"feature": 2}, "feature must be a column index"),
        ({"feature": 0.5}, "feature must be a column index"),
        ({"feature": True}, "feature must be a column index"),
        ({"feature": "speed"}, "feature='speed' is not a column"),
        ({"grid_resolution": 1}, "grid_resolution must be an integer >= 2"),
        ({"reference": [0.0]}, r"reference must have shape \(2,\)"),
        ({"reference": [0.0, np.nan]}, "reference contains NaN"),
        ({"feature_range": (1.0, -1.0)}, "feature_range must be two finite"),
        ({"feature_range": (0.0, np.inf)}, "feature_range must be two finite"),
        ({"y_resolution": 1}, "y_resolution must be an integer >= 2"),
        ({"y_grid": [2.0, 1.0]}, "y_grid must be a 1-D increasing"),
        ({"n_samples": -1}, "n_samples must be a non-negative integer"),
        ({"n_samples": 1.5}, "n_samples must be a non-negative integer"),
        ({"quantiles": [0.0, 0.5]}, "quantiles must lie in the open interval"),
        ({"quantiles": [[0.5]]}, "quantiles must be a non-empty 1-D array"),
        ({"hdr": 1.0}, "hdr must lie in the open interval"),
        ({"hdr": "high"}, "hdr must be a numeric array"),
        ({"output": 1}, "output must be None or 0"),
    ],
)
def test_density_bad_arguments_name_themselves(two_features, kwargs, match):
    X, y, mdn = two_features
    with pytest.raises(ValueError, match=match):
        ConditionalDensityDisplay.from_estimator(mdn, X, y, **kwargs)


def test_density_bad_data_name_themselves(two_features, line):
    X, y, mdn = two_features
    with pytest.raises(ValueError, match=r"y must have shape \(300,\)"):
        ConditionalDensityDisplay.from_estimator(mdn, X, y[:10])
    with pytest.raises(ValueError, match="feature 0 of X is constant"):
        ConditionalDensityDisplay.from_estimator(mdn, np.c_[np.ones(300), X[:, 1]])
    x, dist = line
    with pytest.raises(ValueError, match="x_grid must be a 1-D array"):
        ConditionalDensityDisplay.from_distribution(x[:5], dist)
    with pytest.raises(ValueError, match="x_data and y_data must be given together"):
        ConditionalDensityDisplay.from_distribution(x, dist, x_data=x)
    with pytest.raises(TypeError, match="y_pred must be a MixtureDistribution"):
        ConditionalDensityDisplay.from_distribution(x, dist.means)


def test_a_display_without_matplotlib_says_how_to_install_it(line, monkeypatch):
    x, dist = line
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"skmdn\[plot\]"):
        ConditionalDensityDisplay.from_distribution(x, dist)


def test_importing_skmdn_does_not_import_matplotlib():
    code = "import sys, skmdn, skmdn.plotting; print('matplotlib' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


# --------------------------------------------------------------------------- #
# MixtureParametersDisplay
# --------------------------------------------------------------------------- #
def test_parameters_panels_draw_each_component(line):
    x, dist = line
    disp = MixtureParametersDisplay.from_distribution(
        x, dist, x_data=[0.0, 0.5], y_data=[-2.0, 2.5]
    )
    assert list(disp.axes_) == ["weights", "scales", "means"]
    order = [1, 0]  # sorted by average mean: the lower component first
    for panel, values in [
        ("weights", dist.weights),
        ("scales", dist.scales),
        ("means", dist.means),
    ]:
        assert len(disp.lines_[panel]) == 2
        for line_, column in zip(disp.lines_[panel], values[:, order].T):
            assert_allclose(line_.get_xdata(), x)
            assert_allclose(line_.get_ydata(), column)
    # Each component has the same colour in every panel.
    colours = [[ln.get_color() for ln in disp.lines_[p]] for p in disp.axes_]
    assert colours[0] == colours[1] == colours[2] == ["C0", "C1"]
    for band, k in zip(disp.bands_, order):
        ys = np.concatenate([p.vertices[:, 1] for p in band.get_paths()])
        low = dist.means[:, k] - dist.scales[:, k]
        high = dist.means[:, k] + dist.scales[:, k]
        assert_allclose([ys.min(), ys.max()], [low.min(), high.max()])
    assert_array_equal(disp.data_scatter_.get_offsets(), [[0.0, -2.0], [0.5, 2.5]])
    assert disp.data_scatter_.axes is disp.axes_["means"]
    assert disp.axes_["means"].get_ylim() == pytest.approx((-2.45, 2.95))
    assert disp.figure_ is disp.axes_["weights"].figure


def test_parameters_keep_the_network_order_when_asked(line):
    x, dist = line
    disp = MixtureParametersDisplay.from_distribution(
        x, dist, sort_components=False, panels="means", bands=False
    )
    assert list(disp.axes_) == ["means"]
    assert_allclose(disp.lines_["means"][0].get_ydata(), dist.means[:, 0])
    assert disp.axes_["means"].get_title() == "Means $\\mu_k(x)$"
    assert disp.bands_ == [] and disp.data_scatter_ is None


def test_parameters_from_estimator_match_predict_dist(sinusoid, fitted):
    X, y = sinusoid
    fig, axes = plt.subplots(1, 2)
    disp = MixtureParametersDisplay.from_estimator(
        fitted,
        X,
        y,
        feature_range=(-15, 15),
        grid_resolution=50,
        panels=["scales", "weights"],
        ax=axes,
    )
    grid = np.linspace(-15, 15, 50)
    dist = fitted.predict_dist(grid[:, None])
    order = np.argsort(dist.means.mean(axis=0))
    assert disp.axes_ == {"scales": axes[0], "weights": axes[1]}
    for line_, column in zip(disp.lines_["weights"], dist.weights[:, order].T):
        assert_allclose(line_.get_ydata(), column)
    assert disp.figure_ is fig


def test_parameters_of_one_output_of_several(arm):
    X, y, mdn = arm
    disp = MixtureParametersDisplay.from_estimator(
        mdn, X, y, feature=1, output=0, grid_resolution=20, sort_components=False
    )
    grid = np.linspace(X[:, 1].min(), X[:, 1].max(), 20)
    rows = np.c_[np.full(20, np.median(X[:, 0])), grid]
    marginal = mdn.predict_dist(rows).marginal(0)
    assert_allclose(disp.lines_["scales"][1].get_ydata(), marginal.scales[:, 1])
    assert_array_equal(disp.data_scatter_.get_offsets(), np.c_[X[:, 1], y[:, 0]])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"panels": ["weights", "modes"]}, "panels must be distinct names"),
        ({"panels": ["means", "means"]}, "panels must be distinct names"),
        ({"panels": []}, "panels must be distinct names"),
        ({"ax": "left"}, "ax must give one matplotlib Axes per panel"),
        ({"feature": -3}, "feature must be a column index"),
        ({"output": 0, "feature_range": [1.0]}, "feature_range must be two"),
    ],
)
def test_parameters_bad_arguments_name_themselves(two_features, kwargs, match):
    X, y, mdn = two_features
    with pytest.raises(ValueError, match=match):
        MixtureParametersDisplay.from_estimator(mdn, X, y, **kwargs)


def test_parameters_need_one_axes_per_panel(line):
    x, dist = line
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="ax must give one matplotlib Axes per panel"):
        MixtureParametersDisplay.from_distribution(x, dist, ax=ax)
    with pytest.raises(ValueError, match=r"ax has no Axes for the panels \['scales'\]"):
        MixtureParametersDisplay.from_distribution(
            x, dist, ax={"weights": ax}, panels=("weights", "scales")
        )


# --------------------------------------------------------------------------- #
# CalibrationDisplay
# --------------------------------------------------------------------------- #
@pytest.fixture(scope="module")
def too_narrow():
    """Standard normal targets, predicted with scale 0.5 (over-confident)."""
    rng = np.random.default_rng(0)
    y = rng.normal(size=2000)
    ones = np.ones((2000, 1))
    return y, MixtureDistribution(ones, np.zeros((2000, 1)), 0.5 * ones)


def test_calibration_panels_carry_pit_and_coverage(too_narrow):
    y, dist = too_narrow
    disp = CalibrationDisplay.from_predictions(y, dist, name="narrow", n_bins=8)
    assert_allclose(disp.pit, metrics.pit(y, dist))
    nominal, observed = metrics.calibration_curve(y, dist)
    assert_allclose(disp.nominal, nominal)
    assert_allclose(disp.observed, observed)
    assert disp.calibration_error == pytest.approx(metrics.calibration_error(y, dist))
    values, edges, _ = disp.pit_hist_.get_data()
    expected, _ = np.histogram(disp.pit, bins=8, range=(0, 1), density=True)
    assert_allclose(values, expected)
    assert_allclose(edges, np.linspace(0, 1, 9))
    assert values[0] > 2 and values[-1] > 2 and values[4] < 0.6  # a U shape
    half = 1.96 * np.sqrt((1 - 1 / 8) / (2000 / 8))
    band = disp.pit_band_.get_bbox()
    assert_allclose([band.y0, band.y1], [1 - half, 1 + half])
    assert_allclose(disp.reliability_line_.get_xdata(), nominal)
    assert_allclose(disp.reliability_line_.get_ydata(), observed)
    assert_allclose(disp.diagonal_line_.get_ydata(), [0, 1])
    texts = [t.get_text() for t in disp.axes_["reliability"].get_legend().get_texts()]
    assert texts[1] == f"narrow (calibration error {disp.calibration_error:.3f})"


def test_calibration_weights_the_histogram_and_its_band(too_narrow):
    y, dist = too_narrow
    w = np.where(np.arange(2000) < 1000, 1.0, 3.0)
    disp = CalibrationDisplay.from_predictions(
        y, dist, sample_weight=w, levels=[0.5, 0.9], panels="pit"
    )
    assert list(disp.axes_) == ["pit"] and disp.reliability_line_ is None
    _, observed = metrics.calibration_curve(y, dist, [0.5, 0.9], sample_weight=w)
    assert_allclose(disp.observed, observed)
    values, _, _ = disp.pit_hist_.get_data()
    expected, _ = np.histogram(disp.pit, bins=10, range=(0, 1), weights=w, density=True)
    assert_allclose(values, expected)
    n_eff = w.sum() ** 2 / (w**2).sum()
    half = 1.96 * np.sqrt(0.9 / (n_eff * 0.1))
    assert_allclose(disp.pit_band_.get_bbox().y1, 1 + half)


def test_calibration_from_estimator_of_a_gaussian_regressor(two_features):
    X, y, _ = two_features
    ridge = BayesianRidge().fit(X, y)
    disp = CalibrationDisplay.from_estimator(ridge, X, y)
    mean, std = ridge.predict(X, return_std=True)
    assert_allclose(disp.pit, norm.cdf(y, mean, std), rtol=1e-10)
    assert disp.name == "BayesianRidge"


def test_calibration_of_two_models_on_the_same_axes(two_features):
    X, y, mdn = two_features
    first = CalibrationDisplay.from_estimator(mdn, X, y)
    second = CalibrationDisplay.from_estimator(
        BayesianRidge().fit(X, y), X, y, ax=first.axes_
    )
    assert second.axes_ == first.axes_
    assert second.diagonal_line_ is None and second.pit_band_ is None
    reliability = first.axes_["reliability"]
    assert len(reliability.get_lines()) == 3  # one diagonal, two curves
    labels = [t.get_text() for t in reliability.get_legend().get_texts()]
    assert labels[1].startswith("MDNRegressor") and labels[2].startswith("Bayesian")


def test_calibration_of_one_output_of_several(arm):
    X, y, mdn = arm
    disp = CalibrationDisplay.from_estimator(mdn, X, y, output=1)
    assert_allclose(disp.pit, mdn.predict_dist(X).marginal(1).cdf(y[:, 1]))
    with pytest.raises(ValueError, match="output=j"):
        CalibrationDisplay.from_estimator(mdn, X, y)
    with pytest.raises(ValueError, match="output=2 is out of range"):
        CalibrationDisplay.from_estimator(mdn, X, y, output=2)
    with pytest.raises(ValueError, match=r"y_true must have shape \(300, 2\)"):
        CalibrationDisplay.from_estimator(mdn, X, y[:, 0], output=1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_bins": 0}, "n_bins must be a positive integer"),
        ({"panels": "histogram"}, "panels must be distinct names"),
        ({"levels": [0.5, 1.0]}, "levels must lie in the open interval"),
        ({"sample_weight": np.ones(3)}, "sample_weight has 3 entries"),
    ],
)
def test_calibration_bad_arguments_name_themselves(too_narrow, kwargs, match):
    y, dist = too_narrow
    with pytest.raises(ValueError, match=match):
        CalibrationDisplay.from_predictions(y, dist, **kwargs)
