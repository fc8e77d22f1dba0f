"""The UCI benchmark script: data loader, protocol and outputs, on toy data."""

import csv
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1]


def _load(name):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


uci = _load("uci")
uci_models = sys.modules["uci_models"]

FAST_MDN = [
    "--mdn-set",
    "max_epochs=3",
    "--mdn-set",
    "hidden_layer_sizes=(4,)",
    "--mdn-set",
    "batch_size=None",
]


def _write_dataset(root, name, data, target, n_splits=2, n_test=8, seed=0):
    """Write ``data`` in the standard layout with random 'n_test' test rows."""
    folder = root / name / "data"
    folder.mkdir(parents=True)
    np.savetxt(folder / "data.txt", data)
    features = [j for j in range(data.shape[1]) if j != target]
    np.savetxt(folder / "index_features.txt", features, fmt="%d")
    np.savetxt(folder / "index_target.txt", [target], fmt="%d")
    np.savetxt(folder / "n_splits.txt", [n_splits], fmt="%d")
    rng = np.random.default_rng(seed)
    for k in range(n_splits):
        perm = rng.permutation(len(data))
        np.savetxt(folder / f"index_train_{k}.txt", perm[n_test:], fmt="%d")
        np.savetxt(folder / f"index_test_{k}.txt", perm[:n_test], fmt="%d")


