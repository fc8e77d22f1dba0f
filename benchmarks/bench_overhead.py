"""Training overhead of MDNRegressor against a hand-written PyTorch loop.

Both train the seed network on the inverted sinusoid (1000 rows): one hidden
layer of 20 tanh units, 5 components, Adam with lr 1e-3, no validation split
and no early stopping, in two configurations:

- ``full-batch``: 8000 epochs of one batch of 1000 rows (the seed's loop);
- ``batch-32``: 300 epochs of shuffled batches of 32 rows (32 steps per
  epoch, the last one of 8 rows), MDNRegressor's default batch size. The
  loop draws a permutation each epoch and takes index slices of it, as
  MDNRegressor's batch iterator does.

They run in the same process, alternating, and the script prints the
microseconds per step and the ratio of wall times (best of the repeats).

Three references are timed: the plain loop (``torch.optim.Adam`` with its
defaults, and ``MixtureNLLLoss`` as the criterion), the same loop with
``fused=True`` (MDNRegressor uses the fused step on CPU), and the plain loop
with the loss written out as ``-mixture_log_prob(...).mean()``, which
autograd differentiates op by op (what one writes without ``MixtureNLLLoss``).

The last loss printed is the mean of MDNRegressor's last epoch and the
loss of the loops' last batch (at batch 32, a batch of 8 rows): a check that
all of them train, not a comparison.

The script also prints an estimate of the floating-point operations of one
step (forward and backward of the MLP and the loss, and the Adam update) and
the rate the fastest loop achieves, to show how far a step of this small
network is from being compute-bound.

Usage::

    python benchmarks/bench_overhead.py [--configs full-batch,batch-32]
        [--repeats 3] [--epochs-full 8000] [--epochs-batch 300]
"""

from __future__ import annotations

import argparse
import math
import platform
import time

import numpy as np
import torch

from skmdn import (
    MDNRegressor,
    MixtureDensityNetwork,
    MixtureNLLLoss,
    mixture_log_prob,
)
from skmdn.datasets import make_inverted_sinusoid

N_ROWS = 1000
N_COMPONENTS = 5
HIDDEN = (20,)

SEED_PARAMS = dict(
    n_components=N_COMPONENTS,
    hidden_layer_sizes=HIDDEN,
    activation="tanh",
    lr=1e-3,
    early_stopping=False,
    lr_schedule=None,
    # The loops train one network (n_init="auto" would train three here).
    n_init=1,
    # The loops take raw steps: weight averaging (on by default) is work
    # they do not do.
    average_steps=None,
)


def autograd_nll(output, y):
    """The mean NLL written out, for autograd to differentiate op by op."""
    return -mixture_log_prob(output, y).mean()


def hand_written_loop(X, y, epochs, batch_size, fused, criterion="module"):
    """The seed's training loop in plain PyTorch, standardization included."""
    X = (X - X.mean(0)) / X.std(0)
    y = (y - y.mean()) / y.std()
    X = torch.as_tensor(X, dtype=torch.float32)
    y = torch.as_tensor(y, dtype=torch.float32)
    torch.manual_seed(0)
    module = MixtureDensityNetwork(
        1, 1, n_components=N_COMPONENTS, hidden_layer_sizes=HIDDEN
    )
    loss_fn = MixtureNLLLoss() if criterion == "module" else autograd_nll
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3, fused=fused)
    n = len(X)
    if batch_size is None or batch_size >= n:
        for _ in range(epochs):
            optimizer.zero_grad()
            loss = loss_fn(module(X), y)
            loss.backward()
            optimizer.step()
        return loss.item()
    generator = torch.Generator().manual_seed(1)
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            index = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(module(X[index]), y[index])
            loss.backward()
            optimizer.step()
    return loss.item()


def skmdn_fit(X, y, epochs, batch_size, threads):
    mdn = MDNRegressor(
        **SEED_PARAMS,
        batch_size=batch_size,
        max_epochs=epochs,
        num_threads=threads,
        random_state=0,
    ).fit(X, y)
    return mdn.net_.history[-1, "train_loss"]


