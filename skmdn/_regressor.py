"""The scikit-learn estimator: ``MDNRegressor``."""

from __future__ import annotations

import copy
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)
from skorch.callbacks import EarlyStopping, GradientNormClipping, LRScheduler
from skorch.helper import predefined_split

from ._base import CHUNK_ROWS, MixturePredictionMixin
from ._distributions import MixtureDistribution, MultivariateMixtureDistribution
from ._engine import (
    EpochProgress,
    MDNNet,
    TensorBatchIterator,
    TensorDataset,
    as_float_tensor,
    seeded_generator,
    torch_threads,
)
from ._module import (
    ACTIVATIONS,
    COVARIANCE_TYPES,
    MixtureDensityNetwork,
    MixtureNLLLoss,
)

__all__ = ["MDNRegressor"]

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}


def _weighted_moments(a, sample_weight):
    mean = np.average(a, axis=0, weights=sample_weight)
    std = np.sqrt(np.average((a - mean) ** 2, axis=0, weights=sample_weight))
    # Constant columns keep a unit scale instead of dividing by zero.
    tiny = 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(mean))
    return mean, np.where(std > tiny, std, 1.0)


class MDNRegressor(MixturePredictionMixin, RegressorMixin, BaseEstimator):
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
    batch_size : int or None, default=32
        Rows per optimizer step; ``None`` uses the full training set as one
        batch.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training rows, stop when
        their NLL has not improved for ``patience`` epochs and restore the
        weights of the best epoch.
    validation_fraction : float, default=0.1
        Fraction of the training rows held out when ``early_stopping``.
    patience : int, default=100
        Epochs without improvement of the validation NLL before stopping.
    gradient_clip : float or None, default=None
        If set, clip the norm of the gradients to this value at each step.
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
        networks and large batches.
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
        shape, start from the previous weights and standardization.

    Attributes
    ----------
    net_ : MDNNet
        The trained skorch net. ``net_.history`` is the training curve and
        ``net_.module_`` the :class:`MixtureDensityNetwork`.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.
    n_outputs_ : int
        Number of target dimensions.
    n_iter_ : int
        Number of epochs run.
    x_mean_, x_scale_ : ndarray of shape (n_features_in_,)
        Standardization of the inputs (weighted by ``sample_weight``).
    y_mean_, y_scale_ : ndarray of shape (n_outputs_,)
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
    halved on plateaus, batches of 32, early stopping with a patience of 100
    epochs) were chosen
    on the inverted sinusoid with 1000 training rows (``benchmarks/bench_quality.py``):
    a mean test NLL of about 1.38 nats against a Bayes limit of 1.291. Larger
    batches or a patience of 50 stopped before the components had separated
    (1.43 to 1.50), and wider layers (64, 64) were less stable across seeds.

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
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "gradient_clip": [Interval(Real, 0, None, closed="neither"), None],
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
        covariance_type="diag",
        hidden_layer_sizes=(32, 32),
        activation="tanh",
        min_scale=1e-3,
        optimizer="adam",
        lr=3e-3,
        weight_decay=0.0,
        lr_schedule="plateau",
        max_epochs=1000,
        batch_size=32,
        early_stopping=True,
        validation_fraction=0.1,
        patience=100,
        gradient_clip=None,
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
        self.input_noise = input_noise
        self.target_noise = target_noise
        self.device = device
        self.num_threads = num_threads
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    # ------------------------------------------------------------------ fit

    def fit(self, X, y, sample_weight=None):
        """Fit the mixture density network by maximum likelihood.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights; the loss is the weighted mean NLL, so a
            weight of 2 counts a row twice.

        Returns
        -------
        self : MDNRegressor
            The fitted estimator.
        """
        self._validate_params()
        hidden = self._check_hidden_layer_sizes()
        previous_state = self.__dict__.copy()
        try:
            with torch_threads(self.num_threads):
                return self._fit(X, y, sample_weight, hidden)
        except BaseException:
            # A failed fit leaves an already fitted model as it was.
            self.__dict__.clear()
            self.__dict__.update(previous_state)
            raise

    def _check_hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
        if not all(isinstance(s, Integral) and s >= 1 for s in sizes):
            raise ValueError(
                "hidden_layer_sizes must be a positive int or a sequence of "
                f"positive ints, got {self.hidden_layer_sizes!r}."
            )
        return tuple(int(s) for s in sizes)

    def _fit(self, X, y, sample_weight, hidden):
        X, y = validate_data(
            self, X, y, multi_output=True, y_numeric=True, dtype=np.float64
        )
        y = self._check_fit_target(y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
            if not np.any(sample_weight > 0):
                raise ValueError("sample_weight must have at least one positive value.")
        n_samples = X.shape[0]
        reuse = self.warm_start and self._is_compatible_fit(X, y)
        if not reuse:
            self.x_mean_, self.x_scale_ = _weighted_moments(X, sample_weight)
            self.y_mean_, self.y_scale_ = _weighted_moments(y, sample_weight)
        Xs = (X - self.x_mean_) / self.x_scale_
        ys = (y - self.y_mean_) / self.y_scale_

        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        device = self.device
        weights = (
            None if sample_weight is None else as_float_tensor(sample_weight, device)
        )
        full = TensorDataset(
            as_float_tensor(Xs, device), as_float_tensor(ys, device), weights
        )

        if self.early_stopping:
            n_valid = max(1, int(round(self.validation_fraction * n_samples)))
            if n_samples - n_valid < 1:
                raise ValueError(
                    "early_stopping needs at least 2 samples for a validation "
                    f"split, got n_samples={n_samples}."
                )
            order = torch.as_tensor(rng.permutation(n_samples), device=device)
            train_ds = _subset(full, order[n_valid:])
            valid_ds = _subset(full, order[:n_valid])
        else:
            train_ds, valid_ds = full, None

        net = self._build_net(hidden, seed, valid_ds)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net.initialize()
        if reuse:
            try:
                net.module_.load_state_dict(self.net_.module_.state_dict())
            except RuntimeError as exc:
                raise ValueError(
                    "warm_start=True needs the same network architecture as the "
                    "previous fit; set warm_start=False to refit from scratch."
                ) from exc
        net.partial_fit(train_ds, None)
        self._check_finite_outputs(net, full.X)

        self.net_ = net
        self.n_iter_ = len(net.history)
        return self

    def _check_fit_target(self, y):
        y = np.asarray(y, dtype=np.float64)
        y = y[:, None] if y.ndim == 1 else y
        self.n_outputs_ = y.shape[1]
        return y

    def _is_compatible_fit(self, X, y):
        return (
            hasattr(self, "net_")
            and self.net_.module_.n_features == X.shape[1]
            and self.net_.module_.n_outputs == y.shape[1]
        )

    def _build_net(self, hidden, seed, valid_ds):
        callbacks = []
        if self.gradient_clip is not None:
            callbacks.append(
                ("mdn_gradient_clip", GradientNormClipping(self.gradient_clip))
            )
        if valid_ds is not None:
            callbacks.append(
                (
                    "mdn_early_stopping",
                    EarlyStopping(
                        monitor="valid_loss",
                        patience=self.patience,
                        threshold=1e-4,
                        threshold_mode="abs",
                        load_best=True,
                        sink=print if self.verbose else _silent,
                    ),
                )
            )
        if self.lr_schedule == "plateau":
            callbacks.append(
                (
                    "mdn_lr_schedule",
                    LRScheduler(
                        policy="ReduceLROnPlateau",
                        monitor="train_loss" if valid_ds is None else "valid_loss",
                        factor=0.5,
                        patience=max(1, self.patience // 3),
                        threshold=1e-4,
                        threshold_mode="abs",
                    ),
                )
            )
        if self.verbose:
            callbacks.append(("mdn_progress", EpochProgress(self.max_epochs)))
        callbacks += copy.deepcopy(self.callbacks or [])

        optimizer_kwargs = {"weight_decay": self.weight_decay}
        if self.optimizer in ("adam", "adamw") and str(self.device) == "cpu":
            # The fused kernel does the whole parameter update in one call,
            # about 10% of a small network's step on CPU.
            optimizer_kwargs["fused"] = True
        return MDNNet(
            module=MixtureDensityNetwork,
            module__n_features=self.n_features_in_,
            module__n_outputs=self.n_outputs_,
            module__n_components=self.n_components,
            module__hidden_layer_sizes=hidden,
            module__activation=self.activation,
            module__min_scale=self.min_scale,
            module__covariance_type=self.covariance_type,
            criterion=MixtureNLLLoss,
            optimizer=OPTIMIZERS[self.optimizer],
            lr=self.lr,
            **{f"optimizer__{k}": v for k, v in optimizer_kwargs.items()},
            max_epochs=self.max_epochs,
            batch_size=-1 if self.batch_size is None else self.batch_size,
            iterator_train=TensorBatchIterator,
            iterator_train__shuffle=True,
            iterator_train__generator=seeded_generator(seed + 1),
            iterator_train__input_noise=self.input_noise,
            iterator_train__target_noise=self.target_noise,
            iterator_valid=TensorBatchIterator,
            iterator_valid__batch_size=CHUNK_ROWS,
            train_split=None if valid_ds is None else predefined_split(valid_ds),
            callbacks=callbacks,
            device=self.device,
            verbose=0,
            print_log=self.verbose >= 2,
        )

    def _check_finite_outputs(self, net, X):
        log_weights, means, scales = self._forward(net.module_, X)
        if not all(np.isfinite(a).all() for a in (log_weights, means, scales)):
            raise FloatingPointError(
                "Training produced a network with non-finite outputs; try a "
                "smaller lr or gradient_clip."
            )

    # ------------------------------------------------------------- predict

    @staticmethod
    def _forward(module, X):
        """Mixture parameters for standardized inputs, as float64 arrays."""
        module.eval()
        parts = []
        with torch.inference_mode():
            for start in range(0, len(X), CHUNK_ROWS):
                out = module(X[start : start + CHUNK_ROWS])
                parts.append([t.double().cpu().numpy() for t in out])
        if not parts:
            k, d = module.n_components, module.n_outputs
            return np.empty((0, k)), np.empty((0, k, d)), np.empty((0, k, d))
        return tuple(np.concatenate(p) for p in zip(*parts))

    def _validated_X(self, X):
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=np.float64)

    def _mixture_params(self, X):
        """Mixture parameters in the units of y for validated inputs."""
        module = self.net_.module_
        # The module's own device, not self.device: skorch maps a net trained
        # on CUDA to the CPU when it is unpickled on a machine without one.
        device = next(module.parameters()).device
        Xs = as_float_tensor((X - self.x_mean_) / self.x_scale_, device)
        with torch_threads(self.num_threads):
            log_weights, means, scales = self._forward(module, Xs)
        weights = np.exp(log_weights)
        weights /= weights.sum(axis=1, keepdims=True)
        means = means * self.y_scale_ + self.y_mean_
        if scales.ndim == 4:
            # Cholesky factor of D Sigma D for D = diag(y_scale_).
            scales = scales * self.y_scale_[:, None]
        else:
            scales = scales * self.y_scale_
        return weights, means, scales

    def _dist_of(self, X):
        weights, means, scales = self._mixture_params(X)
        if self.n_outputs_ == 1:
            scales = scales[..., 0, 0] if scales.ndim == 4 else scales[..., 0]
            return MixtureDistribution(weights, means[..., 0], scales)
        if scales.ndim == 4:
            return MultivariateMixtureDistribution(weights, means, scales)
        return MultivariateMixtureDistribution.from_diagonal(weights, means, scales)

    def predict_dist(self, X):
        """The predicted mixture of each row, as a distribution object.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        dist : MixtureDistribution or MultivariateMixtureDistribution
            For a single output, a :class:`MixtureDistribution` with
            ``weights``, ``means`` and ``scales`` of shape
            ``(n_samples, n_components)`` in the units of ``y``, and
            ``mean()``, ``std()``, ``pdf``, ``logpdf``, ``cdf``, ``ppf``,
            ``interval``, ``hdr``, ``modes``, ``sample``. For several outputs,
            a :class:`MultivariateMixtureDistribution` with means
            ``(n_samples, n_components, n_outputs)`` and covariances
            ``(n_samples, n_components, n_outputs, n_outputs)``; its
            ``marginal(j)`` is the 1-D mixture of output ``j``.
        """
        return self._dist_of(self._validated_X(X))


def _subset(dataset, index):
    y = dataset.target(index)
    if isinstance(y, tuple):
        return TensorDataset(dataset.X[index], *y)
    return TensorDataset(dataset.X[index], y)


def _silent(*args, **kwargs):
    pass
