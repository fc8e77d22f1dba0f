import numpy as np
import pytest
from scipy import stats

from skmdn._distribution import HighestDensityRegion, MixtureDistribution


def random_mixture(n=50, K=4, seed=0, spread=3.0, log_scale_sd=0.5):
    rng = np.random.default_rng(seed)
    w = rng.dirichlet(np.ones(K), n)
    mu = rng.normal(0.0, spread, (n, K))
    s = np.exp(rng.normal(0.0, log_scale_sd, (n, K)))
    return MixtureDistribution(w, mu, s)


def dense_grid(dist, n_points=20001, z=12.0):
    lo = (dist.means - z * dist.scales).min(axis=1)
    hi = (dist.means + z * dist.scales).max(axis=1)
    return lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, n_points)


@pytest.fixture(scope="module")
def mix():
    return random_mixture()


@pytest.fixture(scope="module")
def separated():
    # Three well separated bumps with distinct heights, in two rows.
    w = [[0.5, 0.3, 0.2], [0.2, 0.5, 0.3]]
    mu = [[-10.0, 0.0, 10.0], [-10.0, 0.0, 10.0]]
    s = [[1.0, 1.0, 1.0], [1.0, 0.5, 2.0]]
    return MixtureDistribution(w, mu, s)


# --------------------------------------------------------------------------- #
# Construction and validation
# --------------------------------------------------------------------------- #
def test_stores_float64_read_only_and_renormalises():
    w = [[0.3, 0.7 + 5e-7]]
    dist = MixtureDistribution(w, [[0, 1]], [[1, 2]])
    assert dist.weights.dtype == np.float64
    assert dist.n_components == 2
    np.testing.assert_allclose(dist.weights.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match="read-only"):
        dist.means[0, 0] = 3.0


@pytest.mark.parametrize(
    "w, mu, s, match",
    [
        ([0.5, 0.5], [0, 1], [1, 1], "2-D"),
        ([[0.5, 0.5]], [[0, 1, 2]], [[1, 1]], "same shape"),
        ([[0.5, 0.5]], [[0, np.nan]], [[1, 1]], "means contains NaN"),
        ([[0.5, 0.5]], [[0, 1]], [[1, np.inf]], "scales contains NaN or infinite"),
        ([[0.5, 0.5]], [[0, 1]], [[1, 0]], "scales must be strictly positive"),
        ([[1.5, -0.5]], [[0, 1]], [[1, 1]], "weights must be non-negative"),
        ([[0.5, 0.6]], [[0, 1]], [[1, 1]], "sum to 1"),
        (
            np.empty((2, 0)),
            np.empty((2, 0)),
            np.empty((2, 0)),
            "at least one component",
        ),
    ],
)
def test_invalid_parameters(w, mu, s, match):
    with pytest.raises(ValueError, match=match):
        MixtureDistribution(w, mu, s)


def test_zero_weights_are_allowed():
    dist = MixtureDistribution([[1.0, 0.0]], [[0.0, 5.0]], [[1.0, 1.0]])
    np.testing.assert_allclose(dist.logpdf(5.0), stats.norm.logpdf(5.0))
    np.testing.assert_allclose(dist.cdf(1.0), stats.norm.cdf(1.0))
    assert np.isfinite(dist.sample(100, random_state=0)).all()
    assert np.all(np.abs(dist.sample(1000, random_state=0)) < 6)


