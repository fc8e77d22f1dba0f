"""The mixture density network as a PyTorch module, and its loss.

Both are public so that the model can be trained with a plain
``skorch.NeuralNet`` or a hand-written PyTorch loop; ``MDNRegressor`` is the
scikit-learn front end built on them.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from scipy.stats import norm
from torch import nn
from torch.nn import functional as F

from ._checks import LOG_2PI

__all__ = [
    "MixtureOutput",
    "MixtureDensityNetwork",
    "MixtureNLLLoss",
    "mixture_log_prob",
]

ACTIVATIONS = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "logistic": nn.Sigmoid,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}

COVARIANCE_TYPES = ("diag", "full")


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
        return self.mixture_from_head(self.head(self.hidden(X)))

    def mixture_from_head(self, out: torch.Tensor) -> MixtureOutput:
        """Mixture parameters from the head's raw outputs ``(..., n_head)``.

        Leading dimensions are kept, so that stacked networks share this
        step.
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


class MixtureNLLLoss(nn.Module):
    """Mean negative log-likelihood of targets under predicted mixtures.

    Use it as the ``criterion`` of a ``skorch.NeuralNet`` whose module
    returns a :class:`MixtureOutput`, or call it in a plain training loop.

    With ``sample_weight``, the loss is the weighted mean
    ``sum(w_i * nll_i) / sum(w_i)``, so that a weight of 2 is the same as a
    duplicated row.
    """

    def forward(
        self,
        output: MixtureOutput,
        target: torch.Tensor,
        sample_weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        log_prob = mixture_log_prob(output, target)
        if sample_weight is None:
            return -log_prob.mean()
        return -(log_prob * sample_weight).sum() / sample_weight.sum()
