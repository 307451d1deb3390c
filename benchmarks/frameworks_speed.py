"""fastloss inside PyTorch, JAX and Keras: the loss alone, a training step, overhead.

Usage: python -P benchmarks/frameworks_speed.py [--threads N] [--rounds R] [--quick]

Prints a Markdown table. Every row times fastloss and the framework's built-in loss
in one process, on the same data, in interleaved rounds (median of the rounds),
with the same number of threads for both (torch.set_num_threads and fl.threads):

- PyTorch, cross-entropy from logits with integer labels, 4096 rows x 32,000
  classes float32 (a language-model head): forward + backward of the loss alone
  (F.cross_entropy against fastloss.torch.apply(SparseCategoricalCrossEntropy)),
  and a whole training step (a Linear(64, 32000) head on 4096 hidden states: forward,
  loss, backward, SGD step);
- PyTorch, binary cross-entropy from logits, 10^7 float32 elements: the loss alone
  (F.binary_cross_entropy_with_logits) and a training step (Linear(100, 100) on 10^5
  rows);
- per-call overhead at 100 elements (MSE forward + backward) in PyTorch (eager), in
  JAX (a jitted value_and_grad) and in Keras (the loss called eagerly on each backend,
  measured in subprocesses, since Keras picks its backend at import).

--quick shrinks the workloads (for a smoke run); the table's figures use the default.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

import fastloss as fl


def timed(fn, rounds, inner=1):
    """Seconds per call of fn, one median per round."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - start) / inner)
    return times


def interleaved(fns, rounds, inner=1):
    """Median seconds per call of each function, rounds interleaved."""
    samples = {name: [] for name in fns}
    for fn in fns.values():  # warm-up
        fn()
    for _ in range(rounds):
        for name, fn in fns.items():
            samples[name].extend(timed(fn, 1, inner))
    return {name: statistics.median(values) for name, values in samples.items()}


def fmt(seconds):
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.1f} µs"


# ---- PyTorch ----------------------------------------------------------------------------