# --------------------------------------------------------------------------- #
# Shape rule
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("method", ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"])
def test_shape_rule(mix, method):
    n = len(mix)
    f = getattr(mix, method)
    assert f(0.5).shape == (n,)
    assert f(np.linspace(-1, 1, n)).shape == (n,)
    assert f(np.zeros((n, 7))).shape == (n, 7)
    # The scalar is broadcast to every row, a (n,) array is paired with rows.
    np.testing.assert_allclose(f(0.5), f(np.full(n, 0.5)))
    np.testing.assert_allclose(f(np.full((n, 3), 0.5))[:, 1], f(0.5))
    for bad in (np.zeros(n + 1), np.zeros((n + 1, 2)), np.zeros((n, 2, 2))):
        with pytest.raises(ValueError, match=rf"\({n},\).*got an array of shape"):
            f(bad)


def test_shape_rule_for_ppf(mix):
    n = len(mix)
    assert mix.ppf(0.3).shape == (n,)
    assert mix.ppf(np.full(n, 0.3)).shape == (n,)
    assert mix.ppf(np.full((n, 4), 0.3)).shape == (n, 4)
    with pytest.raises(ValueError, match="shape"):
        mix.ppf(np.full(3, 0.3))


def test_nan_and_inf_points(mix):
    with pytest.raises(ValueError, match="y contains NaN"):
        mix.cdf(np.nan)
    with pytest.raises(ValueError, match="y contains NaN"):
        mix.logpdf(np.array([[0.0, np.nan]] * len(mix)))
    np.testing.assert_array_equal(mix.cdf(np.inf), 1.0)
    np.testing.assert_array_equal(mix.cdf(-np.inf), 0.0)
    np.testing.assert_array_equal(mix.sf(np.inf), 0.0)
    assert np.all(mix.logpdf(np.inf) == -np.inf)


def test_far_tail_logpdf_is_finite():
    dist = MixtureDistribution([[0.5, 0.5]], [[0.0, 1.0]], [[1.0, 0.1]])
    lp = dist.logpdf([[50.0, -1e3, 1e5]])
    assert np.all(np.isfinite(lp))
    np.testing.assert_allclose(
        lp[0, 0], np.log(0.5) + stats.norm.logpdf(50.0), rtol=1e-12
    )
    # Tail probabilities far below the float64 range of cdf stay accurate.
    np.testing.assert_allclose(
        dist.logcdf(-40.0), np.log(0.5) + stats.norm.logcdf(-40.0), rtol=1e-10
    )
    np.testing.assert_allclose(
        dist.logsf(60.0), np.log(0.5) + stats.norm.logsf(60.0), rtol=1e-10
    )


# --------------------------------------------------------------------------- #
# Density, moments and quantiles
# --------------------------------------------------------------------------- #
def test_density_integrates_to_one_and_moments(mix):
    grid = dense_grid(mix)
    p = mix.pdf(grid)
    mass = np.trapezoid(p, grid, axis=1)
    np.testing.assert_allclose(mass, 1.0, atol=1e-8)
    mean = np.trapezoid(p * grid, grid, axis=1)
    var = np.trapezoid(p * (grid - mean[:, None]) ** 2, grid, axis=1)
    np.testing.assert_allclose(mix.mean(), mean, atol=1e-7)
    np.testing.assert_allclose(mix.var(), var, rtol=1e-7)
    np.testing.assert_allclose(mix.std(), np.sqrt(var), rtol=1e-7)
    # The cdf is the integral of the pdf.
    F = mix.cdf(grid[:, ::1000])
    cum = np.array(
        [np.trapezoid(p[:, : i + 1], grid[:, : i + 1]) for i in range(0, 20001, 1000)]
    )
    np.testing.assert_allclose(F, cum.T, atol=2e-5)


def test_single_component_matches_scipy():
    mu, s = np.array([0.0, 2.0, -3.0]), np.array([1.0, 0.5, 3.0])
    dist = MixtureDistribution(np.ones((3, 1)), mu[:, None], s[:, None])
    y = np.array([[-1.0, 0.3, 4.0]] * 3)
    ref = stats.norm(mu[:, None], s[:, None])
    np.testing.assert_allclose(dist.pdf(y), ref.pdf(y), rtol=1e-12)
    np.testing.assert_allclose(dist.cdf(y), ref.cdf(y), rtol=1e-12)
    np.testing.assert_allclose(dist.sf(y), ref.sf(y), rtol=1e-12)
    q = np.array([[1e-12, 0.025, 0.5, 0.975, 1 - 1e-12]] * 3)
    np.testing.assert_allclose(dist.ppf(q), ref.ppf(q), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(dist.median(), mu, atol=1e-12)


def test_ppf_inverts_cdf(mix):
    rng = np.random.default_rng(1)
    q = rng.uniform(0, 1, (len(mix), 40))
    x = mix.ppf(q)
    assert np.max(np.abs(mix.cdf(x) - q)) < 1e-9
    y = rng.normal(mix.mean()[:, None], mix.std()[:, None], (len(mix), 40))
    # Where the density is tiny the quantile is ill-conditioned (the cdf is flat).
    well_posed = mix.pdf(y) > 1e-3
    assert well_posed.mean() > 0.9
    np.testing.assert_allclose(
        mix.ppf(mix.cdf(y))[well_posed], y[well_posed], atol=1e-8
    )


def test_ppf_extremes_and_validation(mix):
    np.testing.assert_array_equal(mix.ppf(0.0), -np.inf)
    np.testing.assert_array_equal(mix.ppf(1.0), np.inf)
    tiny = mix.ppf(1e-300)
    assert np.all(np.isfinite(tiny))
    np.testing.assert_allclose(mix.logcdf(tiny), np.log(1e-300), rtol=1e-9)
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\].*1.5"):
        mix.ppf(1.5)
    with pytest.raises(ValueError, match="probabilities"):
        mix.ppf(np.full(len(mix), np.nan))


def test_interval_mass(mix):
    lower, upper = mix.interval(0.8)
    assert lower.shape == upper.shape == (len(mix),)
    np.testing.assert_allclose(mix.cdf(upper) - mix.cdf(lower), 0.8, atol=1e-9)
    np.testing.assert_allclose(mix.cdf(lower), 0.1, atol=1e-9)
    for bad in (0.0, 1.0, 1.2, "0.5", None):
        with pytest.raises(ValueError, match="confidence"):
            mix.interval(bad)


# --------------------------------------------------------------------------- #
# Highest-density regions
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("coverage", [0.2, 0.9, 0.999])
def test_hdr_mass_and_threshold(mix, coverage):
    region = mix.hdr(coverage)
    assert isinstance(region, HighestDensityRegion)
    n = len(mix)
    assert region.intervals.shape[0] == n and region.intervals.shape[2] == 2
    assert (
        region.threshold.shape
        == region.coverage.shape
        == region.n_intervals.shape
        == (n,)
    )
    np.testing.assert_allclose(region.coverage, coverage, atol=1e-9)
    pieces = region.to_list()
    for i, row in enumerate(pieces):
        assert len(row) == region.n_intervals[i] >= 1
        lo = np.array([p[0] for p in row])
        hi = np.array([p[1] for p in row])
        assert np.all(lo < hi) and np.all(hi[:-1] < lo[1:])
        # Exact mass of the pieces, and the same density level at every end.
        mass = np.sum(mix[i].cdf(hi[None]) - mix[i].cdf(lo[None]))
        np.testing.assert_allclose(mass, coverage, atol=1e-9)
        ends = np.concatenate([lo, hi])[None]
        np.testing.assert_allclose(mix[i].pdf(ends)[0], region.threshold[i], rtol=1e-7)
    # Padding is NaN.
    padded = (
        np.arange(region.intervals.shape[1])[None, :] >= region.n_intervals[:, None]
    )
    assert np.all(np.isnan(region.intervals[padded]))
    assert not np.any(np.isnan(region.intervals[~padded]))


def test_hdr_matches_dense_grid(mix):
    region = mix.hdr(0.9)
    grid = dense_grid(mix, 40001)
    p = mix.pdf(grid)
    step = grid[:, 1] - grid[:, 0]
    inside = p >= region.threshold[:, None]
    np.testing.assert_allclose(
        np.sum(np.where(inside, p, 0.0), axis=1) * step, 0.9, atol=2e-3
    )
    # contains() agrees with pdf >= threshold away from the boundaries.
    contained = region.contains(grid)
    clear = np.abs(p - region.threshold[:, None]) > 1e-6 * region.threshold[:, None]
    np.testing.assert_array_equal(contained[clear], inside[clear])
    # Each end of a piece is resolved to one grid step.
    error = np.abs(region.length - np.sum(inside, axis=1) * step)
    assert np.all(error <= (2 * region.n_intervals + 1) * step)


def test_hdr_separated_modes(separated):
    region = separated.hdr(0.9)
    np.testing.assert_array_equal(region.n_intervals, [3, 3])
    for row, centres in zip(region.intervals, [[-10, 0, 10]] * 2):
        assert np.all(row[:, 0] < np.array(centres))
        assert np.all(row[:, 1] > np.array(centres))
    # A low coverage keeps only the highest bump.
    np.testing.assert_array_equal(separated.hdr(0.2).n_intervals, [1, 1])


def test_hdr_of_gaussian_is_central_interval():
    dist = MixtureDistribution(np.ones((2, 1)), [[1.0], [-2.0]], [[2.0], [0.3]])
    region = dist.hdr(0.95)
    lower, upper = dist.interval(0.95)
    np.testing.assert_allclose(region.intervals[:, 0, 0], lower, atol=1e-9)
    np.testing.assert_allclose(region.intervals[:, 0, 1], upper, atol=1e-9)
    # Two identical components are one Gaussian.
    twin = MixtureDistribution([[0.4, 0.6]], [[1.0, 1.0]], [[2.0, 2.0]])
    np.testing.assert_allclose(
        twin.hdr(0.95).intervals[0, 0], [lower[0], upper[0]], atol=1e-9
    )


def test_hdr_contains_shape_rule(separated):
    region = separated.hdr(0.9)
    np.testing.assert_array_equal(region.contains(0.0), [True, True])
    np.testing.assert_array_equal(region.contains([5.0, 10.0]), [False, True])
    assert region.contains(np.zeros((2, 5))).shape == (2, 5)
    with pytest.raises(ValueError, match="shape"):
        region.contains(np.zeros(3))


def test_hdr_validation(mix):
    for bad in (0, 1, -0.1, 2.0):
        with pytest.raises(ValueError, match="coverage"):
            mix.hdr(bad)


def test_hdr_narrow_bump_retry():
    # A shallow bump on a slope, narrower than the coarse bracketing grid, with
    # the threshold inside it: the row is recomputed on a finer grid.
    dist = MixtureDistribution(
        [[0.1341076, 0.06067393, 0.10254299, 0.30037151, 0.40230396]],
        [[-6.1905838, -1.4351449, -9.38447319, 1.71811695, 1.71331911]],
        [[0.92799737, 0.95044068, 0.78832408, 0.73328037, 0.98889396]],
    )
    region = dist.hdr(0.9)
    np.testing.assert_allclose(region.coverage, 0.9, atol=1e-9)
    lo, hi = region.intervals[0, : region.n_intervals[0]].T
    np.testing.assert_allclose(
        np.sum(dist.cdf(hi[None]) - dist.cdf(lo[None])), 0.9, atol=1e-9
    )


# --------------------------------------------------------------------------- #
# Modes
# --------------------------------------------------------------------------- #
def test_modes_separated(separated):
    loc, dens = separated.modes()
    assert loc.shape == dens.shape == (2, 3)
    np.testing.assert_allclose(loc[0], [-10, 0, 10], atol=1e-6)
    np.testing.assert_allclose(loc[1], [0, -10, 10], atol=1e-6)
    np.testing.assert_allclose(dens, separated.pdf(loc), rtol=1e-12)
    assert np.all(np.diff(dens, axis=1) < 0)
    np.testing.assert_allclose(separated.mode(), [-10, 0], atol=1e-6)


def test_modes_unimodal():
    dist = MixtureDistribution(
        [[0.5, 0.5], [1.0, 0.0]], [[-0.5, 0.5], [3.0, 0.0]], [[1.0, 1.0]] * 2
    )
    loc, dens = dist.modes()
    np.testing.assert_allclose(loc[:, 0], [0.0, 3.0], atol=1e-9)
    assert np.all(np.isnan(loc[:, 1:])) and np.all(np.isnan(dens[:, 1:]))
    np.testing.assert_allclose(dens[:, 0], dist.pdf(loc[:, 0]))


def test_modes_match_dense_grid():
    dist = random_mixture(n=40, K=5, seed=3)
    loc, dens = dist.modes()
    grid = dense_grid(dist, 40001, z=0.0)  # all modes lie between the means
    p = dist.pdf(grid)
    g = np.gradient(p, axis=1)
    for i in range(len(dist)):
        found = np.sort(loc[i][~np.isnan(loc[i])])
        peaks = np.flatnonzero((g[i, :-1] > 0) & (g[i, 1:] <= 0))
        # Shallow bumps narrower than the bracketing grid may be missed, so
        # only grid maxima rising 0.1% above an adjacent dip are required.
        dips = [p[i, a:b].min() for a, b in zip(peaks[:-1], peaks[1:])]
        prominent = [
            j
            for k, j in enumerate(peaks)
            if p[i, j] > 1.001 * max([0.0] + dips[max(k - 1, 0) : k + 1])
        ]
        assert len(found) >= len(prominent)
        for j in prominent:
            assert np.min(np.abs(found - grid[i, j])) < 2 * (grid[i, 1] - grid[i, 0])
        # Every mode found is a local maximum: zero slope, negative curvature.
        h = 1e-4 * dist.scales[i].min()
        around = dist[i].logpdf(
            np.stack([found - h, found, found + h], axis=1).ravel()[None]
        )
        around = around.reshape(-1, 3)
        assert np.all(around[:, 1] >= around[:, [0, 2]].max(axis=1) - 1e-12)


# --------------------------------------------------------------------------- #
# Sampling
# --------------------------------------------------------------------------- #
def test_sample_moments_and_seed(mix):
    small = mix[:5]
    draws = small.sample(200_000, random_state=0)
    assert draws.shape == (5, 200_000)
    se_mean = small.std() / np.sqrt(draws.shape[1])
    assert np.all(np.abs(draws.mean(axis=1) - small.mean()) < 5 * se_mean)
    # The standard error of a sample std is std * sqrt(kurtosis - 1) / (2 sqrt(n)),
    # well below 2% here.
    assert np.all(np.abs(draws.std(axis=1) - small.std()) < 0.02 * small.std())
    np.testing.assert_array_equal(small.sample(3, random_state=42), small.sample(3, 42))
    rs = np.random.RandomState(1)
    assert small.sample(2, random_state=rs).shape == (5, 2)
    gen = np.random.default_rng(1)
    np.testing.assert_array_equal(
        small.sample(4, random_state=gen), small.sample(4, np.random.default_rng(1))
    )
    assert not np.array_equal(
        small.sample(3, random_state=1), small.sample(3, random_state=2)
    )


def test_sample_follows_distribution(separated):
    draws = separated.sample(20_000, random_state=0)
    for i in range(2):
        res = stats.kstest(
            draws[i], lambda x, i=i: separated[i].cdf(np.atleast_1d(x)[None])[0]
        )
        assert res.pvalue > 0.01


def test_sample_validation(mix):
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="n_samples"):
            mix.sample(bad)