@pytest.fixture
def data_root(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(48, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.3 * rng.normal(size=48)
    # Target in the middle column: the loader must follow the index files.
    _write_dataset(tmp_path, "toy", np.column_stack([X[:, :2], y, X[:, 2]]), 2)
    grades = np.clip(np.round(5 + X[:, 0]), 3, 8)
    _write_dataset(tmp_path, "grades", np.column_stack([X, grades]), 3, seed=1)
    (tmp_path / "not-a-dataset").mkdir()
    return tmp_path


def _read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_loader_follows_the_index_files(data_root):
    assert uci.find_datasets(data_root) == ["grades", "toy"]
    data = uci.load_dataset(data_root, "toy")
    raw = np.loadtxt(data_root / "toy" / "data" / "data.txt")
    np.testing.assert_array_equal(data.y, raw[:, 2])
    np.testing.assert_array_equal(data.X, raw[:, [0, 1, 3]])
    assert len(data.splits) == 2
    train, test = data.splits[1]
    assert len(train) == 40 and len(test) == 8
    assert not set(train) & set(test)
    assert data.grid is None
    assert uci.load_dataset(data_root, "grades").grid.spacing == 1.0


def test_loader_rejects_out_of_range_split(data_root):
    folder = data_root / "toy" / "data"
    np.savetxt(folder / "index_test_1.txt", [0, 1, 48], fmt="%d")
    with pytest.raises(ValueError, match="out of range"):
        uci.load_dataset(data_root, "toy")


def test_dequantize_is_reproducible_and_within_half_a_grade():
    y = np.arange(10.0)
    noisy = uci.dequantize(y, split=3)
    assert np.all(np.abs(noisy - y) <= 0.5)
    np.testing.assert_array_equal(noisy, uci.dequantize(y, split=3))
    assert not np.array_equal(noisy, uci.dequantize(y, split=4))


def test_summary_is_mean_and_standard_error_over_finite_splits():
    mean, se, n = uci.summarize([1.0, 2.0, 3.0, np.nan])
    assert (mean, n) == (2.0, 3)
    assert se == pytest.approx(np.std([1.0, 2.0, 3.0]) / np.sqrt(3))


def test_published_tables_cover_the_standard_datasets():
    for folder in ("bostonHousing", "wine-quality-red", "yacht", "power-plant"):
        key = uci_models.published_name(folder)
        assert len(uci_models.PUBLISHED_NLL[key]) == len(uci_models.PUBLISHED_METHODS)
        assert len(uci_models.PUBLISHED_RMSE[key]) == len(uci_models.PUBLISHED_METHODS)
    assert uci_models.PUBLISHED_NLL["Yacht"][3] == (0.20, 0.26)


def test_best_published_column_gives_each_number_with_its_source():
    best = uci_models.BEST_PUBLISHED_NLL
    assert best["Concrete"][:3] == (2.75, 0.21, "PGBM")
    assert best["Boston"][:2] == (2.35, 0.06)
    for _mean, se, method, source in best.values():
        assert se >= 0 and method and "Table" in source
    rows = [_row("bostonHousing", "mdn", 0, 2.4), _row("toy", "mdn", 0, 1.0)]
    rows.append({**_row("bostonHousing", "mdn", 0, 2.5), "dequantized": True})
    lines = uci.best_published_notes(list(dict.fromkeys(map(uci.table_key, rows))))
    text = "\n".join(lines)
    assert "Boston: WGBoost paper (arXiv 2405.09536) Table 1" in text
    assert "for toy (no record found)" in text
    assert uci._best_cell("Boston") == "2.35 ± 0.06 Deep Evidential Regression"
    assert uci._best_cell(None) == ""


def test_benchmark_writes_results_summary_and_figure(data_root, tmp_path):
    out = tmp_path / "out"
    rows = uci.main(
        ["--data", str(data_root), "--models", "gaussian-baseline,mdn"]
        + FAST_MDN
        + ["--splits", "1", "--out", str(out)]
    )
    # datasets x models, one split; the gridded grades raw and dequantized
    assert len(rows) == 3 * 2
    written = _read_csv(out / "uci_results.csv")
    assert [(r["dataset"], r["model"], r["dequantized"]) for r in written] == [
        ("grades", "gaussian-baseline", "False"),
        ("grades", "mdn", "False"),
        ("grades", "gaussian-baseline", "True"),
        ("grades", "mdn", "True"),
        ("toy", "gaussian-baseline", "False"),
        ("toy", "mdn", "False"),
    ]
    for r in written:
        assert np.isfinite(float(r["nll"])) and float(r["rmse"]) > 0
        assert float(r["fit_seconds"]) >= 0
    summary = (out / "uci_summary.md").read_text(encoding="utf-8")
    assert "| dataset | gaussian-baseline | mdn |" in summary
    assert "best published |" in summary and "for grades, toy (no record" in summary
    assert "| grades (1) † |" in summary and "| grades (1) † deq. |" in summary
    assert "target on a grid" in summary and "grades: spacing 1" in summary
    assert "scikit-learn" in summary and "--splits 1" in summary
    assert (out / "uci_nll.png").stat().st_size > 0


def test_first_split_extends_a_run_to_later_splits(data_root, tmp_path):
    base = ["--data", str(data_root), "--datasets", "toy"]
    base += ["--models", "gaussian-baseline"]
    early = uci.main(base + ["--splits", "1", "--out", str(tmp_path / "a")])
    later = uci.main(
        base + ["--first-split", "1", "--splits", "1", "--out", str(tmp_path / "b")]
    )
    assert [r["split"] for r in early] == [0] and [r["split"] for r in later] == [1]
    both = uci.main(base + ["--splits", "2", "--out", str(tmp_path / "c")])
    assert [r["nll"] for r in both] == [early[0]["nll"], later[0]["nll"]]
    with pytest.raises(SystemExit):
        uci.main(base + ["--first-split", "-1", "--out", str(tmp_path / "d")])


def test_resume_runs_only_the_fits_an_interrupted_run_lacks(data_root, tmp_path):
    out = tmp_path / "out"
    base = ["--data", str(data_root), "--datasets", "toy", "--out", str(out)]
    uci.main(base + ["--models", "gaussian-baseline", "--splits", "1"])
    first = _read_csv(out / "uci_results.csv")
    assert len(first) == 1
    # Ask for more splits and another model: the finished fit is kept as it
    # was (its timing too), the others run.
    rows = uci.main(
        base
        + ["--models", "gaussian-baseline,mdn", "--splits", "2", "--resume"]
        + FAST_MDN
    )
    keys = sorted((r["model"], r["split"]) for r in rows)
    assert keys == [
        ("gaussian-baseline", 0),
        ("gaussian-baseline", 1),
        ("mdn", 0),
        ("mdn", 1),
    ]
    kept = [
        r
        for r in _read_csv(out / "uci_results.csv")
        if r["model"] == "gaussian-baseline"
    ]
    assert [r for r in kept if r["split"] == "0"] == first
    # Without --resume the same command starts over.
    rows = uci.main(base + ["--models", "gaussian-baseline", "--splits", "1"])
    assert len(rows) == 1


def test_nll_is_minus_mean_log_likelihood_in_target_units(data_root, tmp_path):
    from scipy import stats
    from sklearn.linear_model import BayesianRidge
    from sklearn.preprocessing import StandardScaler

    rows = uci.main(
        ["--data", str(data_root), "--datasets", "toy", "--splits", "2"]
        + ["--models", "gaussian-baseline", "--out", str(tmp_path / "out")]
    )
    data = uci.load_dataset(data_root, "toy")
    train, test = data.splits[1]
    scaler = StandardScaler().fit(data.X[train])
    ridge = BayesianRidge().fit(scaler.transform(data.X[train]), data.y[train])
    mean, std = ridge.predict(scaler.transform(data.X[test]), return_std=True)
    expected = -stats.norm.logpdf(data.y[test], mean, std).mean()
    assert rows[1]["split"] == 1
    assert rows[1]["nll"] == pytest.approx(expected)
    rmse = np.sqrt(np.mean((mean - data.y[test]) ** 2))
    assert rows[1]["rmse"] == pytest.approx(rmse)


def test_dequantize_option_changes_only_gridded_targets(data_root, tmp_path):
    args = ["--data", str(data_root), "--splits", "1", "--models"]
    plain = uci.main(
        args
        + ["gaussian-baseline", "--grid-targets", "raw", "--out", str(tmp_path / "a")]
    )
    assert not any(r["dequantized"] for r in plain)
    deq = uci.main(
        args + ["gaussian-baseline", "--dequantize", "--out", str(tmp_path / "b")]
    )
    by_name = {r["dataset"]: r for r in plain}
    for row in deq:
        same = row["nll"] == by_name[row["dataset"]]["nll"]
        assert row["dequantized"] == (row["dataset"] == "grades")
        assert same == (row["dataset"] == "toy")


def test_half_point_grid_is_run_raw_and_dequantized(tmp_path):
    from scipy import stats
    from sklearn.linear_model import BayesianRidge
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(4)
    X = rng.normal(size=(60, 2))
    y = 0.5 * np.round(2 * np.clip(3 + X[:, 0], 0, 6))
    _write_dataset(tmp_path / "data", "halves", np.column_stack([X, y]), 2, 1)
    rows = uci.main(
        ["--data", str(tmp_path / "data"), "--models", "gaussian-baseline"]
        + ["--out", str(tmp_path / "out")]
    )
    assert [r["dequantized"] for r in rows] == [False, True]
    assert all(r["target_grid"] == 0.5 for r in rows)
    data = uci.load_dataset(tmp_path / "data", "halves")
    train, test = data.splits[0]
    y_deq = uci.dequantize(data.y, 0, 0.5)
    scaler = StandardScaler().fit(data.X[train])
    ridge = BayesianRidge().fit(scaler.transform(data.X[train]), y_deq[train])
    mean, std = ridge.predict(scaler.transform(data.X[test]), return_std=True)
    assert rows[1]["nll"] == pytest.approx(
        -stats.norm.logpdf(y_deq[test], mean, std).mean()
    )
    # The RMSE is against the raw values.
    assert rows[1]["rmse"] == pytest.approx(
        np.sqrt(np.mean((mean - data.y[test]) ** 2))
    )
    summary = (tmp_path / "out" / "uci_summary.md").read_text(encoding="utf-8")
    assert "| halves (1) † deq. |" in summary and "halves: spacing 0.5" in summary


def test_rows_of_earlier_runs_keep_their_integer_flag(tmp_path):
    path = tmp_path / "old.csv"
    fields = [f if f != "target_grid" else "integer_target" for f in uci.CSV_FIELDS]
    path.write_text(
        ",".join(fields)
        + "\nw,mdn,0,40,8,1.5,0.6,2.0,True,False,"
        + "\nb,mdn,0,40,8,2.5,3.0,1.0,False,False,\n",
        encoding="utf-8",
    )
    rows = uci.read_csv(path)
    assert rows[0]["target_grid"] == 1.0 and np.isnan(rows[1]["target_grid"])
    assert uci.on_grid(rows[0]) and not uci.on_grid(rows[1])


def test_tuned_mdn_runs_the_tiny_grid(data_root, tmp_path):
    rows = uci.main(
        ["--data", str(data_root), "--datasets", "toy", "--splits", "1"]
        + ["--models", "mdn-tuned", "--grid", "tiny"]
        + FAST_MDN
        + ["--out", str(tmp_path / "out")]
    )
    assert np.isfinite(rows[0]["nll"])
    assert "n_components=" in rows[0]["notes"]


def test_tuning_grid_drops_parameters_the_estimator_lacks():
    from sklearn.linear_model import Ridge

    class WithNoise(Ridge):
        def __init__(self, alpha=1.0, n_components=1, input_noise=0.0):
            super().__init__(alpha=alpha)
            self.n_components = n_components
            self.input_noise = input_noise

    assert set(uci_models.tuning_grid("small", WithNoise())) == {
        "n_components",
        "input_noise",
    }


@pytest.mark.parametrize("peer", ["ngboost", "skpro"])
def test_missing_peer_is_skipped_with_a_note(peer, data_root, tmp_path, capsys):
    if importlib.util.find_spec(peer) is not None:
        pytest.skip(f"{peer} is installed: the skip path does not apply")
    model = "ngboost" if peer == "ngboost" else "skpro-mdn"
    rows = uci.main(
        ["--data", str(data_root), "--datasets", "toy", "--splits", "1"]
        + ["--models", f"{model},gaussian-baseline", "--out", str(tmp_path / "o")]
    )
    assert [r["model"] for r in rows] == ["gaussian-baseline"]
    assert f"skipping {model}" in capsys.readouterr().err
    summary = (tmp_path / "o" / "uci_summary.md").read_text(encoding="utf-8")
    assert f"{model} not run" in summary


PEER_PACKAGES = {
    "ngboost": "ngboost",
    "skpro-mdn": "skpro",
    "xgb-distribution": "xgboost_distribution",
    "pgbm": "pgbm",
}


@pytest.mark.parametrize("model", list(PEER_PACKAGES))
def test_installed_peer_runs_on_the_same_splits(model, data_root, tmp_path):
    pytest.importorskip(PEER_PACKAGES[model])
    rows = uci.main(
        ["--data", str(data_root), "--datasets", "toy", "--splits", "1"]
        + ["--models", model, "--out", str(tmp_path / "out")]
    )
    assert rows[0]["model"] == model
    assert np.isfinite(rows[0]["nll"]) and rows[0]["rmse"] > 0
    if model == "xgb-distribution":
        assert rows[0]["notes"].startswith("best_iteration=")
    if model == "pgbm":
        # optimize_distribution's choice is on record.
        assert "distribution=" in rows[0]["notes"]


def test_deep_ensemble_is_five_one_gaussian_networks():
    model = uci_models.make_model("deep-ensemble", 3, uci_models.BenchmarkOptions(), 40)
    ensemble = model.estimator
    assert ensemble.n_estimators == 5 and ensemble.random_state == 3
    member = ensemble.estimator.get_params()
    assert member["n_components"] == 1
    assert member["hidden_layer_sizes"] == (50,) and member["activation"] == "relu"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = X[:, 0] + 0.1 * rng.normal(size=60)
    small = uci_models.BenchmarkOptions(mdn_params={"max_epochs": 3})
    fitted = uci_models.make_model("deep-ensemble", 0, small, 60).fit(X, y)
    dist = fitted.distribution(X[:5])
    assert dist.n_components == 5  # one Gaussian per network
    np.testing.assert_allclose(dist.logpdf(y[:5]), fitted.log_likelihood(X[:5], y[:5]))


def test_ensemble_recipe_transforms_inputs_and_stops_together():
    options = uci_models.BenchmarkOptions()
    ensemble = uci_models.make_model("mdn-ensemble-yj", 2, options, 40).estimator
    assert ensemble.n_estimators == 10 and ensemble.random_state == 2
    assert ensemble.early_stopping == "ensemble"
    assert ensemble.estimator.input_transform == "yeo-johnson"
    # The plain ensemble keeps the defaults of both estimators.
    plain = uci_models.make_model("mdn-ensemble", 2, options, 40).estimator
    assert plain.early_stopping == "members" and plain.n_estimators == 5
    assert plain.estimator.input_transform == "auto"
    # A run's own settings override the recipe's.
    options = uci_models.BenchmarkOptions(
        mdn_params={"input_transform": None, "ensemble__early_stopping": "members"}
    )
    ensemble = uci_models.make_model("mdn-ensemble-yj", 0, options, 40).estimator
    assert ensemble.early_stopping == "members"
    assert ensemble.estimator.input_transform is None
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.exponential(size=60), rng.normal(size=60)])
    y = np.log1p(X[:, 0]) + 0.1 * rng.normal(size=60)
    small = uci_models.BenchmarkOptions(mdn_params={"max_epochs": 3})
    fitted = uci_models.make_model("mdn-ensemble-yj", 0, small, 60).fit(X, y)
    assert fitted.estimator.best_epoch_ >= 1
    for member in fitted.estimator.estimators_:
        assert member.input_lambdas_.shape == (2,)


