"""The skorch layer: data path, net, callbacks and the inference forward pass."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from skorch.callbacks import Callback

from skmdn import MDNEnsembleRegressor, MDNRegressor, MixtureDensityNetwork
from skmdn._skorch import (
    LeanAdam,
    LeanAdamW,
    MDNNet,
    MemberTraining,
    TensorBatchIterator,
    TensorDataset,
    build_net,
    forward_mixture,
    seeded_generator,
    select_member,
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


def _net(valid_ds=None, n_members=1, **params):
    estimator = MDNRegressor(**params)
    params = estimator.get_params(deep=False)
    params["batch_size"], params["patience"] = estimator._resolve_schedule(1000)
    return build_net(
        params,
        n_features=2,
        n_outputs=1,
        hidden_layer_sizes=(3,),
        seeds=list(range(n_members)),
        valid_ds=valid_ds,
    )


def test_build_net_configures_member_training_from_the_parameters():
    net = _net(_dataset(4), gradient_clip=1.0, patience=9)
    assert isinstance(net, MDNNet)
    training = dict(net.callbacks)["mdn_training"]
    assert isinstance(training, MemberTraining)
    assert (training.patience, training.plateau_patience) == (9, 3)
    assert training.gradient_clip == 1.0
    assert net.train_split is None

    training = dict(_net(None, lr_schedule=None).callbacks)["mdn_training"]
    assert training.patience is None and training.plateau_patience is None
    assert [name for name, _ in _net(None).callbacks] == ["mdn_training"]


def _scaled_dataset():
    ds = _dataset(10)
    ds.X = ds.X / 20.0
    ds.y = (ds.y / 10.0)[:, None]
    return ds


def test_net_records_weighted_epoch_losses_and_stops_on_divergence():
    net = _net(_scaled_dataset().subset(torch.arange(5)), max_epochs=3, batch_size=4)
    net.initialize()
    ds = _scaled_dataset()
    net.partial_fit(ds, None)
    assert len(net.history) == 3
    row = net.history[-1]
    train = [b for b in row["batches"] if "train_loss" in b]
    assert [b["train_batch_size"] for b in train] == [4, 4, 2]
    assert isinstance(row["valid_loss_best"], bool)
    assert np.isfinite(row["train_loss"]) and np.isfinite(row["valid_loss"])
    assert net.history[-1, "train_loss"] == row["train_loss"]

    ds.y = ds.y * 1e12
    with pytest.raises(FloatingPointError, match="Training diverged at epoch"):
        net.partial_fit(ds, None)


def test_stacked_batches_give_each_member_its_own_order_of_its_rows():
    ds = _dataset(10)
    it = TensorBatchIterator(
        ds, 4, n_members=3, shuffle=True, generator=seeded_generator(0)
    )
    batches = list(it)
    assert len(it) == 3 and [X.shape for X, _ in batches][0] == (3, 4, 2)
    orders = torch.cat([y for _, y in batches], dim=1)
    for m in range(3):
        assert sorted(orders[m].tolist()) == list(range(10))
    assert not torch.equal(orders[0], orders[1])
    # Each member restricted to its own rows (an ensemble's own splits).
    index = torch.tensor([[0, 1, 2, 3], [6, 7, 8, 9]])
    it = TensorBatchIterator(ds, 3, n_members=2, index=index, shuffle=True)
    rows = torch.cat([y for _, y in it], dim=1)
    assert sorted(rows[0].tolist()) == [0, 1, 2, 3]
    assert sorted(rows[1].tolist()) == [6, 7, 8, 9]
    # A shared full batch is the dataset itself, not a copy.
    ((X, y),) = TensorBatchIterator(ds, -1, n_members=4)
    assert X is ds.X


def test_members_train_independently_with_their_own_early_stopping():
    X = torch.linspace(-1, 1, 40)[:, None].repeat(1, 2)
    ds = TensorDataset(X, (X[:, :1] * 2.0).contiguous())
    net = _net(
        ds.subset(torch.arange(0, 40, 4)),
        n_members=3,
        max_epochs=60,
        patience=3,
        batch_size=8,
    )
    net.initialize()
    net.partial_fit(ds.subset(torch.arange(1, 40, 2)), None)
    training = dict(net.callbacks_)["mdn_training"]
    assert training.finished_.all() or len(net.history) == 60
    assert len(set(training.member_best_epoch_.tolist())) >= 1
    valid = np.array(net.history[:, "valid_loss_members"])
    best = training.best_member_
    assert valid.shape[1] == 3
    assert training.best_nll_[best] == training.best_nll_.min()
    # The kept weights are each member's best epoch.
    chosen = select_member(net)
    assert isinstance(net.module_, MixtureDensityNetwork)
    assert chosen.best_epoch_ == training.member_best_epoch_[best]


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


def test_restarts_of_one_model_stop_together_once_their_best_stalls():
    # Members 0 and 1 are restarts of one model (group 0), member 2 is a
    # model of its own. Member 1 keeps improving but stays behind member 0,
    # so group 0 stops when member 0 stalls; member 2 stops by itself.
    net = _net(n_members=3)
    net.initialize()
    training = MemberTraining(patience=2, groups=[0, 0, 1])
    training.on_train_begin(net)
    live = np.ones(3, bool)
    scripted = [
        [1.0, 3.0, 1.0],
        [0.5, 2.9, 0.9],
        [0.5, 2.8, 0.8],
        [0.5, 2.7, 0.7],  # group 0 has stalled for two epochs: it stops
        [0.5, 2.6, 0.7],
        [0.5, 2.5, 0.7],  # member 2 has stalled for two epochs
    ]
    finished = []
    for epoch, train in enumerate(scripted, start=1):
        training._monitor(net, {}, epoch, np.array(train), live)
        finished.append(training.finished_.tolist())
    assert finished[2] == [False, False, False]
    assert finished[3] == [True, True, False]
    assert finished[5] == [True, True, True]
    # One group per member (an ensemble): member 1 would go on improving.
    alone = MemberTraining(patience=2)
    alone.on_train_begin(net)
    for epoch, train in enumerate(scripted, start=1):
        alone._monitor(net, {}, epoch, np.array(train), live)
    assert alone.finished_.tolist() == [True, False, True]


class _StackSize(Callback):
    """Records how many networks the stack computes at each epoch's end."""

    def initialize(self):
        self.sizes = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.sizes.append(net.module_.n_active)