# --------------------------------------------------------------------------- #
# Container protocol
# --------------------------------------------------------------------------- #
def test_len_getitem(mix):
    n = len(mix)
    assert n == 50
    one = mix[3]
    assert isinstance(one, MixtureDistribution) and len(one) == 1
    np.testing.assert_array_equal(one.means[0], mix.means[3])
    np.testing.assert_array_equal(mix[-1].weights[0], mix.weights[-1])
    assert len(mix[10:20]) == 10
    np.testing.assert_array_equal(mix[[0, 5, 5]].scales, mix.scales[[0, 5, 5]])
    mask = np.zeros(n, dtype=bool)
    mask[[1, 2]] = True
    np.testing.assert_allclose(mix[mask].cdf(0.0), mix.cdf(0.0)[mask])
    with pytest.raises(IndexError, match="out of range"):
        mix[n]
    with pytest.raises(IndexError, match="boolean mask"):
        mix[np.ones(3, dtype=bool)]


def test_empty_selection(mix):
    empty = mix[np.zeros(len(mix), dtype=bool)]
    assert len(empty) == 0
    assert empty.mean().shape == (0,)
    assert empty.cdf(0.0).shape == (0,)
    assert empty.ppf(0.5).shape == (0,)
    assert empty.modes()[0].shape == (0, mix.n_components)
    assert empty.hdr(0.5).threshold.shape == (0,)
    assert empty.sample(3).shape == (0, 3)


