"""Targets on a regular grid: detection, dequantization, and the summary rows."""

import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1]


# The benchmarks are scripts, not a package: import them from their folder.
sys.path.insert(0, str(BENCHMARKS))

import target_grid  # noqa: E402


def test_integer_grades_are_a_grid_of_spacing_one():
    rng = np.random.default_rng(0)
    grades = np.clip(np.round(rng.normal(5.6, 0.8, size=1599)), 3, 8)
    grid = target_grid.find_grid(grades)
    assert grid.spacing == 1.0 and grid.origin == 3.0
    assert grid.is_integer
    assert grid.n_values == np.unique(grades).size and grid.n_samples == 1599
    assert "spacing 1 (" in grid.describe()


def test_half_point_grid_with_an_offset_is_found_with_its_spacing():
    rng = np.random.default_rng(1)
    y = 0.25 + 0.5 * rng.integers(0, 12, size=500)
    grid = target_grid.find_grid(y)
    assert grid.spacing == 0.5 and grid.origin == pytest.approx(y.min())
    assert not grid.is_integer


def test_decimal_grid_survives_binary_rounding():
    # Values read from text, like Boston's prices to 0.1.
    rng = np.random.default_rng(2)
    y = np.array([float(f"{v:.1f}") for v in 20 + 0.1 * rng.integers(0, 30, 400)])
    assert target_grid.find_grid(y).spacing == 0.1


def test_spacing_is_the_common_divisor_of_the_gaps():
    # Gaps of 2 and 3: neither is the spacing, their divisor 1 is.
    y = np.repeat([0.0, 2.0, 5.0], 10)
    assert target_grid.find_grid(y).spacing == 1.0


def test_continuous_target_is_not_flagged():
    rng = np.random.default_rng(3)
    assert target_grid.find_grid(rng.normal(size=1000)) is None
    # Recorded to two decimals, as every measurement is, but with about as
    # many distinct values as rows (power-plant): not a grid to spike on.
    assert target_grid.find_grid(np.round(rng.normal(450, 17, 2000), 2)) is None


def test_grid_with_few_rows():
    # Three grades in twelve rows: four rows per value, flagged.
    few = np.array([1, 2, 3, 2, 2, 1, 3, 2, 1, 2, 3, 2], dtype=float)
    assert target_grid.find_grid(few).spacing == 1.0
    # Distinct integers in a handful of rows are no evidence of a grid.
    assert target_grid.find_grid([1.0, 4.0, 2.0, 7.0, 3.0]) is None
    # Nor is a constant target, or an empty one.
    assert target_grid.find_grid(np.ones(20)) is None
    assert target_grid.find_grid([]) is None


def test_irregular_few_values_are_not_a_grid():
    # Few distinct values, but no spacing from the data holds them all.
    y = np.repeat([0.0, 1.0, np.sqrt(2.0)], 20)
    assert target_grid.find_grid(y) is None


def test_dequantize_spreads_each_value_over_its_cell():
    y = 0.5 * np.arange(200.0)
    noisy = target_grid.dequantize(y, split=2, spacing=0.5)
    assert np.all(np.abs(noisy - y) <= 0.25)
    # The cells are covered, not just their centres.
    assert np.ptp(noisy - y) > 0.45
    np.testing.assert_array_equal(noisy, target_grid.dequantize(y, 2, 0.5))
    # Spacing 1 is the integer case, with the noise of earlier runs.
    np.testing.assert_allclose(
        target_grid.dequantize(y, 2) - y, 2 * (noisy - y), atol=1e-12
    )