def step_flops(batch, n_in, hidden, n_components, n_outputs=1):
    """Estimated floating-point operations of one training step.

    Counts 2 per multiply-add of the matrix products (forward; backward: the
    weight gradients of every layer and the input gradients of all but the
    first), one per element and elementwise operation (activation and its
    derivative, bias gradients), about 40 per mixture component and output
    for the head activations and the loss with their gradients, and 12 per
    parameter for the Adam update. An estimate of the arithmetic, not of
    memory traffic.
    """
    k, d = n_components, n_outputs
    widths = [n_in, *hidden, k * (1 + 2 * d)]
    pairs = list(zip(widths[:-1], widths[1:]))
    macs = sum(a * b for a, b in pairs)
    matmul = 2 * batch * macs  # forward
    matmul += 2 * batch * macs  # weight gradients
    matmul += 2 * batch * sum(a * b for a, b in pairs[1:])  # input gradients
    elementwise = batch * (3 * sum(hidden) + sum(widths[1:]))
    loss = 40 * batch * k * d
    n_params = sum(a * b + b for a, b in pairs)
    return matmul + elementwise + loss + 12 * n_params


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


CONFIGS = {"full-batch": None, "batch-32": 32}


def run_config(name, X, y, epochs, repeats, threads):
    batch_size = CONFIGS[name]
    steps_per_epoch = 1 if batch_size is None else math.ceil(N_ROWS / batch_size)
    steps = epochs * steps_per_epoch
    impls = {
        "MDNRegressor": lambda: skmdn_fit(X, y, epochs, batch_size, threads),
        "loop (Adam)": lambda: hand_written_loop(X, y, epochs, batch_size, False),
        "loop (Adam fused)": lambda: hand_written_loop(X, y, epochs, batch_size, True),
        "loop (autograd NLL)": lambda: hand_written_loop(
            X, y, epochs, batch_size, False, criterion="autograd"
        ),
    }
    times = {key: [] for key in impls}
    losses = {}
    for _ in range(repeats):
        for key, fn in impls.items():
            t, losses[key] = timed(fn)
            times[key].append(t)
    best = {key: min(v) for key, v in times.items()}

    rows = N_ROWS if batch_size is None else batch_size
    flops = step_flops(rows, 1, HIDDEN, N_COMPONENTS)
    print(
        f"\n[{name}] {epochs} epochs x {steps_per_epoch} steps "
        f"(batch {rows}), best of {repeats}"
    )
    print(
        f"estimated FLOPs per step (batch {rows}): {flops / 1e3:.0f} k "
        "(MLP and loss forward and backward, Adam update)"
    )
    print(
        f"{'implementation':<22} {'seconds':>8} {'per step (us)':>14} "
        f"{'GFLOP/s':>8} {'last loss':>10}"
    )
    for key, t in best.items():
        per_step = t / steps
        print(
            f"{key:<22} {t:8.2f} {1e6 * per_step:14.1f} "
            f"{flops / per_step / 1e9:8.2f} {losses[key]:10.4f}"
        )
    ratios = {}
    for ref in ("loop (Adam)", "loop (Adam fused)", "loop (autograd NLL)"):
        ratios[ref] = best["MDNRegressor"] / best[ref]
        per_repeat = np.array(times["MDNRegressor"]) / np.array(times[ref])
        print(
            f"ratio MDNRegressor / {ref:<20} {ratios[ref]:.3f}"
            f"  (per repeat: {', '.join(f'{r:.3f}' for r in per_repeat)})"
        )
    return ratios


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="full-batch,batch-32")
    parser.add_argument("--epochs-full", type=int, default=8000)
    parser.add_argument("--epochs-batch", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, default=1, help="PyTorch threads for both (default 1)"
    )
    args = parser.parse_args(argv)
    configs = args.configs.split(",")
    unknown = set(configs) - set(CONFIGS)
    if unknown:
        parser.error(f"unknown configs {sorted(unknown)}; choose from {list(CONFIGS)}")
    # The hand-written loop runs with the thread count MDNRegressor uses.
    torch.set_num_threads(args.threads)

    X, y = make_inverted_sinusoid(N_ROWS, random_state=0)
    # Warm-up: first calls pay for lazy initialization in torch.
    skmdn_fit(X, y, 2, 32, args.threads)
    hand_written_loop(X, y, 2, 32, False)
    hand_written_loop(X, y, 2, 32, False, criterion="autograd")

    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
        f"{platform.processor() or platform.machine()}"
    )
    epochs = {"full-batch": args.epochs_full, "batch-32": args.epochs_batch}
    results = {}
    for name in configs:
        results[name] = run_config(name, X, y, epochs[name], args.repeats, args.threads)
    return results


if __name__ == "__main__":
    main()