def _ensemble(**params):
    member = MDNRegressor(
        n_components=2,
        hidden_layer_sizes=(8,),
        max_epochs=150,
        patience=5,
        callbacks=[("stack_size", _StackSize())],
        **params,
    )
    # Stopped member by member (the default): each leaves the stack when it
    # stops.
    return MDNEnsembleRegressor(
        member, n_estimators=3, early_stopping="members", random_state=0
    )


@pytest.mark.parametrize("input_noise", [0.0, 0.1])
def test_finished_members_leave_the_stack_and_others_train_on_unchanged(
    sinusoid, monkeypatch, input_noise
):
    X, y = sinusoid
    ensemble = _ensemble(input_noise=input_noise).fit(X, y)
    net = ensemble.estimators_[0].net_
    # An ensemble keeps every member: nothing to race.
    assert dict(net.callbacks_)["mdn_training"].race_epoch is None
    sizes = dict(net.callbacks_)["stack_size"].sizes
    # Members stop at their own epochs (each has its own validation split)
    # and leave the stack as they do.
    assert sizes[0] == 3 and sizes == sorted(sizes, reverse=True)
    assert min(sizes) < 3
    # A member out of the stack is not evaluated.
    valid = np.array(net.history[:, "valid_loss_members"])
    assert np.isnan(valid[-1]).sum() == 3 - sizes[-2]
    assert np.isfinite(valid[0]).all()
    # The optimizer's state is every member's again after training.
    for group in net.optimizer_.param_groups:
        for p in group["params"]:
            assert net.optimizer_.state[p]["exp_avg"].shape == p.shape
    # Each member's batch order and noise are drawn for all members, so the
    # ones still training are the same as beside every other member.
    monkeypatch.setattr(MemberTraining, "_drop_finished", lambda self, net: None)
    beside_all = _ensemble(input_noise=input_noise).fit(X, y)
    assert dict(beside_all.estimators_[0].net_.callbacks_)["stack_size"].sizes == (
        [3] * len(sizes)
    )
    assert [m.n_iter_ for m in beside_all.estimators_] == [
        m.n_iter_ for m in ensemble.estimators_
    ]
    assert_allclose(
        beside_all.score_samples(X[:50], y[:50]),
        ensemble.score_samples(X[:50], y[:50]),
        rtol=1e-4,
        atol=1e-5,
    )


