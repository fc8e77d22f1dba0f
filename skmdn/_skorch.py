"""Everything skmdn does with skorch and PyTorch, in one place.

The estimators hand this module standardized float64 arrays and get back a
trained :class:`MDNNet` (``build_net``, then ``net.partial_fit``) and, at
prediction time, the network's mixture parameters as float64 arrays
(``forward_mixture``). It holds:

- the data path: :class:`TensorDataset` and :class:`TensorBatchIterator`.
  skorch's default path rebuilds every batch from single rows through
  ``Dataset.__getitem__`` and ``default_collate``; on small tabular data that
  costs more than the optimizer step itself. Here the data sit in tensors
  and batches are slices (or index selections, when shuffling) of them;
- the net, :class:`MDNNet`, with its light per-epoch bookkeeping
  (:class:`EpochLoss`, :class:`FastHistory`) and progress bar
  (:class:`EpochProgress`);
- the optimizer table and the callbacks that the estimator's parameters
  switch on (early stopping, the plateau schedule, gradient clipping), in
  ``build_net``;
- the inference forward pass and the PyTorch thread setting.
"""

from __future__ import annotations

import copy
import math
from contextlib import contextmanager

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import (
    Callback,
    EarlyStopping,
    GradientNormClipping,
    LRScheduler,
)
from skorch.helper import predefined_split
from skorch.history import History

from ._module import MixtureDensityNetwork, MixtureNLLLoss

__all__ = [
    "OPTIMIZERS",
    "MDNNet",
    "TensorBatchIterator",
    "TensorDataset",
    "build_net",
    "forward_mixture",
]

# Rows per chunk at prediction and validation time: bounds the memory of one
# forward pass and of the mixture parameters held at once.
CHUNK_ROWS = 65_536

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}


class TensorDataset(torch.utils.data.Dataset):
    """In-memory tensors of inputs, targets and optional sample weights."""

    def __init__(self, X, y, sample_weight=None):
        self.X = X
        self.y = y
        self.sample_weight = sample_weight

    def __len__(self):
        return len(self.X)

    def target(self, index=None):
        """The target of a batch: ``y`` or ``(y, sample_weight)``."""
        if index is None:
            y, w = self.y, self.sample_weight
        else:
            y = self.y[index]
            w = None if self.sample_weight is None else self.sample_weight[index]
        return y if w is None else (y, w)

    def __getitem__(self, i):
        return self.X[i], self.target(i)

    def subset(self, index):
        """The rows ``index`` (a tensor of row numbers) as a new dataset."""
        w = None if self.sample_weight is None else self.sample_weight[index]
        return TensorDataset(self.X[index], self.y[index], w)


class TensorBatchIterator:
    """Yield ``(X, target)`` batches of a :class:`TensorDataset` by slicing.

    Parameters
    ----------
    dataset : TensorDataset
    batch_size : int
        ``-1`` or a size at least the dataset's length gives one full batch,
        with no copy.
    shuffle : bool, default=False
        Draw a new permutation each epoch (from ``generator``).
    generator : torch.Generator, optional
    input_noise, target_noise : float, default=0.0
        Standard deviation of Gaussian noise added to each batch's inputs and
        targets, drawn afresh every time (noise regularization, Rothfuss et
        al. 2019). Use it for the training iterator only.
    """

    def __init__(
        self,
        dataset,
        batch_size,
        shuffle=False,
        generator=None,
        input_noise=0.0,
        target_noise=0.0,
    ):
        self.dataset = dataset
        n = len(dataset)
        self.batch_size = n if batch_size in (-1, None) else min(batch_size, n)
        self.shuffle = shuffle
        self.generator = generator
        self.input_noise = input_noise
        self.target_noise = target_noise

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        for X, target in self._batches():
            if self.input_noise or self.target_noise:
                X, target = self._perturb(X, target)
            yield X, target

    def _batches(self):
        ds, bs, n = self.dataset, self.batch_size, len(self.dataset)
        if bs >= n:
            yield ds.X, ds.target()
            return
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator)
            for start in range(0, n, bs):
                index = order[start : start + bs]
                yield ds.X[index], ds.target(index)
        else:
            for start in range(0, n, bs):
                index = slice(start, start + bs)
                yield ds.X[index], ds.target(index)

    def _noise_like(self, t, scale):
        noise = torch.randn(t.shape, generator=self.generator, dtype=t.dtype)
        return t + scale * noise.to(t.device)

    def _perturb(self, X, target):
        if self.input_noise:
            X = self._noise_like(X, self.input_noise)
        if self.target_noise:
            if isinstance(target, tuple):
                target = (self._noise_like(target[0], self.target_noise), target[1])
            else:
                target = self._noise_like(target, self.target_noise)
        return X, target