@pytest.mark.parametrize("name", uci_models.PGBM_DISTRIBUTIONS)
def test_pgbm_densities_have_the_learned_mean_and_variance(name):
    import torch

    mu = torch.tensor([0.5, 2.0], dtype=torch.float64)
    variance = torch.tensor([0.3, 1.5], dtype=torch.float64)
    dist = uci_models.pgbm_distribution(name, mu, variance)
    grid = torch.linspace(-30, 30, 600_001, dtype=torch.float64)[:, None]
    if name in ("lognormal", "gamma"):
        grid = grid[grid[:, 0] > 0]
    with torch.no_grad():
        density = dist.log_prob(grid.expand(-1, 2)).exp()
    step = float(grid[1, 0] - grid[0, 0])
    mass = density.sum(0) * step
    mean = (grid * density).sum(0) * step
    np.testing.assert_allclose(mass, 1.0, atol=2e-3)
    np.testing.assert_allclose(mean, mu, atol=2e-3)
    if name != "studentt":  # 3 degrees of freedom: the tails converge slowly
        var = ((grid - mean) ** 2 * density).sum(0) * step
        np.testing.assert_allclose(var, variance, rtol=2e-2)


def test_gp_is_skipped_above_its_size_limit(monkeypatch, data_root, tmp_path):
    monkeypatch.setattr(uci_models, "GP_MAX_TRAIN", 10)
    rows = uci.main(
        ["--data", str(data_root), "--datasets", "toy", "--splits", "1"]
        + ["--models", "gp", "--out", str(tmp_path / "out")]
    )
    assert np.isnan(rows[0]["nll"]) and "skipped" in rows[0]["notes"]
    summary = (tmp_path / "out" / "uci_summary.md").read_text(encoding="utf-8")
    assert "| toy (1) | n/a |" in summary


