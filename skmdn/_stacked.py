"""Several mixture density networks trained as one PyTorch module.

Restarts (``MDNRegressor(n_init=...)``) and the members of
``MDNEnsembleRegressor`` are independent networks of one architecture. The
:class:`StackedMixtureNetwork` holds ``M`` of them with every weight matrix
stacked along a leading member axis, so one batched matrix product
(``torch.baddbmm``) evaluates all members: on small tabular networks a step
costs about as much for five members as for one, since its time goes into
per-operation overhead rather than arithmetic.

Each member is initialized exactly as a :class:`MixtureDensityNetwork` (it is
built as one and stacked), sees its own batch order and noise, and has its
own loss term, so that its gradient is the one it would have alone.
:meth:`StackedMixtureNetwork.member` gives a member back as a plain
:class:`MixtureDensityNetwork` for prediction.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.autograd.function import once_differentiable
from torch.nn import functional as F

from ._module import (
    _ACT_FORWARD,
    _GLOBAL_HOOKS,
    ACTIVATIONS,
    MixtureDensityNetwork,
    MixtureNLLLoss,
    MixtureOutput,
    _activation_kind,
    _apply_fused,
    _closed_form_backward,
    _fused_inputs,
    _FusedMixtureNLL,
    _has_hooks,
    _keeps_tape,
    _log_softmax_rows,
    _NetworkOutput,
    _Tape,
    mixture_log_prob,
)

__all__ = [
    "MemberNLLLoss",
    "MixtureOfNetworks",
    "SingleMixtureNetwork",
    "StackedMixtureNetwork",
    "StackedNLLLoss",
]


class StackedMixtureNetwork(nn.Module):
    """``n_members`` independent :class:`MixtureDensityNetwork` in one module.

    Parameters
    ----------
    n_members : int
        Number of networks.
    seeds : list of int or None, default=None
        One per member: seeds its initialization. ``None`` draws from
        torch's global generator.
    **module_params
        The :class:`MixtureDensityNetwork` parameters, shared by every
        member.

    Notes
    -----
    ``forward(X)`` takes ``X`` of shape ``(batch, n_features)`` (the same
    rows for every member) or ``(n_members, batch, n_features)`` and returns
    a :class:`MixtureOutput` whose arrays have a leading member axis.
    """

    def __init__(self, n_members: int, seeds=None, **module_params):
        super().__init__()
        members = []
        for m in range(n_members):
            if seeds is None:
                members.append(MixtureDensityNetwork(**module_params))
                continue
            with torch.random.fork_rng(devices=[]):
                seed_cpu_generator(seeds[m])
                members.append(MixtureDensityNetwork(**module_params))
        template = members[0]
        self.n_members = n_members
        self.module_params = dict(module_params)
        self.activation = ACTIVATIONS[template.activation_name]()
        n_layers = len(_linears(template))
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for i in range(n_layers):
            w = [_linears(net)[i].weight.detach().T for net in members]
            b = [_linears(net)[i].bias.detach()[None, :] for net in members]
            self.weights.append(nn.Parameter(torch.stack(w).contiguous()))
            self.biases.append(nn.Parameter(torch.stack(b).contiguous()))
        # The head's post-processing (log_softmax, softplus floor, Cholesky
        # layout) is the single network's own: it reads these attributes.
        for name in ("n_features", "n_outputs", "n_components", "min_scale"):
            setattr(self, name, getattr(template, name))
        self.covariance_type, self._split = template.covariance_type, template._split
        for name, buffer in template.named_buffers():
            self.register_buffer(name, buffer, persistent=False)
        # set_active: the members in the parameters (None: all), and every
        # member's weights while only some are.
        self.active_ = None
        self._parked = None

    @property
    def n_active(self) -> int:
        """Number of members in the parameters (see :meth:`set_active`)."""
        return self.weights[0].shape[0]

    def set_active(self, members) -> None:
        """Keep only ``members`` in the parameters; ``None``: every member.

        The parameters then hold members ``members`` (indices among all
        ``n_members``, in that order), so that training steps compute those
        networks only; the others keep their weights aside, unchanged, and
        ``set_active(None)`` puts every member back. ``member_state`` and
        ``restore_member`` take a member's index among all members
        throughout.
        """
        params = list(self.parameters())
        if self._parked is None:
            if members is None:
                return
            self._parked = [p.data for p in params]
        else:
            with torch.no_grad():
                for full, p in zip(self._parked, params):
                    full[self.active_] = p.data
        if members is None:
            for full, p in zip(self._parked, params):
                p.data = full
            self.active_ = self._parked = None
            return
        index = torch.as_tensor(members, dtype=torch.long, device=params[0].device)
        for full, p in zip(self._parked, params):
            p.data = full[index]
        self.active_ = index

    def _position(self, m: int):
        """Where member ``m`` is in the parameters, or None if it is aside."""
        if self.active_ is None:
            return m
        hits = (self.active_ == m).nonzero()
        return int(hits[0, 0]) if len(hits) else None

    def forward(self, X: torch.Tensor) -> MixtureOutput:
        h = X if X.ndim == 3 else X.expand(self.n_active, *X.shape)
        kind = self._direct_kind()
        if kind is None:
            last = len(self.weights) - 1
            for i, (w, b) in enumerate(zip(self.weights, self.biases)):
                h = torch.baddbmm(b, h, w)
                if i < last:
                    h = self.activation(h)
            return MixtureDensityNetwork.mixture_from_head(self, h)
        # As MixtureDensityNetwork.forward: the activations are kept for the
        # closed-form backward of StackedNLLLoss.
        x = h
        weights, biases = list(self.weights), list(self.biases)
        layers = [(w, b, kind) for w, b in zip(weights[:-1], biases[:-1])]
        saved = [] if _keeps_tape() else None
        for w, b, (name, arg) in layers:
            pre = torch.baddbmm(b, h, w)
            h = _ACT_FORWARD[name](pre, arg)
            if saved is not None:
                saved.append((pre, h))
        out = torch.baddbmm(biases[-1], h, weights[-1])
        k, d = self.n_components, self.n_outputs
        m, n = out.shape[:2]
        logits, flat_means, raw = out.split_with_sizes(self._split, -1)
        log_weights = _log_softmax_rows(logits.reshape(-1, k)).view(m, n, k)
        means = flat_means.view(m, n, k, d)
        raw = raw.contiguous()
        flat_scales = F.softplus(raw) + self.min_scale  # [M, B, K * d]
        result = _NetworkOutput(log_weights, means, flat_scales.view(m, n, k, d))
        plan = (layers, weights[-1], biases[-1])
        outputs = (log_weights, means, result.scales, flat_means, flat_scales)
        result._tape = _Tape(x, plan, saved, raw, outputs)
        return result

    def _direct_kind(self):
        """The hidden activation for the closed-form gradient, or None."""
        if self.covariance_type != "diag" or any(_GLOBAL_HOOKS):
            return None
        if _has_hooks(self.activation):
            return None
        return _activation_kind(self.activation)

    def member(self, m: int) -> MixtureDensityNetwork:
        """Member ``m`` as a plain :class:`MixtureDensityNetwork`."""
        # Its initial weights are overwritten: drawing them must not move
        # the caller's global generator.
        with torch.random.fork_rng(devices=[]):
            net = MixtureDensityNetwork(**self.module_params)
        state = self.member_state(m)
        n_layers = len(self.weights)
        with torch.no_grad():
            for i, linear in enumerate(_linears(net)):
                linear.weight.copy_(state[i].T)
                linear.bias.copy_(state[n_layers + i][0])
        return net.to(self.weights[0].device)

    def load_member(self, module) -> None:
        """Start the members from the weights of ``module`` (warm start).

        A :class:`MixtureDensityNetwork` starts every member; a
        :class:`MixtureOfNetworks` of ``n_members`` networks starts member
        ``m`` from its network ``m``.
        """
        self.set_active(None)
        networks = getattr(module, "networks", None) or [module] * self.n_members
        if len(networks) != self.n_members:
            raise RuntimeError(
                f"{len(networks)} networks do not fit a stack of {self.n_members}"
            )
        with torch.no_grad():
            for m, net in enumerate(networks):
                for i, linear in enumerate(_linears(net)):
                    self.weights[i][m].copy_(linear.weight.T)
                    self.biases[i][m].copy_(linear.bias[None, :])

    def member_state(self, m: int) -> list[torch.Tensor]:
        """Copies of member ``m``'s parameters (to restore it later)."""
        i = self._position(m)
        tensors = self.parameters() if i is not None else self._parked
        i = m if i is None else i
        return [p[i].detach().clone() for p in tensors]

    def restore_member(self, m: int, state: list[torch.Tensor]) -> None:
        i = self._position(m)
        tensors = self.parameters() if i is not None else self._parked
        i = m if i is None else i
        with torch.no_grad():
            for p, saved in zip(tensors, state):
                p[i].copy_(saved)


