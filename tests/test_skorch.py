"""The skorch layer: data path, net, callbacks and the inference forward pass."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from skorch.callbacks import EarlyStopping, GradientNormClipping, LRScheduler

from skmdn import MDNRegressor, MixtureDensityNetwork
from skmdn._skorch import (
    CHUNK_ROWS,
    MDNNet,
    TensorBatchIterator,
    TensorDataset,
    build_net,
    forward_mixture,
    seeded_generator,
    torch_threads,
)


def _dataset(n=10, weights=False):
    X = torch.arange(2.0 * n).reshape(n, 2)
    y = torch.arange(float(n))
    w = torch.linspace(0.5, 1.5, n) if weights else None
    return TensorDataset(X, y, w)


def test_dataset_target_and_subset_keep_rows_together():
    ds = _dataset(weights=True)
    y, w = ds.target()
    assert y is ds.y and w is ds.sample_weight
    assert ds.target(torch.tensor([1, 3]))[0].tolist() == [1.0, 3.0]
    assert isinstance(_dataset().target(), torch.Tensor)
    sub = ds.subset(torch.tensor([4, 0, 7]))
    assert len(sub) == 3
    assert_array_equal(sub.X[:, 0].numpy(), [8.0, 0.0, 14.0])
    assert_array_equal(sub.y.numpy(), [4.0, 0.0, 7.0])
    assert_allclose(sub.sample_weight.numpy(), ds.sample_weight.numpy()[[4, 0, 7]])
    assert _dataset().subset(torch.tensor([1])).sample_weight is None


def test_batches_cover_every_row_once_and_full_batch_copies_nothing():
    ds = _dataset(10)
    batches = list(TensorBatchIterator(ds, 4))
    assert [len(X) for X, _ in batches] == [4, 4, 2]
    assert torch.cat([y for _, y in batches]).tolist() == list(range(10))
    assert len(TensorBatchIterator(ds, 4)) == 3
    ((X, y),) = TensorBatchIterator(ds, -1)
    assert X is ds.X and y is ds.y
    ((X, _),) = TensorBatchIterator(ds, 50)
    assert X is ds.X


def test_shuffled_batches_are_a_seeded_permutation():
    ds = _dataset(10)

    def order(seed):
        it = TensorBatchIterator(ds, 3, shuffle=True, generator=seeded_generator(seed))
        return torch.cat([y for _, y in it]).tolist()

    assert sorted(order(0)) == list(range(10))
    assert order(0) == order(0)
    assert order(0) != order(1)


def test_training_noise_perturbs_inputs_and_targets_but_not_weights():
    ds = _dataset(6, weights=True)
    it = TensorBatchIterator(
        ds, -1, generator=seeded_generator(0), input_noise=0.5, target_noise=0.1
    )
    ((X, (y, w)),) = it
    assert not torch.equal(X, ds.X) and not torch.equal(y, ds.y)
    assert torch.equal(w, ds.sample_weight)
    assert float((X - ds.X).std()) == pytest.approx(0.5, rel=0.6)
    assert float((y - ds.y).abs().max()) < 1.0


def test_build_net_switches_callbacks_with_the_parameters():
    params = MDNRegressor(gradient_clip=1.0, patience=9).get_params(deep=False)
    valid = _dataset(4)
    net = build_net(
        params,
        n_features=2,
        n_outputs=1,
        hidden_layer_sizes=(3,),
        seed=0,
        valid_ds=valid,
    )
    assert isinstance(net, MDNNet)
    kinds = {name: type(cb) for name, cb in net.callbacks}
    assert kinds["mdn_gradient_clip"] is GradientNormClipping
    assert kinds["mdn_early_stopping"] is EarlyStopping
    assert kinds["mdn_lr_schedule"] is LRScheduler
    assert dict(net.callbacks)["mdn_lr_schedule"].kwargs["patience"] == 3
    assert net.iterator_valid__batch_size == CHUNK_ROWS

    params = MDNRegressor(lr_schedule=None).get_params(deep=False)
    net = build_net(
        params,
        n_features=2,
        n_outputs=1,
        hidden_layer_sizes=(3,),
        seed=0,
        valid_ds=None,
    )
    assert [name for name, _ in net.callbacks] == []
    assert net.train_split is None


def test_net_records_weighted_epoch_losses_and_stops_on_divergence():
    params = MDNRegressor(max_epochs=3, batch_size=4).get_params(deep=False)
    net = build_net(
        params,
        n_features=2,
        n_outputs=1,
        hidden_layer_sizes=(3,),
        seed=0,
        valid_ds=_dataset(5),
    )
    net.initialize()
    ds = _dataset(10)
    ds.X = ds.X / 20.0
    ds.y = ds.y / 10.0
    net.partial_fit(ds, None)
    assert len(net.history) == 3
    row = net.history[-1]
    train = [b for b in row["batches"] if "train_loss" in b]
    sizes = [b["train_batch_size"] for b in train]
    losses = [b["train_loss"] for b in train]
    assert sizes == [4, 4, 2]
    assert row["train_loss"] == pytest.approx(np.average(losses, weights=sizes))
    assert isinstance(row["valid_loss_best"], bool)
    assert net.history[-1, "train_loss"] == row["train_loss"]

    ds.y = ds.y * 1e12
    with pytest.raises(FloatingPointError, match="Training diverged at epoch"):
        net.partial_fit(ds, None)


def test_forward_mixture_returns_float64_parameters_of_the_module():
    torch.manual_seed(0)
    module = MixtureDensityNetwork(n_features=3, n_outputs=2, n_components=4)
    X = np.random.default_rng(0).normal(size=(7, 3))
    log_w, means, scales = forward_mixture(module, X)
    assert log_w.dtype == means.dtype == scales.dtype == np.float64
    assert log_w.shape == (7, 4) and means.shape == scales.shape == (7, 4, 2)
    assert_allclose(np.exp(log_w).sum(axis=1), 1.0, rtol=1e-6)
    with torch.no_grad():
        expected = module(torch.as_tensor(X, dtype=torch.float32)).means
    assert_allclose(means, expected.double().numpy())
    empty = forward_mixture(module, np.empty((0, 3)))
    assert [a.shape for a in empty] == [(0, 4), (0, 4, 2), (0, 4, 2)]


def test_torch_threads_sets_and_restores():
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with torch_threads(None):
        assert torch.get_num_threads() == before