def test_unknown_model_or_dataset_is_a_usage_error(data_root):
    with pytest.raises(SystemExit):
        uci.main(["--data", str(data_root), "--models", "mdn,xgboost"])
    with pytest.raises(SystemExit):
        uci.main(["--data", str(data_root), "--datasets", "toy,boston"])


def test_include_merges_an_earlier_run(data_root, tmp_path):
    base = ["--data", str(data_root), "--models", "gaussian-baseline"]
    first = uci.main(base + ["--datasets", "toy", "--out", str(tmp_path / "a")])
    merged = uci.main(
        base
        + ["--datasets", "grades", "--splits", "1"]
        + ["--include", str(tmp_path / "a" / "uci_results.csv")]
        + ["--out", str(tmp_path / "b")]
    )
    assert {r["dataset"] for r in merged} == {"toy", "grades"}
    toy = [r for r in merged if r["dataset"] == "toy"]
    assert [r["nll"] for r in toy] == pytest.approx([r["nll"] for r in first])
    assert len(_read_csv(tmp_path / "b" / "uci_results.csv")) == len(merged)
    summary = (tmp_path / "b" / "uci_summary.md").read_text()
    assert "with rows of" in summary
    assert "toy" in summary.lower() and "grades" in summary.lower()


def test_runs_split_by_split_across_datasets(data_root, tmp_path):
    rows = uci.main(
        ["--data", str(data_root), "--models", "gaussian-baseline"]
        + ["--out", str(tmp_path / "out")]
    )
    # An interrupted run then leaves every dataset with its first splits.
    assert [(r["split"], r["dataset"], r["dequantized"]) for r in rows] == [
        (0, "grades", False),
        (0, "grades", True),
        (0, "toy", False),
        (1, "grades", False),
        (1, "grades", True),
        (1, "toy", False),
    ]


