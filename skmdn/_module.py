"""The mixture density network as a PyTorch module, and its loss.

Both are public so that the model can be trained with a plain
``skorch.NeuralNet`` or a hand-written PyTorch loop; ``MDNRegressor`` is the
scikit-learn front end built on them.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from typing import NamedTuple

import torch
from scipy.stats import norm
from torch import nn
from torch.autograd.function import once_differentiable
from torch.nn import functional as F

from ._checks import LOG_2PI

__all__ = [
    "MixtureOutput",
    "MixtureDensityNetwork",
    "MixtureNLLLoss",
    "mixture_log_prob",
]

# Floor of a batch's total sample weight: a batch of zero weights has loss 0.
_TINY = 1e-30

ACTIVATIONS = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "logistic": nn.Sigmoid,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}

COVARIANCE_TYPES = ("diag", "full")

_aten = torch.ops.aten

# The activations the fused backward knows: the module's forward function and
# its derivative, by the activation module's exact type. Each entry is called
# with the activation's own setting (ELU's alpha, GELU's approximation).
_ACT_KINDS = {
    nn.Tanh: lambda m: ("tanh", None),
    nn.ReLU: lambda m: ("relu", None),
    nn.Sigmoid: lambda m: ("logistic", None),
    nn.ELU: lambda m: ("elu", m.alpha),
    nn.GELU: lambda m: ("gelu", m.approximate),
    nn.SiLU: lambda m: ("silu", None),
}
# torch's float tanh kernel on the CPU is several times slower than its
# sigmoid: on 1000 x 32 activations tanh takes 85 microseconds and
# 2 sigmoid(2x) - 1, the same function to 2e-7, 28. Below about 8000 entries
# the three operations cost more than the one.
_FAST_TANH_NUMEL = 8192


def _tanh(x: torch.Tensor) -> torch.Tensor:
    if x.numel() < _FAST_TANH_NUMEL or x.device.type != "cpu":
        return torch.tanh(x)
    # sigmoid keeps its output for autograd: the in-place step is on a copy
    return torch.sigmoid(x * 2).mul(2).sub_(1)


_ACT_FORWARD = {
    "tanh": lambda x, arg: _tanh(x),
    "relu": lambda x, arg: torch.relu(x),
    "logistic": lambda x, arg: torch.sigmoid(x),
    "elu": lambda x, arg: F.elu(x, arg),
    "gelu": lambda x, arg: F.gelu(x, approximate=arg),
    "silu": lambda x, arg: F.silu(x),
}
# (grad of the output, pre-activation, output, setting) -> grad of the input
_ACT_BACKWARD = {
    "tanh": lambda g, pre, out, arg: _aten.tanh_backward.default(g, out),
    "relu": lambda g, pre, out, arg: _aten.threshold_backward.default(g, out, 0),
    "logistic": lambda g, pre, out, arg: _aten.sigmoid_backward.default(g, out),
    "elu": lambda g, pre, out, arg: _aten.elu_backward.default(
        g, arg, 1, 1, False, pre
    ),
    "gelu": lambda g, pre, out, arg: _aten.gelu_backward.default(
        g, pre, approximate=arg
    ),
    "silu": lambda g, pre, out, arg: _aten.silu_backward.default(g, pre),
}


def _log_softmax_rows(a: torch.Tensor) -> torch.Tensor:
    """``log_softmax(a, -1)`` of a ``[B, K]`` tensor, fast also for small K.

    On CPU, the kernel along the last dimension is several times slower for
    fewer than 16 entries per row (5 components, 1000 rows: 55 against 14
    microseconds) than the one along the first dimension of the transpose,
    which runs over the rows; the result is the same up to rounding.
    """
    if a.shape[-1] < 16 and a.shape[0] >= 128 and a.device.type == "cpu":
        return a.t().log_softmax(0).t().contiguous()
    return a.log_softmax(-1)


def _activation_kind(module):
    kind = _ACT_KINDS.get(type(module))
    return None if kind is None else kind(module)


def _has_hooks(module) -> bool:
    return bool(
        module._forward_hooks
        or module._forward_pre_hooks
        or module._backward_hooks
        or module._backward_pre_hooks
    )


_module_globals = vars(nn.modules.module)
_GLOBAL_HOOKS = [
    _module_globals.get(name, {})
    for name in (
        "_global_forward_hooks",
        "_global_forward_pre_hooks",
        "_global_backward_hooks",
        "_global_backward_pre_hooks",
    )
]


class MixtureOutput(NamedTuple):
    """Parameters of a batch of Gaussian mixtures, as returned by the module.

    Attributes
    ----------
    log_weights : Tensor of shape (batch, n_components)
        Log mixing weights (each row is normalized by ``log_softmax``).
    means : Tensor of shape (batch, n_components, n_outputs)
        Component means.
    scales : Tensor
        For ``covariance_type="diag"``, the per-output standard deviations,
        shape ``(batch, n_components, n_outputs)``. For ``"full"``, the
        lower-triangular Cholesky factors of the covariances, shape
        ``(batch, n_components, n_outputs, n_outputs)``, with a positive
        diagonal.
    """

    log_weights: torch.Tensor
    means: torch.Tensor
    scales: torch.Tensor


class _NetworkOutput(MixtureOutput):
    """A :class:`MixtureOutput` that remembers the forward pass that made it.

    ``MixtureNLLLoss`` finds the hidden activations and the head's output in
    ``_tape`` and differentiates the whole network in one fused step; to
    everything else it is the plain named tuple of three tensors.
    """

    def __repr__(self):
        return repr(MixtureOutput(*self))


class _Tape:
    """The values of one forward pass that the fused backward needs."""

    __slots__ = ("x", "plan", "saved", "raw", "outputs")

    def __init__(self, x, plan, saved, raw, outputs):
        self.x = x
        self.plan = plan  # from MixtureDensityNetwork._direct_plan
        # [(pre-activation, activation)] per hidden layer; None when the
        # forward pass ran without autograd
        self.saved = saved
        self.raw = raw  # [B, K * d] head outputs of the scales, before softplus
        # log_weights, means, scales, and the means and scales as [B, K * d]
        self.outputs = outputs


class MixtureDensityNetwork(nn.Module):
    """A multilayer perceptron whose outputs parameterize a Gaussian mixture.

    The hidden layers map ``x`` to a feature vector; one linear head maps it
    to the mixing logits, the component means and the raw scales of all
    components at once (one matrix product instead of three). Weights come
    from ``log_softmax``; scales from ``softplus`` plus ``min_scale``, so
    they are positive and bounded away from zero by construction.

    Parameters
    ----------
    n_features : int
        Number of input features.
    n_outputs : int, default=1
        Dimension of the target.
    n_components : int, default=5
        Number of mixture components.
    hidden_layer_sizes : tuple of int, default=(64, 64)
        Width of each hidden layer. An empty tuple gives a mixture whose
        parameters are linear in ``x``.
    activation : {"tanh", "relu", "logistic", "elu", "gelu", "silu"}, default="tanh"
        Activation of the hidden layers.
    min_scale : float, default=1e-3
        Floor added to every standard deviation (and to the diagonal of every
        Cholesky factor), in the units the module is trained in.
    covariance_type : {"diag", "full"}, default="diag"
        ``"diag"``: outputs are independent within a component. ``"full"``:
        each component has a full covariance given by its Cholesky factor.

    Examples
    --------
    >>> import torch
    >>> from skmdn import MixtureDensityNetwork, MixtureNLLLoss
    >>> _ = torch.manual_seed(0)
    >>> module = MixtureDensityNetwork(n_features=3, n_components=4)
    >>> out = module(torch.randn(8, 3))
    >>> out.log_weights.shape, out.means.shape, out.scales.shape
    (torch.Size([8, 4]), torch.Size([8, 4, 1]), torch.Size([8, 4, 1]))
    >>> loss = MixtureNLLLoss()(out, torch.randn(8))
    >>> loss.ndim
    0
    """

    def __init__(
        self,
        n_features: int,
        n_outputs: int = 1,
        n_components: int = 5,
        hidden_layer_sizes: tuple[int, ...] = (64, 64),
        activation: str = "tanh",
        min_scale: float = 1e-3,
        covariance_type: str = "diag",
    ):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}."
            )
        if covariance_type not in COVARIANCE_TYPES:
            raise ValueError(
                f"covariance_type must be one of {COVARIANCE_TYPES}, "
                f"got {covariance_type!r}."
            )
        self.n_features = n_features
        self.n_outputs = n_outputs
        self.n_components = n_components
        self.min_scale = min_scale
        self.covariance_type = covariance_type
        self.activation_name = activation

        layers: list[nn.Module] = []
        width = n_features
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, size), ACTIVATIONS[activation]()]
            width = size
        self.hidden = nn.Sequential(*layers)

        d, k = n_outputs, n_components
        n_scale = d if covariance_type == "diag" else d * (d + 1) // 2
        self._split = [k, k * d, k * n_scale]
        self.head = nn.Linear(width, sum(self._split))
        if covariance_type == "full":
            rows, cols = torch.tril_indices(d, d)
            self.register_buffer("_tril_rows", rows, persistent=False)
            self.register_buffer("_tril_cols", cols, persistent=False)
            self.register_buffer("_is_diag", rows == cols, persistent=False)
        self._init_head()

    def _init_head(self) -> None:
        # Spreading the initial component means over the quantiles of a
        # standard normal (the targets are standardized) gives every component
        # its own region from the first step, which avoids the collapse of all
        # components onto the conditional mean.
        k, d = self.n_components, self.n_outputs
        with torch.no_grad():
            start = self._split[0]
            levels = (torch.arange(k, dtype=torch.float64) + 0.5) / k
            centres = torch.as_tensor(norm.ppf(levels.numpy()), dtype=torch.float32)
            self.head.bias[start : start + k * d] = centres.repeat_interleave(d)

    def forward(self, X: torch.Tensor) -> MixtureOutput:
        k, d = self.n_components, self.n_outputs
        plan = self._direct_plan(X)
        if plan is None:
            out = self.head(self.hidden(X))
        else:
            # The layers' own functions, called directly: the same values as
            # calling the submodules, without their per-call hook machinery,
            # and with the activations kept for the fused backward (not
            # without autograd: there is no backward then).
            layers, head_weight, head_bias = plan
            cur, saved = X, [] if _keeps_tape() else None
            for weight, bias, (kind, arg) in layers:
                pre = F.linear(cur, weight, bias)
                cur = _ACT_FORWARD[kind](pre, arg)
                if saved is not None:
                    saved.append((pre, cur))
            out = F.linear(cur, head_weight, head_bias)
        # (the tensor method: Tensor.split's Python wrapper costs a small
        # network's step a few percent)
        logits, flat_means, raw = out.split_with_sizes(self._split, -1)
        log_weights = _log_softmax_rows(logits)  # [B, K]
        means = flat_means.view(-1, k, d)  # [B, K, d]
        if self.covariance_type == "diag":
            # A contiguous copy first: elementwise kernels on the strided
            # slice of few columns are several times slower on many rows
            # (softplus of 1000 x 5: 47 against 13 microseconds with the copy).
            raw = raw.contiguous()
            flat_scales = F.softplus(raw) + self.min_scale  # [B, K * d]
            scales = flat_scales.view(-1, k, d)  # [B, K, d]
            if plan is None:
                return MixtureOutput(log_weights, means, scales)
            result = _NetworkOutput(log_weights, means, scales)
            result._tape = _Tape(
                X,
                plan,
                saved,
                raw,
                (log_weights, means, scales, flat_means, flat_scales),
            )
            return result
        raw = raw.reshape(-1, k, raw.shape[-1] // k)  # [B, K, d(d+1)/2]
        entries = torch.where(self._is_diag, F.softplus(raw) + self.min_scale, raw)
        tril = raw.new_zeros(raw.shape[0], k, d, d)  # [B, K, d, d]
        tril[..., self._tril_rows, self._tril_cols] = entries
        return MixtureOutput(log_weights, means, tril)

    def mixture_from_head(self, out: torch.Tensor) -> MixtureOutput:
        """Mixture parameters from raw head outputs ``(..., n_head)``.

        The same parameterization as :meth:`forward`, through autograd, for
        outputs with leading dimensions (a stack of networks shares it).
        """
        k, d = self.n_components, self.n_outputs
        lead = out.shape[:-1]
        logits, means, raw = out.split(self._split, dim=-1)
        log_weights = F.log_softmax(logits, dim=-1)  # [..., K]
        means = means.reshape(*lead, k, d)  # [..., K, d]
        if self.covariance_type == "diag":
            scales = F.softplus(raw).reshape(*lead, k, d) + self.min_scale
            return MixtureOutput(log_weights, means, scales)
        raw = raw.reshape(*lead, k, raw.shape[-1] // k)  # [..., K, d(d+1)/2]
        entries = torch.where(self._is_diag, F.softplus(raw) + self.min_scale, raw)
        tril = raw.new_zeros(*lead, k, d, d)  # [..., K, d, d]
        tril[..., self._tril_rows, self._tril_cols] = entries
        return MixtureOutput(log_weights, means, tril)

    def _direct_plan(self, X):
        """The layers' parameters for calling their functions directly, or None.

        ``([(weight, bias, activation)] per hidden layer, head weight, head
        bias)``. None where the layers must be called as modules: full
        covariances, inputs that are not one batch of rows, hooks on any
        submodule or global module hooks, or layers that are no longer the
        ``Linear`` and known activations this class builds. Submodules and
        parameters are read from their dictionaries, a fraction of the cost
        of attribute access on a module.
        """
        if self.covariance_type != "diag" or X.ndim != 2 or any(_GLOBAL_HOOKS):
            return None
        modules = self._modules
        head = modules["head"]
        if type(head) is not nn.Linear or _has_hooks(head):
            return None
        hidden = modules["hidden"]
        if _has_hooks(hidden):
            return None
        layers = []
        linear = None
        for module in hidden._modules.values():
            if linear is None:
                if type(module) is not nn.Linear or _has_hooks(module):
                    return None
                linear = module
                continue
            kind = _activation_kind(module)
            if kind is None or _has_hooks(module):
                return None
            params = linear._parameters
            layers.append((params["weight"], params["bias"], kind))
            linear = None
        params = head._parameters
        plan = layers, params["weight"], params["bias"]
        if linear is not None or any(p is None for p in _plan_params(plan)):
            return None
        return plan


# Set by direct_gradients: the list its closed-form losses mark as applied.
_DIRECT = contextvars.ContextVar("skmdn_direct_gradients", default=None)


@contextmanager
def direct_gradients():
    """A training step's forward pass and loss without autograd.

    Inside, gradients are off, forward passes still keep what the
    closed-form backward needs, and the closed-form losses
    (:class:`MixtureNLLLoss` and the stacked one, on the outputs of this
    module's networks) accumulate their gradient into the ``.grad`` of the
    network's parameters themselves, as ``loss.backward()`` would, and
    return the loss without a graph. The same values and gradients
    without autograd's graph and engine: about a tenth of a small
    network's step. Yields a list that is non-empty once a loss has done
    so; a loss that could not (full covariances, outputs built elsewhere)
    leaves it empty, and the step must then be taken with autograd.
    """
    done = []
    token = _DIRECT.set(done)
    try:
        with torch.no_grad():
            yield done
    finally:
        _DIRECT.reset(token)


def _keeps_tape():
    """Whether a forward pass keeps its activations for a closed-form backward."""
    return torch.is_grad_enabled() or _DIRECT.get() is not None


def _plan_params(plan):
    layers, head_weight, head_bias = plan
    for weight, bias, _ in layers:
        yield weight
        yield bias
    yield head_weight
    yield head_bias


def mixture_log_prob(output: MixtureOutput, y: torch.Tensor) -> torch.Tensor:
    """Log-density of each target under its row's Gaussian mixture.

    Computed in log space: per-component log-densities plus log weights,
    reduced with ``logsumexp``, as ``torch.distributions.MixtureSameFamily``
    does, so that far-away targets give large finite losses instead of
    ``inf`` or ``nan``.

    Parameters
    ----------
    output : MixtureOutput
        Mixture parameters for a batch of ``B`` rows.
    y : Tensor of shape (B,) or (B, n_outputs)
        Targets.

    Returns
    -------
    Tensor of shape (B,)
    """
    log_weights, means, scales = output
    if y.ndim == 1:
        y = y.unsqueeze(-1)
    diff = y.unsqueeze(-2) - means  # [B, K, d]
    d = means.shape[-1]
    if scales.ndim == means.ndim:
        z = diff / scales
        comp = -0.5 * (z * z).sum(-1) - scales.log().sum(-1)  # [B, K]
    else:
        z = torch.linalg.solve_triangular(scales, diff.unsqueeze(-1), upper=False)
        log_det = scales.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        comp = -0.5 * z.square().sum((-2, -1)) - log_det  # [B, K]
    return torch.logsumexp(comp + log_weights, dim=-1) - 0.5 * d * LOG_2PI


def _fused_inputs(output, target, sample_weight):
    """The tape of ``output`` if the fused loss applies to it, else None."""
    tape = getattr(output, "_tape", None)
    if tape is None:
        return None
    log_weights, means, scales = tape.outputs[:3]
    if not (
        output.log_weights is log_weights
        and output.means is means
        and output.scales is scales
    ):
        return None  # the fields were replaced: differentiate what is there
    lead, d = means.shape[:-2], means.shape[-1]
    if (
        target.dtype != means.dtype
        or target.requires_grad
        or target.shape not in ((*lead, d), lead if d == 1 else None)
    ):
        return None
    if sample_weight is not None and (
        sample_weight.shape != lead
        or sample_weight.dtype != means.dtype
        or sample_weight.requires_grad
    ):
        return None
    return tape


def _versions(tape):
    """Version counters of the parameters and outputs the backward reads."""
    return [t._version for t in _plan_params(tape.plan)] + [
        t._version for t in tape.outputs[:3]
    ]


def _check_versions(tape, versions):
    if _versions(tape) != versions:
        # What autograd's saved tensors would report.
        raise RuntimeError(
            "A parameter of the network or one of its outputs has been "
            "modified by an inplace operation between the forward pass "
            "and the backward pass of MixtureNLLLoss."
        )


def _fused_loss(target, sample_weight, tape):
    """Mean NLL of each network's batch and what its closed-form gradient needs.

    The outputs on the tape have shape ``[B, K, d]`` (one network) or
    ``[M, B, K, d]`` (a stack of ``M``), the target ``[B]``/``[B, d]`` or
    ``[M, B]``/``[M, B, d]``, the weights ``[B]`` or ``[M, B]``. Returns the
    loss (a scalar for one network, one per member for a stack) and the
    values :func:`_head_gradient` reads.
    """
    log_weights, means, _, flat_means, flat_scales = tape.outputs
    k, d = means.shape[-2:]
    lead = means.shape[:-2]
    if d == 1:
        # [..., 1] targets against [..., K] means and scales
        y = target.unsqueeze(-1) if target.ndim == len(lead) else target
        mu, sigma = flat_means, flat_scales
    else:
        y = target.unsqueeze(-2)  # [..., 1, d]
        mu, sigma = means, flat_scales.view(*lead, k, d)
    inv = sigma.reciprocal()
    zn = (mu - y).mul_(inv)  # (mu - t) / sigma
    zz = zn * zn
    q = torch.add(sigma.log(), zz, alpha=0.5)  # log sigma + z^2 / 2
    a = log_weights - (q if d == 1 else q.sum(-1))  # log pi + log N + const
    log_gamma = _log_softmax_rows(a.view(-1, k)).view(a.shape)
    # logsumexp(a) = a_j - log_gamma_j for every j; the largest term
    # gives it without cancellation, also for targets far from every mean.
    log_prob = a.amax(-1) - log_gamma.amax(-1)  # [...]
    if sample_weight is None:
        c = None
        loss = torch.rsub(log_prob.mean(-1), 0.5 * d * LOG_2PI)
    else:
        # A batch whose weights are all zero contributes nothing (0, not 0/0).
        c = sample_weight / sample_weight.sum(-1, keepdim=True).clamp_min(_TINY)
        weighted = torch.dot(log_prob, c) if c.ndim == 1 else (log_prob * c).sum(-1)
        loss = torch.rsub(weighted, 0.5 * d * LOG_2PI)
    return loss, (log_gamma, zn, zz, inv, c)


def _head_gradient(tape, values, grad):
    """Gradient of the loss for the head's outputs, ``[..., B, n_head]``.

    ``grad`` is the gradient of each network's mean NLL (a scalar: the same
    for every member of a stack, whose loss is the sum of theirs).
    """
    log_gamma, zn, zz, inv, c = values
    n = log_gamma.shape[-2]
    multi = zn.ndim > log_gamma.ndim  # several outputs: [..., B, K, d]
    if grad.ndim:
        grad = grad.unsqueeze(-1)  # one per member of a stack: [M, 1]
        s = (grad / n if c is None else grad * c).unsqueeze(-1)
    else:
        s = grad / n if c is None else (grad * c).unsqueeze(-1)
    sg = log_gamma.exp().mul_(s)  # c gamma
    g_logits = torch.sub(tape.outputs[0].exp().mul_(s), sg)  # c (pi - gamma)
    sig = torch.sigmoid(tape.raw)  # d sigma / d raw
    if multi:
        p = inv * sg.unsqueeze(-1)
        sig = sig.view(zn.shape)
    else:
        p = inv * sg  # c gamma / sigma
    g_means = p * zn
    p.mul_(sig)
    g_raw = torch.addcmul(p, p, zz, value=-1)
    if multi:
        g_means, g_raw = g_means.flatten(-2), g_raw.flatten(-2)
    return torch.cat([g_logits, g_means, g_raw], -1)


def _dense_weight_grad(g, layer_input):
    return g.t().mm(layer_input)  # nn.Linear's [out, in] layout


def _dense_through(g, weight):
    return g.mm(weight)


def _backpropagate(needs, tape, g, weight_grad, through):
    """Gradients of the input and of every layer's weight and bias.

    ``g`` is the gradient of the head's outputs; it goes back through the
    head and the hidden layers, with the activations' derivatives, as
    autograd would. ``weight_grad(g, layer_input)`` and
    ``through(g, weight)`` are the layer's matrix products for the layout
    of its weights (one network's, or a stack's batched ones); a bias's
    gradient is ``g`` summed over the rows. ``needs`` says whether the
    input, then each layer's weight and bias, need their gradient.
    """
    layers, head_weight, _ = tape.plan
    saved = tape.saved
    n_layers = len(layers)
    grads = [None] * (2 * n_layers + 2)
    grad_x = None
    for i in range(n_layers, -1, -1):
        # g: the gradient of layer i's output before its activation
        # (layer n_layers is the head)
        layer_input = saved[i - 1][1] if i else tape.x
        if needs[1 + 2 * i]:
            grads[2 * i] = weight_grad(g, layer_input)
        if needs[2 + 2 * i]:
            grads[2 * i + 1] = g.sum(-2, keepdim=g.ndim == 3)
        weight = head_weight if i == n_layers else layers[i][0]
        if i == 0:
            if needs[0]:
                grad_x = through(g, weight)
            break
        pre, out = saved[i - 1]
        kind, arg = layers[i - 1][2]
        g = _ACT_BACKWARD[kind](through(g, weight), pre, out, arg)
    return grad_x, *grads


def _closed_form_backward(ctx, grad, weight_grad, through):
    """The ``backward`` of the closed-form losses, for their layers' layout."""
    tape = ctx.tape
    _check_versions(tape, ctx.versions)
    g = _head_gradient(tape, ctx.values, grad)
    needs = ctx.needs_input_grad[3:]
    grads = _backpropagate(needs, tape, g, weight_grad, through)
    return (None, None, None, *grads)