def test_restarts_significantly_behind_their_leader_are_finished():
    # Group 0 holds three restarts, group 1 two; the validation rows are
    # shared within a group, so differences pair up row by row.
    net = _net(n_members=5)
    net.initialize()
    training = MemberTraining(patience=5, groups=[0, 0, 0, 1, 1], race_epoch=10)
    training.on_train_begin(net)
    training.best_nll_ = np.array([1.0, 1.5, 1.02, 2.0, 2.01])
    rng = np.random.default_rng(0)
    base = rng.normal(-1.0, 1.0, size=400)
    noise = 0.3 * rng.normal(size=(5, 400))
    rows = np.stack(
        [
            base,  # the leader of group 0
            base - 0.5 + noise[1],  # clearly behind: finished
            base - 0.01 + noise[2],  # behind by less than the noise: trains on
            base + noise[3],
            base + noise[4],  # group 1: level
        ]
    )
    training._race_groups(rows)
    assert training.finished_.tolist() == [False, True, False, False, False]


def test_restarts_on_folds_of_their_own_are_raced_unpaired():
    # Three restarts of one group, each validated on 400 rows of its own
    # (restarts="crossfit"): the rows do not pair up, so the race compares
    # their means against the spread of the rows, not of row differences.
    net = _net(n_members=3)
    net.initialize()
    valid_index = torch.arange(1200).reshape(3, 400)
    training = MemberTraining(
        patience=5, groups=[0, 0, 0], race_epoch=10, valid_index=valid_index
    )
    training.on_train_begin(net)
    training.best_nll_ = np.array([1.0, 1.5, 1.05])
    rng = np.random.default_rng(0)
    base = rng.normal(-1.0, 1.0, size=400)
    rows = np.stack(
        [
            base,  # the leader
            rng.normal(-1.5, 1.0, size=400),  # behind by 10 standard errors
            # 0.05 behind, within the noise of 400 rows (0.07 apart): the
            # rows track the leader's, which unpaired rows say nothing of.
            base - 0.05 + 0.01 * rng.normal(size=400),
        ]
    )
    training._race_groups(rows)
    assert training.finished_.tolist() == [False, True, False]
    # The same rows shared by the restarts pair up, and the small gap is
    # significant: the rows' common part cancels in a difference.
    shared = MemberTraining(patience=5, groups=[0, 0, 0], race_epoch=10)
    shared.on_train_begin(net)
    shared.best_nll_ = training.best_nll_
    shared._race_groups(rows)
    assert shared.finished_.tolist() == [False, True, True]


@pytest.mark.parametrize("tolerance, finished", [(0.01, True), (0.0, False)])
def test_restarts_equal_to_their_leader_within_the_tolerance_are_finished(
    tolerance, finished
):
    # Many validation rows pin the difference down: 0.0005 +- 0.0005 nats,
    # not significantly behind but surely not 0.01 better.
    net = _net(n_members=2)
    net.initialize()
    training = MemberTraining(
        patience=5, groups=[0, 0], race_epoch=10, race_tolerance=tolerance
    )
    training.on_train_begin(net)
    training.best_nll_ = np.array([1.0, 1.0005])
    rng = np.random.default_rng(0)
    base = rng.normal(-1.0, 1.0, size=40_000)
    rows = np.stack([base, base - 0.0005 + 0.1 * rng.normal(size=base.size)])
    training._race_groups(rows)
    assert training.finished_.tolist() == [False, finished]


