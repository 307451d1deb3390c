"""Thread configuration: get_num_threads, set_num_threads and the threads() context.

The default follows OpenMP (OMP_NUM_THREADS, threadpoolctl limits, the affinity
mask) and the CPU quota of the process's cgroup. Results never depend on it: the
kernels reduce in fixed-size blocks (see fastloss._kernels.common).
"""

import contextvars
import math
import operator
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastloss._kernels import common as _kernel
from fastloss._kernels import dispatch as _dispatch

# The thread-count override. set_num_threads sets the process-wide value; threads(n)
# sets a context variable, so a `with fl.threads(n)` block in one Python thread (or
# asyncio task, or Dask worker thread) never changes the count another one sees.
# None means the default; _UNSET, outside any threads() block, means the process
# value.
_UNSET = 0
#: The most threads a count may ask for: above any machine's cores, below the counts
#: at which the OpenMP runtime fails to allocate its threads (2**31 - 1 asked it for
#: 480 GB and ended the process).
MAX_THREADS = 4096
_process_override: int | None = None
_context_override: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "fastloss_threads", default=_UNSET
)


def _cgroup_cpu_quota() -> int | None:
    """CPUs granted by the cgroup v2/v1 CPU quota, or None when unlimited or unknown."""
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota, period = f.read().split()[:2]
        if quota != "max":
            return max(1, math.ceil(int(quota) / int(period)))
        return None
    except (OSError, ValueError):
        pass
    try:
        with open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") as f:
            quota = int(f.read())
        with open("/sys/fs/cgroup/cpu/cpu.cfs_period_us") as f:
            period = int(f.read())
        if quota > 0 and period > 0:
            return max(1, math.ceil(quota / period))
    except (OSError, ValueError):
        pass
    return None


_CPU_QUOTA = _cgroup_cpu_quota()


def _default_num_threads() -> int:
    n = _kernel.openmp_max_threads()
    if _CPU_QUOTA is not None:
        n = min(n, _CPU_QUOTA)
    return max(1, n)


def _check_num_threads(n: object) -> int | None:
    if n is None:
        return None
    try:
        count = operator.index(n)  # int, numpy integers; not bool, float or str
    except TypeError:
        count = 0
    if isinstance(n, bool) or not 1 <= count <= MAX_THREADS:
        raise ValueError(
            f"num_threads must be an integer in [1, {MAX_THREADS}] or None, got {n!r}")
    return count


def get_num_threads() -> int:
    """Number of threads the kernels use for inputs large enough to run in parallel:
    the innermost `threads(n)` block of this thread or task, else set_num_threads's
    value, else the default."""
    n = _context_override.get()
    if n == _UNSET:
        n = _process_override
    return _default_num_threads() if n is None else n


def set_num_threads(n: int | None) -> None:
    """Set the thread count for the whole process (None restores the default); n is
    an integer in [1, MAX_THREADS].

    A `threads(n)` block still takes precedence inside it.
    """
    global _process_override
    _process_override = _check_num_threads(n)


@contextmanager
def threads(n: int | None) -> Iterator[None]:
    """Context manager: run the block with n threads (None: the default), then
    restore. The setting is local to the current thread (a context variable):
    other Python threads keep their own."""
    token = _context_override.set(_check_num_threads(n))
    try:
        yield
    finally:
        _context_override.reset(token)


def openmp_runtime() -> str | None:
    """Path of the OpenMP runtime library loaded in this process, or None."""
    if not _kernel.has_openmp():
        return None
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1]
                name = os.path.basename(path)
                if name.startswith(("libgomp", "libomp", "libiomp")):
                    return path
    except OSError:
        pass
    return "unknown"


def config() -> dict[str, Any]:
    """The build and runtime configuration as a dict (what show_config prints)."""
    from fastloss._version import __version__

    spec = _kernel.openmp_spec()
    return {
        "version": __version__,
        "kernel_set": _dispatch.KERNEL_SET,
        "family_kernel_sets": {family: kernel_set
                               for family in (*_dispatch.FAMILIES, *_dispatch.PARTS)
                               if (kernel_set := _dispatch.family_set(family))
                               != _dispatch.KERNEL_SET},
        "family_vector_bits": {family: _dispatch.load(family).VECTOR_BITS
                               for family in (*_dispatch.FAMILIES, *_dispatch.PARTS)},
        "openmp": bool(spec),
        "openmp_spec": spec or None,
        "openmp_runtime": openmp_runtime(),
        "threads": get_num_threads(),
        "cpu_quota": _CPU_QUOTA,
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
    }


def show_config() -> None:
    """Print the version, active kernel set (and the families or parts that run
    another, faster one on this kind of CPU), the vector width of each family's
    kernels, OpenMP runtime and thread count."""
    info = config()
    openmp = (
        f"yes (spec {info['openmp_spec']}, runtime {info['openmp_runtime']})"
        if info["openmp"]
        else "no (single-threaded build)"
    )
    print(f"fastloss {info['version']}")
    others = ", ".join(f"{family}: {kernel_set}"
                       for family, kernel_set in info["family_kernel_sets"].items())
    print(f"kernel set: {info['kernel_set']}"
          + (f" ({others}; faster in a measurement)" if others else ""))
    widths = info["family_vector_bits"]
    usual = max(widths.values(), key=list(widths.values()).count)
    others = ", ".join(f"{family} {bits}" for family, bits in widths.items() if bits != usual)
    print(f"vector bits: {usual}" + (f" ({others})" if others else ""))
    print(f"openmp: {openmp}")
    print(f"threads: {info['threads']} (cpus: {info['cpus']}, "
          f"cgroup quota: {info['cpu_quota'] or 'none'})")
