"""The README speed table: the speed targets of the issues, measured.

Usage: python -P benchmarks/speed_table.py [--threads N] [--rounds R] [--json]

Each row times fastloss and a baseline in one process, on the same data, in
interleaved rounds, and reports the ratio of the medians beside its target:

- MSE value, n = 10^7 float64, against the NumPy reference np.mean((y_true - y_pred)**2)
  (target: at least 4x faster) and against NumPy merely summing both inputs,
  y_true.sum(); y_pred.sum(), which reads the same bytes (target: no slower);
- Huber value_and_gradient, n = 10^7 float64, against the NumPy reference value plus
  gradient (fastloss.reference.huber and huber_grad; target: at least 10x faster);
- MSE value_and_gradient against MSE value, n = 10^7 (target: at most 1.6x the time);
- MSE value, n = 100 float64, against np.mean((y_true - y_pred)**2) (target: 3x);
- with PyTorch installed, MSE and Huber values at n = 10^7 against
  torch.nn.functional.mse_loss and huber_loss with the same number of threads
  (torch.set_num_threads; target: 2x);
- binary cross-entropy from logits, value, n = 10^7 float64, against the NumPy
  reference np.mean(np.maximum(z, 0) - z*y + np.log1p(np.exp(-np.abs(z)))) (6x) and
  torch F.binary_cross_entropy_with_logits (4x);
- sparse categorical cross-entropy from logits, value_and_gradient, 10^5 rows of 100
  classes, float32, against a max-shifted NumPy softmax giving value and gradient
  (6x), torch F.cross_entropy forward plus backward (3x) and, with scikit-learn
  installed, HalfMultinomialLoss.loss_gradient with the same threads (3x);
- value_and_gradient of the embedding and ranking targets, on the data of their
  `python -m fastloss bench` workloads, against the NumPy reference (value and
  gradients in one call): Triplet, 10^5 rows of 128 float32 (5x; and torch
  triplet_margin_loss forward plus backward, 3x), BatchTriplet "hard", 2048 rows of
  128 float32 (5x), PairwiseLogistic and LambdaRank, 10^4 lists of 100 float64 (10x).

fastloss runs with the default thread count unless --threads says otherwise; the
NumPy expressions run on one thread, as NumPy does.
"""

import argparse
import json
import os
import sys

import numpy as np

import fastloss as fl
from fastloss import reference
from fastloss._cli.bench import (
    compare,
    find,
    format_seconds,
    import_torch,
    metadata,
    numpy_sparse_ce,
    torch_call,
    torch_threads,
)


class Row:
    """One line of the table: `ratio` is computed from the two medians by `how`.

    how = "speedup": baseline time / fastloss time, the target a minimum;
    how = "time":    fastloss time / baseline time, the target a maximum.
    """

    def __init__(self, what, n, fast, baseline_name, baseline, how, target, dtype="float64"):
        self.what, self.n, self.fast, self.dtype = what, n, fast, dtype
        self.baseline_name, self.baseline = baseline_name, baseline
        self.how, self.target = how, target

    def measure(self, rounds):
        times = compare({"fastloss": self.fast, "baseline": self.baseline}, rounds=rounds,
                        target=0.05)
        fast, base = times["fastloss"], times["baseline"]
        ratio = base / fast if self.how == "speedup" else fast / base
        met = ratio >= self.target if self.how == "speedup" else ratio <= self.target
        return {"what": self.what, "n": self.n, "dtype": self.dtype,
                "baseline": self.baseline_name,
                "fastloss_s": fast, "baseline_s": base, "ratio": ratio, "how": self.how,
                "target": self.target, "met": bool(met)}