def test_restarts_are_raced_from_twice_the_patience(sinusoid):
    X, y = sinusoid
    mdn = MDNRegressor(
        n_components=2,
        hidden_layer_sizes=(8,),
        n_init=4,
        restarts="best",
        patience=4,
        max_epochs=40,
        callbacks=[("stack_size", _StackSize())],
        random_state=0,
    ).fit(X, y)
    training = dict(mdn.net_.callbacks_)["mdn_training"]
    assert training.race_epoch == 8
    sizes = dict(mdn.net_.callbacks_)["stack_size"].sizes
    assert sizes[0] == 4 and sizes == sorted(sizes, reverse=True)
    # The kept network is the best of all restarts, by validation NLL.
    assert mdn.best_validation_nll_ == pytest.approx(
        training.best_nll_.min() + np.log(mdn.y_scale_).sum()
    )
    # Without restarts there is nothing to race.
    single = MDNRegressor(
        n_components=2, hidden_layer_sizes=(8,), n_init=1, max_epochs=2
    )
    assert dict(single.fit(X, y).net_.callbacks_)["mdn_training"].race_epoch is None


def _train_pair(lean_cls, ref_cls, steps=12, **options):
    torch.manual_seed(0)
    ours = [torch.randn(5, 3, requires_grad=True), torch.randn(3, requires_grad=True)]
    theirs = [p.detach().clone().requires_grad_() for p in ours]
    a = lean_cls(ours, lr=1e-2, **options)
    b = ref_cls(theirs, lr=1e-2, **options)
    for i in range(steps):
        for optimizer, params in ((a, ours), (b, theirs)):
            optimizer.zero_grad()

            def closure(params=params):
                loss = params[0].sin().sum() + params[1].square().sum()
                loss.backward()
                return loss

            optimizer.step(closure)
            if i == steps // 2:
                # A plateau schedule changes the rate between steps.
                optimizer.param_groups[0]["lr"] = 5e-3
    return a, b, ours, theirs


@pytest.mark.parametrize(
    "lean_cls, ref_cls, options",
    [
        (LeanAdam, torch.optim.Adam, {"fused": True}),
        (LeanAdam, torch.optim.Adam, {"fused": True, "weight_decay": 0.01}),
        (LeanAdamW, torch.optim.AdamW, {"fused": True, "weight_decay": 0.01}),
        # Not the plain fused case: torch's own step.
        (LeanAdam, torch.optim.Adam, {"fused": True, "amsgrad": True}),
        (LeanAdam, torch.optim.Adam, {}),
    ],
)
def test_lean_fused_adam_steps_exactly_as_torch(lean_cls, ref_cls, options):
    a, b, ours, theirs = _train_pair(lean_cls, ref_cls, **options)
    for p, q in zip(ours, theirs):
        assert_array_equal(p.detach().numpy(), q.detach().numpy())
    assert a.state[ours[0]]["step"] == b.state[theirs[0]]["step"] == 12
    # The state is torch's: it loads into torch's optimizer.
    ref_cls(theirs, lr=1e-2, **options).load_state_dict(a.state_dict())
    a.zero_grad()
    assert all(p.grad is None for p in ours)


def test_lean_fused_adam_runs_step_hooks_and_skips_parameters_without_grad():
    p, frozen = torch.zeros(3, requires_grad=True), torch.ones(2, requires_grad=True)
    optimizer = LeanAdam([p, frozen], lr=0.1, fused=True)
    calls = []
    optimizer.register_step_pre_hook(lambda *args: calls.append("pre"))
    optimizer.register_step_post_hook(lambda *args: calls.append("post"))
    p.sum().backward()
    optimizer.step()
    assert calls == ["pre", "post"]
    assert frozen.tolist() == [1.0, 1.0] and p.tolist() != [0.0, 0.0, 0.0]


