"""Everything skmdn does with skorch and PyTorch, in one place.

The estimators hand this module standardized float64 arrays and get back a
trained :class:`MDNNet` (``build_net``, then ``net.partial_fit``) and, at
prediction time, the network's mixture parameters as float64 arrays
(``forward_mixture``). It holds:

- the data path: :class:`TensorDataset` and :class:`TensorBatchIterator`.
  skorch's default path rebuilds every batch from single rows through
  ``Dataset.__getitem__`` and ``default_collate``; on small tabular data that
  costs more than the optimizer step itself. Here the data sit in tensors
  and batches are slices of them (when shuffling, slices of chunks of
  rows gathered in the epoch's order);
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
import inspect
import math
import weakref
from contextlib import contextmanager

import numpy as np
import torch
from scipy.special import logsumexp
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.dataset import unpack_data
from skorch.history import History
from skorch.utils import TeeGenerator
from torch.optim import optimizer as _torch_optimizer

from ._distributions._kernels import row_chunks
from ._module import (
    MixtureDensityNetwork,
    MixtureNLLLoss,
    _has_hooks,
    direct_gradients,
    mixture_log_prob,
)
from ._stacked import (
    MemberNLLLoss,
    MixtureOfNetworks,
    SingleMixtureNetwork,
    StackedMixtureNetwork,
    StackedNLLLoss,
)

__all__ = [
    "OPTIMIZERS",
    "MDNNet",
    "MemberTraining",
    "StandardizedRows",
    "TensorBatchIterator",
    "TensorDataset",
    "build_net",
    "forward_mixture",
    "keep_members",
    "member_log_probs",
    "select_member",
    "stacking_weights",
]

# Rows per chunk at prediction and validation time, and of the rows one
# network's training batches are gathered in: bounds the memory of one
# forward pass, of the mixture parameters held at once and of a gather.
CHUNK_ROWS = 65_536


class _QuickInit:
    """Optimizer methods that do not import ``torch._dynamo``.

    ``torch.optim.Optimizer`` marks ``add_param_group``, ``state_dict`` and
    ``load_state_dict`` as not to be compiled with ``torch._disable_dynamo``,
    which imports ``torch._dynamo`` on its first call, and so does every
    ``step`` (see ``_LeanFusedStep._plain_step``): the first optimizer of a
    process costs about 1.5 s, more than a whole fit of a small network.
    skmdn never compiles these methods, so the lean optimizers call the
    undecorated functions; updates and state are torch's own.
    """

    add_param_group = inspect.unwrap(torch.optim.Optimizer.add_param_group)
    state_dict = inspect.unwrap(torch.optim.Optimizer.state_dict)
    load_state_dict = inspect.unwrap(torch.optim.Optimizer.load_state_dict)


# The step counts' increment on CPU, wrapped into a tensor once.
_CPU_ONE = torch.tensor(1.0)

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}


class _LeanFusedStep:
    """The fused Adam step of ``torch.optim`` without its per-call bookkeeping.

    A small network's step is bound by per-call overhead, and
    ``torch.optim.Adam.step`` spends more time than its one fused kernel
    in generic work (a profiler range, hooks, grouping the tensors by
    device and dtype, checks); so does ``zero_grad``. When every parameter
    of a group is a dense tensor of one device and dtype whose state
    exists, the group is ``fused`` and its options are the plain ones (no
    amsgrad, maximize, capturable, differentiable, tensor lr), this step
    calls the same kernels (``torch._foreach_add_`` on the step counts,
    then ``torch._fused_adam_`` or ``torch._fused_adamw_``) directly, so
    the update is bit for bit torch's. Otherwise, and whenever step hooks
    are registered, it is torch's own step. The state and ``state_dict``
    are torch's.
    """

    # The kernel of decoupled weight decay (AdamW) or of Adam's.
    _decoupled = False

    def step(self, closure=None):
        if _has_step_hooks(self):
            return self._hooked_step(closure)
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        batches = [self._lean_group(group) for group in self.param_groups]
        if any(batch is False for batch in batches):
            self._plain_step()
            return loss
        with torch.no_grad():
            for group, batch in zip(self.param_groups, batches):
                if batch is None:
                    continue
                params, grads, exp_avgs, exp_avg_sqs, steps = batch
                if steps[0].is_cpu:
                    # On CPU the foreach kernel adds tensor by tensor, and a
                    # Python scalar is wrapped into a tensor for each: one
                    # tensor wrapped once halves its cost (torch.optim's
                    # foreach Adam does the same).
                    torch._foreach_add_(steps, _CPU_ONE, alpha=1.0)
                else:
                    torch._foreach_add_(steps, 1)
                decoupled = self._decoupled or group.get("decoupled_weight_decay")
                kernel = torch._fused_adamw_ if decoupled else torch._fused_adam_
                beta1, beta2 = group["betas"]
                kernel(
                    params,
                    grads,
                    exp_avgs,
                    exp_avg_sqs,
                    [],
                    steps,
                    amsgrad=False,
                    lr=group["lr"],
                    beta1=beta1,
                    beta2=beta2,
                    weight_decay=group["weight_decay"],
                    eps=group["eps"],
                    maximize=False,
                    grad_scale=None,
                    found_inf=None,
                )
        return loss

    def _plain_step(self):
        """torch's step, without the graph breaks that import ``torch._dynamo``.

        ``torch.optim`` runs each step under ``_use_grad_for_differentiable``,
        which imports ``torch._dynamo`` (about 1.5 s, once per process) only
        to mark graph breaks for ``torch.compile``; outside compilation it
        just turns gradients off, as here.
        """
        if self.defaults.get("differentiable"):
            return self._raw_step()
        with torch.no_grad():
            return self._undecorated_step()

    def _lean_group(self, group):
        """The group's tensor lists, None if nothing to update, False if not lean."""
        plain = (
            group.get("fused")
            and not group.get("amsgrad")
            and not group.get("maximize")
            and not group.get("capturable")
            and not group.get("differentiable")
            and not torch.is_tensor(group["lr"])
            and not any(torch.is_tensor(b) for b in group["betas"])
        )
        if not plain:
            return False
        params = [p for p in group["params"] if p.grad is not None]
        if not params:
            return None
        state = self.state
        try:
            states = [state[p] for p in params]
            exp_avgs = [s["exp_avg"] for s in states]
            exp_avg_sqs = [s["exp_avg_sq"] for s in states]
            steps = [s["step"] for s in states]
        except KeyError:  # a parameter without state yet: torch's step makes it
            return False
        grads = [p.grad for p in params]
        first = params[0]
        device, dtype = first.device, first.dtype
        for p, grad in zip(params, grads):
            if (
                grad.layout is not torch.strided
                or p.dtype is not dtype
                or p.device != device
                or p.is_complex()
            ):
                return False
        return params, grads, exp_avgs, exp_avg_sqs, steps

    def zero_grad(self, set_to_none=True):
        if not set_to_none:
            return super().zero_grad(set_to_none=False)
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None


def _has_step_hooks(optimizer):
    return bool(
        optimizer._optimizer_step_pre_hooks
        or optimizer._optimizer_step_post_hooks
        or _torch_optimizer._global_optimizer_pre_hooks
        or _torch_optimizer._global_optimizer_post_hooks
    )