class MDNNet(NeuralNet):
    """A ``skorch.NeuralNet`` for mixture density networks.

    It differs from ``NeuralNet`` where skorch's per-epoch bookkeeping
    costs more than a small network's step: one callback records the epoch
    losses (and stops on a non-finite one) in place of skorch's scoring
    callbacks, timing and printing are opt-in, and the history takes plain
    integer keys without parsing them. The loss takes optional per-row
    sample weights carried with the target, and inputs are expected as
    :class:`TensorDataset`.
    """

    def __init__(self, *args, print_log=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.print_log = print_log

    @property
    def _default_callbacks(self):
        callbacks = [("epoch_loss", EpochLoss())]
        if self.print_log:
            from skorch.callbacks import EpochTimer, PrintLog

            callbacks = [("epoch_timer", EpochTimer()), *callbacks]
            callbacks.append(("print_log", PrintLog()))
        return callbacks

    def _set_training(self, training=True):
        # skorch sets the mode of every submodule before each batch; on a
        # small network that recursion costs ~5% of a step, so skip it when
        # the mode is already right.
        for name in self._modules:
            module = getattr(self, name + "_")
            if module.training != training:
                module.train(training)

    def initialize_history(self):
        self.history_ = FastHistory()
        return self

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if isinstance(y_true, tuple):
            y_true, sample_weight = y_true
            return self.criterion_(y_pred, y_true, sample_weight=sample_weight)
        return self.criterion_(y_pred, y_true)


class FastHistory(History):
    """skorch's ``History`` with a direct path for integer keys.

    ``history[-1]`` is what skorch itself uses several times per batch;
    every other key goes through ``History``'s general indexing.
    """

    def __getitem__(self, i):
        if type(i) is int:
            return list.__getitem__(self, i)
        return super().__getitem__(i)


# Targets are standardized, so N(0, 1) scores about 1.42 nats per row; an
# epoch mean beyond this bound means the weights have blown up, even if they
# are still finite.
DIVERGED_NLL = 1e6


class EpochLoss(Callback):
    """Record the epoch's mean train and validation losses, and check them.

    The means are weighted by batch size, like skorch's
    ``PassthroughScoring``; ``<name>_best`` flags the best epoch so far.
    A loss that is not finite, or beyond ``DIVERGED_NLL``, stops training
    with ``FloatingPointError`` rather than returning a model whose outputs
    are NaN or meaningless.
    """

    def on_train_begin(self, net, **kwargs):
        self.best_ = {}

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        for prefix in ("train", "valid"):
            key, size_key = prefix + "_loss", prefix + "_batch_size"
            total = count = 0.0
            for batch in row["batches"]:
                if key in batch:
                    total += batch[key] * batch[size_key]
                    count += batch[size_key]
            if not count:
                continue
            value = total / count
            if not value < DIVERGED_NLL:
                raise FloatingPointError(
                    f"Training diverged at epoch {row['epoch']}: {key} is {value}. "
                    "Try a smaller lr, gradient_clip, a larger min_scale or "
                    "check the data for extreme values."
                )
            is_best = value < self.best_.get(key, math.inf)
            if is_best:
                self.best_[key] = value
            row[key] = value
            row[key + "_best"] = is_best


class EpochProgress(Callback):
    """A tqdm progress bar over epochs showing train and validation NLL."""

    def __init__(self, total):
        self.total = total

    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm

        self.bar_ = tqdm(total=self.total, unit="epoch", desc="MDNRegressor")

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        postfix = {"train_nll": f"{row['train_loss']:.4f}"}
        if "valid_loss" in row:
            postfix["valid_nll"] = f"{row['valid_loss']:.4f}"
        self.bar_.set_postfix(postfix, refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, **kwargs):
        self.bar_.close()

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("bar_", None)
        return state


def build_net(
    params, *, n_features, n_outputs, hidden_layer_sizes, seed, valid_ds
) -> MDNNet:
    """The skorch net that trains one estimator, not yet initialized.

    Parameters
    ----------
    params : dict
        The estimator's parameters (``get_params(deep=False)`` of
        :class:`~skmdn.MDNRegressor`), already validated.
    n_features, n_outputs : int
        Sizes of the standardized inputs and targets.
    hidden_layer_sizes : tuple of int
    seed : int
        Seeds the batch order and the training noise.
    valid_ds : TensorDataset or None
        The held-out rows for early stopping; ``None`` trains on all rows and
        lets the plateau schedule monitor the training loss.
    """
    verbose = params["verbose"]
    callbacks = []
    if params["gradient_clip"] is not None:
        callbacks.append(
            ("mdn_gradient_clip", GradientNormClipping(params["gradient_clip"]))
        )
    if valid_ds is not None:
        stopper = EarlyStopping(
            monitor="valid_loss",
            patience=params["patience"],
            threshold=1e-4,
            threshold_mode="abs",
            load_best=True,
            sink=print if verbose else _silent,
        )
        callbacks.append(("mdn_early_stopping", stopper))
    if params["lr_schedule"] == "plateau":
        schedule = LRScheduler(
            policy="ReduceLROnPlateau",
            monitor="train_loss" if valid_ds is None else "valid_loss",
            factor=0.5,
            patience=max(1, params["patience"] // 3),
            threshold=1e-4,
            threshold_mode="abs",
        )
        callbacks.append(("mdn_lr_schedule", schedule))
    if verbose:
        callbacks.append(("mdn_progress", EpochProgress(params["max_epochs"])))
    callbacks += copy.deepcopy(params["callbacks"] or [])

    device = params["device"]
    optimizer_kwargs = {"weight_decay": params["weight_decay"]}
    if params["optimizer"] in ("adam", "adamw") and str(device) == "cpu":
        # The fused kernel does the whole parameter update in one call,
        # about 10% of a small network's step on CPU.
        optimizer_kwargs["fused"] = True
    batch_size = params["batch_size"]
    return MDNNet(
        module=MixtureDensityNetwork,
        module__n_features=n_features,
        module__n_outputs=n_outputs,
        module__n_components=params["n_components"],
        module__hidden_layer_sizes=hidden_layer_sizes,
        module__activation=params["activation"],
        module__min_scale=params["min_scale"],
        module__covariance_type=params["covariance_type"],
        criterion=MixtureNLLLoss,
        optimizer=OPTIMIZERS[params["optimizer"]],
        lr=params["lr"],
        **{f"optimizer__{k}": v for k, v in optimizer_kwargs.items()},
        max_epochs=params["max_epochs"],
        batch_size=-1 if batch_size is None else batch_size,
        iterator_train=TensorBatchIterator,
        iterator_train__shuffle=True,
        iterator_train__generator=seeded_generator(seed + 1),
        iterator_train__input_noise=params["input_noise"],
        iterator_train__target_noise=params["target_noise"],
        iterator_valid=TensorBatchIterator,
        iterator_valid__batch_size=CHUNK_ROWS,
        train_split=None if valid_ds is None else predefined_split(valid_ds),
        callbacks=callbacks,
        device=device,
        verbose=0,
        print_log=verbose >= 2,
    )


def forward_mixture(module, X: np.ndarray, num_threads=None):
    """The module's mixture parameters for standardized rows ``X``.

    One forward pass over all rows (the estimators call it on chunks of
    rows). Returns float64 NumPy arrays ``(log_weights, means, scales)`` of
    shapes ``(n, K)``, ``(n, K, d)`` and ``(n, K, d)`` or, for full
    covariances, the Cholesky factors ``(n, K, d, d)``.
    """
    # The module's own device, not the estimator's: skorch maps a net
    # trained on CUDA to the CPU when it is unpickled on a machine without one.
    device = next(module.parameters()).device
    module.eval()
    with torch_threads(num_threads), torch.inference_mode():
        out = module(as_float_tensor(X, device))
    return tuple(t.double().cpu().numpy() for t in out)


def _silent(*args, **kwargs):
    pass


def seeded_generator(seed: int) -> torch.Generator:
    """A torch generator seeded from ``seed`` (for batch shuffling)."""
    generator = torch.Generator()
    generator.manual_seed(int(seed))
    return generator


def as_float_tensor(array: np.ndarray, device) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(array, dtype=np.float32), device=device)


@contextmanager
def torch_threads(n_threads):
    """Run a block with ``n_threads`` PyTorch intra-op threads (None: as is)."""
    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
