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


def _autograd_nll(output, y, sample_weight=None):
    """The loss written out, for autograd to differentiate op by op."""
    log_prob = mixture_log_prob(MixtureOutput(*output), y)
    if sample_weight is None:
        return -log_prob.mean()
    return -(log_prob * sample_weight).sum() / sample_weight.sum()


def _double_module(activation, hidden, d, seed=0):
    torch.manual_seed(seed)
    module = MixtureDensityNetwork(
        4,
        n_outputs=d,
        n_components=3,
        hidden_layer_sizes=hidden,
        activation=activation,
    )
    return module.double()


@pytest.mark.parametrize(
    "activation", ["tanh", "relu", "logistic", "elu", "gelu", "silu"]
)
@pytest.mark.parametrize("hidden", [(), (6,), (6, 5)])
@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_closed_form_gradient_passes_gradcheck(activation, hidden, d, weighted):
    module = _double_module(activation, hidden, d)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(9, 4, generator=g, dtype=torch.float64, requires_grad=True)
    y = 2 * torch.randn(9, d, generator=g, dtype=torch.float64)
    if d == 1:
        y = y[:, 0]
    w = torch.rand(9, generator=g, dtype=torch.float64) if weighted else None
    names = [name for name, _ in module.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in module.parameters()]

    def loss(x, *params):
        out = torch.func.functional_call(module, dict(zip(names, params)), (x,))
        assert hasattr(out, "_tape")  # the fused path is the one checked
        return MixtureNLLLoss()(out, y, w)

    assert torch.autograd.gradcheck(loss, (x, *params))


