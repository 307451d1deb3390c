"""Where does the parallel path start to pay off? Data for PARALLEL_MIN_ELEMENTS.

Usage: python -P benchmarks/threshold.py [--threads T] [--rounds R] [--installed]
                                          [--loss NAME:MODE ...] [--json]

The kernels run serially below PARALLEL_MIN_ELEMENTS (fastloss/_kernels/common.pxd; row-wise
kernels: ROW_PARALLEL_MIN_ELEMENTS), so the installed package cannot show what a
parallel region costs on small inputs. By
default this script therefore builds a private copy of the package from this source
tree with the thresholds set to 0 (in the temporary folder, rebuilt when the sources
change; a minute or two on 2 cores) and measures that copy, in a child process that
cannot see the installed fastloss. `--installed` measures the installed package
instead (sizes below its threshold then run serially on both sides, which checks
that the threshold is respected).

For each loss and size n (multiples of the 4096-element block, 2 to 256 blocks) it
times single calls with 1 thread and with T threads (default 2), alternating, and
prints the median times, their speed-up t(1) / t(T), the speed-up of the fastest
calls (what a quiet machine shows, even while neighbours load the cores) and the
share of rounds T threads won. The suggested threshold per loss is the smallest
measured n at which the fastest calls are at least 10% faster with T threads, and
so are they at the next two sizes.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANT = Path(tempfile.gettempdir()) / (
    "fastloss-threshold-" + hashlib.sha256(str(ROOT).encode()).hexdigest()[:12])
BLOCK = 4096
SIZES = [BLOCK * k for k in (2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128, 256)]
DEFAULT_LOSSES = ["MeanSquaredError:value", "LogCosh:value"]
GAIN = 1.1  # "pays off": at least 10% faster


def _sources():
    """The files a build reads (git's list when there is one: tracked and untracked
    but not ignored files)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        listed = [str(p.relative_to(ROOT)) for p in (ROOT / "fastloss").rglob("*")
                  if "__pycache__" not in p.parts]
    return sorted(p for p in listed if (ROOT / p).is_file()
                  and (p.startswith("fastloss/") or "/" not in p))


def build_variant():
    """Install a copy of the package with the parallel thresholds at 0 into VARIANT/site."""
    files = _sources()
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.encode() + b"\0" + (ROOT / path).read_bytes())
    stamp = VARIANT / "sources.sha256"
    site = VARIANT / "site"
    if stamp.exists() and stamp.read_text() == digest.hexdigest():
        return site
    shutil.rmtree(VARIANT, ignore_errors=True)
    src = VARIANT / "src"
    for path in files:
        (src / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, src / path)
    patched = 0
    for path in sorted((src / "fastloss").iterdir()):
        if path.suffix in (".pxd", ".tp", ".pyx"):
            text, count = re.subn(r"\b((?:ROW_)?PARALLEL_MIN_ELEMENTS) = \d+", r"\1 = 0",
                                  path.read_text())
            path.write_text(text)
            patched += count
    if not patched:
        sys.exit("could not find PARALLEL_MIN_ELEMENTS in the kernel sources")
    print(f"building a copy with the parallel thresholds at 0 in {VARIANT} ...",
          file=sys.stderr)
    try:
        import mesonpy  # noqa: F401

        isolation = ["--no-build-isolation"]
    except ImportError:
        isolation = []
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    *isolation, "--target", str(site), str(src)], check=True)
    stamp.write_text(digest.hexdigest())
    return site


def measure(losses, threads, rounds):
    """Rows of {loss, mode, n, t1, tT, speedup, best_speedup, won} per loss and size.

    t1 and tT are medians; best_speedup compares the fastest samples, which is what
    a quiet machine would show when other processes compete for the cores.
    """
    import numpy as np

    import fastloss as fl
    from fastloss._cli import bench as _bench

    results = []
    for spec in losses:
        name, mode = spec.split(":")
        workload = _bench.find(name)
        call = workload.fastloss(mode)
        for n in SIZES:
            args, kwargs = workload.data(n, np.dtype("float64"), np.random.default_rng(0))

            def with_threads(t, call=call, args=args, kwargs=kwargs):
                def run():
                    fl.set_num_threads(t)
                    call(*args, **kwargs)
                return run

            one, many = with_threads(1), with_threads(threads)
            for f in (one, many):
                f()
            # Single calls, alternating: the fastest of many is a call that no
            # neighbour disturbed, even on a loaded machine.
            samples = ([], [])
            for _ in range(rounds):
                for i, f in enumerate((one, many)):
                    samples[i].append(_bench._clock(f, 1))
            fl.set_num_threads(None)
            t1, tt = statistics.median(samples[0]), statistics.median(samples[1])
            won = sum(b < a for a, b in zip(*samples, strict=True)) / rounds
            results.append({"loss": name, "mode": mode, "n": n, "t1": t1, "tT": tt,
                            "speedup": t1 / tt, "best_speedup": min(samples[0]) / min(samples[1]),
                            "won": won})
    return results


