"""The scikit-learn estimator: ``MDNRegressor``."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from scipy import stats
from scipy.special import logsumexp
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from ._base import BaseMixtureRegressor, check_numeric_columns, mixture_from_network
from ._checks import check_sample_weights
from ._distributions._kernels import row_chunks
from ._module import ACTIVATIONS, COVARIANCE_TYPES
from ._skorch import (
    CHUNK_ROWS,
    OPTIMIZERS,
    StandardizedRows,
    TensorDataset,
    as_float_tensor,
    build_net,
    forward_mixture,
    keep_members,
    member_log_probs,
    stacking_weights,
    standardized,
    torch_threads,
)

__all__ = ["MDNRegressor"]

# Standardized inputs are clipped to this bound at prediction time.
INPUT_BOUND = 1e30

# input_transform="auto" transforms the features whose sample skewness
# exceeds this in magnitude: "highly skewed" in the usual rule of thumb
# (Bulmer 1979), where a power transform changes the shape the network sees.
SKEWNESS_THRESHOLD = 1.0

# restarts="stack" weighs the restarts by the posterior mode of their
# stacking weights under a Dirichlet prior that adds this many validation
# rows' worth of responsibility to each restart (see stacking_weights):
# chosen on the small UCI sets and the inverted sinusoid, and confirmed on
# other random states and draws (benchmarks/results/stacking-prior.txt).
STACKING_PRIOR = 0.25

# n_init="auto" trains this many restarts on fewer than AUTO_N_INIT_ROWS rows
# (where batch_size="auto" is 32 rows, and a stack of networks costs about
# what one does per step), one from there on. Five: chosen over three on
# splits 1-5 of the small UCI sets, confirmed on splits 6-20
# (benchmarks/results/ablation-restarts.md).
AUTO_N_INIT = 5
AUTO_N_INIT_ROWS = 2000

# patience="auto" waits this many optimizer steps, in whole epochs: 100
# epochs of 1000 rows in batches of 32.
AUTO_PATIENCE_STEPS = 3000


def _fit_yeo_johnson(X, sample_weight, only_skewed=False):
    """Yeo-Johnson exponent of each column, by maximum likelihood.

    The rows with positive weight count, unweighted. A constant column gets
    1, the identity: its likelihood has no maximum. With ``only_skewed``, a
    column whose sample skewness is at most ``SKEWNESS_THRESHOLD`` in
    magnitude gets 1 as well.
    """
    keep = None if sample_weight is None else sample_weight > 0
    columns = range(X.shape[1])
    if only_skewed:
        skewness = _column_skewness(X, keep)
        columns = np.flatnonzero(np.abs(skewness) > SKEWNESS_THRESHOLD)
    lambdas = np.ones(X.shape[1])
    for j in columns:
        column = np.asarray(X[:, j], dtype=np.float64)
        if keep is not None:
            column = column[keep]
        if np.ptp(column) > 0:
            lambdas[j] = stats.yeojohnson_normmax(column)
    return lambdas


def _column_skewness(X, keep=None):
    """Sample skewness of each column (``scipy.stats.skew``'s, biased).

    The mean and standard deviation are ``_weighted_moments``'s of the rows
    ``keep`` selects (a constant column has a unit scale, so skewness 0);
    the third moment takes one more pass, a chunk at a time, so that a
    memmap is read from disk, not copied. Its chunks are an eighth of the
    standardization's: two float64 buffers of them stay well below the
    memory of a fit.
    """
    mean, scale = _weighted_moments(X, None if keep is None else keep.astype(float))
    step = max(CHUNK_ROWS // 8, 1)
    m3 = np.zeros(X.shape[1])
    for start in range(0, len(X), step):
        rows = slice(start, start + step)
        # A copy: the in-place steps must not write into X.
        z = np.array(X[rows], dtype=np.float64)
        if keep is not None:
            z = z[keep[rows]]
        z -= mean
        z /= scale
        cube = z * z
        cube *= z
        m3 += cube.sum(0)
    return m3 / (len(X) if keep is None else np.count_nonzero(keep))


def _yeo_johnson(X, lambdas):
    """``X`` with column ``j`` Yeo-Johnson transformed with ``lambdas[j]``.

    Columns whose exponent is 1 (the identity) are copied as they are.
    """
    X = np.asarray(X, dtype=np.float64)
    with np.errstate(over="ignore"):
        # An input far beyond the training data can overflow to inf here;
        # the standardized inputs are clipped to INPUT_BOUND, as without it.
        return np.column_stack(
            [
                X[:, j] if lam == 1 else stats.yeojohnson(X[:, j], lmbda=lam)
                for j, lam in enumerate(lambdas)
            ]
        )


def _weighted_moments(a, sample_weight):
    """Weighted mean and standard deviation of each column, robustly.

    The deviations are divided by their largest magnitude before squaring,
    so that values near the float64 limits do not overflow and tiny ones do
    not underflow. A column is constant when its spread is within rounding
    of its mean, relative to the mean's magnitude (not an absolute
    threshold, so that data in units of 1e-20 are not constant); a
    constant column keeps a unit scale instead of dividing by zero.

    The passes over the rows go a chunk at a time, in float64, so that a
    memmap is read from disk rather than copied into memory.
    """
    chunks = [slice(s, s + CHUNK_ROWS) for s in range(0, len(a), CHUNK_ROWS)]

    def rows(sl):
        return np.asarray(a[sl], dtype=np.float64)

    def weighted_sum(values, sl):
        if sample_weight is None:
            return values.sum(axis=0)
        return np.multiply(values, sample_weight[sl, None]).sum(axis=0)

    total = len(a) if sample_weight is None else np.sum(sample_weight)
    # Scaled first: a sum of values near 1e308 would overflow.
    magnitude = np.max([np.max(np.abs(rows(sl)), axis=0) for sl in chunks], axis=0)
    magnitude = np.where(magnitude > 0, magnitude, 1.0)
    mean = sum(weighted_sum(rows(sl) / magnitude, sl) for sl in chunks) / total
    mean = mean * magnitude
    spread = np.max([np.max(np.abs(rows(sl) - mean), axis=0) for sl in chunks], axis=0)
    safe = np.where(spread > 0, spread, 1.0)
    var = sum(weighted_sum(((rows(sl) - mean) / safe) ** 2, sl) for sl in chunks)
    std = safe * np.sqrt(var / total)
    constant = spread <= 16 * np.finfo(np.float64).eps * np.abs(mean)
    return mean, np.where(constant | (std == 0), 1.0, std)


class MDNRegressor(BaseMixtureRegressor):
    """Mixture density network regressor: a Gaussian mixture for ``p(y | x)``.

    A neural network maps each input row to the weights, means and standard
    deviations of a ``n_components``-component Gaussian mixture (Bishop,
    1994). It is trained by minimizing the negative log-likelihood through
    skorch on PyTorch. Unlike a mean-squared-error regressor, it represents
    several plausible values of ``y`` for one ``x`` and the whole conditional
    distribution, not only its mean.

    Inputs and targets are standardized internally and every density,
    log-likelihood and sample is returned in the units of ``y`` (the
    Jacobian of the standardization is applied exactly).

    Parameters
    ----------
    n_components : int, default=5
        Number of Gaussian components of the predicted mixture.
    n_init : int or "auto", default="auto"
        Number of networks trained from different random initializations
        (and batch orders and training noise); ``restarts`` says what the
        model keeps of them. The networks are trained together as one
        batched model, each with its own early stopping and learning-rate
        schedule, so that
        several cost much less than as many fits. All stop once the best
        validation NLL among them has stalled for ``patience`` epochs, and
        they are raced: at twice the patience, and at each doubling of that
        epoch, a restart stops when its validation log-likelihood is below
        the best one's by more than two standard errors (paired over the
        validation rows), or when, with the same confidence, it is not
        better than the best one by 0.01 nats per row: on large data the
        validation rows tell equal restarts apart from better ones early,
        and equal ones stop. A network that has stopped leaves the batched
        model, so the later epochs compute fewer networks. ``"auto"`` is 5
        for fewer than 2,000 rows and 1 from there on. On small data a
        single network sometimes settles in a poor optimum (on the inverted
        sinusoid with 1000 rows, 5 of 80 fresh fits missed part of a branch,
        test NLL 1.59 to 1.70 against about 1.38), a poor optimum that the
        validation rows tell apart, and batches of 32 rows keep five
        stacked networks nearly as cheap per step as one: five restarts
        take 1.4 to 1.8 times the fit time of one network there. Stacked
        (the default, see ``restarts``), five restarts gave test NLLs lower
        than three by 0.01 (boston) to 0.07 (concrete) nats on the small
        UCI sets, for about 1.2 times the fit time
        (``benchmarks/results/ablation-restarts.md``). ``"auto"`` is 1 in
        an :class:`MDNEnsembleRegressor`, whose average already dilutes a
        poor member. A warm start continues the networks the model kept. The
        value used is ``n_init_``; pass 1 where fit time counts more.
    restarts : {"stack", "crossfit", "best"}, default="stack"
        What the model keeps of its ``n_init`` networks. ``"stack"``: their
        mixture, each network's mixing weights multiplied by its stacking
        weight: the stacking of predictive distributions (Yao et al., 2018),
        the weights that maximize the likelihood of the mixture on the
        validation rows (on the training rows without ``early_stopping``),
        here the posterior mode under a weak Dirichlet prior that adds a
        quarter of a row to each network's share, found by EM. A network in
        a poor optimum gets little weight, and none only on many rows
        (weights below 0.001 are dropped, with their network): a few dozen
        validation rows cannot rule a network out, and without the prior
        stacking gave test NLLs higher by 0.005 (energy) to 0.13 (yacht) on
        the small UCI sets (``benchmarks/results/stacking-prior.txt``). Good
        networks average out each other's idiosyncrasies, as the
        members of an ensemble do: the predicted mixture then has up to
        ``n_init_ * n_components`` components (``restart_weights_`` says
        which networks it holds). ``"best"``: the network with the lowest
        validation NLL (training NLL without ``early_stopping``), as
        ``GaussianMixture.n_init`` keeps its best run; the mixture has
        ``n_components`` components, those of one network, e.g. to look at
        its parameters. With the default five restarts on the small UCI
        sets (all 20 splits), stacking gave test NLLs lower than the best
        restart's by 0.07 (boston, energy) to 0.20 (concrete, yacht) nats,
        and 0.004 on the inverted sinusoid
        (``benchmarks/results/stacking-prior.txt``); training costs the same, and
        predictions cost one forward pass per kept network. ``"crossfit"``:
        stacked as with ``"stack"``, but each network holds out a
        validation fold of its own (the first network the split's
        validation rows, the next the next as many rows, and so on), so
        that the rows one network is validated on, the others train on:
        together the networks learn from every row, and the stacking
        weights are fitted on every row some network held out (for the
        others, rows they trained on). They stop and are raced as with
        ``"stack"``, the race comparing their folds unpaired;
        ``best_validation_nll_`` is then each network's NLL on its own
        fold, averaged with the weights.
    covariance_type : {"diag", "full"}, default="diag"
        For a multi-output ``y``: with ``"diag"`` the outputs are independent
        within each component (they can still be dependent through the
        mixture); with ``"full"`` each component has a full covariance,
        parameterized by a Cholesky factor with a positive diagonal so that
        every predicted covariance is valid. The two are the same for a
        single output.
    hidden_layer_sizes : tuple of int, default=(32, 32)
        Width of each hidden layer.
    activation : {"tanh", "relu", "logistic", "elu", "gelu", "silu"}, \
            default="tanh"
        Activation of the hidden layers. Smooth ``tanh`` gives smooth mixture
        parameters, which suits low-dimensional inputs.
    min_scale : float, default=1e-3
        Floor of every component's standard deviation, as a fraction of the
        standard deviation of ``y``. It keeps the likelihood bounded: without
        it a component can shrink onto a single training point.
    optimizer : {"adam", "adamw", "sgd"}, default="adam"
        The PyTorch optimizer.
    lr : float, default=3e-3
        Learning rate.
    weight_decay : float, default=0.0
        L2 penalty passed to the optimizer (decoupled for ``"adamw"``).
    lr_schedule : {"plateau"} or None, default="plateau"
        ``"plateau"`` halves the learning rate when the monitored NLL (the
        validation NLL with ``early_stopping``, else the training NLL) has
        not improved for ``max(1, patience // 3)`` epochs. ``None`` keeps
        ``lr`` constant.
    max_epochs : int, default=1000
        Maximum number of passes over the training data.
    batch_size : int, None or "auto", default="auto"
        Rows per optimizer step; ``None`` uses the full training set as one
        batch. ``"auto"`` grows with the square root of the number of
        training rows ``n``: ``32 * sqrt(n / 1000)`` rounded to a power of
        two, between 32 and 4096 (32 up to about 1,400 rows, 128 at 10,000,
        1024 at 1,000,000), so that small data keep the small steps that
        fit them best and large data stop paying for tiny ones. The value
        used is ``batch_size_``.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training rows, stop when
        their NLL has not improved for ``patience`` epochs and restore the
        weights of the best epoch.
    validation_fraction : float, default=0.1
        Fraction of the training rows held out when ``early_stopping``.
    patience : int or "auto", default="auto"
        Epochs without improvement of the validation NLL before stopping.
        ``"auto"`` is about 3,000 optimizer steps, expressed in epochs and
        kept between 10 and 100: 100 epochs for 1000 rows in batches of 32,
        fewer for large data, where an epoch is many steps and the
        validation NLL is precise. The learning-rate plateau waits a third
        of it. The value used is ``patience_``.
    gradient_clip : float or None, default=None
        If set, clip the norm of the gradients to this value at each step.
    average_steps : int or None, default=300
        Horizon, in optimizer steps, of a running average of the weights
        (Polyak averaging): an exponential moving average over the last
        tenth of the steps so far, and over ``average_steps`` steps once
        that is fewer.
        Validation, early stopping and the fitted model use the averaged
        weights, which are less noisy than the last mini-batch step and
        generalize better (on the inverted sinusoid, 1000 rows: test NLL
        1.368 against 1.397 without it, mean over 10 fresh draws). ``None``
        keeps the raw weights.
    input_transform : {"auto", "yeo-johnson"} or None, default="auto"
        A transform of each feature before the standardization. ``None``
        only standardizes. ``"yeo-johnson"`` first applies the Yeo-Johnson
        power transform (as :class:`~sklearn.preprocessing.PowerTransformer`)
        with each feature's exponent fitted by maximum likelihood
        (:func:`scipy.stats.yeojohnson_normmax`, on the rows with positive
        ``sample_weight``, unweighted), which makes skewed features (ages,
        concentrations, counts with a long tail) closer to normal, so that
        the network does not spend its units on a few extreme rows.
        ``"auto"`` transforms only the features whose sample skewness
        (on the same rows, unweighted) exceeds 1 in magnitude (highly
        skewed) and leaves the others as they are (exponent 1); without
        such a feature the model is the one ``None`` fits (on the UCI
        sets: concrete -0.14 nats, boston +0.01, the four others
        unchanged; see the user guide). The exponents are
        ``input_lambdas_``. Unlike a ``Pipeline`` with a
        ``PowerTransformer``, the estimator keeps its whole API
        (``score_samples(X, y)``, :meth:`predict_dist`, :meth:`sample`).
        A memmap ``X`` with a transformed feature is transformed into
        memory (one float64 copy), not streamed from disk.
    input_noise : float, default=0.0
        Standard deviation of Gaussian noise added to the standardized inputs
        of every training batch (noise regularization, Rothfuss et al. 2019).
        It smooths the fitted density in ``x`` and reduces overfitting on
        small datasets; validation and prediction use the clean inputs.
    target_noise : float, default=0.0
        The same for the standardized targets: it widens the components a
        little and keeps them from collapsing onto training points.
    device : str, default="cpu"
        PyTorch device to train and predict on.
    num_threads : int or None, default=1
        PyTorch intra-op threads during ``fit`` and prediction (restored
        afterwards). The matrices of an MDN are small, and one thread is as
        fast as two on an idle machine and several times faster when other
        processes share the cores (parallel grid searches, CI runners).
        ``None`` leaves PyTorch's setting unchanged; raise it for wide
        networks and large batches. Searches on a Dask cluster should keep
        the worker's threads times ``num_threads`` within its cores
        (docs/distributed.md).
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks (instances or ``(name, callback)`` pairs).
        They are copied at each ``fit``; the trained copies are in
        ``net_.callbacks_``.
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialization, the validation split and the batch
        order. An int gives identical models and predictions on every fit.
    verbose : int, default=0
        0 prints nothing; 1 shows a progress bar over epochs with the
        training and validation NLL; 2 also prints skorch's table per epoch.
    warm_start : bool, default=False
        If True and the estimator is already fitted on data of the same
        shape, start from the previous weights and standardization: the
        network(s) the model kept go on training (``n_init`` is not used),
        and ``restarts`` combines them again.

    Attributes
    ----------
    net_ : MDNNet
        The trained skorch net. ``net_.history`` is the training curve and
        ``net_.module_`` the :class:`MixtureDensityNetwork` (or, with
        several stacked restarts, a module holding them in ``networks``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of the features, when ``X`` has string column names.
    n_outputs_ : int
        Number of target dimensions.
    n_iter_ : int
        Number of epochs run.
    n_init_ : int
        The number of networks trained (``n_init`` with ``"auto"``
        resolved; on a warm start, the number the model had kept).
    restart_weights_ : ndarray of shape (``n_init_``,)
        The weight of each trained network in the model: the stacking
        weights with ``restarts="stack"`` (zero for a network left out), one
        for the kept network and zero for the others with ``"best"``.
    batch_size_ : int or None
        The batch size used (``batch_size`` with ``"auto"`` resolved).
    patience_ : int
        The patience used, in epochs.
    best_epoch_ : int
        The epoch whose weights the model has: the best validation NLL with
        ``early_stopping``, else the last epoch (of the network with the
        largest weight in ``restart_weights_``; each restart has its own).
    best_validation_nll_ : float or None
        The validation NLL of the model (of the kept network, or of the
        stacked mixture; with ``restarts="crossfit"`` the networks' own,
        each on its fold, averaged with the weights) in the units of ``y``,
        comparable with ``-score``; ``None`` without ``early_stopping``.
    input_lambdas_ : ndarray of shape (``n_features_in_``,) or None
        The Yeo-Johnson exponent of each feature with ``input_transform``
        set (1, the identity, for a constant feature, and with ``"auto"``
        for a feature that is not highly skewed), else ``None``.
    x_mean_, x_scale_ : ndarray of shape (``n_features_in_``,)
        Standardization of the inputs (weighted by ``sample_weight``), after
        ``input_transform``.
    y_mean_, y_scale_ : ndarray of shape (``n_outputs_``,)
        Standardization of the targets.

    See Also
    --------
    MixtureDistribution : The predictive distribution returned by
        :meth:`predict_dist`.
    sklearn.neural_network.MLPRegressor : Mean-squared-error regression.

    Notes
    -----
    :meth:`score` is the **mean log-likelihood** of the samples (higher is
    better), as for :class:`sklearn.mixture.GaussianMixture`, not the
    coefficient of determination R². Model selection with ``GridSearchCV``
    or ``cross_val_score`` without a ``scoring`` argument therefore selects by
    held-out likelihood. ``scoring="r2"`` still works, since :meth:`predict`
    is the conditional mean.

    The defaults (two hidden layers of 32 tanh units, Adam with lr 3e-3
    halved on plateaus, batches of 32 and a patience of 100 epochs at 1000
    rows, weights averaged over the last 300 steps) were chosen on the
    inverted sinusoid with 1000 training rows
    (``benchmarks/bench_quality.py``): a mean test NLL of 1.384 over 30
    fresh draws (worst 1.444) for one network, against a Bayes limit of
    1.291; with the restarts below (five, stacked) the mean is 1.376 and
    the worst draw 1.403. Batches of 64
    or a patience of 50 were worse (1.410 and 1.389 on the same kind of
    draws), and so were wider layers (64, 64). On the UCI sets the adaptive
    batch size and patience and the weight averaging lowered the test NLL
    by 0.05 to 0.1 nats against the earlier fixed batches of 32
    (``benchmarks/results/uci-defaults.md``).

    Examples
    --------
    >>> import numpy as np
    >>> from skmdn import MDNRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, size=(500, 1))
    >>> y = np.where(rng.random(500) < 0.5, -1.0, 1.0) + 0.1 * rng.normal(size=500)
    >>> mdn = MDNRegressor(n_components=2, max_epochs=50, random_state=0).fit(X, y)
    >>> mdn.predict(X[:3]).shape
    (3,)
    >>> mdn.sample(X[:3], n_samples=4, random_state=0).shape
    (3, 4)
    >>> bool(mdn.score(X, y) > 0)
    True
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "restarts": [StrOptions({"stack", "crossfit", "best"})],
        "covariance_type": [StrOptions(set(COVARIANCE_TYPES))],
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "min_scale": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "lr_schedule": [StrOptions({"plateau"}), None],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
            None,
        ],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "gradient_clip": [Interval(Real, 0, None, closed="neither"), None],
        "average_steps": [Interval(Integral, 1, None, closed="left"), None],
        "input_transform": [StrOptions({"auto", "yeo-johnson"}), None],
        "input_noise": [Interval(Real, 0, None, closed="left")],
        "target_noise": [Interval(Real, 0, None, closed="left")],
        "device": [str, torch.device],
        "num_threads": [Interval(Integral, 1, None, closed="left"), None],
        "callbacks": [list, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        n_components=5,
        *,
        n_init="auto",
        restarts="stack",
        covariance_type="diag",
        hidden_layer_sizes=(32, 32),
        activation="tanh",
        min_scale=1e-3,
        optimizer="adam",
        lr=3e-3,
        weight_decay=0.0,
        lr_schedule="plateau",
        max_epochs=1000,
        batch_size="auto",
        early_stopping=True,
        validation_fraction=0.1,
        patience="auto",
        gradient_clip=None,
        average_steps=300,
        input_transform="auto",
        input_noise=0.0,
        target_noise=0.0,
        device="cpu",
        num_threads=1,
        callbacks=None,
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.n_components = n_components
        self.n_init = n_init
        self.restarts = restarts
        self.covariance_type = covariance_type
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.min_scale = min_scale
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.gradient_clip = gradient_clip
        self.average_steps = average_steps
        self.input_transform = input_transform
        self.input_noise = input_noise
        self.target_noise = target_noise
        self.device = device
        self.num_threads = num_threads
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    # ------------------------------------------------------------------ fit

    def _check_hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
        if not all(isinstance(s, Integral) and s >= 1 for s in sizes):
            raise ValueError(
                "hidden_layer_sizes must be a positive int or a sequence of "
                f"positive ints, got {self.hidden_layer_sizes!r}."
            )
        return tuple(int(s) for s in sizes)

    def _fit(self, X, y, sample_weight):
        fit_together([self], X, y, sample_weight)
        return self

    def _prepare_fit(self, X, y, sample_weight):
        """Validate the training data and set the standardization."""
        check_numeric_columns(X)
        if y is not None and getattr(y, "ndim", 0) > 2:
            raise ValueError(
                f"y has {y.ndim} dimensions (shape {y.shape}); fit takes y of "
                "shape (n_samples,) for one output or (n_samples, n_outputs) "
                "for several. Reshape it, e.g. y.reshape(len(y), -1)."
            )
        if isinstance(X, np.memmap) and X.dtype not in (np.float32, np.float64):
            raise ValueError(
                f"X is a memmap of {X.dtype}: training reads a memmap from disk "
                "batch by batch, so it must hold float32 or float64 values "
                "(anything else would be converted in memory). Write it as "
                "float32, e.g. with np.lib.format.open_memmap(path, mode='w+', "
                "dtype=np.float32, shape=...)."
            )
        # float32 stays float32 (a memmap stays on disk): float64 is only
        # used a chunk at a time, by the standardization.
        X, y = validate_data(
            self,
            X,
            y,
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
        )
        y = self._check_fit_target(y)
        if sample_weight is not None:
            sample_weight = check_sample_weights(sample_weight, len(X))
        reuse = self.warm_start and hasattr(self, "net_")
        if reuse and not self._is_compatible_fit(X, y):
            module = self.net_.module_
            raise ValueError(
                f"warm_start=True continues the previous fit, which had "
                f"{module.n_features} features and {module.n_outputs} outputs; "
                f"got {X.shape[1]} features and {y.shape[1]} outputs. Set "
                "warm_start=False to fit from scratch."
            )
        fitted_transform = getattr(
            self,
            "_fitted_input_transform",
            None if getattr(self, "input_lambdas_", None) is None else "yeo-johnson",
        )
        if reuse and fitted_transform != self.input_transform:
            raise ValueError(
                f"warm_start=True continues the previous fit, which had "
                f"input_transform={fitted_transform!r}; got "
                f"input_transform={self.input_transform!r}. Set "
                "warm_start=False to fit from scratch."
            )
        if not reuse:
            self.input_lambdas_ = (
                None
                if self.input_transform is None
                else _fit_yeo_johnson(
                    X, sample_weight, only_skewed=self.input_transform == "auto"
                )
            )
            self._fitted_input_transform = self.input_transform
        X = self._transform_inputs(X)
        if not reuse:
            self.x_mean_, self.x_scale_ = _weighted_moments(X, sample_weight)
            self.y_mean_, self.y_scale_ = _weighted_moments(y, sample_weight)
        return X, y, sample_weight, reuse

    def _transforms_inputs(self):
        """Whether ``input_lambdas_`` changes any feature."""
        lambdas = getattr(self, "input_lambdas_", None)
        return lambdas is not None and bool(np.any(lambdas != 1))

    def _transform_inputs(self, X):
        """``X`` after ``input_transform`` (before the standardization)."""
        if not self._transforms_inputs():
            return X
        return _yeo_johnson(X, self.input_lambdas_)

    def _copy_preparation(self, other):
        """Take the validated sizes and standardization of ``other``'s data."""
        for name in (
            "n_features_in_",
            "feature_names_in_",
            "n_outputs_",
            "input_lambdas_",
            "_fitted_input_transform",
            "x_mean_",
            "x_scale_",
            "y_mean_",
            "y_scale_",
        ):
            if hasattr(other, name):
                setattr(self, name, getattr(other, name))

    def _resolve_n_init(self, n_samples, single=False, reuse=False):
        """``n_init`` for ``n_samples`` rows; ``"auto"`` is 1 with ``single``
        (an ensemble's member). A warm start (``reuse``) continues the
        network(s) the model kept: restarts from the same weights would
        differ in their batch order only."""
        if reuse:
            return len(getattr(self.net_.module_, "networks", [None]))
        if self.n_init != "auto":
            return self.n_init
        if single or n_samples >= AUTO_N_INIT_ROWS:
            return 1
        return AUTO_N_INIT

    def _draw_split(self, n_samples, n_init=1):
        """Seeds of the ``n_init`` networks and the validation split.

        Returns ``(seeds, train_rows, valid_rows)``; the rows are ``None``
        without ``early_stopping``. Restarts share the validation rows, so
        that their NLLs compare.
        """
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        train_rows = valid_rows = None
        if self.early_stopping:
            n_valid = max(1, int(round(self.validation_fraction * n_samples)))
            if n_samples - n_valid < 1:
                raise ValueError(
                    "early_stopping needs at least 2 samples for a validation "
                    f"split, got n_samples={n_samples}."
                )
            order = rng.permutation(n_samples)
            train_rows, valid_rows = order[n_valid:], order[:n_valid]
        seeds = [seed, *rng.randint(np.iinfo(np.int32).max, size=n_init - 1)]
        return seeds, train_rows, valid_rows

    def _resolve_schedule(self, n_train):
        """``batch_size`` and ``patience`` for ``n_train`` training rows."""
        batch_size, patience = self.batch_size, self.patience
        if batch_size == "auto":
            exponent = round(np.log2(32.0 * np.sqrt(n_train / 1000.0)))
            batch_size = int(np.clip(2**exponent, 32, 4096))
        if patience == "auto":
            steps = np.ceil(n_train / (n_train if batch_size is None else batch_size))
            patience = int(np.clip(round(AUTO_PATIENCE_STEPS / steps), 10, 100))
        return batch_size, patience

    def _set_fitted(self, net, training, m, shares, validation_nll=None):
        """Record a trained stack's kept networks as this model's.

        ``m`` is the restart with the largest weight, ``shares`` the weight
        of each restart in the model, ``validation_nll`` the kept mixture's
        (standardized; ``None``: restart ``m``'s).
        """
        self.net_ = net
        self.n_iter_ = len(net.history)
        self.best_epoch_ = int(training.member_best_epoch_[m])
        self.restart_weights_ = np.asarray(shares, dtype=np.float64)
        if training.valid_ds is None:
            self.best_validation_nll_ = None
            return
        if validation_nll is None or np.count_nonzero(shares) == 1:
            validation_nll = float(training.best_nll_[m])
        self.best_validation_nll_ = validation_nll + float(np.log(self.y_scale_).sum())

    def _check_fit_target(self, y):
        y = np.asarray(y, dtype=np.float64)
        y = y[:, None] if y.ndim == 1 else y
        self.n_outputs_ = y.shape[1]
        return y

    def _is_compatible_fit(self, X, y):
        return (
            self.net_.module_.n_features == X.shape[1]
            and self.net_.module_.n_outputs == y.shape[1]
        )

    def _check_device(self):
        """The device as a ``torch.device``, or a ValueError saying why not."""
        try:
            device = torch.device(self.device)
        except (RuntimeError, TypeError) as exc:
            raise ValueError(
                f"device={self.device!r} is not a PyTorch device: {exc}. Use "
                '"cpu", "cuda" or "cuda:0", for example.'
            ) from exc
        if device.type == "cuda":
            if not torch.cuda.is_available():
                raise ValueError(
                    f"device={self.device!r}, but PyTorch finds no CUDA device "
                    "here; use device='cpu'."
                )
            if device.index is not None and device.index >= torch.cuda.device_count():
                raise ValueError(
                    f"device={self.device!r}, but there are "
                    f"{torch.cuda.device_count()} CUDA device(s)."
                )
        elif device.type == "mps" and not torch.backends.mps.is_available():
            raise ValueError(f"device={self.device!r} is not available here.")
        return device

    # ------------------------------------------------------------- predict

    def _dist_of(self, X):
        # Inputs beyond the float32 range would become inf in the network;
        # a thousand orders of magnitude outside the training data are
        # extrapolation either way, so they are clipped to a finite bound.
        Xs = (self._transform_inputs(X) - self.x_mean_) / self.x_scale_
        np.clip(Xs, -INPUT_BOUND, INPUT_BOUND, out=Xs)
        outputs = forward_mixture(self.net_.module_, Xs, self.num_threads)
        bad = ~np.all([np.isfinite(a).reshape(len(X), -1).all(1) for a in outputs], 0)
        if np.any(bad):
            raise FloatingPointError(
                f"The network's mixture parameters are not finite for "
                f"{int(bad.sum())} row(s) of X (first: row {int(np.argmax(bad))}); "
                "inputs far outside the training data can overflow a network "
                "with unbounded activations."
            )
        return mixture_from_network(*outputs, self.y_mean_, self.y_scale_)


def fit_together(members, X, y, sample_weight, joint=False, ensemble=False):
    """Fit ``MDNRegressor`` instances that differ only in ``random_state``.

    Every network of every member (``n_init`` each) is trained in one
    stacked model: each member has its own validation split, and its
    restarts share it. Each member keeps its restart with the lowest
    validation NLL. This is ``MDNRegressor.fit`` for one member and
    ``MDNEnsembleRegressor.fit`` for several. With ``joint`` the members
    (``n_init=1``, ``early_stopping=True``) are one ensemble: they share the
    lead's validation split and stop together at the ensemble's best epoch
    (``MemberTraining``'s ``joint``). ``ensemble``: the members are those of
    an ensemble (``n_init="auto"`` is 1 for them).
    """
    lead = members[0]
    hidden = lead._check_hidden_layer_sizes()
    lead._check_device()
    with torch_threads(lead.num_threads):
        Xv, yv, sw, reuse = lead._prepare_fit(X, y, sample_weight)
        # The members see the same data: validated and standardized once.
        for member in members[1:]:
            member._copy_preparation(lead)
        ys = (yv - lead.y_mean_) / lead.y_scale_
        device = lead.device
        if isinstance(X, np.memmap) and not lead._transforms_inputs():
            # Left on disk: batches are read and standardized as they come
            # (with input_transform, the transformed rows are in memory).
            Xs = StandardizedRows(Xv, lead.x_mean_, lead.x_scale_, device)
        else:
            Xs = torch.from_numpy(standardized(Xv, lead.x_mean_, lead.x_scale_))
            Xs = Xs.to(device)
        weights = None if sw is None else as_float_tensor(sw, device)
        full = TensorDataset(Xs, as_float_tensor(ys, device), weights)
        n_init = lead._resolve_n_init(len(Xs), single=ensemble, reuse=reuse)
        splits = [member._draw_split(len(Xs), n_init) for member in members]
        if joint:
            # One validation split for all: the ensemble is validated on it.
            splits = [(seeds, splits[0][1], splits[0][2]) for seeds, _, _ in splits]
        # Each network's training and validation rows, one row per network.
        crossfit = [
            member.restarts == "crossfit" and n_init > 1 and split[2] is not None
            for member, split in zip(members, splits)
        ]
        network_rows = [
            _network_rows(split, n_init, cf) for split, cf in zip(splits, crossfit)
        ]
        if sw is not None:
            for _, valid in network_rows:
                if valid is not None and not np.all(np.any(sw[valid] > 0, axis=1)):
                    raise ValueError(
                        "Every row of the validation split has sample_weight 0, "
                        "so early stopping has nothing to measure; set "
                        "early_stopping=False or give more rows a positive "
                        "weight."
                    )
        seeds = [seed for member_seeds, _, _ in splits for seed in member_seeds]
        train_ds, valid_ds, train_index, valid_index = full, None, None, None
        _, train_rows, valid_rows = splits[0]
        n_train = len(Xs) if train_rows is None else len(train_rows)
        params = lead.get_params(deep=False)
        batch_size, patience = lead._resolve_schedule(n_train)
        params.update(batch_size=batch_size, patience=patience)
        full_batch = batch_size in (None, -1) or batch_size >= n_train
        if (
            len(members) == 1
            and valid_rows is not None
            and full_batch
            and not crossfit[0]
        ):
            # One full batch of the training rows, the same every epoch:
            # taken once, not gathered again at each step.
            rows = torch.as_tensor(train_rows, device=device)
            train_ds = full.subset(rows)
            valid_ds = full.subset(torch.as_tensor(valid_rows, device=device))
        elif valid_rows is not None:
            # Row m of an index holds network m's rows (a member's restarts
            # share its split); batches are gathered from the one copy of
            # the data, with no copy of the training rows.
            index = [
                torch.as_tensor(
                    np.concatenate([r[which] for r in network_rows]), device=device
                )
                for which in (0, 1)
            ]
            (train_index, valid_index), valid_ds = index, full
        for member in members:
            member.n_init_ = n_init
            member.batch_size_, member.patience_ = batch_size, patience
        net = build_net(
            params,
            n_features=Xs.shape[1],
            n_outputs=ys.shape[1],
            hidden_layer_sizes=hidden,
            seeds=seeds,
            train_index=train_index,
            valid_ds=valid_ds,
            valid_index=valid_index,
            nll_offset=float(np.log(lead.y_scale_).sum()),
            groups=np.repeat(np.arange(len(members)), n_init),
            joint=joint,
        )
        net.initialize()
        if reuse:
            try:
                net.module_.load_member(lead.net_.module_)
            except RuntimeError as exc:
                raise ValueError(
                    "warm_start=True needs the same network architecture as the "
                    "previous fit; set warm_start=False to refit from scratch."
                ) from exc
        net.partial_fit(train_ds, None)
        if net.interrupted_:
            # Ctrl-C: the partly trained networks are dropped and fit's
            # rollback keeps an already fitted model as it was.
            raise KeyboardInterrupt
        training = dict(net.callbacks_)["mdn_training"]
        stack_module = net.module_
        for g, member in enumerate(members):
            block = np.arange(g * n_init, (g + 1) * n_init)
            m = int(block[np.argmin(training.best_nll_[block])])
            shares = (block == m).astype(float)
            validation_nll = None
            if member.restarts in ("stack", "crossfit") and n_init > 1:
                # The rows some restart held out (None: no validation).
                held_out = (
                    np.unique(network_rows[g][1]) if crossfit[g] else splits[g][2]
                )
                shares, validation_nll = _stack_restarts(
                    stack_module, block, Xs, ys, sw, held_out
                )
                if crossfit[g]:
                    # The mixture's NLL on the union of the folds is partly
                    # in-sample; the held-out figure is each restart's on
                    # its own fold, averaged with the weights.
                    validation_nll = float(shares @ training.best_nll_[block])
            kept = np.flatnonzero(shares)
            member_net = net if g == 0 else _member_net(net)
            keep_members(member_net, block[kept], shares[kept], stack_module)
            _check_finite_outputs(member_net.module_, Xs)
            # The restart with the largest weight gives best_epoch_.
            main = int(block[np.argmax(shares)])
            member._set_fitted(member_net, training, main, shares, validation_nll)
            if training.sink is not None and len(kept) > 1:
                weights = ", ".join(f"{w:.2f}" for w in shares)
                what = (
                    f": validation NLL {member.best_validation_nll_:.4f}"
                    if member.best_validation_nll_ is not None
                    else ""
                )
                training.sink(
                    f"stacked {len(kept)} of {n_init} restarts (weights "
                    f"{weights}){what}"
                )
        # A fitted model keeps its network, not the rows it was trained and
        # validated on: they would cost memory and pickle size, and, after
        # a fit on a GPU, a pickle would need one to load (skorch maps only
        # a net's module, criterion and optimizer to the CPU).
        training.set_params(valid_ds=None, valid_index=None)
        for member in members:
            # Set directly: skorch's set_params refuses an iterator's
            # parameter on an initialized net.
            member.net_.iterator_train__index = None
    return members


def _network_rows(split, n_init, crossfit):
    """Training and validation rows of each of a member's ``n_init`` networks.

    Returns two arrays with one row per network (``None`` for both without
    a validation split). The restarts share the member's split, or with
    ``crossfit`` each holds out its own fold: the validation rows of the
    split, then the next as many rows of the split's random order, and so
    on (folds overlap only when ``n_init`` folds are more than the rows).
    """
    _, train_rows, valid_rows = split
    if valid_rows is None:
        return None, None
    if not crossfit:
        # Views: the rows are copied once, into the index of all networks.
        return (
            np.broadcast_to(train_rows, (n_init, len(train_rows))),
            np.broadcast_to(valid_rows, (n_init, len(valid_rows))),
        )
    n_valid = len(valid_rows)
    order = np.concatenate([valid_rows, train_rows])
    folds = [np.roll(order, -k * n_valid) for k in range(n_init)]
    return (
        np.stack([fold[n_valid:] for fold in folds]),
        np.stack([fold[:n_valid] for fold in folds]),
    )


def _stack_restarts(stack, block, Xs, ys, sample_weight, valid_rows):
    """Stacking weights of the restarts ``block`` of ``stack``, and their NLL.

    The weights maximize the likelihood of the restarts' mixture on the
    held-out rows ``valid_rows`` (on the training rows when ``None``,
    without early stopping). Returns ``(weights, nll)``: the NLL of that
    mixture on the held-out rows (standardized units), ``None`` without
    them.
    """
    # Without early stopping there are no held-out rows: every row trained.
    rows = valid_rows if valid_rows is not None else np.arange(len(Xs))
    log_probs = member_log_probs(stack, block, Xs, ys, rows)
    w = None if sample_weight is None else sample_weight[rows]
    shares = stacking_weights(log_probs, w, prior=STACKING_PRIOR)
    if valid_rows is None:
        return shares, None
    with np.errstate(divide="ignore"):
        mixture = logsumexp(log_probs + np.log(shares)[:, None], axis=0)
    nll = -float(np.average(mixture, weights=w))
    return shares, nll


def _member_net(net):
    """A net like ``net`` (same parameters, history and callbacks) for another member.

    The callbacks are the trained net's own, not initialized again: a
    user's callback keeps what it recorded during training.
    """
    other = type(net)(**net.get_params(deep=False))
    other.callbacks_of_ = net
    try:
        other.initialize()
    finally:
        del other.callbacks_of_
    other.history_ = net.history_
    return other


def _check_finite_outputs(module, Xs):
    finite = all(
        np.isfinite(a).all()
        for rows in row_chunks(len(Xs), 1, CHUNK_ROWS)
        for a in forward_mixture(module, Xs[rows])
    )
    if not finite:
        raise FloatingPointError(
            "Training produced a network with non-finite outputs; try a "
            "smaller lr or gradient_clip."
        )
