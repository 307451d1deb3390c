"""The value-only, large-row and small-row paths against the machine's limit.

Usage: python -P benchmarks/limits_table.py [--threads N] [--rounds R] [--json]

Each row times, in one process and in interleaved rounds (medians), a fastloss call,
its peers (its own value_and_gradient for a value-only call; PyTorch, scikit-learn
where installed, with the same number of threads) and the bandwidth probe
(fastloss._kernels.common.memory_probe): the time to read the call's inputs once
and, for a call that writes a gradient, to read the predictions and write as many
bytes; and the compute probe: the elementary function the loss takes of every
element (exp_nonpos, the exp of z - max, for softmax; log(1 + e^z) for BCE),
vectorized as the kernels do, on one thread divided by the thread count.
`limit / fastloss` is the larger probe over the fastloss time: the fraction of the
machine's limit the call reaches (1.0: as fast as the memory streams its bytes or the
cores take the exps, whichever is slower).

Workloads: sparse cross-entropy from logits, value, 10^5 x 100 float32; binary
cross-entropy from logits, value, 10^7 float64; sparse cross-entropy from logits on a
language-model head, 4096 x 32000 float32, value and value_and_gradient; sparse
cross-entropy value_and_gradient, 10^5 x 10 float64 (against scikit-learn's
HalfMultinomialLoss.loss_gradient, per-row loss and gradient).
"""

import argparse
import json
import sys

import numpy as np

import fastloss as fl
from fastloss._cli.bench import compare, format_seconds, import_torch, metadata, torch_threads
from fastloss._kernels import dispatch
from fastloss._kernels.common import memory_probe

#: The compute probe's candidate: the elementary function of every element, on one
#: thread, divided by the thread count (a perfect split).
COMPUTE = "compute"


def read_probe(*arrays):
    threads = fl.get_num_threads()
    return lambda: memory_probe(list(arrays), n_threads=threads)


def read_write_probe(source):
    threads = fl.get_num_threads()
    destination = np.empty_like(source)
    return lambda: memory_probe([source], destination, n_threads=threads)


#: Elements per call of the compute probe: input and output fit the L2 cache, so the
#: probe times the arithmetic, not the memory (over a whole 512 MiB array a helper on
#: one thread is bound by that thread's bandwidth).
PROBE_BLOCK = 2**16