class MixtureOfNetworks(nn.Module):
    """Trained networks of one architecture, predicting one mixture.

    The mixture has the components of every network, each network's mixing
    weights multiplied by its share: what ``MDNRegressor(restarts="stack")``
    keeps of its restarts.

    Parameters
    ----------
    networks : list of MixtureDensityNetwork
        The networks, of the same architecture.
    shares : sequence of float
        One positive share per network; normalized to sum to one.
    """

    def __init__(self, networks, shares):
        super().__init__()
        shares = torch.as_tensor(shares, dtype=torch.float64)
        if len(networks) < 1 or shares.shape != (len(networks),):
            raise ValueError("one share per network is needed")
        if not bool(torch.all(shares > 0)):
            raise ValueError(f"the shares must be positive; got {shares.tolist()}")
        self.networks = nn.ModuleList(networks)
        log_shares = torch.log(shares / shares.sum()).float()
        device = next(networks[0].parameters()).device
        self.register_buffer("log_shares", log_shares.to(device))
        template = networks[0]
        for name in ("n_features", "n_outputs", "covariance_type", "min_scale"):
            setattr(self, name, getattr(template, name))
        self.n_components = sum(net.n_components for net in networks)

    def forward(self, X: torch.Tensor) -> MixtureOutput:
        outputs = [net(X) for net in self.networks]
        log_weights = torch.cat(
            [out.log_weights + s for out, s in zip(outputs, self.log_shares)], dim=1
        )
        means = torch.cat([out.means for out in outputs], dim=1)
        scales = torch.cat([out.scales for out in outputs], dim=1)
        return MixtureOutput(log_weights, means, scales)


