"""Where one training step of MixtureDensityNetwork goes, phase by phase.

Times zero_grad, the module's forward, the loss, the backward pass and the
fused Adam step of one batch (default 32 rows of the inverted sinusoid,
standardized), in one process and one thread, and prints the best of the
repeats per phase. Two losses are compared on the same module: the
``MixtureNLLLoss`` criterion, and the NLL written out as
``-mixture_log_prob(...).mean()`` for autograd to differentiate op by op.
``--table`` adds the torch.profiler table of the operators of 200 steps.

Usage::

    python benchmarks/profile_step.py [--batch 32] [--hidden 20] [--table]
"""

from __future__ import annotations

import argparse
import time

import torch

from skmdn import MixtureDensityNetwork, MixtureNLLLoss, mixture_log_prob
from skmdn.datasets import make_inverted_sinusoid

PHASES = ("zero_grad", "forward", "loss", "backward", "optimizer")


def autograd_nll(output, y):
    return -mixture_log_prob(output, y).mean()


def phase_times(module, loss_fn, optimizer, X, y, steps):
    """Total seconds per phase over ``steps`` steps."""
    totals = dict.fromkeys(PHASES, 0.0)
    clock = time.perf_counter
    for _ in range(steps):
        t0 = clock()
        optimizer.zero_grad()
        t1 = clock()
        out = module(X)
        t2 = clock()
        loss = loss_fn(out, y)
        t3 = clock()
        loss.backward()
        t4 = clock()
        optimizer.step()
        t5 = clock()
        totals["zero_grad"] += t1 - t0
        totals["forward"] += t2 - t1
        totals["loss"] += t3 - t2
        totals["backward"] += t4 - t3
        totals["optimizer"] += t5 - t4
    return totals


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument(
        "--hidden", default="20", help="hidden layer sizes, comma-separated"
    )
    parser.add_argument("--components", type=int, default=5)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--table", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    hidden = tuple(int(h) for h in args.hidden.split(",") if h)

    X, y = make_inverted_sinusoid(1000, random_state=0)
    X = torch.as_tensor((X - X.mean(0)) / X.std(0), dtype=torch.float32)
    y = torch.as_tensor((y - y.mean()) / y.std(), dtype=torch.float32)
    X, y = X[: args.batch], y[: args.batch]
    losses = {"MixtureNLLLoss": MixtureNLLLoss(), "autograd NLL": autograd_nll}
    setups = {}
    for name, loss_fn in losses.items():
        torch.manual_seed(0)
        module = MixtureDensityNetwork(
            1, n_components=args.components, hidden_layer_sizes=hidden
        )
        optimizer = torch.optim.Adam(module.parameters(), lr=1e-3, fused=True)
        setups[name] = (module, loss_fn, optimizer)
        phase_times(module, loss_fn, optimizer, X, y, 50)  # warm-up

    best = {name: dict.fromkeys(PHASES, float("inf")) for name in setups}
    for _ in range(args.repeats):
        for name, setup in setups.items():
            totals = phase_times(*setup, X, y, args.steps)
            for phase, t in totals.items():
                best[name][phase] = min(best[name][phase], t / args.steps)

    print(
        f"torch {torch.__version__}, 1 thread, batch {args.batch}, hidden {hidden}, "
        f"{args.components} components; best of {args.repeats} x {args.steps} "
        "steps, microseconds per step"
    )
    names = list(setups)
    print(f"{'phase':<10}" + "".join(f"{n:>16}" for n in names) + f"{'ratio':>8}")
    for phase in (*PHASES, "total"):
        values = [
            sum(best[n].values()) if phase == "total" else best[n][phase] for n in names
        ]
        ratio = values[0] / values[1]
        print(
            f"{phase:<10}"
            + "".join(f"{1e6 * v:16.1f}" for v in values)
            + f"{ratio:8.3f}"
        )

    if args.table:
        from torch.profiler import ProfilerActivity, profile

        for name, setup in setups.items():
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                phase_times(*setup, X, y, 200)
            print(f"\n{name}: operators over 200 steps")
            print(
                prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25)
            )


if __name__ == "__main__":
    main()