def _raw_step(cls):
    """``cls.step`` without the profiler range and hooks torch wraps it in."""
    step = cls.step
    return step.__wrapped__ if getattr(step, "hooked", False) else step


# torch wraps each optimizer class's step in its profiler range and hooks
# (Optimizer._patch_step_function) unless the step is marked as hooked.
_LeanFusedStep.step.hooked = True


class LeanAdam(_QuickInit, _LeanFusedStep, torch.optim.Adam):
    """``torch.optim.Adam`` with a lean fused step on CPU (see ``_LeanFusedStep``)."""

    _raw_step = _raw_step(torch.optim.Adam)
    _undecorated_step = inspect.unwrap(_raw_step)
    _hooked_step = torch.optim.Optimizer.profile_hook_step(_raw_step)


class LeanAdamW(_QuickInit, _LeanFusedStep, torch.optim.AdamW):
    """``torch.optim.AdamW`` with a lean fused step on CPU."""

    _decoupled = True
    _raw_step = _raw_step(torch.optim.AdamW)
    _undecorated_step = inspect.unwrap(_raw_step)
    _hooked_step = torch.optim.Optimizer.profile_hook_step(_raw_step)


LEAN_OPTIMIZERS = {"adam": LeanAdam, "adamw": LeanAdamW}
# The modules whose training step MDNNet makes directly (with the network
# that computes), and their criteria.
_DIRECT_MODULES = {
    SingleMixtureNetwork: MixtureDensityNetwork,
    MixtureDensityNetwork: MixtureDensityNetwork,
    StackedMixtureNetwork: StackedMixtureNetwork,
}
_DIRECT_CRITERIA = (MixtureNLLLoss, MemberNLLLoss, StackedNLLLoss)
# Optimizers whose step takes no closure (it only evaluates one if given).
_CLOSURE_FREE = (
    LeanAdam,
    LeanAdamW,
    torch.optim.Adam,
    torch.optim.AdamW,
    torch.optim.SGD,
)


def standardized(X, mean, scale) -> np.ndarray:
    """``(X - mean) / scale`` as float32, computed a chunk of rows at a time.

    The only copy of the inputs that training holds: the float64
    intermediate is one chunk, not the whole array.
    """
    out = np.empty(X.shape, dtype=np.float32)
    for start in range(0, len(X), CHUNK_ROWS):
        rows = slice(start, start + CHUNK_ROWS)
        out[rows] = (X[rows] - mean) / scale
    return out


class StandardizedRows:
    """Rows of an array on disk (a NumPy memmap), standardized as they are read.

    It stands in for the input tensor of a :class:`TensorDataset` when the
    inputs are not copied into memory: indexing it with a slice or a tensor
    of row numbers (of any shape) reads those rows, standardizes them
    exactly as :func:`standardized` does (so training sees the same float32
    numbers as from memory) and returns a float32 tensor on ``device``.
    """

    def __init__(self, source, mean, scale, device, rows=None):
        self.source = source
        self.mean = mean
        self.scale = scale
        self.device = torch.device(device)
        self.rows = rows

    def __len__(self):
        return len(self.source) if self.rows is None else len(self.rows)

    @property
    def shape(self):
        return (len(self), self.source.shape[1])

    def __getitem__(self, index):
        if isinstance(index, slice) and self.rows is None:
            block = self.source[index]
            return self._tensor((block - self.mean) / self.scale, (len(block),))
        if isinstance(index, slice):
            flat = np.arange(len(self))[index]
        else:
            flat = torch.as_tensor(index).cpu().numpy()
        shape = flat.shape
        flat = flat.reshape(-1)
        if self.rows is not None:
            flat = self.rows[flat]
        # Sorted reads are sequential on disk; the batch keeps its order.
        order = np.argsort(flat, kind="stable")
        block = np.empty((len(flat), self.source.shape[1]))
        block[order] = self.source[flat[order]]
        return self._tensor((block - self.mean) / self.scale, shape)

    def _tensor(self, values, shape):
        values = np.ascontiguousarray(values, dtype=np.float32)
        return torch.from_numpy(values.reshape(*shape, -1)).to(self.device)

    def subset(self, index):
        """The rows ``index`` (a tensor of row numbers), still on disk."""
        rows = torch.as_tensor(index).cpu().numpy()
        if self.rows is not None:
            rows = self.rows[rows]
        return StandardizedRows(self.source, self.mean, self.scale, self.device, rows)


class TensorDataset(torch.utils.data.Dataset):
    """Tensors of inputs, targets and optional sample weights.

    ``X`` is a tensor or, for inputs left on disk, :class:`StandardizedRows`.
    """

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
            y = _gather(self.y, index)
            w = self.sample_weight
            w = None if w is None else _gather(w, index)
        return y if w is None else (y, w)

    def __getitem__(self, i):
        return self.X[i], self.target(i)

    def subset(self, index):
        """The rows ``index`` (a tensor of row numbers) as a new dataset."""
        w = None if self.sample_weight is None else _gather(self.sample_weight, index)
        X = (
            self.X.subset(index)
            if hasattr(self.X, "subset")
            else _gather(self.X, index)
        )
        return TensorDataset(X, _gather(self.y, index), w)


def _gather(t, index):
    """``t[index]`` for the rows ``index`` of ``t``.

    A tensor of row numbers goes through ``index_select``, about twice as
    fast as indexing on CPU (the per-batch cost of training on many rows).
    """
    if (
        not torch.is_tensor(t)
        or not torch.is_tensor(index)
        or index.dtype == torch.bool
    ):
        return t[index]
    flat = t.index_select(0, index.reshape(-1))
    return flat.view(*index.shape, *t.shape[1:])