def suggest(rows, key="best_speedup", confirm=2):
    """Smallest n that gains at least GAIN, with the next `confirm` sizes gaining too
    (a single disturbed size further up does not hide the crossover), or None."""
    for i, row in enumerate(rows):
        if all(r[key] >= GAIN for r in rows[i:i + 1 + confirm]):
            return row["n"]
    return None


def report(results, threads, installed):
    import fastloss as fl
    from fastloss._cli import bench as _bench
    from fastloss._kernels import common as _kernel

    what = "the installed package" if installed else "a copy built without threshold"
    print(f"1 thread against {threads} threads, float64, {what} "
          f"(PARALLEL_MIN_ELEMENTS = {_kernel.PARALLEL_MIN}); fastloss {fl.__version__}, "
          f"load average {os.getloadavg()[0]:.2f}")
    for spec in dict.fromkeys((r["loss"], r["mode"]) for r in results):
        rows = [r for r in results if (r["loss"], r["mode"]) == spec]
        print(f"\n{spec[0]} {spec[1]}")
        print(f"{'n':>9}  {'1 thread':>9}  {f'{threads} threads':>9}  {'speed-up':>8}  "
              f"{'best':>6}  won")
        for r in rows:
            print(f"{r['n']:>9}  {_bench.format_seconds(r['t1']):>9}  "
                  f"{_bench.format_seconds(r['tT']):>9}  {r['speedup']:>7.2f}x  "
                  f"{r['best_speedup']:>5.2f}x  {r['won']:.0%}")
        for key, label in (("best_speedup", "fastest calls"), ("speedup", "medians")):
            n = suggest(rows, key)
            print(f"{label}: pays off (>= {GAIN:g}x at n and the next sizes) from n = {n}"
                  if n else f"{label}: does not pay off by {GAIN:g}x")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="threads to compare with 1")
    parser.add_argument("--rounds", type=int, default=101,
                        help="calls per thread count and size, alternating (default 101)")
    parser.add_argument("--loss", action="append", default=None, metavar="NAME:MODE",
                        help="loss class and mode (value or value_and_gradient); "
                             f"repeatable (default: {' '.join(DEFAULT_LOSSES)})")
    parser.add_argument("--installed", action="store_true",
                        help="measure the installed package, not a copy without threshold")
    parser.add_argument("--json", action="store_true", help="print JSON rows")
    parser.add_argument("--worker", metavar="SITE", default=None,
                        help="measure the copy already installed in SITE (which must be "
                             "first on PYTHONPATH, with -S); used by the script itself")
    args = parser.parse_args(argv)
    losses = args.loss or DEFAULT_LOSSES

    if not args.installed and args.worker is None:
        site = build_variant()
        import numpy

        # -S: no site-packages hooks, so an editable install cannot shadow the copy;
        # NumPy's own folder is added back by hand.
        path = os.pathsep.join([str(site), str(Path(numpy.__file__).parent.parent)])
        env = dict(os.environ, PYTHONPATH=path)
        command = [sys.executable, "-S", "-P", __file__, "--worker", str(site),
                   "--threads", str(args.threads), "--rounds", str(args.rounds)]
        command += [f"--loss={spec}" for spec in losses] + (["--json"] if args.json else [])
        return subprocess.run(command, env=env).returncode

    import fastloss

    if args.worker and not Path(fastloss.__file__).resolve().is_relative_to(
            Path(args.worker).resolve()):
        sys.exit(f"imported {fastloss.__file__}, not the copy in {args.worker}")
    results = measure(losses, args.threads, args.rounds)
    if args.json:
        json.dump(results, sys.stdout, indent=1)
        print()
    else:
        report(results, args.threads, installed=args.worker is None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