def test_pickle_round_trip(mix):
    import pickle

    copy = pickle.loads(pickle.dumps(mix))
    np.testing.assert_array_equal(copy.means, mix.means)
    np.testing.assert_allclose(copy.ppf(0.3), mix.ppf(0.3), rtol=1e-12)
    assert not copy.weights.flags.writeable


def test_repr(mix):
    assert repr(mix) == "MixtureDistribution(n_rows=50, n_components=4)"
    small = repr(MixtureDistribution([[1.0]], [[2.0]], [[3.0]]))
    assert small == "MixtureDistribution(weights=[[1.]], means=[[2.]], scales=[[3.]])"
    assert "HighestDensityRegion(n_rows=50" in repr(mix.hdr(0.5))


def test_large_batch_is_vectorised():
    # 20,000 rows must not take row-by-row time (that would be seconds).
    import time

    dist = random_mixture(n=20_000, K=5, seed=5)
    start = time.perf_counter()
    dist.ppf(0.3)
    dist.cdf(0.3)
    assert time.perf_counter() - start < 5.0


def check_hdr(dist, region, coverage, atol=1e-9):
    # Vectorised version of the checks in test_hdr_mass_and_threshold.
    n = len(dist)
    lo, hi = region.intervals[:, :, 0], region.intervals[:, :, 1]
    pad = np.isnan(lo)
    assert np.array_equal(pad, np.isnan(hi))
    count = (~pad).sum(axis=1)
    np.testing.assert_array_equal(count, region.n_intervals)
    assert np.all(pad[:, 1:] >= pad[:, :-1])  # padding only at the end
    assert np.all(np.where(pad, True, lo < hi))
    gap = lo[:, 1:] - hi[:, :-1]
    assert np.all(np.where(pad[:, 1:], True, gap > 0))
    cdf = dist.cdf(np.nan_to_num(region.intervals.reshape(n, -1)))
    mass = np.sum(np.where(pad, 0.0, cdf[:, 1::2] - cdf[:, 0::2]), axis=1)
    np.testing.assert_allclose(mass, coverage, atol=atol)
    np.testing.assert_allclose(region.coverage, coverage, atol=atol)
    pdf = dist.pdf(np.nan_to_num(region.intervals.reshape(n, -1)))
    ok = ~np.repeat(pad, 2, axis=1)
    ratio = pdf / region.threshold[:, None]
    np.testing.assert_allclose(ratio[ok], 1.0, rtol=1e-7)