class _FusedMixtureNLL(torch.autograd.Function):
    """Mean NLL of a diagonal mixture, differentiated in closed form.

    The forward pass takes the module's outputs from the tape and computes
    the loss in log space; the backward pass writes out the gradient of the
    whole network in one node: with the responsibilities
    ``gamma = softmax(log pi + log N(t | mu, sigma))`` (Bishop 1994, eqs.
    33-39; Bishop 2006, eqs. 5.155-5.157) and the row weights ``c`` (``1/B``
    or ``w / sum(w)``), the gradient of the loss is

    - ``c (pi - gamma)`` for the mixing logits,
    - ``c gamma (mu - t) / sigma^2`` for the means,
    - ``c gamma (1 - z^2) / sigma * sigmoid(raw)`` for the raw scales
      (``z = (t - mu) / sigma``, ``sigma = softplus(raw) + min_scale``),

    then back through the head and hidden layers with their matrix products
    and the activations' derivatives, as autograd would, without one graph
    node per operation. One output works on ``[B, K]`` tensors throughout;
    several on ``[B, K, d]``.
    """

    @staticmethod
    def forward(ctx, target, sample_weight, tape, x, *params):
        loss, values = _fused_loss(target, sample_weight, tape)
        ctx.tape = tape
        ctx.values = values
        ctx.versions = _versions(tape)
        return loss

    # The layers' matrix products for the layout of their weights.
    weight_grad = staticmethod(_dense_weight_grad)
    through = staticmethod(_dense_through)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        return _closed_form_backward(ctx, grad, _dense_weight_grad, _dense_through)

    @classmethod
    def direct(cls, target, sample_weight, tape):
        """The loss, its parameters' gradients accumulated into their ``.grad``.

        What ``forward`` and then ``backward`` give for a loss that is
        summed (each network's own loss for a stack), without autograd.
        """
        loss, values = _fused_loss(target, sample_weight, tape)
        params = list(_plan_params(tape.plan))
        g = _head_gradient(tape, values, torch.ones_like(loss))
        needs = (False, *(p.requires_grad for p in params))
        grads = _backpropagate(needs, tape, g, cls.weight_grad, cls.through)[1:]
        for p, grad in zip(params, grads):
            if grad is None:
                continue
            if p.grad is None:
                p.grad = grad
            else:
                p.grad.add_(grad)
        return loss


