import numpy as np
import pytest
import torch
from torch.distributions import (
    Categorical,
    Independent,
    MixtureSameFamily,
    MultivariateNormal,
    Normal,
)

from skmdn import MixtureDensityNetwork, MixtureNLLLoss, MixtureOutput, mixture_log_prob


def _random_output(batch, k, d, full=False, seed=0):
    g = torch.Generator().manual_seed(seed)
    log_w = torch.log_softmax(
        torch.randn(batch, k, generator=g, dtype=torch.float64), -1
    )
    means = torch.randn(batch, k, d, generator=g, dtype=torch.float64)
    if full:
        raw = torch.randn(batch, k, d, d, generator=g, dtype=torch.float64)
        tril = torch.tril(raw, diagonal=-1) + torch.diag_embed(
            raw.diagonal(0, -2, -1).exp()
        )
        return MixtureOutput(log_w, means, tril)
    scales = torch.rand(batch, k, d, generator=g, dtype=torch.float64) + 0.1
    return MixtureOutput(log_w, means, scales)


@pytest.mark.parametrize("d", [1, 3])
def test_loss_equals_torch_distributions_mixture(d):
    out = _random_output(64, 4, d)
    y = torch.randn(64, d, dtype=torch.float64)
    reference = MixtureSameFamily(
        Categorical(logits=out.log_weights),
        Independent(Normal(out.means, out.scales), 1),
    )
    expected = -reference.log_prob(y).mean()
    torch.testing.assert_close(MixtureNLLLoss()(out, y), expected)
    if d == 1:
        torch.testing.assert_close(MixtureNLLLoss()(out, y[:, 0]), expected)


def test_full_covariance_log_prob_equals_multivariate_normal():
    out = _random_output(32, 3, 2, full=True)
    y = torch.randn(32, 2, dtype=torch.float64)
    reference = MixtureSameFamily(
        Categorical(logits=out.log_weights),
        MultivariateNormal(out.means, scale_tril=out.scales),
    )
    torch.testing.assert_close(mixture_log_prob(out, y), reference.log_prob(y))


def test_weighted_loss_equals_duplicated_rows():
    out = _random_output(10, 3, 1)
    y = torch.randn(10, dtype=torch.float64)
    w = torch.tensor([2.0] + [1.0] * 9, dtype=torch.float64)
    dup = MixtureOutput(*(torch.cat([t[:1], t]) for t in out))
    expected = MixtureNLLLoss()(dup, torch.cat([y[:1], y]))
    torch.testing.assert_close(MixtureNLLLoss()(out, y, sample_weight=w), expected)


def test_loss_and_gradient_finite_for_extreme_targets():
    module = MixtureDensityNetwork(2, n_components=3, hidden_layer_sizes=(8,))
    X = torch.randn(16, 2)
    y = torch.full((16,), 1e6)
    loss = MixtureNLLLoss()(module(X), y)
    loss.backward()
    assert torch.isfinite(loss)
    assert all(torch.isfinite(p.grad).all() for p in module.parameters())


def test_scales_respect_the_floor_and_weights_are_normalized():
    module = MixtureDensityNetwork(
        1, n_components=4, hidden_layer_sizes=(4,), min_scale=0.05
    )
    with torch.no_grad():
        module.head.bias.fill_(-1e4)
        out = module(torch.randn(5, 1))
    assert (out.scales >= 0.05).all()
    torch.testing.assert_close(out.log_weights.exp().sum(-1), torch.ones(5))


def test_full_covariance_factor_is_lower_triangular_with_positive_diagonal():
    module = MixtureDensityNetwork(
        3, n_outputs=3, n_components=2, covariance_type="full"
    )
    out = module(torch.randn(7, 3))
    assert out.scales.shape == (7, 2, 3, 3)
    assert torch.equal(out.scales, torch.tril(out.scales))
    assert (out.scales.diagonal(dim1=-2, dim2=-1) > 0).all()


def test_initial_means_are_spread_over_the_target():
    k = 5
    module = MixtureDensityNetwork(1, n_components=k, hidden_layer_sizes=(8,))
    mean_bias = module.head.bias[k : 2 * k].detach().numpy()
    assert np.all(np.diff(mean_bias) > 0.3)
    assert mean_bias[0] < -1 and mean_bias[-1] > 1


def test_module_rejects_unknown_options():
    with pytest.raises(ValueError, match="activation"):
        MixtureDensityNetwork(1, activation="swish")
    with pytest.raises(ValueError, match="covariance_type"):
        MixtureDensityNetwork(1, covariance_type="spherical")


def test_plain_skorch_net_trains_the_module():
    from skorch import NeuralNet

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2)).astype(np.float32)
    y = (X[:, :1] + 0.1 * rng.normal(size=(200, 1))).astype(np.float32)
    net = NeuralNet(
        MixtureDensityNetwork,
        criterion=MixtureNLLLoss,
        module__n_features=2,
        module__n_components=2,
        optimizer=torch.optim.Adam,
        lr=1e-2,
        max_epochs=30,
        train_split=None,
        verbose=0,
    )
    net.fit(X, y)
    losses = net.history[:, "train_loss"]
    assert losses[-1] < losses[0] - 0.5
