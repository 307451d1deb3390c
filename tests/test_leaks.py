"""Resident memory stays flat over many calls of every method of every loss class, and
the recycled output buffers stay bounded. FASTLOSS_LEAK_CALLS sets the calls per
method (default 300 per class here; the long run in docs/reliability.rst uses 10^6
for one class per family)."""

import gc
import os
import sys
import tracemalloc

import numpy as np
import pytest
from registry import FAMILIES, ONE_PER_CLASS, family, params

import fastloss as fl
from fastloss._kernels.common import release_cached_memory

pytestmark = [
    pytest.mark.one_kernel_set,
    pytest.mark.thread_unsafe(reason="tracemalloc and the resident set are process-wide"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm"),
]
CALLS = int(os.environ.get("FASTLOSS_LEAK_CALLS", "300"))
METHODS = ("__call__", "gradient", "value_and_gradient", "gradient_hessian")
#: Calls per method before the measurement (as many as measured, up to this).
WARM_UP_CALLS = 10_000
#: Growth allowed over the measured calls: the allocator's and Python's own caches.
SLACK_BYTES = 2 << 20
#: Python and NumPy memory allowed to remain after the calls (interned strings,
#: caches that fill once).
TRACED_SLACK_BYTES = 64 << 10


def _under_address_sanitizer():
    """AddressSanitizer keeps freed memory in quarantine: the resident set grows by
    design, so only the traced memory is checked there (tools/sanitize.sh)."""
    if not sys.platform.startswith("linux"):
        return False
    with open("/proc/self/maps") as maps:
        return "libasan" in maps.read()


UNDER_ASAN = _under_address_sanitizer()


def resident_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def run_calls(entry, calls):
    inputs = entry.inputs(n=64)
    w = entry.weights("rows", inputs)
    for reduction in ("mean", "none"):
        loss = entry.loss(reduction)
        for method in METHODS:
            fn = getattr(loss, method)
            for i in range(calls):
                fn(*inputs.args, sample_weight=w if i % 2 else None, **inputs.kwargs)


def entries_to_check():
    if CALLS > 10_000:  # the long run: one class per family
        return [family(name)[0] for name in FAMILIES]
    return ONE_PER_CLASS


@pytest.mark.parametrize("entry", **params(entries_to_check()))
def test_memory_is_flat_over_many_calls(entry):
    """Two measures: the memory Python and NumPy allocate (tracemalloc: exact, so any
    object or array kept per call shows) and the resident memory, which also sees the
    kernels' own malloc."""
    # Warm up: lazy imports, recycled buffers, and Python's free lists (of tuples,
    # floats, frames), which fill over the first few thousand calls and are then reused.
    run_calls(entry, min(CALLS, WARM_UP_CALLS))
    tracemalloc.start()
    try:
        traced_before, rss_before = tracemalloc.get_traced_memory()[0], resident_bytes()
        run_calls(entry, CALLS)
        traced = tracemalloc.get_traced_memory()[0] - traced_before
        rss = resident_bytes() - rss_before
    finally:
        tracemalloc.stop()
    assert traced < TRACED_SLACK_BYTES, f"{entry.id}: {traced} bytes kept after {CALLS} calls"
    if not UNDER_ASAN:
        assert rss < SLACK_BYTES, f"{entry.id}: {rss / 2**20:.1f} MiB more after {CALLS} calls"


@pytest.mark.skipif(UNDER_ASAN, reason="AddressSanitizer quarantines freed memory")
def test_recycled_output_buffers_stay_bounded():
    """Large outputs come from recycled memory; freeing and asking again must not
    accumulate it (a 10^6-element gradient is 8 MB): the resident set after 200 more
    rounds of the same pattern (some outputs kept for a while) is what it was after
    the first 100."""
    rng = np.random.default_rng(0)
    y, p = rng.standard_normal(10**6), rng.standard_normal(10**6)
    loss = fl.MeanSquaredError()

    def rounds(count):
        kept = []
        for i in range(count):
            g = loss.gradient(y, p)
            if i % 25 == 0:
                kept.append(g)  # some outputs outlive the calls
            if len(kept) > 3:
                kept.pop(0)

    # Start from an empty cache, whatever earlier calls in the process left in it,
    # and let the C library's allocator settle (glibc moves its mmap threshold up
    # when a large block is freed, after which such blocks come from its heap).
    release_cached_memory()
    gc.collect()
    rounds(300)
    before = resident_bytes()
    rounds(200)
    growth = resident_bytes() - before
    assert growth < 8 * 10**6 + SLACK_BYTES, f"{growth / 2**20:.1f} MiB"