def _apply_fused(function, target, sample_weight, tape):
    """The closed-form loss ``function`` of the outputs on ``tape``."""
    done = _DIRECT.get()
    if done is not None and tape.saved is not None:
        done.append(function)
        return function.direct(target, sample_weight, tape)
    args = (target, sample_weight, tape, tape.x, *_plan_params(tape.plan))
    if tape.saved is None:
        # The outputs were made without autograd: so is the loss.
        with torch.no_grad():
            return function.apply(*args)
    return function.apply(*args)


class MixtureNLLLoss(nn.Module):
    """Mean negative log-likelihood of targets under predicted mixtures.

    Use it as the ``criterion`` of a ``skorch.NeuralNet`` whose module
    returns a :class:`MixtureOutput`, or call it in a plain training loop.

    With ``sample_weight``, the loss is the weighted mean
    ``sum(w_i * nll_i) / sum(w_i)``, so that a weight of 2 is the same as a
    duplicated row.

    On the diagonal mixtures that :class:`MixtureDensityNetwork` returns,
    the loss is differentiated in closed form, through the whole network in
    one step: a small network's training step costs about 0.85x (batch 32)
    and 0.7x (1000 rows) of differentiating it operation by operation
    (``benchmarks/results/overhead.txt``); the values are
    those of :func:`mixture_log_prob` up to rounding. Any other
    ``MixtureOutput`` (full covariances, tensors built elsewhere) goes
    through :func:`mixture_log_prob` and autograd. The closed-form gradient
    cannot itself be differentiated again (``create_graph=True``); use
    ``-mixture_log_prob(output, y).mean()`` for that.
    """

    def forward(
        self,
        output: MixtureOutput,
        target: torch.Tensor,
        sample_weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        tape = _fused_inputs(output, target, sample_weight)
        if tape is not None:
            return _apply_fused(_FusedMixtureNLL, target, sample_weight, tape)
        log_prob = mixture_log_prob(output, target)
        if sample_weight is None:
            return -log_prob.mean()
        return -(log_prob * sample_weight).sum() / sample_weight.sum().clamp_min(_TINY)
