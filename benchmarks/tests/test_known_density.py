"""The known-density generators: exact densities that integrate to one and
samples that follow them."""

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats

BENCHMARKS = Path(__file__).resolve().parents[1]


# The benchmarks are scripts, not a package: import them from their folder.
sys.path.insert(0, str(BENCHMARKS))

import known_density  # noqa: E402

GENERATORS = known_density.GENERATORS
ONE_D = [name for name, g in GENERATORS.items() if g.n_outputs == 1]
X_VALUES = (-1.9, -0.7, 0.0, 1.2, 2.0)


def test_the_suite_has_its_six_generators():
    assert set(GENERATORS) == {
        "heteroscedastic",
        "two-branches",
        "three-branches",
        "skewed",
        "heavy-tailed",
        "correlated-2d",
    }


@pytest.mark.parametrize("name", ONE_D)
@pytest.mark.parametrize("x", X_VALUES)
def test_density_integrates_to_one_and_to_the_cdf(name, x):
    gen = GENERATORS[name]
    X = np.array([[x]])

    def pdf(y):
        return float(np.exp(gen.logpdf(X, np.array([y]))[0]))

    lo = 0.0 if name == "skewed" else -np.inf
    total, _ = integrate.quad(pdf, lo, np.inf, limit=200)
    assert total == pytest.approx(1.0, abs=1e-6)
    # The CDF is the integral of the density, and the quantiles invert it.
    median = gen.ppf(X, 0.5)[0]
    below, _ = integrate.quad(pdf, lo, median, limit=200)
    assert below == pytest.approx(0.5, abs=1e-6)
    assert gen.cdf(X, [median])[0] == pytest.approx(0.5, abs=1e-9)


@pytest.mark.parametrize("x", X_VALUES)
def test_two_dimensional_density_integrates_to_one(x):
    gen = GENERATORS["correlated-2d"]
    X = np.array([[x]])
    means, _ = gen.cholesky(np.array([x]))
    (m1, m2), (s1, s2) = means[0], gen.scales

    def pdf(y2, y1):
        return float(np.exp(gen.logpdf(X, np.array([[y1, y2]]))[0]))

    total, _ = integrate.dblquad(
        pdf, m1 - 10 * s1, m1 + 10 * s1, m2 - 10 * s2, m2 + 10 * s2, epsabs=1e-9
    )
    assert total == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("name", list(GENERATORS))
def test_samples_follow_the_density(name):
    gen = GENERATORS[name]
    X, y = gen.sample(20_000, random_state=0)
    assert X.shape == (20_000, 1)
    assert np.all((X >= known_density.X_LOW) & (X <= known_density.X_HIGH))
    u = gen.pit(X, y).reshape(len(y), -1)
    # PIT values (Rosenblatt for two outputs) are uniform under the truth.
    for j in range(u.shape[1]):
        assert stats.kstest(u[:, j], "uniform").pvalue > 0.01
    # The test has power: a density off by a shift of 0.1 is rejected.
    shifted = gen.pit(X, y + 0.1).reshape(len(y), -1)
    assert stats.kstest(shifted[:, 0], "uniform").pvalue < 1e-6


@pytest.mark.parametrize("name", list(GENERATORS))
def test_sample_y_draws_at_the_given_inputs(name):
    gen = GENERATORS[name]
    X = np.full((3, 1), 0.5)
    draws = gen.sample_y(X, 4000, random_state=1)
    assert draws.shape[:2] == (3, 4000)
    flat = draws.reshape(3 * 4000, *draws.shape[2:])
    u = gen.pit(np.full((len(flat), 1), 0.5), flat).reshape(len(flat), -1)
    assert stats.kstest(u[:, 0], "uniform").pvalue > 0.01


def test_log_normal_has_no_mass_below_zero():
    gen = GENERATORS["skewed"]
    X = np.zeros((2, 1))
    assert np.all(np.isneginf(gen.logpdf(X, [-1.0, 0.0])))
    np.testing.assert_array_equal(gen.cdf(X, [-1.0, 0.0]), [0.0, 0.0])


def test_two_outputs_have_no_cdf():
    gen = GENERATORS["correlated-2d"]
    with pytest.raises(ValueError, match="pit"):
        gen.cdf(np.zeros((1, 1)), np.zeros((1, 2)))


def test_truth_scored_as_a_model_has_no_gap():
    import bench_known_density as bench

    gen = GENERATORS["two-branches"]
    X, y = gen.sample(2000, random_state=3)
    truth = bench.score_truth(gen, X, y)
    scored = bench.score_distribution(gen.mixture(X[:, 0]), X, y, gen.logpdf(X, y))
    assert scored["gap"] == pytest.approx(0.0, abs=1e-9)
    for key in ("nll", "crps", "pit_ks", "cover90"):
        assert scored[key] == pytest.approx(truth[key], abs=1e-6)
    assert truth["cover90"] == pytest.approx(0.9, abs=0.03)


def test_suite_reports_gaps_and_skips_one_output_models_on_2d(tmp_path):
    import bench_known_density as bench

    out = tmp_path / "kd.md"
    rows = bench.main(
        ["--generators", "skewed,correlated-2d", "--n-train", "60"]
        + ["--n-test", "200", "--models", "gaussian-baseline", "--out", str(out)]
    )
    by_key = {(r["generator"], r["model"]): r for r in rows}
    assert by_key["skewed", "gaussian-baseline"]["gap"] > 0
    assert by_key["correlated-2d", "gaussian-baseline"]["notes"] == "one-output model"
    # No PIT or coverage for two outputs; the energy score instead.
    assert np.isnan(by_key["correlated-2d", "truth"]["pit_ks"])
    assert np.isfinite(by_key["correlated-2d", "truth"]["crps"])
    text = out.read_text(encoding="utf-8")
    assert "| generator | n_train | gaussian-baseline |" in text
    assert "| skewed | 60 | **" in text and "### correlated-2d" in text
    assert "energy score" in text and "fit / mdn" in text