def compute_probe(helper, x):
    """The vectorized helper (fastloss._kernels.vmath, the active kernel set) applied as
    many times as x has elements, on one thread, to a block of x that stays in the
    cache: the time divided by the threads is the workload's compute floor (sparse
    cross-entropy takes an exp of every logit, of an argument <= 0; BCE from logits a
    log(1 + e^z) of every logit)."""
    vmath = dispatch.load("vmath_check").vmath
    block = np.ascontiguousarray(x.reshape(-1)[:PROBE_BLOCK])
    out = np.empty_like(block)
    calls = -(-x.size // block.size)

    def probe():
        for _ in range(calls):
            vmath(helper, block, out)
    return probe


def torch_ce(torch, labels, logits, backward):
    """torch F.cross_entropy, forward (no_grad) or forward + backward."""
    F = torch.nn.functional
    tlogits, tlabels = torch.from_numpy(logits), torch.from_numpy(labels)
    if not backward:
        def forward():
            with torch.no_grad():
                return F.cross_entropy(tlogits, tlabels).item()
        return forward

    def forward_backward():
        x = tlogits.detach().requires_grad_()
        loss = F.cross_entropy(x, tlabels)
        loss.backward()
        return loss.item(), x.grad
    return forward_backward


def sklearn_loss_gradient(labels, logits):
    try:
        from sklearn._loss.loss import HalfMultinomialLoss
    except ImportError:
        return None
    loss = HalfMultinomialLoss(n_classes=logits.shape[1])
    float_labels = labels.astype(logits.dtype)
    out = np.empty(len(labels), logits.dtype), np.empty_like(logits)
    threads = fl.get_num_threads()
    return lambda: loss.loss_gradient(float_labels, logits, loss_out=out[0],
                                      gradient_out=out[1], n_threads=threads)


def sce_row(torch, labels, logits, mode):
    """Sparse cross-entropy from logits, `mode` value or value_and_gradient."""
    sce = fl.SparseCategoricalCrossEntropy(from_logits=True)
    if mode == "value":
        cands = {"fastloss": lambda: sce(labels, logits),
                 "its value_and_gradient": lambda: sce.value_and_gradient(labels, logits),
                 "read once": read_probe(labels, logits)}
    else:
        cands = {"fastloss": lambda: sce.value_and_gradient(labels, logits),
                 "read + write": read_write_probe(logits)}
    cands[COMPUTE] = compute_probe("exp_nonpos", logits)
    if torch is not None:
        cands["torch"] = torch_ce(torch, labels, logits, mode != "value")
    return cands


def workloads(torch, rng):
    """(name, size, dtype, {candidate: callable}, the limit's candidate)."""
    def classes(n, c, dtype):
        return rng.integers(0, c, n), rng.standard_normal((n, c)).astype(dtype)

    table = [("sparse CE value", "10^5 x 100", "float32",
              sce_row(torch, *classes(10**5, 100, np.float32), "value"), "read once")]

    bce = fl.BinaryCrossEntropy(from_logits=True)
    z = 3 * rng.standard_normal(10**7)
    y = (rng.random(10**7) < 0.5).astype(np.float64)
    table.append(("BCE from logits value", "10^7", "float64",
                  {"fastloss": lambda: bce(y, z),
                   "its value_and_gradient": lambda: bce.value_and_gradient(y, z),
                   "read once": read_probe(y, z), COMPUTE: compute_probe("log1pexp", z)},
                  "read once"))

    head = classes(4096, 32000, np.float32)
    table.append(("sparse CE value", "4096 x 32000", "float32",
                  sce_row(torch, *head, "value"), "read once"))
    table.append(("sparse CE value_and_gradient", "4096 x 32000", "float32",
                  sce_row(torch, *head, "value_and_gradient"), "read + write"))

    labels, logits = classes(10**5, 10, np.float64)
    per_row = fl.SparseCategoricalCrossEntropy(from_logits=True, reduction="none")
    cands = {"fastloss": lambda: per_row.value_and_gradient(labels, logits),
             "read + write": read_write_probe(logits),
             COMPUTE: compute_probe("exp_nonpos", logits)}
    sklearn = sklearn_loss_gradient(labels, logits)
    if sklearn is not None:
        cands["scikit-learn"] = sklearn
    table.append(("sparse CE value_and_gradient (per row)", "10^5 x 10", "float64", cands,
                  "read + write"))
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for fastloss and its peers (default: fastloss's)")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.threads is not None:
        fl.set_num_threads(args.threads)
    threads = fl.get_num_threads()
    torch = import_torch()
    results = []
    with torch_threads(torch, threads):
        for name, size, dtype, cands, limit in workloads(torch, np.random.default_rng(0)):
            times = compare(cands, rounds=args.rounds, target=0.1)
            times[COMPUTE] /= threads
            floor = max(times[limit], times[COMPUTE])
            results.append({"workload": name, "size": size, "dtype": dtype, "limit": limit,
                            "times": times, "fraction_of_limit": floor / times["fastloss"]})
    if args.json:
        json.dump({"threads": threads, "machine": metadata(torch), "results": results},
                  sys.stdout, indent=1)
        print()
        return 0
    print(f"{threads} thread{'s' if threads > 1 else ''}, medians of {args.rounds} rounds")
    print("| workload | size | dtype | fastloss | peers | memory probe | compute probe "
          "| limit / fastloss |")
    print("|---|---|---|---:|---|---:|---:|---:|")
    for r in results:
        times = r["times"]
        peers = "; ".join(f"{name} {format_seconds(t)}" for name, t in times.items()
                          if name not in ("fastloss", r["limit"], COMPUTE))
        print(f"| {r['workload']} | {r['size']} | {r['dtype']} | "
              f"{format_seconds(times['fastloss'])} | {peers} | "
              f"{r['limit']} {format_seconds(times[r['limit']])} | "
              f"{format_seconds(times[COMPUTE])} | "
              f"{r['fraction_of_limit']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