def torch_rows(args):
    import torch
    import torch.nn.functional as F

    import fastloss.torch as flt

    torch.manual_seed(0)
    rows = []
    n, classes, hidden = (512, 4000, 64) if args.quick else (4096, 32000, 64)
    logits = torch.randn(n, classes)
    labels = torch.randint(0, classes, (n,))
    sce = flt.Module(fl.SparseCategoricalCrossEntropy(from_logits=True))

    def loss_alone(criterion):
        def run():
            x = logits.detach().requires_grad_(True)
            criterion(x, labels).backward()
        return run

    t = interleaved({"builtin": loss_alone(F.cross_entropy), "fastloss": loss_alone(sce)},
                    args.rounds)
    rows.append((f"cross-entropy, {n} x {classes} f32, loss forward + backward",
                 t["builtin"], t["fastloss"]))

    states = torch.randn(n, hidden)

    def head_step(criterion):
        torch.manual_seed(1)
        head = torch.nn.Linear(hidden, classes)
        opt = torch.optim.SGD(head.parameters(), lr=0.01)

        def run():
            opt.zero_grad()
            criterion(head(states), labels).backward()
            opt.step()
        return run

    t = interleaved({"builtin": head_step(F.cross_entropy), "fastloss": head_step(sce)},
                    args.rounds)
    rows.append((f"cross-entropy, training step (Linear({hidden}, {classes}) head, {n} rows)",
                 t["builtin"], t["fastloss"]))

    size = 10**5 if args.quick else 10**7
    z = torch.randn(size)
    y = (torch.rand(size) < 0.3).float()
    bce = flt.Module(fl.BinaryCrossEntropy(from_logits=True))

    def bce_alone(criterion):
        def run():
            x = z.detach().requires_grad_(True)
            criterion(x, y).backward()
        return run

    t = interleaved({"builtin": bce_alone(F.binary_cross_entropy_with_logits),
                     "fastloss": bce_alone(bce)}, args.rounds)
    rows.append((f"BCE with logits, {size:.0e} f32, loss forward + backward",
                 t["builtin"], t["fastloss"]))

    features = torch.randn(size // 100, 100)
    targets = y.reshape(size // 100, 100)

    def bce_step(criterion):
        torch.manual_seed(1)
        layer = torch.nn.Linear(100, 100)
        opt = torch.optim.SGD(layer.parameters(), lr=0.01)

        def run():
            opt.zero_grad()
            criterion(layer(features), targets).backward()
            opt.step()
        return run

    t = interleaved({"builtin": bce_step(F.binary_cross_entropy_with_logits),
                     "fastloss": bce_step(bce)}, args.rounds)
    rows.append((f"BCE with logits, training step (Linear(100, 100), {size // 100} rows)",
                 t["builtin"], t["fastloss"]))

    p100, y100 = torch.randn(100), torch.randn(100)
    mse = flt.Module(fl.MeanSquaredError())

    def small(criterion):
        def run():
            x = p100.detach().requires_grad_(True)
            criterion(x, y100).backward()
        return run

    t = interleaved({"builtin": small(F.mse_loss), "fastloss": small(mse)},
                    args.rounds, inner=2000)

    def forward_only(criterion):
        def run():
            criterion(p100, y100)
        return run

    f = interleaved({"builtin": forward_only(F.mse_loss), "fastloss": forward_only(mse)},
                    args.rounds, inner=2000)
    overhead = [
        ("PyTorch, MSE n=100 f32, forward + backward", t["builtin"], t["fastloss"]),
        ("PyTorch, MSE n=100 f32, forward (no grad needed)", f["builtin"], f["fastloss"]),
    ]
    return rows, overhead


# ---- JAX ----------------------------------------------------------------------------------

def jax_overhead(args):
    import jax
    import jax.numpy as jnp
    import optax

    import fastloss.jax as flj

    p = jnp.asarray(np.random.default_rng(0).normal(size=100), dtype=jnp.float32)
    y = jnp.zeros(100, dtype=jnp.float32)
    ours = flj.function(fl.MeanSquaredError())
    ours_vg = jax.jit(jax.value_and_grad(lambda p: ours(y, p)))
    theirs_vg = jax.jit(jax.value_and_grad(lambda p: optax.squared_error(p, y).mean()))

    def run(fn):
        def call():
            jax.block_until_ready(fn(p))
        return call

    t = interleaved({"builtin": run(theirs_vg), "fastloss": run(ours_vg)}, args.rounds,
                    inner=500)
    return [("JAX, MSE n=100 f32, jit(value_and_grad)", t["builtin"], t["fastloss"])]


# ---- Keras (one subprocess per backend) -----------------------------------------------------

KERAS_CODE = r"""
import json, statistics, time, sys
import numpy as np, keras
import fastloss as fl, fastloss.keras as flk
y = np.zeros(100, np.float32)
p = keras.ops.convert_to_tensor(np.random.default_rng(0).normal(size=100).astype(np.float32))
y = keras.ops.convert_to_tensor(y)
ours, theirs = flk.Loss(fl.MeanSquaredError()), keras.losses.MeanSquaredError()
res = {"builtin": [], "fastloss": []}
for fn in (ours, theirs):
    fn(y, p)
for _ in range(int(sys.argv[1])):
    for name, fn in (("builtin", theirs), ("fastloss", ours)):
        start = time.perf_counter()
        for _ in range(300):
            fn(y, p)
        res[name].append((time.perf_counter() - start) / 300)
print(json.dumps({k: statistics.median(v) for k, v in res.items()}))
"""


def keras_overhead(args):
    rows = []
    for backend in ("torch", "jax"):
        env = {**os.environ, "KERAS_BACKEND": backend}
        proc = subprocess.run([sys.executable, "-P", "-c", KERAS_CODE, str(args.rounds)],
                              env=env, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            rows.append((f"Keras ({backend}): failed: {proc.stderr[-300:]}", float("nan"),
                         float("nan")))
            continue
        t = json.loads(proc.stdout.strip().splitlines()[-1])
        rows.append((f"Keras ({backend} backend), MSE n=100 f32, eager loss call",
                     t["builtin"], t["fastloss"]))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    fl.set_num_threads(args.threads)
    rows, overhead = torch_rows(args)
    overhead += jax_overhead(args)
    overhead += keras_overhead(args)

    print(f"{args.threads} threads for fastloss and the framework; medians of "
          f"{args.rounds} interleaved rounds.\n")
    print("| workload | built-in | fastloss | speed-up |")
    print("|---|---:|---:|---:|")
    for name, builtin, ours in rows:
        print(f"| {name} | {fmt(builtin)} | {fmt(ours)} | {builtin / ours:.2f}x |")
    print("\n| per-call overhead | built-in | fastloss | fastloss - built-in |")
    print("|---|---:|---:|---:|")
    for name, builtin, ours in overhead:
        print(f"| {name} | {fmt(builtin)} | {fmt(ours)} | {fmt(ours - builtin)} |")


if __name__ == "__main__":
    main()
