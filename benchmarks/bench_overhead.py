"""Training overhead of MDNRegressor against a hand-written PyTorch loop.

Both train the seed configuration on the inverted sinusoid (1000 rows): one
hidden layer of 20 tanh units, 5 components, Adam with lr 1e-3, full batch,
8000 epochs, no validation split and no early stopping. They run in the same
process, alternating, and the script prints the ratio of wall times.

Two references are timed: the plain loop (``torch.optim.Adam`` with its
defaults), and the same loop with ``fused=True`` (the fastest hand-written
loop; MDNRegressor uses the fused step on CPU).

Usage::

    python benchmarks/bench_overhead.py [--epochs 8000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

from skmdn import MDNRegressor, MixtureDensityNetwork, MixtureNLLLoss
from skmdn.datasets import make_inverted_sinusoid

SEED_PARAMS = dict(
    n_components=5,
    hidden_layer_sizes=(20,),
    activation="tanh",
    lr=1e-3,
    batch_size=None,
    early_stopping=False,
    lr_schedule=None,
)


def hand_written_loop(X, y, epochs, fused):
    """The seed's training loop in plain PyTorch, standardization included."""
    X = (X - X.mean(0)) / X.std(0)
    y = (y - y.mean()) / y.std()
    X = torch.as_tensor(X, dtype=torch.float32)
    y = torch.as_tensor(y, dtype=torch.float32)
    torch.manual_seed(0)
    module = MixtureDensityNetwork(1, 1, n_components=5, hidden_layer_sizes=(20,))
    criterion = MixtureNLLLoss()
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3, fused=fused)
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = criterion(module(X), y)
        loss.backward()
        optimizer.step()
    return loss.item()


def skmdn_fit(X, y, epochs, threads):
    mdn = MDNRegressor(
        **SEED_PARAMS, max_epochs=epochs, num_threads=threads, random_state=0
    ).fit(X, y)
    return mdn.net_.history[-1, "train_loss"]


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, default=1, help="PyTorch threads for both (default 1)"
    )
    args = parser.parse_args(argv)
    # The hand-written loop runs with the thread count MDNRegressor uses.
    torch.set_num_threads(args.threads)

    X, y = make_inverted_sinusoid(1000, random_state=0)
    # Warm-up: first calls pay for lazy initialization in torch.
    skmdn_fit(X, y, 20, args.threads)
    hand_written_loop(X, y, 20, fused=False)

    times = {"MDNRegressor": [], "loop (Adam)": [], "loop (Adam fused)": []}
    for _ in range(args.repeats):
        t, loss_mdn = timed(skmdn_fit, X, y, args.epochs, args.threads)
        times["MDNRegressor"].append(t)
        t, loss_plain = timed(hand_written_loop, X, y, args.epochs, False)
        times["loop (Adam)"].append(t)
        t, _ = timed(hand_written_loop, X, y, args.epochs, True)
        times["loop (Adam fused)"].append(t)

    best = {k: min(v) for k, v in times.items()}
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
        f"{platform.processor() or platform.machine()}"
    )
    print(
        f"seed configuration, {args.epochs} full-batch epochs, best of {args.repeats}"
    )
    print(f"{'implementation':<20} {'seconds':>8} {'per epoch (us)':>15}")
    for name, t in best.items():
        print(f"{name:<20} {t:8.2f} {1e6 * t / args.epochs:15.0f}")
    print(f"final train NLL: MDNRegressor {loss_mdn:.4f}, loop {loss_plain:.4f}")
    ratio_plain = best["MDNRegressor"] / best["loop (Adam)"]
    ratio_fused = best["MDNRegressor"] / best["loop (Adam fused)"]
    per_repeat = np.array(times["MDNRegressor"]) / np.array(times["loop (Adam)"])
    print(
        f"ratio MDNRegressor / hand-written loop (Adam):       {ratio_plain:.3f}"
        f"  (per repeat: {', '.join(f'{r:.3f}' for r in per_repeat)})"
    )
    print(f"ratio MDNRegressor / hand-written loop (Adam fused): {ratio_fused:.3f}")
    return ratio_plain


if __name__ == "__main__":
    main()