@pytest.mark.parametrize("d", [1, 3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n", [32, 300])
def test_closed_form_loss_and_gradient_equal_autograd_in_float32(d, weighted, n):
    module = MixtureDensityNetwork(2, n_outputs=d, n_components=4)
    x = torch.randn(n, 2)
    y = torch.randn(n, d) if d > 1 else torch.randn(n)
    w = torch.rand(n) if weighted else None
    out = module(x)
    loss = MixtureNLLLoss()(out, y, w)
    grads = torch.autograd.grad(loss, list(module.parameters()))
    expected = _autograd_nll(out, y, w)
    expected_grads = torch.autograd.grad(expected, list(module.parameters()))
    torch.testing.assert_close(loss, expected)
    for got, want in zip(grads, expected_grads):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6)


def test_replaced_fields_and_full_covariance_use_autograd():
    module = MixtureDensityNetwork(2, n_components=3, hidden_layer_sizes=(5,))
    x, y = torch.randn(8, 2), torch.randn(8)
    out = module(x)
    shifted = out._replace(means=out.means + 1.0)
    assert not hasattr(shifted, "_tape")
    torch.testing.assert_close(MixtureNLLLoss()(shifted, y), _autograd_nll(shifted, y))
    full = MixtureDensityNetwork(2, n_outputs=2, covariance_type="full")
    out = full(x)
    assert type(out) is MixtureOutput
    MixtureNLLLoss()(out, torch.randn(8, 2)).backward()
    assert all(torch.isfinite(p.grad).all() for p in full.parameters())


def test_submodule_hooks_are_honoured():
    module = MixtureDensityNetwork(2, n_components=3, hidden_layer_sizes=(5,))
    calls = []
    handle = module.hidden[0].register_forward_hook(lambda *args: calls.append(1))
    out = module(torch.randn(4, 2))
    assert calls and type(out) is MixtureOutput
    handle.remove()
    assert hasattr(module(torch.randn(4, 2)), "_tape")


def test_output_of_a_forward_without_autograd_gives_a_loss_without_graph():
    module = MixtureDensityNetwork(2, n_components=3, hidden_layer_sizes=(5,))
    x, y = torch.randn(8, 2), torch.randn(8)
    with torch.no_grad():
        out = module(x)
    loss = MixtureNLLLoss()(out, y)
    assert not loss.requires_grad
    torch.testing.assert_close(loss, _autograd_nll(out, y))
    assert isinstance(out, MixtureOutput) and repr(out).startswith("MixtureOutput(")


def test_input_gradient_and_second_loss_term_add_up():
    module = MixtureDensityNetwork(2, n_components=3, hidden_layer_sizes=(5,))
    x = torch.randn(8, 2, requires_grad=True)
    y = torch.randn(8)
    out = module(x)
    total = MixtureNLLLoss()(out, y) + out.means.square().mean()
    grads = torch.autograd.grad(total, [x, *module.parameters()])
    out = module(x)
    reference = _autograd_nll(out, y) + out.means.square().mean()
    expected = torch.autograd.grad(reference, [x, *module.parameters()])
    for got, want in zip(grads, expected):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("shape", [(300, 5), (300, 20), (20, 5)])
def test_row_log_softmax_equals_log_softmax(shape):
    from skmdn._module import _log_softmax_rows

    a = 10 * torch.randn(shape[0], 2 * shape[1])[:, : shape[1]]
    result = _log_softmax_rows(a)
    assert result.is_contiguous()
    torch.testing.assert_close(result, torch.log_softmax(a, -1))


def test_inplace_change_between_loss_and_backward_is_reported():
    module = MixtureDensityNetwork(2, n_components=3, hidden_layer_sizes=(5,))
    loss = MixtureNLLLoss()(module(torch.randn(8, 2)), torch.randn(8))
    with torch.no_grad():
        module.head.weight.mul_(2.0)
    with pytest.raises(RuntimeError, match="inplace"):
        loss.backward()


def test_closed_form_gradient_is_not_differentiable_twice():
    module = MixtureDensityNetwork(2, n_components=3, hidden_layer_sizes=(5,))
    loss = MixtureNLLLoss()(module(torch.randn(8, 2)), torch.randn(8))
    (grad,) = torch.autograd.grad(loss, [module.head.bias], create_graph=True)
    with pytest.raises(RuntimeError):
        grad.sum().backward()


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 3e-7), (torch.float64, 1e-15)])
def test_large_tanh_activations_equal_tanh(dtype, tol):
    # Large activations go through 2 sigmoid(2x) - 1, which is faster on
    # the CPU; the function and its autograd derivative stay tanh's.
    from skmdn._module import _FAST_TANH_NUMEL, _tanh

    x = torch.linspace(-20, 20, 4 * _FAST_TANH_NUMEL, dtype=dtype).requires_grad_()
    got = _tanh(x)
    torch.testing.assert_close(got, torch.tanh(x), rtol=0, atol=tol)
    (grad,) = torch.autograd.grad(got.sum(), x)
    torch.testing.assert_close(
        grad, 1 - torch.tanh(x.detach()) ** 2, rtol=0, atol=4 * tol
    )


def _stack(activation="tanh", d=1, n_members=3, hidden=(8, 6)):
    from skmdn._stacked import StackedMixtureNetwork

    stack = StackedMixtureNetwork(
        n_members,
        seeds=list(range(n_members)),
        n_features=4,
        n_outputs=d,
        n_components=3,
        hidden_layer_sizes=hidden,
        activation=activation,
    )
    return stack.double()


