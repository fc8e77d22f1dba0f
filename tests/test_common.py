"""scikit-learn's own estimator checks."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skmdn import MDNEnsembleRegressor, MDNRegressor

# Both checks call ``score_samples(X)``, the signature of unsupervised density
# estimators. MDNRegressor.score_samples(X, y) is a conditional
# log-likelihood and needs y; test_regressor.py checks the same invariances
# for predict and score_samples.
_SCORE_SAMPLES_NEEDS_Y = {
    "check_methods_subset_invariance": "score_samples(X, y) needs y",
    "check_methods_sample_order_invariance": "score_samples(X, y) needs y",
}


def _expected_failed_checks(estimator):
    failures = dict(_SCORE_SAMPLES_NEEDS_Y)
    if getattr(estimator, "early_stopping", True):
        failures["check_sample_weight_equivalence_on_dense_data"] = (
            "early stopping holds out a random subset of rows, and repeating "
            "rows changes which rows are held out; the full-batch estimator "
            "above passes this check"
        )
    return failures


@parametrize_with_checks(
    [
        # Full batch, no held-out rows and no input transform (whose
        # exponents are fitted on the rows with positive weight, unweighted):
        # sample weights act exactly as repeated rows.
        MDNRegressor(
            n_components=2,
            hidden_layer_sizes=(8,),
            max_epochs=10,
            batch_size=None,
            early_stopping=False,
            input_transform=None,
        ),
        MDNRegressor(n_components=2, hidden_layer_sizes=(8,), max_epochs=5),
        MDNRegressor(
            n_components=2,
            hidden_layer_sizes=(8,),
            max_epochs=5,
            input_transform="yeo-johnson",
        ),
        MDNEnsembleRegressor(
            MDNRegressor(n_components=2, hidden_layer_sizes=(8,), max_epochs=5),
            n_estimators=2,
        ),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