def _row(dataset, model, split, nll, integer=False):
    # integer: the target sits on the grid of the integers.
    return {
        "dataset": dataset,
        "model": model,
        "split": split,
        "n_train": 40,
        "n_test": 8,
        "nll": nll,
        "rmse": 1.0,
        "fit_seconds": 0.5,
        "target_grid": 1.0 if integer else np.nan,
        "dequantized": False,
        "notes": "",
    }


def test_paired_comparison_uses_common_splits_and_counts_wins():
    rows = [
        _row("a", "mdn", 0, 1.0),
        _row("a", "mdn", 1, 2.0),
        _row("a", "mdn", 2, 0.0),  # the peer lacks split 2: not compared
        _row("a", "ngboost", 0, 1.5),
        _row("a", "ngboost", 1, 1.9),
        _row("b", "mdn", 0, 3.0),
        _row("b", "ngboost", 0, 2.0),
        _row("w", "mdn", 0, -2.0, integer=True),
        _row("w", "ngboost", 0, 1.0, integer=True),
    ]
    diffs = uci.paired_differences(rows, "mdn", "ngboost", "a")
    np.testing.assert_allclose(diffs, [-0.5, 0.1])
    lines = uci.paired_comparison(rows, ["mdn", "ngboost", "gaussian-baseline"])
    text = "\n".join(lines)
    assert "| dataset | mdn − ngboost |" in text
    assert "| a | -0.20 ± 0.21 (1/2) |" in text
    assert "| b | +1.00 (0/1) |" in text
    assert "| w † |" in text
    # The integer-target set is shown but not counted.
    assert "- mdn beats ngboost on 1 of 2" in text
    assert uci.paired_comparison(rows, ["mdn", "gaussian-baseline"]) == []