@pytest.mark.parametrize(
    "activation", ["tanh", "relu", "logistic", "elu", "gelu", "silu"]
)
@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shared", [False, True])
def test_stacked_closed_form_gradient_equals_autograd(activation, d, weighted, shared):
    # Each member's loss and gradient, in closed form, equal autograd's
    # through the batched layers, for per-member and shared batches.
    from skmdn._stacked import StackedNLLLoss

    stack = _stack(activation, d)
    g = torch.Generator().manual_seed(2)
    shape = (7, 4) if shared else (3, 7, 4)
    x = torch.randn(shape, generator=g, dtype=torch.float64)
    y = 2 * torch.randn(*shape[:-1], d, generator=g, dtype=torch.float64)
    if shared and d == 1:
        y = y[..., 0]
    w = torch.rand(shape[:-1], generator=g, dtype=torch.float64) if weighted else None
    loss = StackedNLLLoss()
    out = stack(x)
    assert hasattr(out, "_tape")
    got = loss(out, y, w)
    got_members = loss.member_losses_
    got_grads = torch.autograd.grad(got, list(stack.parameters()))
    plain = MixtureOutput(*stack(x))  # no tape: autograd, op by op
    want = loss(plain, y, w)
    want_grads = torch.autograd.grad(want, list(stack.parameters()))
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(got_members, loss.member_losses_)
    for a, b in zip(got_grads, want_grads):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_stacked_closed_form_gradient_passes_gradcheck():
    from skmdn._stacked import StackedNLLLoss

    stack = _stack("tanh", 2, n_members=2, hidden=(5,))
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 6, 4, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.randn(2, 6, 2, generator=g, dtype=torch.float64)
    w = torch.rand(2, 6, generator=g, dtype=torch.float64)
    names = [name for name, _ in stack.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in stack.parameters()]

    def loss(x, *params):
        out = torch.func.functional_call(stack, dict(zip(names, params)), (x,))
        assert hasattr(out, "_tape")
        return StackedNLLLoss()(out, y, w)

    assert torch.autograd.gradcheck(loss, (x, *params))


def test_stacked_network_with_hooked_activation_uses_autograd():
    stack = _stack()
    calls = []
    handle = stack.activation.register_forward_hook(lambda *args: calls.append(1))
    out = stack(torch.randn(3, 5, 4, dtype=torch.float64))
    assert calls and not hasattr(out, "_tape")
    handle.remove()
    assert hasattr(stack(torch.randn(3, 5, 4, dtype=torch.float64)), "_tape")


@pytest.mark.parametrize("stacked", [False, True])
@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_direct_gradients_equal_backward_bit_for_bit(stacked, d, weighted):
    # Inside direct_gradients the closed-form losses write the gradients
    # that loss.backward() gives, without a graph, and add them to
    # gradients already there as backward does.
    from skmdn._module import direct_gradients
    from skmdn._stacked import StackedNLLLoss

    if stacked:
        module, loss_fn, shape = _stack("tanh", d), StackedNLLLoss(), (3, 7, 4)
    else:
        module = _double_module("tanh", (6, 5), d)
        loss_fn, shape = MixtureNLLLoss(), (7, 4)
    g = torch.Generator().manual_seed(4)
    x = torch.randn(shape, generator=g, dtype=torch.float64)
    y = torch.randn(*shape[:-1], d, generator=g, dtype=torch.float64)
    if d == 1:
        y = y[..., 0]
    w = torch.rand(shape[:-1], generator=g, dtype=torch.float64) if weighted else None
    params = list(module.parameters())

    want = loss_fn(module(x), y, w)
    want.backward()
    want_grads = [p.grad.clone() for p in params]
    module.zero_grad(set_to_none=True)
    with direct_gradients() as done:
        got = loss_fn(module(x), y, w)
    assert done and got.grad_fn is None and not got.requires_grad
    assert torch.equal(got, want.detach())
    for p, expected in zip(params, want_grads):
        assert torch.equal(p.grad, expected)
    with direct_gradients():
        loss_fn(module(x), y, w)  # accumulates
    for p, expected in zip(params, want_grads):
        assert torch.equal(p.grad, 2 * expected)


def test_direct_gradients_leave_other_losses_to_autograd():
    # Outputs without the network's tape: nothing is written, and the
    # caller knows to take the step with autograd.
    from skmdn._module import direct_gradients

    module = MixtureDensityNetwork(2, n_outputs=2, covariance_type="full")
    x, y = torch.randn(5, 2), torch.randn(5, 2)
    with direct_gradients() as done:
        loss = MixtureNLLLoss()(module(x), y)
    assert not done and loss.grad_fn is None
    assert all(p.grad is None for p in module.parameters())