def rows(torch, rng):
    n = 10**7
    y, p = rng.standard_normal(n), rng.standard_normal(n)
    ys, ps = rng.standard_normal(100), rng.standard_normal(100)
    mse, huber = fl.MeanSquaredError(), fl.Huber(delta=1.0)

    def numpy_sum():
        y.sum()
        p.sum()

    table = [
        Row("MSE value", n, lambda: mse(y, p), "np.mean((y_true - y_pred)**2)",
            lambda: np.mean((y - p) ** 2), "speedup", 4.0),
        Row("MSE value", n, lambda: mse(y, p), "y_true.sum(); y_pred.sum()",
            numpy_sum, "speedup", 1.0),
        Row("Huber value_and_gradient", n, lambda: huber.value_and_gradient(y, p),
            "reference huber + huber_grad",
            lambda: (reference.huber(y, p, delta=1.0), reference.huber_grad(y, p, delta=1.0)),
            "speedup", 10.0),
        Row("MSE value_and_gradient", n, lambda: mse.value_and_gradient(y, p),
            "fastloss MSE value", lambda: mse(y, p), "time", 1.6),
        Row("MSE value", 100, lambda: mse(ys, ps), "np.mean((y_true - y_pred)**2)",
            lambda: np.mean((ys - ps) ** 2), "speedup", 3.0),
    ]
    if torch is not None:
        ty, tp = torch.from_numpy(y), torch.from_numpy(p)
        F = torch.nn.functional

        def torch_value(fn, **kw):
            def call():
                with torch.no_grad():
                    return fn(tp, ty, **kw).item()
            return call

        table += [
            Row("MSE value", n, lambda: mse(y, p), "torch F.mse_loss",
                torch_value(F.mse_loss), "speedup", 2.0),
            Row("Huber value", n, lambda: huber(y, p), "torch F.huber_loss",
                torch_value(F.huber_loss, delta=1.0), "speedup", 2.0),
        ]
    return table + classification_rows(torch, rng) + embedding_ranking_rows(torch, rng)


def embedding_ranking_rows(torch, rng):
    """(workload, elements, dtype, label, target vs NumPy, target vs torch or None)."""
    specs = [
        ("Triplet", 10**5 * 128, "float32", "10^5 x 128", 5.0, 3.0),
        ("BatchTriplet[hard]", 2048 * 128, "float32", "2048 x 128", 5.0, None),
        ("PairwiseLogistic", 10**6, "float64", "10^4 x 100", 10.0, None),
        ("LambdaRank", 10**6, "float64", "10^4 x 100", 10.0, None),
    ]
    table = []
    for name, n, dtype, label, numpy_target, torch_target in specs:
        workload = find(name)
        args, kwargs = workload.data(n, np.dtype(dtype), rng)
        fast = workload.fastloss("value_and_gradient")
        ref = workload.reference("value_and_gradient", n)

        def call(fn=fast, args=args, kwargs=kwargs):
            return fn(*args, **kwargs)

        def call_ref(fn=ref, args=args, kwargs=kwargs):
            return fn(*args, **kwargs)

        what = f"{name} value_and_gradient"
        table.append(Row(what, label, call, "NumPy reference", call_ref, "speedup",
                         numpy_target, dtype))
        peer = torch_call(torch, workload, "value_and_gradient", args, kwargs) if (
            torch is not None and torch_target is not None) else None
        if peer is not None:
            table.append(Row(what, label, call, "torch forward + backward", peer,
                             "speedup", torch_target, dtype))
    return table


def sklearn_multinomial(n_classes):
    try:
        from sklearn._loss.loss import HalfMultinomialLoss
    except ImportError:
        return None
    return HalfMultinomialLoss(n_classes=n_classes)