class SingleMixtureNetwork(nn.Module):
    """One :class:`MixtureDensityNetwork` with the interface of a stack.

    A single network trains fastest as itself: its forward pass and the
    closed-form gradient of :class:`MixtureNLLLoss` work on 2-D batches.
    This wrapper gives it the member methods of
    :class:`StackedMixtureNetwork` (with ``n_members = 1``) so that one
    trainer serves both.
    """

    n_members = n_active = 1

    def __init__(self, n_members: int = 1, seeds=None, **module_params):
        super().__init__()
        if n_members != 1:
            raise ValueError("SingleMixtureNetwork holds one network.")
        with torch.random.fork_rng(devices=[]):
            if seeds is not None:
                seed_cpu_generator(seeds[0])
            self.network = MixtureDensityNetwork(**module_params)

    def forward(self, X: torch.Tensor) -> MixtureOutput:
        return self.network(X)

    def member(self, m: int) -> MixtureDensityNetwork:
        return self.network

    def load_member(self, module: MixtureDensityNetwork) -> None:
        self.network.load_state_dict(module.state_dict())

    def member_state(self, m: int) -> list[torch.Tensor]:
        return [p.detach().clone() for p in self.parameters()]

    def restore_member(self, m: int, state: list[torch.Tensor]) -> None:
        with torch.no_grad():
            for p, saved in zip(self.parameters(), state):
                p.copy_(saved)


def seed_cpu_generator(seed) -> None:
    """Seed torch's global CPU generator only, for a network's initial weights.

    Networks are built on the CPU (skorch moves them to the device), so
    their initialization draws from the CPU generator, whose state the
    callers restore with ``fork_rng(devices=[])``. ``torch.manual_seed``
    would also reseed every CUDA generator, which that does not restore: a
    fit would reset the caller's CUDA random stream.
    """
    torch.random.default_generator.manual_seed(int(seed))


def _linears(net: MixtureDensityNetwork) -> list[nn.Linear]:
    return [*(layer for layer in net.hidden if isinstance(layer, nn.Linear)), net.head]


class StackedNLLLoss(nn.Module):
    """Sum over members of each member's mean negative log-likelihood.

    Summing keeps every member's gradient exactly what its own
    :class:`MixtureNLLLoss` would give. With ``sample_weight`` each member's
    term is its weighted mean.
    """

    def forward(self, output, target, sample_weight=None):
        # The closed form takes one target row per member; autograd below
        # broadcasts shared targets itself.
        member_target, member_weight = _per_member(output, target, sample_weight)
        tape = _fused_inputs(output, member_target, member_weight)
        if tape is not None:
            losses = _apply_fused(_FusedStackedNLL, member_target, member_weight, tape)
            self.member_losses_ = losses.detach()
            return losses.sum()
        log_prob = mixture_log_prob(output, target)  # [M, B]
        if sample_weight is None:
            losses = -log_prob.mean(dim=-1)
        else:
            total = sample_weight.sum(-1).clamp_min(1e-30)  # all-zero batch: 0
            losses = -(log_prob * sample_weight).sum(-1) / total
        # Each member's loss, for the per-member bookkeeping of the trainer.
        self.member_losses_ = losses.detach()
        return losses.sum()


def _per_member(output, target, sample_weight):
    """Targets and weights shared by every member, broadcast to ``[M, B, ...]``."""
    lead = output.means.shape[:-2]
    if target.shape[: len(lead)] != lead:
        target = target.expand(*lead, *target.shape[1:])
    if sample_weight is not None and sample_weight.shape != lead:
        sample_weight = sample_weight.expand(lead)
    return target, sample_weight


def _stacked_weight_grad(g, layer_input):
    return torch.bmm(layer_input.transpose(1, 2), g)  # [M, in, out]


def _stacked_through(g, weight):
    return g.bmm(weight.transpose(1, 2))


class _FusedStackedNLL(_FusedMixtureNLL):
    """Each member's mean NLL, differentiated in closed form.

    The stacked form of the closed-form gradient of
    :class:`~skmdn._module.MixtureNLLLoss`: the same loss and gradient of
    the head's outputs (one per member, ``[M]`` losses), then back through
    the batched layers with batched matrix products.
    """

    weight_grad = staticmethod(_stacked_weight_grad)
    through = staticmethod(_stacked_through)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        return _closed_form_backward(ctx, grad, _stacked_weight_grad, _stacked_through)


class MemberNLLLoss(MixtureNLLLoss):
    """:class:`MixtureNLLLoss` that also records its value as a member's loss."""

    def forward(self, output, target, sample_weight=None):
        loss = super().forward(output, target, sample_weight)
        self.member_losses_ = loss.detach().reshape(1)
        return loss