@pytest.mark.parametrize("coverage", [0.5, 0.9, 0.99])
def test_hdr_large_batch(coverage):
    # Enough rows that some take every path of the solver (the fast joint
    # iteration, its bracketed fallback, shoulders and levels near a dip).
    dist = random_mixture(n=4000, K=5, seed=11)
    check_hdr(dist, dist.hdr(coverage), coverage)


def test_hdr_level_near_dip():
    # Two equal bumps whose separation sweeps the 50% HDR from one piece to
    # two: the level passes the dip between them, where the mass has a
    # square-root kink in the level.
    sep = np.linspace(1.0, 3.0, 801)
    dist = MixtureDistribution(
        np.full((sep.size, 2), 0.5),
        np.stack([-sep / 2, sep / 2], axis=1),
        np.ones((sep.size, 2)),
    )
    region = dist.hdr(0.5)
    check_hdr(dist, region, 0.5)
    assert np.all(np.diff(region.n_intervals) >= 0)
    assert region.n_intervals[0] == 1 and region.n_intervals[-1] == 2


def test_hdr_does_not_depend_on_batching(monkeypatch):
    # Rows are solved independently; the split of a batch into chunks (and
    # across threads) must not change a single bit of the result.
    import skmdn._distribution as module

    dist = random_mixture(n=3000, K=5, seed=3)
    monkeypatch.setattr(module, "_HDR_THREADS", 1)
    whole = dist.hdr(0.9)
    parts = [dist[:1234].hdr(0.9), dist[1234:].hdr(0.9)]
    monkeypatch.setattr(module, "_HDR_THREADS", 3)
    monkeypatch.setattr(module, "_HDR_MIN_CHUNK", 500)
    threaded = dist.hdr(0.9)
    for other in (threaded,):
        np.testing.assert_array_equal(other.intervals, whole.intervals)
        np.testing.assert_array_equal(other.threshold, whole.threshold)
        np.testing.assert_array_equal(other.coverage, whole.coverage)
    width = whole.intervals.shape[1]
    for part, rows in zip(parts, [slice(0, 1234), slice(1234, None)]):
        got = np.full((len(part), width, 2), np.nan)
        got[:, : part.intervals.shape[1]] = part.intervals
        np.testing.assert_array_equal(got, whole.intervals[rows])
        np.testing.assert_array_equal(part.threshold, whole.threshold[rows])
        np.testing.assert_array_equal(part.coverage, whole.coverage[rows])
