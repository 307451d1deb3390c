"""fastloss.dask on a LocalCluster: speed against dask.array expressions, and an
out-of-core evaluation with bounded worker memory.

Not a test; run by hand (docs/dask.rst has the figures):

    python benchmarks/dask_speed.py [--n 100000000] [--chunk 2097152] [--repeats 3]
                                    [--memmap-bytes 2000000000] [--no-memmap] [--no-speed]

1. Speed: 10^8 float64 elements persisted on 1 and then 2 worker processes (one
   thread each). fastloss.dask.value of MSE and of BCE from logits against the
   dask.array one-liners of the same losses, and the in-memory fastloss call on the
   same machine; medians of --repeats runs, printed as a markdown table. The chunks
   are a multiple of the reduction block (no rechunking); one more row measures MSE
   on chunks of 2 * 10^6 elements, which fastloss.dask rechunks.
2. Out of core: y_true and y_pred in two .npy files of --memmap-bytes together,
   read chunk by chunk from memory maps by one worker process limited to a quarter of
   that; checks the value against the in-memory call and prints the workers' peak
   resident memory.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import dask
import dask.array as da
import numpy as np
from distributed import Client, LocalCluster, wait

import fastloss as fl
import fastloss.dask as fld


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def dask_bce(y, p):
    """The dask.array one-liner of BCE from logits: max(p, 0) - p y + log1p(exp(-|p|))."""
    return (da.maximum(p, 0) - p * y + da.log1p(da.exp(-abs(p)))).mean()


def in_memory_times(n, repeats):
    """The in-memory fastloss calls on arrays of the same size (default threads)."""
    rng = np.random.default_rng(0)
    y, p = rng.normal(size=n), rng.normal(size=n)
    labels = (y > 0).astype(np.float64)
    mse, bce = fl.MeanSquaredError(), fl.BinaryCrossEntropy(from_logits=True)
    return {"MSE": median_time(lambda: mse(y, p), repeats),
            "BCE from logits": median_time(lambda: bce(labels, p), repeats)}


def cluster_times(client, n, chunk, repeats):
    """(fastloss.dask, dask.array) times of each case on the client's cluster."""
    mse, bce = fl.MeanSquaredError(), fl.BinaryCrossEntropy(from_logits=True)
    gen = da.random.default_rng(0)
    y, p = gen.normal(size=n, chunks=chunk), gen.normal(size=n, chunks=chunk)
    labels = (y > 0).astype(np.float64)
    y2, p2 = y.rechunk(2_000_000), p.rechunk(2_000_000)
    y, p, labels, y2, p2 = client.persist([y, p, labels, y2, p2])
    wait([y, p, labels, y2, p2])
    cases = {
        "MSE": ((mse, y, p), ((y - p) ** 2).mean()),
        "BCE from logits": ((bce, labels, p), dask_bce(labels, p)),
        "MSE, chunks of 2e6 (rechunked)": ((mse, y2, p2), ((y2 - p2) ** 2).mean()),
    }
    return {name: (median_time(lambda a=args: fld.value(*a).compute(), repeats),
                   median_time(expr.compute, repeats))
            for name, (args, expr) in cases.items()}


def speed(n, chunk, repeats):
    in_memory = in_memory_times(n, repeats)
    rows = []
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            client.run(fl.set_num_threads, 1)
            for name, (ours, theirs) in cluster_times(client, n, chunk, repeats).items():
                rows.append((name, workers, ours, theirs, in_memory[name.split(",")[0]]))
    print(f"\n{n:.0e} float64 elements, chunks of {chunk} elements, one thread per worker\n")
    print("| loss | workers | fastloss.dask | dask.array | ratio | throughput "
          "| in-memory fastloss (2 threads) | dask / in-memory |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, workers, ours, theirs, mem in rows:
        print(f"| {name} | {workers} | {ours * 1e3:.0f} ms | {theirs * 1e3:.0f} ms | "
              f"{theirs / ours:.1f}x | {n / ours / 1e6:.0f} M elements/s | "
              f"{mem * 1e3:.0f} ms | {ours / mem:.1f} |")


def _load(path, start, stop):
    """Elements [start, stop) of a .npy file, read through a memory map."""
    return np.array(np.load(path, mmap_mode="r")[start:stop])


def from_npy(path, chunk):
    """A dask array reading a 1-D .npy file chunk by chunk on the workers."""
    mapped = np.load(path, mmap_mode="r")
    n, dtype = mapped.shape[0], mapped.dtype
    load = dask.delayed(_load, pure=True)
    pieces = [da.from_delayed(load(path, a, min(a + chunk, n)), (min(a + chunk, n) - a,),
                              dtype=dtype) for a in range(0, n, chunk)]
    return da.concatenate(pieces)


def _rss_bytes():
    """The worker's resident memory now (its ru_maxrss is no use: it is inherited from
    the process that started it)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def out_of_core(total_bytes, chunk):
    n = total_bytes // 16  # two float64 files
    with tempfile.TemporaryDirectory() as tmp:
        paths = [os.path.join(tmp, name) for name in ("y_true.npy", "y_pred.npy")]
        for seed, path in enumerate(paths):
            out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(n,))
            rng = np.random.default_rng(seed)
            for a in range(0, n, 10_000_000):
                out[a:a + 10_000_000] = rng.normal(size=min(10_000_000, n - a))
            out.flush()
            del out
        limit = total_bytes // 4
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                          memory_limit=limit, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            client.run(fl.set_num_threads, 1)
            y, p = (from_npy(path, chunk) for path in paths)
            start = time.perf_counter()
            future = client.compute(fld.value(fl.MeanSquaredError(), y, p))
            peak = 0
            while not future.done():  # sample the worker's resident memory
                peak = max(peak, *client.run(_rss_bytes).values())
                time.sleep(0.02)
            got = float(future.result())
            elapsed = time.perf_counter() - start
        want = fl.mse(np.load(paths[0], mmap_mode="r"), np.load(paths[1], mmap_mode="r"))
    print(f"\nout of core: MSE over two .npy files of {total_bytes / 1e9:.1f} GB together, "
          f"one worker limited to {limit / 1e6:.0f} MB")
    print(f"  {elapsed:.1f} s, bitwise equal to the in-memory call: {got == want}")
    print(f"  peak resident memory of the worker (sampled every 20 ms): {peak / 1e6:.0f} MB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000_000)
    # A multiple of the 4096-element reduction block (2**21): no rechunking.
    parser.add_argument("--chunk", type=int, default=2**21)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memmap-bytes", type=int, default=2_000_000_000)
    parser.add_argument("--no-memmap", action="store_true")
    parser.add_argument("--no-speed", action="store_true")
    args = parser.parse_args()
    if not args.no_speed:
        speed(args.n, args.chunk, args.repeats)
    if not args.no_memmap:
        out_of_core(args.memmap_bytes, args.chunk)


if __name__ == "__main__":
    main()