def test_report_only_merges_parallel_runs_without_fitting(data_root, tmp_path):
    base = ["--data", str(data_root), "--models", "gaussian-baseline,mdn", *FAST_MDN]
    uci.main(base + ["--datasets", "toy", "--out", str(tmp_path / "a")])
    uci.main(
        base + ["--datasets", "grades", "--splits", "1", "--out", str(tmp_path / "b")]
    )
    rows = uci.main(
        ["--report-only", "--note", "two runs, one per core"]
        + ["--include", str(tmp_path / "a" / "uci_results.csv")]
        + ["--include", str(tmp_path / "b" / "uci_results.csv")]
        + ["--out", str(tmp_path / "report")]
    )
    assert {(r["dataset"], r["split"]) for r in rows} == {
        ("toy", 0),
        ("toy", 1),
        ("grades", 0),
    }
    summary = (tmp_path / "report" / "uci_summary.md").read_text(encoding="utf-8")
    assert "- two runs, one per core" in summary
    assert "| dataset | mdn | gaussian-baseline |" in summary
    assert "toy (2)" in summary and "grades (1) †" in summary
    assert len(_read_csv(tmp_path / "report" / "uci_results.csv")) == len(rows)
    with pytest.raises(SystemExit):
        uci.main(["--report-only", "--out", str(tmp_path / "none")])


def test_a_cell_with_fewer_splits_says_so():
    rows = [_row("a", "mdn", k, 1.0) for k in range(3)]
    rows += [_row("a", "ngboost", k, 1.0) for k in range(2)]
    assert uci._cell(rows[3:], "nll", n_splits=3).endswith("[2 splits]")
    assert "splits" not in uci._cell(rows[:3], "nll", n_splits=3)


