"""Speed of the vectorized math helpers (fastloss/_kernels/vmath.pxd) against scalar libm and NumPy.

For each helper, dtype and size, one process times (median of repeats, one thread):
  vmath  the helper in a compiled loop (fastloss._kernels.vmath_check, the active kernel set),
  libm   the same function through scalar C library calls in the same kind of loop,
  numpy  the NumPy expression users would write (a ufunc where there is one),
and prints the ratios libm/vmath and numpy/vmath (> 1: vmath is faster).
Run it once per kernel set:

    .venv/bin/python -P benchmarks/vmath_speed.py
    FASTLOSS_DISPATCH=baseline .venv/bin/python -P benchmarks/vmath_speed.py

With --disassembly it instead reads the compiled loops of every kernel set with
objdump and counts, per helper loop, the packed (SIMD) arithmetic instructions and
the calls: a vectorized loop has packed instructions on xmm (baseline), ymm
(x86-64-v3) or zmm (x86-64-v4) registers and no call.
"""

import argparse
import importlib.util
import re
import statistics
import subprocess
import time
from functools import partial

import numpy as np

from fastloss._kernels import dispatch as _dispatch

LN2 = float(np.log(2.0))

try:
    from scipy.special import expit as _sigmoid
except ImportError:  # the stable NumPy form instead
    def _sigmoid(x):
        return np.exp(-np.logaddexp(0, -x))

# helper -> (NumPy expression, input range)
HELPERS = {
    "exp": (np.exp, (-20, 20)),
    "exp_nonpos": (np.exp, (-20, 0)),  # the softmax terms' exp, arguments <= 0
    "expm1": (np.expm1, (-20, 20)),
    "log": (np.log, (1e-3, 1e3)),
    "log1p": (np.log1p, (-0.9, 1e3)),
    "log1pexp": (lambda x: np.logaddexp(0, x), (-20, 20)),
    "log_sigmoid": (lambda x: -np.logaddexp(0, -x), (-20, 20)),
    "sigmoid": (_sigmoid, (-20, 20)),
    "tanh": (np.tanh, (-5, 5)),
    "log_cosh": (lambda x: np.logaddexp(x, -x) - LN2, (-5, 5)),
}


def numpy_logsumexp(x):
    m = x.max(axis=1, keepdims=True)
    return np.log(np.exp(x - m).sum(axis=1, dtype=np.float64)) + m[:, 0]


def median_times(functions, x, repeats):
    """Median seconds of each function on x, the runs interleaved (A B C A B C ...)."""
    times = [[] for _ in functions]
    for _ in range(repeats):
        for fn, spent in zip(functions, times, strict=True):
            start = time.perf_counter()
            fn(x)
            spent.append(time.perf_counter() - start)
    return [statistics.median(spent) for spent in times]


def run(sizes, repeats, classes):
    """Time each helper; outputs are preallocated where the call allows it, so that
    page faults of fresh output arrays do not count (the NumPy composite expressions
    allocate their temporaries, as user code does)."""
    vm = _dispatch.load("vmath_check")
    rng = np.random.default_rng(0)
    print(f"kernel set: {_dispatch.KERNEL_SET}; one thread; median of {repeats} runs")
    print(f"{'helper':13s} {'dtype':8s} {'n':>9s} {'vmath ms':>9s} {'libm ms':>9s} "
          f"{'numpy ms':>9s} {'libm/vmath':>11s} {'numpy/vmath':>12s}")
    rows = [(name, *spec) for name, spec in HELPERS.items()]
    rows.append(("logsumexp", numpy_logsumexp, (-20, 20)))
    for name, numpy_fn, (low, high) in rows:
        for dtype in (np.float32, np.float64):
            for n in sizes:
                x = rng.uniform(low, high, n).astype(dtype)
                out = np.empty_like(x)
                if name == "logsumexp":
                    x = x.reshape(-1, classes)
                    functions = [vm.logsumexp, partial(vm.logsumexp, use_libm=True),
                                 numpy_fn]
                else:
                    functions = [partial(vm.vmath, name, out=out),
                                 partial(vm.libm, name, out=out),
                                 partial(numpy_fn, out=out)
                                 if isinstance(numpy_fn, np.ufunc) else numpy_fn]
                with np.errstate(all="ignore"):
                    for fn in functions:  # warm-up
                        fn(x)
                    t_fast, t_libm, t_numpy = median_times(functions, x, repeats)
                label = f"{name}/{classes}" if name == "logsumexp" else name
                print(f"{label:13s} {np.dtype(dtype).name:8s} {n:9d} {t_fast * 1e3:9.2f} "
                      f"{t_libm * 1e3:9.2f} {t_numpy * 1e3:9.2f} {t_libm / t_fast:11.2f} "
                      f"{t_numpy / t_fast:12.2f}", flush=True)


PACKED = re.compile(r"^v?(add|sub|mul|div|fn?madd\d*|fn?msub\d*|max|min|and|andn|or|blendv|cmp\w*)"
                    r"p[sd]$")


def disassembly():
    """Packed instructions and calls in each helper loop of each built kernel set."""
    for module in (f"fastloss._kernels.vmath_check{suffix}" for suffix in ("", "_v3", "_v4")):
        spec = importlib.util.find_spec(module)
        if spec is None:
            continue
        listing = subprocess.run(["objdump", "-d", "--no-show-raw-insn", spec.origin],
                                 capture_output=True, text=True, check=True).stdout
        counts = {}
        function = None
        for line in listing.splitlines():
            header = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
            if header:
                loop = re.search(r"__vmath_(\w+)_(f32|f64)$", header.group(1))
                function = loop.group(1) + "/" + loop.group(2) if loop else None
                if function:
                    counts[function] = {"xmm": 0, "ymm": 0, "zmm": 0, "call": 0}
                continue
            parts = line.split("\t")
            if function is None or len(parts) < 2:
                continue
            opcode, _, operands = parts[1].strip().partition(" ")
            if opcode.startswith("call"):
                counts[function]["call"] += 1
            elif PACKED.match(opcode):
                register = next((r for r in ("zmm", "ymm") if r in operands), "xmm")
                counts[function][register] += 1
        print(f"{module}: packed arithmetic on xmm / ymm / zmm registers, calls")
        for function, c in sorted(counts.items()):
            print(f"  {function:16s} {c['xmm']:4d} {c['ymm']:4d} {c['zmm']:4d} {c['call']:3d}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1e6, 1e7])
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--classes", type=int, default=100,
                        help="row length for logsumexp (rows = n / classes)")
    parser.add_argument("--disassembly", action="store_true",
                        help="count SIMD instructions in the compiled loops instead")
    args = parser.parse_args()
    if args.disassembly:
        disassembly()
        return
    run([int(n) for n in args.sizes], args.repeats, args.classes)


if __name__ == "__main__":
    main()