def test_a_default_fit_does_not_import_torch_dynamo():
    # torch.optim imports torch._dynamo (about 1.5 s) on a process's first
    # optimizer and step; the lean optimizers do not, so a first fit costs
    # what any later one does.
    code = (
        "import sys, numpy as np\n"
        "from skmdn import MDNRegressor\n"
        "X = np.linspace(-1, 1, 60).reshape(-1, 1)\n"
        "m = MDNRegressor(max_epochs=3, random_state=0).fit(X, X[:, 0] ** 2)\n"
        "m.predict(X)\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.split()[-1] == "False"


def test_build_net_takes_the_lean_step_for_adam_on_cpu():
    assert dict(_net(None).get_params())["optimizer"] is LeanAdam
    assert dict(_net(None, optimizer="adamw").get_params())["optimizer"] is LeanAdamW
    assert (
        dict(_net(None, optimizer="sgd").get_params())["optimizer"] is torch.optim.SGD
    )


class _NoOpGradHook(Callback):
    """A gradient hook that changes nothing: skorch's autograd step then."""

    def on_train_begin(self, net, **kwargs):
        p = next(net.module_.parameters())
        if not p._backward_hooks:
            p.register_hook(lambda grad: None)


@pytest.mark.parametrize("params", [{}, {"n_init": 3}, {"sample_weight": True}])
def test_steps_without_autograd_train_exactly_as_autograd(params):
    # The training step takes its gradients from the closed-form losses
    # directly (no graph); a parameter with a hook takes skorch's
    # loss.backward() step; both give the same model, bit for bit.
    params = dict(params)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 3))
    y = X[:, 0] + 0.3 * rng.normal(size=150)
    w = rng.uniform(0.5, 2.0, size=150) if params.pop("sample_weight", False) else None
    kwargs = dict(max_epochs=8, random_state=0, **params)
    direct = MDNRegressor(**kwargs).fit(X, y, sample_weight=w)
    hooked = MDNRegressor(callbacks=[_NoOpGradHook()], **kwargs)
    hooked.fit(X, y, sample_weight=w)
    assert_array_equal(direct.predict(X), hooked.predict(X))
    assert direct.best_epoch_ == hooked.best_epoch_


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"sample_weight": True},
        {"gradient_clip": 0.05},
        {"optimizer": "adamw", "weight_decay": 1e-2},
        {"optimizer": "sgd", "lr": 0.05},
        {"input_noise": 0.1},
        {"n_outputs": 2},
        {"n_init": 3},
        {"n_init": 2, "sample_weight": True, "gradient_clip": 0.05},
    ],
)
def test_direct_train_step_trains_exactly_as_skorchs_step(monkeypatch, params):
    # MDNNet.train_step makes skorch's calls directly for one network; with
    # it turned off, skorch's train_step (and its closure) runs instead:
    # the same model, bit for bit.
    from skmdn._skorch import MDNNet

    params = dict(params)
    rng = np.random.RandomState(1)
    X = rng.normal(size=(120, 3))
    y = X[:, 0] + 0.3 * rng.normal(size=120)
    if params.pop("n_outputs", 1) == 2:
        y = np.column_stack([y, X[:, 1] - y])
    w = rng.uniform(0.5, 2.0, size=120) if params.pop("sample_weight", False) else None
    kwargs = dict(max_epochs=6, random_state=0, **params)
    calls = []
    original = MDNNet._direct_train_step

    def counted(self, batch):
        step = original(self, batch)
        calls.append(step is not None)
        return step

    monkeypatch.setattr(MDNNet, "_direct_train_step", counted)
    direct = MDNRegressor(**kwargs).fit(X, y, sample_weight=w)
    assert calls and all(calls)
    monkeypatch.setattr(MDNNet, "_direct_train_step", lambda self, batch: None)
    skorchs = MDNRegressor(**kwargs).fit(X, y, sample_weight=w)
    assert_array_equal(direct.predict(X), skorchs.predict(X))
    assert direct.best_epoch_ == skorchs.best_epoch_