class TensorBatchIterator:
    """Batches of a :class:`TensorDataset` for one or several networks.

    For one network (``n_members=1``) it yields ``(X, target)`` batches of
    shape ``(batch, n_features)``, by slicing the dataset's tensors. For
    ``n_members`` stacked networks, inputs of shape ``(n_members, batch,
    n_features)`` and targets of shape ``(n_members, batch, n_outputs)``
    (weights ``(n_members, batch)``): row ``b`` of member ``m`` comes from
    that member's own permutation of its rows. A full batch shared by every
    member (no ``index``, no noise) is the dataset's tensors themselves,
    with no copy.

    Parameters
    ----------
    dataset : TensorDataset
    batch_size : int
        ``-1`` or a size at least the number of rows gives one full batch.
    n_members : int, default=1
    index : LongTensor of shape (n_members, n_rows) or None, default=None
        The rows of ``dataset`` that each member trains on (its own
        training split); ``None``: every row, for every member.
    shuffle : bool, default=False
        Draw new permutations each epoch (from ``generator``).
    generator : torch.Generator, optional
    input_noise, target_noise : float, default=0.0
        Standard deviation of Gaussian noise added to each batch's inputs and
        targets, drawn afresh every time and for each member (noise
        regularization, Rothfuss et al. 2019). Use it for training only.

    Attributes
    ----------
    module : nn.Module or None
        The stack being trained (set by :class:`MDNNet`): batches hold the
        members in its ``active_`` only, when it has one. Batch orders and
        noise are still drawn for every member, so that each member's
        stream is the same whichever others are left.
    """

    def __init__(
        self,
        dataset,
        batch_size,
        n_members=1,
        index=None,
        shuffle=False,
        generator=None,
        input_noise=0.0,
        target_noise=0.0,
    ):
        self.dataset = dataset
        n = len(dataset) if index is None else index.shape[1]
        self.batch_size = n if batch_size in (-1, None) else min(batch_size, n)
        self.n_rows = n
        self.n_members = n_members
        self.index = index
        self.shuffle = shuffle
        self.generator = generator
        self.input_noise = input_noise
        self.target_noise = target_noise
        self.module = None

    @property
    def active(self):
        return getattr(self.module, "active_", None)

    def __len__(self):
        return math.ceil(self.n_rows / self.batch_size)

    def __iter__(self):
        for X, target in self._batches():
            if self.input_noise or self.target_noise:
                X, target = self._perturb(X, target)
            yield X, target

    def _batches(self):
        ds, bs, n, m = self.dataset, self.batch_size, self.n_rows, self.n_members
        shared = self.index is None and (m == 1 or not self._noisy)
        if bs >= n and shared:
            # Rows on disk are read whole: one full batch, as from memory.
            yield (ds.X if torch.is_tensor(ds.X) else ds.X[:]), ds.target()
            return
        if self.shuffle:
            order = torch.stack(
                [torch.randperm(n, generator=self.generator) for _ in range(m)]
            )
        else:
            order = torch.arange(n).expand(m, n)
        if self.index is not None:
            order = self.index.gather(1, order.to(self.index.device))
        order = order.to(ds.X.device)
        active = self.active
        if active is not None:
            order = order[active.to(order.device)]
        if m == 1:
            # One network trains on plain (batch, n_features) batches.
            order = order[0]
            if torch.is_tensor(ds.X):
                # The rows of many batches gathered at once, then batches
                # as views of them: the same batches, with one gather per
                # chunk instead of per batch (a chunk: whole batches, at
                # most CHUNK_ROWS rows, at least one batch).
                chunk = max(1, CHUNK_ROWS // bs) * bs
                for first in range(0, n, chunk):
                    part = ds.subset(order[first : first + chunk])
                    for start in range(0, len(part), bs):
                        batch = slice(start, start + bs)
                        yield part.X[batch], part.target(batch)
                return
        for start in range(0, n, bs):
            rows = order[..., start : start + bs]
            yield _gather(ds.X, rows), ds.target(rows)

    @property
    def _noisy(self):
        return bool(self.input_noise or self.target_noise)

    def _noise_like(self, t, scale):
        active = self.active
        if active is None:
            noise = torch.randn(t.shape, generator=self.generator, dtype=t.dtype)
        else:
            shape = (self.n_members, *t.shape[1:])
            noise = torch.randn(shape, generator=self.generator, dtype=t.dtype)
            noise = noise[active.cpu()]
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


class StopTraining(KeyboardInterrupt):
    """Raised by a callback to end training (skorch stops on KeyboardInterrupt)."""


class MDNNet(NeuralNet):
    """A ``skorch.NeuralNet`` for mixture density networks.

    It differs from ``NeuralNet`` where skorch's per-epoch bookkeeping
    costs more than a small network's step: one callback records the epoch
    losses (and stops on a non-finite one) in place of skorch's scoring
    callbacks, timing and printing are opt-in, and the history takes plain
    integer keys without parsing them. The loss takes optional per-row
    sample weights carried with the target, and inputs are expected as
    :class:`TensorDataset`. Its callbacks are pickled with the module,
    criterion and optimizer, whose tensors skorch maps to the CPU when it
    unpickles a net trained on a device that is missing: a callback can
    hold tensors too (``LRScheduler`` holds the optimizer).
    """

    # Prefixes of attributes that skorch pickles apart, with device mapping;
    # skorch adds its module, criterion and optimizer to these.
    cuda_dependent_attributes_ = ["callbacks"]

    def __init__(self, *args, print_log=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.print_log = print_log

    @property
    def _default_callbacks(self):
        # MemberTraining records the epoch losses of the estimators' nets;
        # EpochLoss does it for a net built by hand.
        by_members = any(name == "mdn_training" for name, _ in self.callbacks or [])
        callbacks = [] if by_members else [("epoch_loss", EpochLoss())]
        if self.print_log:
            from skorch.callbacks import EpochTimer, PrintLog

            callbacks = [("epoch_timer", EpochTimer()), *callbacks]
            callbacks.append(("print_log", PrintLog()))
        return callbacks

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        # skorch ends training on any KeyboardInterrupt (its early stopping
        # raises one) and returns normally; a user's Ctrl-C is remembered
        # here, so that the estimator can re-raise it after skorch returns.
        self.interrupted_ = False
        try:
            return super().fit_loop(X, y, epochs, **fit_params)
        except StopTraining:
            raise
        except KeyboardInterrupt:
            self.interrupted_ = True
            raise

    def initialize_callbacks(self):
        # A member's net of a stack trained together shares the trained
        # net's callbacks (see fit_together): initializing them again would
        # reset what they recorded.
        source = getattr(self, "callbacks_of_", None)
        if source is not None:
            self.callbacks_ = source.callbacks_
            return self
        return super().initialize_callbacks()

    def get_iterator(self, dataset, training=False):
        iterator = super().get_iterator(dataset, training=training)
        if training and isinstance(iterator, TensorBatchIterator):
            # The stack may train only some of its members (set_active).
            iterator.module = self.module_
        return iterator

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

    def train_step(self, batch, **fit_params):
        step = None if fit_params else self._direct_train_step(batch)
        return super().train_step(batch, **fit_params) if step is None else step

    def _direct_train_step(self, batch):
        """skorch's ``train_step`` for the networks and losses of this package.

        The same calls in the same order (zero the gradients, the forward
        pass, the closed-form loss with its gradients, ``on_grad_computed``,
        the optimizer's step), made directly instead of through the
        module's and the criterion's ``__call__``, skorch's ``infer``,
        ``get_loss`` and step closure: on a small network those layers of
        calls cost about a tenth of a fit. None where anything could
        differ from skorch's step: other modules or criteria, hooks, a
        subclass overriding a step method, several optimizers or one that
        needs its closure, gradients off, or a loss without the closed form
        (full covariances); skorch's step then runs.
        """
        module, criterion = self.module_, self.criterion_
        kind = type(module)
        network = module.network if kind is SingleMixtureNetwork else module
        cls = type(self)
        if (
            kind not in _DIRECT_MODULES
            or type(criterion) not in _DIRECT_CRITERIA
            or type(network) is not _DIRECT_MODULES[kind]
            or network.covariance_type != "diag"
            or cls.train_step_single is not MDNNet.train_step_single
            or cls.infer is not NeuralNet.infer
            or cls.get_loss is not MDNNet.get_loss
            or cls.get_train_step_accumulator
            is not NeuralNet.get_train_step_accumulator
            or cls._step_optimizer is not NeuralNet._step_optimizer
            or len(self._optimizers) != 1
            or type(self.optimizer_) not in _CLOSURE_FREE
            or not torch.is_grad_enabled()
            or _has_hooks(module)
            or _has_hooks(network)
            or _has_hooks(criterion)
            or _has_grad_hooks(module)
        ):
            return None
        Xi, yi = unpack_data(batch)
        if not torch.is_tensor(Xi):
            return None
        self._set_training(True)
        self._zero_grad_optimizer()
        with direct_gradients() as done:
            y_pred = network.forward(Xi)
            loss = _target_loss(criterion.forward, y_pred, yi)
        if not done:
            return None
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(self.get_all_learnable_params()),
            batch=batch,
            training=True,
        )
        self.optimizer_.step()
        return {"loss": loss, "y_pred": y_pred}

    def train_step_single(self, batch, **fit_params):
        # The closed-form losses give the gradients without autograd's
        # graph and engine (``direct_gradients``); anything they do not
        # cover, and parameters with gradient hooks, take skorch's step.
        if not torch.is_grad_enabled() or _has_grad_hooks(self.module_):
            return super().train_step_single(batch, **fit_params)
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        with direct_gradients() as done:
            y_pred = self.infer(Xi, **fit_params)
            loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        if not done:
            return super().train_step_single(batch, **fit_params)
        return {"loss": loss, "y_pred": y_pred}

    def get_loss(self, y_pred, y_true, X=None, training=False):
        return _target_loss(self.criterion_, y_pred, y_true)


def _target_loss(criterion, y_pred, y_true):
    """``criterion`` of a target that may carry its rows' weights, ``(y, w)``."""
    if isinstance(y_true, tuple):
        y_true, sample_weight = y_true
        return criterion(y_pred, y_true, sample_weight=sample_weight)
    return criterion(y_pred, y_true)


# Each trained module's parameters, listed once: walking the submodules
# for them costs about 4% of a small network's step.
_PARAMETERS = weakref.WeakKeyDictionary()


def _has_grad_hooks(module):
    """Whether a parameter of ``module`` has hooks that autograd would run."""
    params = _PARAMETERS.get(module)
    if params is None:
        params = _PARAMETERS[module] = list(module.parameters())
    return any(
        p._backward_hooks or getattr(p, "_post_accumulate_grad_hooks", None)
        for p in params
    )


class FastHistory(History):
    """skorch's ``History`` with a direct path for integer keys.

    ``history[-1]`` is what skorch itself uses several times per batch;
    every other key goes through ``History``'s general indexing.
    """

    def __getitem__(self, i):
        if type(i) is int:
            return list.__getitem__(self, i)
        return super().__getitem__(i)


# The running average of the weights covers about the last 1 / AVERAGE_TAIL
# of the steps so far (at most average_steps of them).
AVERAGE_TAIL = 10.0

# Targets are standardized, so N(0, 1) scores about 1.42 nats per row; an
# epoch mean beyond this bound means the weights have blown up, even if they
# are still finite.
DIVERGED_NLL = 1e6


def diverged(epoch, key, value):
    """The error for a training loss that is not finite or has blown up."""
    return FloatingPointError(
        f"Training diverged at epoch {epoch}: {key} is {value}. Try a smaller "
        "lr, gradient_clip, a larger min_scale or check the data for extreme "
        "values."
    )


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
                raise diverged(row["epoch"], key, value)
            is_best = value < self.best_.get(key, math.inf)
            if is_best:
                self.best_[key] = value
            row[key] = value
            row[key + "_best"] = is_best


class MemberTraining(Callback):
    """Early stopping, learning-rate plateaus and clipping for each member.

    The members of a :class:`~skmdn._stacked.StackedMixtureNetwork` are
    independent fits that share one optimizer: this callback gives each one
    what ``skorch.callbacks.EarlyStopping`` (with ``load_best``),
    ``LRScheduler("ReduceLROnPlateau")`` and ``GradientNormClipping`` would
    give a network trained alone. It keeps each member's validation NLL,
    best epoch and best weights. A member whose NLL has not improved by
    ``threshold`` for ``patience`` epochs is finished: it leaves the stack
    (``set_active``), so that the steps compute the others only, and its
    best weights are restored at the end; training ends when every member
    is finished. Each member's batch order and noise are drawn as if all
    were training, so a member trains exactly as it would beside all
    others. A
    member's learning rate is the optimizer's times its own factor (the
    update of Adam, AdamW and SGD is proportional to the learning rate, so
    the step is scaled after it is taken); the factor halves after
    ``plateau_patience`` epochs without improvement. When training ends it
    drops its own tensors (the snapshots, the running average); the
    per-member results below remain.

    Parameters
    ----------
    patience : int or None
        Early-stopping patience in epochs; ``None`` trains every member for
        ``max_epochs`` and monitors the training NLL for the schedule.
    plateau_patience : int or None
        Epochs without improvement before a member's learning rate halves;
        ``None`` keeps it constant.
    gradient_clip : float or None
        Largest norm of each member's gradient.
    valid_ds : TensorDataset or None
        Held-out rows, required with ``patience``.
    valid_index : LongTensor of shape (n_members, n_valid) or None
        Each member's rows of ``valid_ds``; ``None``: all of them, for all.
    nll_offset : float, default=0.0
        Added to the standardized NLL to report it in the units of ``y``.
    average_steps : int or None, default=None
        Horizon, in optimizer steps, of a running average of each member's
        weights (Polyak averaging): an exponential moving average over the
        last tenth of the steps so far, or over ``average_steps`` steps
        once that is fewer. Validation, early stopping and the kept weights use
        the averaged weights. ``None`` keeps the raw iterates.
    threshold : float, default=1e-4
        Smallest decrease of the NLL that counts as an improvement.
    groups : array-like of int of shape (n_members,) or None, default=None
        Members of one group are restarts of which only the best is kept
        (``n_init``). A group is finished, all its members with it, once the
        best NLL of any of its members has not improved for ``patience``
        epochs: a restart that is still improving but behind the group's
        best would be thrown away anyway. ``None``: one group per member
        (an ensemble keeps every member).
    race_epoch : int or None, default=None
        Races each group's restarts (as Maron and Moore's Hoeffding races
        select among models): at epoch ``race_epoch``, and at each doubling
        of it, a restart is finished when its validation log-likelihood is
        below the group leader's (the member with the best NLL so far) by
        more than ``race_z`` standard errors of the mean difference, paired
        over the validation rows, which the restarts of a group share, or
        when it is surely no better than the leader (``race_tolerance``).
        Restarts that are behind by no more than the noise of the
        validation split, and may be better, train on. Finished members
        leave the stack, so the later epochs compute fewer networks.
        ``None``: every restart trains until it or its group stops.
    race_z : float, default=2.0
        Standard errors of the paired difference that decide a race.
    race_tolerance : float, default=0.01
        Indifference zone of a race, in nats per validation row (a
        difference of log-likelihoods, so the same in any units of ``y``):
        a restart is also finished when it is, with ``race_z`` standard
        errors of confidence, not better than the leader by this much.
        Restarts that the validation rows find equivalent (on large data,
        where those rows are many, the common case) then stop instead of
        training on at the stack's cost for a choice that the test rows
        would not notice. ``0``: only restarts significantly behind stop.

    Attributes
    ----------
    best_nll_ : ndarray of shape (n_members,)
        Each member's best monitored NLL (standardized units).
    best_epoch_ : int
        The best epoch of the selected (best) member.
    member_best_epoch_ : ndarray of shape (n_members,)
    ensemble_best_nll_ : float or None
        With ``joint``, the ensemble's best validation NLL (standardized
        units); each member's ``best_nll_`` is its own NLL at that epoch.
    stopped_epoch_ : int
    """

    def __init__(
        self,
        patience=None,
        plateau_patience=None,
        gradient_clip=None,
        valid_ds=None,
        valid_index=None,
        nll_offset=0.0,
        average_steps=None,
        threshold=1e-4,
        groups=None,
        race_epoch=None,
        race_z=2.0,
        race_tolerance=0.01,
        joint=False,
        sink=None,
    ):
        self.groups = groups
        self.race_epoch = race_epoch
        self.race_z = race_z
        self.race_tolerance = race_tolerance
        self.joint = joint
        self.average_steps = average_steps
        self.patience = patience
        self.plateau_patience = plateau_patience
        self.gradient_clip = gradient_clip
        self.valid_ds = valid_ds
        self.valid_index = valid_index
        self.nll_offset = nll_offset
        self.threshold = threshold
        self.sink = sink

    def on_train_begin(self, net, **kwargs):
        m = net.module_.n_members
        inf = np.full(m, np.inf)
        self.best_nll_, self._plateau_best = inf, inf.copy()
        self._misses, self._bad = np.zeros(m, int), np.zeros(m, int)
        self.member_best_epoch_ = np.zeros(m, int)
        self.factor_ = np.ones(m)
        self.finished_ = np.zeros(m, bool)
        self.diverged_ = np.zeros(m, bool)
        self._best_state = [None] * m
        self._old = self._weights = None
        self._factor_state = (self.factor_.tobytes(), self.finished_.tobytes())
        self._best_train = math.inf
        # The parameter tensors, listed once: module.parameters() walks the
        # module tree, a noticeable part of a small network's step.
        self._params = list(net.module_.parameters())
        self._average = self._spare = None
        if self.average_steps:
            self._average = [p.detach().clone() for p in self._params]
            self._spare = [torch.empty_like(p) for p in self._params]
        self._n_steps = 0
        # The members in the stack (all, until some are finished), and the
        # optimizer's full state while only some are.
        self._present = np.arange(m)
        self._parked_state = self._valid_all = None
        self._loss_sum = torch.zeros(
            m, dtype=torch.float64, device=self._params[0].device
        )
        self._loss_count = 0
        self.best_epoch_ = 0
        self.stopped_epoch_ = 0
        groups = np.arange(m) if self.groups is None else np.asarray(self.groups)
        _, self._group = np.unique(groups, return_inverse=True)
        n_groups = self._group.max() + 1
        self._group_best = np.full(n_groups, np.inf)
        self._group_misses = np.zeros(n_groups, int)
        self._next_race = self.race_epoch
        self.ensemble_best_nll_ = None
        self._ensemble_misses = 0
        self._valid_weights = None
        if self.joint:
            if len(np.unique(groups)) < m:
                raise ValueError("joint early stopping needs one group per member")
            # The shared validation rows' weights, for the ensemble's NLL.
            w = None if self.valid_ds is None else self.valid_ds.sample_weight
            if w is not None and self.valid_index is not None:
                w = w[self.valid_index[0]]
            if w is not None:
                self._valid_weights = w.double().cpu().numpy()

    # -------------------------------------------------------------- steps
    def on_batch_begin(self, net, training=False, **kwargs):
        if training and self._weights is not None:
            torch._foreach_copy_(self._old, self._params)

    def on_grad_computed(self, net, named_parameters, training=False, **kwargs):
        if not (training and self.gradient_clip):
            return
        if net.module_.n_members == 1:
            # One network: the norm of all its gradients.
            torch.nn.utils.clip_grad_norm_(self._params, self.gradient_clip)
            return
        grads = [p.grad for p in self._params if p.grad is not None]
        sq = sum(g.square().flatten(1).sum(1) for g in grads)
        coef = (self.gradient_clip / (sq.sqrt() + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef.view(-1, *([1] * (g.ndim - 1))))

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if not training:
            return
        losses = net.criterion_.member_losses_
        rows = batch[0].shape[-2]
        # skorch records len(X), the number of members for stacked inputs.
        net.history.record_batch("train_batch_size", rows)
        self._loss_sum.add_(losses, alpha=rows)
        self._loss_count += rows
        if self._weights is None and self._average is None:
            return
        params = self._params
        with torch.no_grad():
            if self._weights is not None:
                torch._foreach_lerp_(params, self._old, self._weights)
            if self._average is not None:
                self._n_steps += 1
                torch._foreach_lerp_(self._average, params, self._average_weight())

    def _average_weight(self):
        """Weight of the newest step in the running average of the weights.

        An exponential moving average over about the last tenth of the
        steps so far, and over ``average_steps`` steps once that is fewer:
        early in training the average stays close to the current weights
        instead of carrying the poor weights of the first steps.
        """
        return min(1.0, max(AVERAGE_TAIL / self._n_steps, 1.0 / self.average_steps))

    def _swap_average(self, net):
        """Exchange the network's weights with their running average."""
        if self._average is None:
            return
        with torch.no_grad():
            torch._foreach_copy_(self._spare, self._params)
            torch._foreach_copy_(self._params, self._average)
        self._average, self._spare = self._spare, self._average

    def _apply_factors(self, net):
        """Set the optimizer's rate to the largest factor, scale the others.

        With every active member at the same rate (always, for one
        network) no step needs rescaling. Finished members keep training at
        the common rate: their best weights are restored at the end, which
        is the same as having stopped them.
        """
        active = ~self.finished_
        top = self.factor_[active].max() if active.any() else 1.0
        for group in net.optimizer_.param_groups:
            group["lr"] = net.lr * top
        ratio = np.where(active, self.factor_ / top, 1.0)[self._present]
        if np.all(ratio == 1.0):
            self._weights = self._old = None
            return
        self._old = [torch.empty_like(p) for p in self._params]
        self._weights = []
        for p in self._params:
            w = torch.as_tensor(1.0 - ratio, dtype=p.dtype, device=p.device)
            self._weights.append(w.view(-1, *([1] * (p.ndim - 1))).expand_as(p).clone())

    # ------------------------------------------------------------- epochs
    def _valid_nll(self, net, per_row=False, weighted=True):
        """Each member's validation NLL, and with ``per_row`` the
        log-likelihood of every row (``[n_active, n_valid]``) as well:
        multiplied by the row's weight, or, without ``weighted``, as it is."""
        module, ds = net.module_, self.valid_ds
        module.eval()
        total = 0.0
        pieces = []
        n = len(ds) if self.valid_index is None else self.valid_index.shape[1]
        with torch.inference_mode():
            for start in range(0, n, CHUNK_ROWS):
                if self.valid_index is None:
                    rows = slice(start, start + CHUNK_ROWS)
                else:
                    rows = self.valid_index[:, start : start + CHUNK_ROWS]
                X, target = _gather(ds.X, rows), ds.target(rows)
                y, w = target if isinstance(target, tuple) else (target, None)
                log_prob = mixture_log_prob(module(X), y)
                log_prob = log_prob.reshape(module.n_active, -1)  # [M, B]
                raw = log_prob
                if w is not None:
                    # [M, B] weights, or [B] of rows that every network shares
                    log_prob = log_prob * w.reshape(-1, log_prob.shape[-1])
                total = total - log_prob.sum(-1)
                if per_row:
                    pieces.append((log_prob if weighted else raw).double())
        module.train()
        if ds.sample_weight is None:
            nll = (total / n).double().cpu().numpy()
        else:
            w = ds.sample_weight
            w_sum = w.sum() if self.valid_index is None else w[self.valid_index].sum(-1)
            nll = (total / w_sum).double().cpu().numpy()
        return (nll, torch.cat(pieces, dim=1).cpu().numpy()) if per_row else nll

    def _drop_finished(self, net):
        """Take the finished members out of the stack, keep the rest training.

        The parameters, the optimizer's state, the running average and the
        validation rows then hold the members still training only; the
        finished ones' best weights are already kept.
        """
        present = self._present
        stay = ~self.finished_[present]
        if stay.all() or not stay.any() or not hasattr(net.module_, "set_active"):
            return
        device = self._params[0].device
        rows = torch.as_tensor(np.flatnonzero(stay), device=device)
        shapes = [p.shape for p in self._params]
        net.module_.set_active(present[stay])
        state = self._optimizer_state(net, shapes)
        if self._parked_state is None:
            self._parked_state = dict(state)
        else:
            index = torch.as_tensor(present, device=device)
            for key, value in state:
                self._parked_state[key][index] = value
        for (p, name), value in state:
            net.optimizer_.state[p][name] = value[rows]
        if self._average is not None:
            self._average = [a[rows] for a in self._average]
            self._spare = [torch.empty_like(a) for a in self._average]
        if self.valid_index is not None:
            if self._valid_all is None:
                self._valid_all = self.valid_index
            self.valid_index = self.valid_index[rows.to(self.valid_index.device)]
        self._present = present[stay]
        self._loss_sum = self._loss_sum.new_zeros(len(self._present))
        self._factor_state = None  # the step scaling is rebuilt for the rest

    def _optimizer_state(self, net, shapes):
        """``((param, name), tensor)`` of the optimizer state shaped as params."""
        found = []
        for p, shape in zip(self._params, shapes):
            for name, value in net.optimizer_.state.get(p, {}).items():
                if torch.is_tensor(value) and value.shape == shape:
                    found.append(((p, name), value))
        return found

    def _restore_stack(self, net):
        """Put every member back in the stack (and the optimizer's state)."""
        if self._parked_state is None and self._valid_all is None:
            return
        index = torch.as_tensor(self._present, device=self._params[0].device)
        for (p, name), full in (self._parked_state or {}).items():
            full[index] = net.optimizer_.state[p][name]
            net.optimizer_.state[p][name] = full
        net.module_.set_active(None)
        if self._valid_all is not None:
            self.valid_index = self._valid_all
        self._parked_state = self._valid_all = None
        self._present = np.arange(len(self.finished_))

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        epoch = row["epoch"]
        # Plain floats and lists where they do: on a small network an
        # epoch of one full batch is a single step, and numpy calls on
        # arrays of a few entries cost microseconds each.
        count = max(self._loss_count, 1)
        losses = [value / count for value in self._loss_sum.tolist()]
        self._loss_sum.zero_()
        self._loss_count = 0
        finite = all(value < DIVERGED_NLL for value in losses)  # False for NaN
        everyone = len(losses) == len(self.finished_)
        if everyone:
            train = np.array(losses)
        else:
            # Members out of the stack have no loss this epoch: 0 here, and
            # left out of the mean.
            train = np.zeros(len(self.finished_))
            train[self._present] = losses
        if not finite:
            self._check_divergence(net, epoch, train)
        live = ~self.diverged_
        if everyone and finite and not self.diverged_.any():
            counted = losses
        else:
            # The mean over the members in the stack that have not diverged.
            counted = train[self._present][live[self._present]].tolist()
            if not counted:  # the last ones in the stack diverged
                counted = train[self._present].tolist()
        row["train_loss"] = sum(counted) / len(counted)
        row["train_loss_best"] = row["train_loss"] < self._best_train
        self._best_train = min(self._best_train, row["train_loss"])
        # Validation, snapshots and the kept weights are the averaged ones.
        self._swap_average(net)
        try:
            self._monitor(net, row, epoch, train, live)
        finally:
            self._swap_average(net)
        self.stopped_epoch_ = epoch
        if self.finished_.all():
            raise StopTraining
        self._drop_finished(net)
        state = (self.factor_.tobytes(), self.finished_.tobytes())
        if state != self._factor_state:
            self._factor_state = state
            self._apply_factors(net)

    def _check_divergence(self, net, epoch, train):
        new = ~(train < DIVERGED_NLL) & ~self.diverged_
        if not np.any(new):
            return
        self.diverged_ |= new
        self.finished_ |= new
        if self.diverged_.all():
            raise diverged(epoch, "train_loss", train[new][0])
        for m in np.flatnonzero(new):
            if self._best_state[m] is not None:
                net.module_.restore_member(m, self._best_state[m])

    def _monitor(self, net, row, epoch, train, live):
        racing = False
        if self.valid_ds is not None:
            # Members out of the stack are not evaluated: NaN in the
            # history, never an improvement here.
            monitored = np.full(len(self.finished_), np.nan)
            racing = self._next_race is not None and epoch >= self._next_race
            if racing or self.joint:
                monitored[self._present], rows = self._valid_nll(
                    net, per_row=True, weighted=not self.joint
                )
            else:
                monitored[self._present] = self._valid_nll(net)
            row["valid_loss_members"] = monitored.tolist()
            monitored[np.isnan(monitored) | self.diverged_] = np.inf
            if self.joint:
                ensemble = self._ensemble_nll(rows, live[self._present])
                row["valid_loss"] = ensemble
            else:
                row["valid_loss"] = float(monitored[live].min())
        else:
            monitored = np.where(live, train, np.inf)
        active = ~self.finished_
        if self.joint and self.valid_ds is not None and self.patience is not None:
            self._monitor_ensemble(net, epoch, ensemble, monitored, live)
        elif self.patience is not None:
            improved = active & (monitored < self.best_nll_ - self.threshold)
            self.best_nll_ = np.where(improved, monitored, self.best_nll_)
            self.member_best_epoch_[improved] = epoch
            self._misses = np.where(improved, 0, self._misses + active)
            for m in np.flatnonzero(improved):
                self._best_state[m] = net.module_.member_state(m)
            self.finished_ |= active & (self._misses >= self.patience)
            self._stop_stalled_groups()
            if racing:
                self._race_groups(rows)
                self._next_race *= 2
        else:
            self.best_nll_ = np.where(live, monitored, np.inf)
            self.member_best_epoch_[live] = epoch
        if self.joint and self.valid_ds is not None:
            row["valid_loss_best"] = self._ensemble_misses == 0
        elif self.valid_ds is not None:
            row["valid_loss_best"] = bool(epoch in self.member_best_epoch_[live])
        if self.plateau_patience is not None:
            better = monitored < self._plateau_best - self.threshold
            self._plateau_best = np.where(better, monitored, self._plateau_best)
            self._bad = np.where(better, 0, self._bad + 1)
            reduce = ~self.finished_ & (self._bad > self.plateau_patience)
            self.factor_[reduce] *= 0.5
            self._bad[reduce] = 0

    def _ensemble_nll(self, rows, live):
        """Validation NLL of the members' averaged density.

        ``rows`` holds the present members' unweighted log-likelihood of
        each validation row (the members share the rows); ``live`` marks
        the present members that have not diverged.
        """
        log_prob = rows[live]
        mixed = logsumexp(log_prob, axis=0) - np.log(len(log_prob))
        return float(-np.average(mixed, weights=self._valid_weights))

    def _monitor_ensemble(self, net, epoch, ensemble, monitored, live):
        """Joint early stopping: the ensemble's NLL decides for every member."""
        best = self.ensemble_best_nll_
        if best is None or ensemble < best - self.threshold:
            self.ensemble_best_nll_ = ensemble
            self._ensemble_misses = 0
            for m in self._present[live[self._present]]:
                self.best_nll_[m] = monitored[m]
                self.member_best_epoch_[m] = epoch
                self._best_state[m] = net.module_.member_state(m)
        else:
            self._ensemble_misses += 1
            if self._ensemble_misses >= self.patience:
                self.finished_[:] = True

    def _stop_stalled_groups(self):
        best = np.full(len(self._group_best), np.inf)
        np.minimum.at(best, self._group, self.best_nll_)
        improved = best < self._group_best - self.threshold
        self._group_best = np.where(improved, best, self._group_best)
        self._group_misses = np.where(improved, 0, self._group_misses + 1)
        stalled = self._group_misses >= self.patience
        self.finished_ |= stalled[self._group]

    def _race_groups(self, rows):
        """Finish the restarts that cannot beat their group's leader.

        A restart stops when the upper confidence bound of its advantage
        over the leader (``race_z`` standard errors above the mean) is below
        ``race_tolerance``: it is significantly behind, or the two are equal
        within the tolerance. ``rows`` holds the present members' weighted
        log-likelihood of each validation row; where a group's restarts
        share the rows, the differences to the leader pair up row by row,
        and restarts validated on folds of their own
        (``restarts="crossfit"``) are compared unpaired.
        """
        where = {m: i for i, m in enumerate(self._present)}
        for g in range(len(self._group_best)):
            alive = np.flatnonzero((self._group == g) & ~self.finished_)
            if len(alive) < 2:
                continue
            leader = alive[np.argmin(self.best_nll_[alive])]
            for m in alive:
                if m == leader:
                    continue
                a, b = rows[where[leader]], rows[where[m]]
                if self._shares_rows(where[leader], where[m]):
                    gap = a - b
                    se = gap.std(ddof=1) / np.sqrt(len(gap)) if len(gap) > 1 else np.inf
                    advantage = -gap.mean()
                else:
                    # Restarts validated on folds of their own: unpaired.
                    se = (
                        np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
                        if len(a) > 1
                        else np.inf
                    )
                    advantage = b.mean() - a.mean()
                # m's advantage over the leader: positive where m is better.
                if advantage + self.race_z * se < self.race_tolerance:
                    self.finished_[m] = True

    def _shares_rows(self, i, j):
        """Whether the members in places ``i`` and ``j`` of the stack have
        the same validation rows."""
        if self.valid_index is None:
            return True
        return bool(torch.equal(self.valid_index[i], self.valid_index[j]))

    def on_train_end(self, net, **kwargs):
        self._restore_stack(net)
        if self.patience is None:
            # Without early stopping the model is the final average.
            self._swap_average(net)
        for m, state in enumerate(self._best_state):
            if state is not None:
                net.module_.restore_member(m, state)
        best = int(np.argmin(self.best_nll_))
        self.best_member_ = best
        self.best_epoch_ = int(self.member_best_epoch_[best])
        # The fit's own tensors (the parameter list, the running average,
        # the snapshots, the loss sums) are spent: dropped, they stay out of
        # the fitted model, its memory and its pickles.
        self._params = self._average = self._spare = None
        self._old = self._weights = self._best_state = self._loss_sum = None
        if self.sink is not None:
            what = "validation" if self.valid_ds is not None else "training"
            nll = self.best_nll_[best]
            if self.ensemble_best_nll_ is not None:
                what, nll = "ensemble validation", self.ensemble_best_nll_
            self.sink(
                f"stopped at epoch {self.stopped_epoch_}: best epoch "
                f"{self.best_epoch_}, {what} NLL {nll + self.nll_offset:.4f}"
            )


class EpochProgress(Callback):
    """A tqdm progress bar over epochs showing train and validation NLL.

    The NLLs are shown in the units of ``y`` (the training loss is on
    standardized targets; ``nll_offset`` converts it), so that they compare
    with ``-score``.
    """

    def __init__(self, total, nll_offset=0.0):
        self.total = total
        self.nll_offset = nll_offset

    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm

        self.bar_ = tqdm(total=self.total, unit="epoch", desc="MDNRegressor")

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        postfix = {"train_nll": f"{row['train_loss'] + self.nll_offset:.4f}"}
        if "valid_loss" in row:
            postfix["valid_nll"] = f"{row['valid_loss'] + self.nll_offset:.4f}"
        self.bar_.set_postfix(postfix, refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, **kwargs):
        self.bar_.close()

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("bar_", None)
        return state


def build_net(
    params,
    *,
    n_features,
    n_outputs,
    hidden_layer_sizes,
    seeds,
    train_index=None,
    valid_ds=None,
    valid_index=None,
    nll_offset=0.0,
    groups=None,
    joint=False,
) -> MDNNet:
    """The skorch net that trains ``len(seeds)`` networks together.

    Parameters
    ----------
    params : dict
        The estimator's parameters (``get_params(deep=False)`` of
        :class:`~skmdn.MDNRegressor`), already validated.
    n_features, n_outputs : int
        Sizes of the standardized inputs and targets.
    hidden_layer_sizes : tuple of int
    seeds : list of int
        One per network: seeds its initialization; the first also seeds the
        batch orders and the training noise of all.
    train_index : LongTensor of shape (n_members, n_train) or None
        Each network's training rows of the dataset passed to ``fit``;
        ``None``: every row, for every network.
    valid_ds : TensorDataset or None
        The held-out rows for early stopping; ``None`` trains on all rows for
        ``max_epochs`` and lets the plateau schedule monitor the training
        loss.
    valid_index : LongTensor of shape (n_members, n_valid) or None
        Each network's rows of ``valid_ds``; ``None``: all, for all.
    nll_offset : float, default=0.0
        Converts a standardized NLL to the units of ``y`` for the progress
        display.
    groups : array-like of int of shape (n_members,) or None, default=None
        Restarts of one model share a group: only the best of a group is
        kept, so a group stops once its best NLL stalls (see
        :class:`MemberTraining`). ``None``: every network is kept.
    joint : bool, default=False
        The networks are one ensemble, stopped together at its best epoch
        (:class:`MemberTraining`'s ``joint``).
    """
    verbose = params["verbose"]
    patience = params["patience"] if valid_ds is not None else None
    training = MemberTraining(
        patience=patience,
        plateau_patience=(
            max(1, params["patience"] // 3)
            if params["lr_schedule"] == "plateau"
            else None
        ),
        gradient_clip=params["gradient_clip"],
        valid_ds=valid_ds,
        valid_index=valid_index,
        nll_offset=nll_offset,
        average_steps=params["average_steps"],
        groups=groups,
        joint=joint,
        # Restarts are raced from twice the patience on, so that a restart
        # that starts slowly has had time to catch up.
        race_epoch=(
            2 * patience
            if patience is not None
            and groups is not None
            and len(set(groups)) < len(groups)
            else None
        ),
        sink=print if verbose else None,
    )
    callbacks = [("mdn_training", training)]
    if verbose:
        progress = EpochProgress(params["max_epochs"], nll_offset)
        callbacks.append(("mdn_progress", progress))
    callbacks += copy.deepcopy(params["callbacks"] or [])

    device = params["device"]
    optimizer_kwargs = {"weight_decay": params["weight_decay"]}
    optimizer = OPTIMIZERS[params["optimizer"]]
    if params["optimizer"] in ("adam", "adamw") and str(device) == "cpu":
        # The fused kernel does the whole parameter update in one call,
        # about 10% of a small network's step on CPU, and the lean step
        # calls it without torch.optim's per-call bookkeeping.
        optimizer_kwargs["fused"] = True
        optimizer = LEAN_OPTIMIZERS[params["optimizer"]]
    batch_size = params["batch_size"]
    return MDNNet(
        module=SingleMixtureNetwork if len(seeds) == 1 else StackedMixtureNetwork,
        module__n_members=len(seeds),
        module__seeds=[int(s) for s in seeds],
        module__n_features=n_features,
        module__n_outputs=n_outputs,
        module__n_components=params["n_components"],
        module__hidden_layer_sizes=hidden_layer_sizes,
        module__activation=params["activation"],
        module__min_scale=params["min_scale"],
        module__covariance_type=params["covariance_type"],
        criterion=MemberNLLLoss if len(seeds) == 1 else StackedNLLLoss,
        optimizer=optimizer,
        lr=params["lr"],
        **{f"optimizer__{k}": v for k, v in optimizer_kwargs.items()},
        max_epochs=params["max_epochs"],
        batch_size=-1 if batch_size is None else batch_size,
        iterator_train=TensorBatchIterator,
        iterator_train__n_members=len(seeds),
        iterator_train__index=train_index,
        iterator_train__shuffle=True,
        iterator_train__generator=seeded_generator(int(seeds[0]) + 1),
        iterator_train__input_noise=params["input_noise"],
        iterator_train__target_noise=params["target_noise"],
        train_split=None,
        callbacks=callbacks,
        device=device,
        verbose=0,
        print_log=verbose >= 2,
    )


def select_member(net, member=None, stack=None):
    """Put one trained network of a stack into ``net``, the best by default.

    ``stack`` is the trained :class:`~skmdn._stacked.StackedMixtureNetwork`
    (``net.module_`` by default); the best member has the lowest validation
    NLL (or training NLL without early stopping). Returns the
    :class:`MemberTraining` callback, with the chosen member's
    ``best_epoch_``.
    """
    training = dict(net.callbacks_)["mdn_training"]
    stack = net.module_ if stack is None else stack
    m = training.best_member_ if member is None else member
    net.module_ = stack.member(m)
    net.criterion_ = MixtureNLLLoss()
    return training


# A restart whose stacking weight is below this is dropped from the mixture
# (and the others' weights renormalized): it would cost prediction time for
# at most this fraction of the density.
MIN_STACKING_WEIGHT = 1e-3


def stacking_weights(log_probs, sample_weight=None, prior=0.0, max_iter=1000, tol=1e-9):
    """Mixture weights of several models that maximize a held-out likelihood.

    ``log_probs[m, i]`` is model ``m``'s log-density of row ``i``. Returns
    the weights ``w`` (on the simplex) maximizing ``sum_i s_i log sum_m w_m
    p_m(y_i | x_i)``, the stacking of predictive distributions (Yao et al.,
    2018), found by EM from equal weights: the likelihood is concave in
    ``w``, and each step increases it. With ``prior`` > 0 the weights are
    the posterior mode under a Dirichlet prior with concentration
    ``1 + prior``: ``prior`` rows' worth of responsibility is added to each
    model (rows counted by their sample weights, as repeated rows would
    be), so that no model's weight is zero and a few held-out rows cannot
    make the mixture all but certain. Weights below ``MIN_STACKING_WEIGHT``
    are set to zero and the rest renormalized.
    """
    log_probs = np.asarray(log_probs, dtype=np.float64)
    n_models, n_rows = log_probs.shape
    # Each row's count: its sample weight, or 1.
    counts = (
        np.ones(n_rows)
        if sample_weight is None
        else np.asarray(sample_weight, dtype=np.float64)
    )
    total = counts.sum()
    w = np.full(n_models, 1.0 / n_models)
    for _ in range(max_iter):
        with np.errstate(divide="ignore"):
            joint = log_probs + np.log(w)[:, None]
        resp = np.exp(joint - logsumexp(joint, axis=0))
        new = (resp @ counts + prior) / (total + n_models * prior)
        done = np.max(np.abs(new - w)) < tol
        w = new
        if done:
            break
    w[w < MIN_STACKING_WEIGHT] = 0.0
    return w / w.sum()


def member_log_probs(stack, members, X, y, rows):
    """Log-density of rows ``rows`` of ``(X, y)`` under each of ``members``.

    ``X`` holds standardized rows (a tensor or :class:`StandardizedRows`,
    read a chunk of rows at a time), ``y`` the standardized targets (a
    NumPy array). Returns a float64 array of shape
    ``(len(members), len(rows))``.
    """
    modules = [stack.member(m).eval() for m in members]
    out = np.empty((len(members), len(rows)))
    device = next(modules[0].parameters()).device
    with torch.inference_mode():
        for chunk in row_chunks(len(rows), 1, CHUNK_ROWS):
            index = torch.as_tensor(rows[chunk], device=device)
            X_rows = X[index]
            y_rows = as_float_tensor(y[rows[chunk]], device)
            for j, module in enumerate(modules):
                lp = mixture_log_prob(module(X_rows), y_rows)
                out[j, chunk] = lp.double().cpu().numpy()
    return out


def keep_members(net, members, shares, stack):
    """Put the mixture of ``members`` of ``stack`` into ``net``.

    ``shares`` are their weights (positive); one member is put in as
    :func:`select_member` does, several as a :class:`MixtureOfNetworks`.
    """
    if len(members) == 1:
        select_member(net, members[0], stack)
        return
    net.module_ = MixtureOfNetworks([stack.member(m) for m in members], shares)
    net.criterion_ = MixtureNLLLoss()


def forward_mixture(module, X, num_threads=None):
    """The module's mixture parameters for standardized rows ``X``.

    ``X`` is a NumPy array or a float32 tensor.

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
        X = X.to(device) if torch.is_tensor(X) else as_float_tensor(X, device)
        out = module(X)
    return tuple(t.double().cpu().numpy() for t in out)


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