def classification_rows(torch, rng):
    n = 10**7
    z, y = 3 * rng.standard_normal(n), (rng.random(n) < 0.5).astype(np.float64)
    bce = fl.BinaryCrossEntropy(from_logits=True)
    n_rows, n_classes = 10**5, 100
    logits = rng.standard_normal((n_rows, n_classes)).astype(np.float32)
    labels = rng.integers(0, n_classes, n_rows)
    sce = fl.SparseCategoricalCrossEntropy(from_logits=True)
    rows_label = "10^5 x 100"

    def sce_call():
        return sce.value_and_gradient(labels, logits)

    table = [
        Row("BCE from logits value", n, lambda: bce(y, z),
            "np.mean(max(z,0) - z*y + log1p(exp(-|z|)))",
            lambda: np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))),
            "speedup", 6.0),
        Row("SCCE from logits value_and_gradient", rows_label, sce_call,
            "NumPy max-shifted softmax", lambda: numpy_sparse_ce(labels, logits),
            "speedup", 6.0, "float32"),
    ]
    if torch is not None:
        F = torch.nn.functional
        tz, ty = torch.from_numpy(z), torch.from_numpy(y)
        tlogits, tlabels = torch.from_numpy(logits), torch.from_numpy(labels)

        def torch_bce():
            with torch.no_grad():
                return F.binary_cross_entropy_with_logits(tz, ty).item()

        def torch_ce():
            x = tlogits.detach().requires_grad_()
            loss = F.cross_entropy(x, tlabels)
            loss.backward()
            return loss.item(), x.grad

        table += [
            Row("BCE from logits value", n, lambda: bce(y, z),
                "torch F.binary_cross_entropy_with_logits", torch_bce, "speedup", 4.0),
            Row("SCCE from logits value_and_gradient", rows_label, sce_call,
                "torch F.cross_entropy forward + backward", torch_ce, "speedup", 3.0,
                "float32"),
        ]
    multinomial = sklearn_multinomial(n_classes)
    if multinomial is not None:
        float_labels = labels.astype(np.float32)
        threads = fl.get_num_threads()

        def sklearn_call():
            return multinomial.loss_gradient(float_labels, logits, n_threads=threads)

        table.append(Row("SCCE from logits value_and_gradient", rows_label, sce_call,
                         "sklearn HalfMultinomialLoss.loss_gradient", sklearn_call,
                         "speedup", 3.0, "float32"))
    return table


def markdown(results, threads):
    lines = [
        f"| measurement ({threads} thread{'s' if threads > 1 else ''}) | n | dtype "
        "| compared with | fastloss | it | ratio | target |",
        "|---|---:|---|---|---:|---:|---:|---|",
    ]
    for r in results:
        ratio = (f"{r['ratio']:.1f}x faster" if r["how"] == "speedup"
                 else f"{r['ratio']:.2f}x the time")
        target = (f">= {r['target']:g}x faster" if r["how"] == "speedup"
                  else f"<= {r['target']:g}x the time")
        n = "10^7" if r["n"] == 10**7 else str(r["n"])
        lines.append(
            f"| {r['what']} | {n} | {r['dtype']} | {r['baseline']} "
            f"| {format_seconds(r['fastloss_s'])} "
            f"| {format_seconds(r['baseline_s'])} | {ratio} "
            f"| {target} {'(met)' if r['met'] else '(NOT met)'} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for fastloss and PyTorch (default: fastloss's default)")
    parser.add_argument("--rounds", type=int, default=11, help="timed rounds per row")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    args = parser.parse_args(argv)
    torch = None if args.no_torch else import_torch()
    threads = args.threads or fl.get_num_threads()
    rng = np.random.default_rng(0)
    with fl.threads(threads), torch_threads(torch, threads):
        results = [row.measure(args.rounds) for row in rows(torch, rng)]
    meta = metadata(torch)
    meta["threads"] = threads
    meta["load_average"] = os.getloadavg()
    if args.json:
        json.dump({"meta": meta, "rows": results}, sys.stdout, indent=1)
        print()
    else:
        print(markdown(results, threads))
        print(f"\nfastloss {meta['fastloss']} ({meta['kernel_set']} kernels), NumPy "
              f"{meta['numpy']}, PyTorch {meta['torch'] or 'not installed'}, "
              f"{meta['cpus']} CPUs, load average {meta['load_average'][0]:.2f}; "
              f"medians of {args.rounds} interleaved rounds.")
    return 0 if all(r["met"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