def test_direct_train_step_notifies_callbacks_and_respects_hooks():
    # on_grad_computed sees the gradients of every step, and can change
    # them; a forward hook on the network runs (skorch's step then).
    seen, forwards = [], []

    class HalveGradients(Callback):
        def on_grad_computed(self, net, named_parameters, training=False, **kw):
            params = list(named_parameters)
            seen.append(all(p.grad is not None for _, p in params))
            for _, p in params:
                p.grad.mul_(0.5)

    class ForwardHook(Callback):
        def on_train_begin(self, net, **kwargs):
            net.module_.register_forward_hook(lambda *args: forwards.append(1))

    X = np.linspace(-1, 1, 64).reshape(-1, 1)
    kwargs = dict(max_epochs=3, batch_size=32, early_stopping=False, random_state=0)
    halved = MDNRegressor(callbacks=[HalveGradients()], **kwargs).fit(X, X[:, 0])
    assert seen == [True] * 6
    plain = MDNRegressor(**kwargs).fit(X, X[:, 0])
    assert not np.array_equal(halved.predict(X), plain.predict(X))
    hooked = MDNRegressor(callbacks=[ForwardHook()], **kwargs).fit(X, X[:, 0])
    assert len(forwards) == 6
    assert_array_equal(hooked.predict(X), plain.predict(X))


def test_direct_train_step_leaves_overridden_steps_and_closures_to_skorch():
    # A subclass overriding get_loss, and an optimizer that needs its
    # closure (LBFGS), get skorch's own train_step.
    losses = []

    class LoggedLoss(MDNNet):
        def get_loss(self, y_pred, y_true, X=None, training=False):
            loss = super().get_loss(y_pred, y_true, X=X, training=training)
            losses.append(training)
            return loss

    net = _net(None, max_epochs=2, batch_size=4, early_stopping=False)
    net.__class__ = LoggedLoss
    net.initialize()
    net.partial_fit(_scaled_dataset(), None)
    assert losses == [True] * 6

    net = _net(None, max_epochs=2, batch_size=4, early_stopping=False)
    for key in [k for k in vars(net) if k.startswith("optimizer__")]:
        delattr(net, key)
    net.set_params(optimizer=torch.optim.LBFGS, optimizer__max_iter=2)
    net.initialize()
    assert (
        net._direct_train_step(next(iter(net.get_iterator(_scaled_dataset(), True))))
        is None
    )
    net.partial_fit(_scaled_dataset(), None)
    assert np.isfinite(net.history[-1, "train_loss"])


def test_a_gradient_hook_runs_in_every_step():
    calls = []

    class Hook(Callback):
        def on_train_begin(self, net, **kwargs):
            next(net.module_.parameters()).register_hook(lambda grad: calls.append(1))

    X = np.linspace(-1, 1, 64).reshape(-1, 1)
    MDNRegressor(
        max_epochs=2, batch_size=32, early_stopping=False, callbacks=[Hook()]
    ).fit(X, X[:, 0])
    assert len(calls) == 4


@pytest.mark.parametrize("weights", [False, True])
def test_batches_gathered_in_chunks_equal_per_batch_gathers(monkeypatch, weights):
    import skmdn._skorch as skorch_layer

    ds = _dataset(11, weights=weights)
    index = torch.tensor([[0, 2, 3, 5, 6, 7, 9, 10]])

    def batches():
        it = TensorBatchIterator(
            ds, 3, index=index, shuffle=True, generator=seeded_generator(5)
        )
        return list(it)

    once = batches()
    # Chunks of one batch: a gather per batch.
    monkeypatch.setattr(skorch_layer, "CHUNK_ROWS", 1)
    gathered = batches()
    assert len(once) == len(gathered) == 3
    for (X, t), (X2, t2) in zip(once, gathered):
        assert_array_equal(X, X2)
        for a, b in zip(t if weights else (t,), t2 if weights else (t2,)):
            assert_array_equal(a, b)