def test_ablation_compares_variants_with_the_defaults_split_by_split(
    data_root, tmp_path
):
    ablation = _load("ablation")
    out = tmp_path / "ablation.md"
    results = ablation.main(
        ["--data", str(data_root), "--datasets", "toy", "--splits", "2"]
        + ["--variants", "n_components=3,weight_decay=1e-4"]
        + FAST_MDN
        + ["--out", str(out)]
    )
    assert set(results) == {
        ("toy", "defaults"),
        ("toy", "n_components=3"),
        ("toy", "weight_decay=1e-4"),
    }
    assert [k for k, _, _ in results["toy", "n_components=3"]] == [0, 1]
    expected = np.array([v for _, v, _ in results["toy", "n_components=3"]]) - [
        v for _, v, _ in results["toy", "defaults"]
    ]
    np.testing.assert_allclose(
        ablation._paired(results, "toy", "n_components=3"), expected
    )
    text = out.read_text(encoding="utf-8")
    assert "| variant | toy | mean difference | fit time vs defaults |" in text
    assert "| defaults | " in text and "(NLL)" in text
    assert "| n_components=3 | " in text and "/2) |" in text
    assert "max_epochs" in text  # the smoke override is on record
    later = ablation.main(
        ["--data", str(data_root), "--datasets", "toy", "--splits", "1"]
        + ["--first-split", "1", "--variants", "n_components=3", *FAST_MDN]
    )
    assert later["toy", "defaults"][0][:2] == results["toy", "defaults"][1][:2]
    with pytest.raises(SystemExit):
        ablation.main(["--data", str(data_root), "--variants", "bigger"])


def test_ablation_runs_every_variant_by_default(data_root):
    # The default --variants is the list of every name joined by commas: no
    # name may contain one.
    ablation = _load("ablation")
    assert not [name for name in ablation.VARIANTS if "," in name]
    results = ablation.main(
        ["--data", str(data_root), "--datasets", "toy", "--splits", "1", *FAST_MDN]
    )
    assert {v for _, v in results} == set(ablation.VARIANTS)


def test_ablation_of_ensemble_members_sets_every_member(
    data_root, tmp_path, monkeypatch
):
    ablation = _load("ablation")
    fitted = []
    real = ablation.evaluate_split

    def spy(model, *args):
        fitted.append(model.estimator)
        return real(model, *args)

    monkeypatch.setattr(ablation, "evaluate_split", spy)
    out = tmp_path / "ablation.md"
    results = ablation.main(
        ["--data", str(data_root), "--datasets", "toy", "--splits", "1"]
        + ["--variants", "n_components=3", "--model", "mdn-ensemble"]
        + FAST_MDN
        + ["--out", str(out)]
    )
    assert set(results) == {("toy", "defaults"), ("toy", "n_components=3")}
    assert [type(m).__name__ for m in fitted] == ["MDNEnsembleRegressor"] * 2
    assert [m.estimators_[0].n_components for m in fitted] == [5, 3]
    assert all(m.n_estimators == 5 for m in fitted)
    assert "as members of MDNEnsembleRegressor" in out.read_text(encoding="utf-8")


def test_merge_rows_lets_a_later_run_replace_a_cell():
    old = [_row("a", "mdn", 0, 1.0), _row("a", "ngboost", 0, 2.0)]
    new = [_row("a", "mdn", 0, 0.5), _row("a", "mdn", 1, 0.7)]
    merged = uci.merge_rows(old, new)
    assert [(r["model"], r["split"], r["nll"]) for r in merged] == [
        ("ngboost", 0, 2.0),
        ("mdn", 0, 0.5),
        ("mdn", 1, 0.7),
    ]


def test_ablation_variants_combine_with_a_slash():
    ablation = _load("ablation")
    params = ablation.variant_params("patience=200/input_noise=0.1")
    assert params == {"patience": 200, "input_noise": 0.1}
    assert ablation.variant_params("n_estimators=10") == {"ensemble__n_estimators": 10}
    with pytest.raises(KeyError, match="bigger"):
        ablation.variant_params("patience=200/bigger")
    with pytest.raises(KeyError, match="two values of patience"):
        ablation.variant_params("patience=200/patience=50")
