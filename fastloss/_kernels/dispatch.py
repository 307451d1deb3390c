"""Choose the kernel set at import: the most capable one the CPU runs and the build
made: x86-64-v4 (AVX-512), x86-64-v3 (AVX2 + FMA), else the baseline; the parts of
PREFERRED run the less capable set measured faster for them.
FASTLOSS_DISPATCH=<set> forces one set for every family (baseline, x86-64-v3 or
x86-64-v4).

`load(family)` returns a handle whose attributes are those of the family's compiled
module in its set (family_set); `load("family/part")` one for a part of a family
(PARTS) that may run another set. `use(kernel_set)` switches every handle (for tests
that run the same checks against each set in one process; it changes the whole
process, so it is not for use beside calls in other threads).
"""

import importlib
import importlib.util
import os
from contextlib import contextmanager

from fastloss._kernels import common as _kernel

#: The kernel families: one compiled module each per kernel set.
FAMILIES = ("regression", "binary", "multiclass", "embedding", "ranking", "sequence")
# Kernel set -> (module suffix, the x86-64 level the CPU needs), least capable first.
_SETS = {"baseline": ("", 0), "x86-64-v3": ("_v3", 3), "x86-64-v4": ("_v4", 4)}


def _usable(kernel_set):
    suffix, level = _SETS[kernel_set]
    # The CPU check comes first: loading x86-64-v3 or v4 code on an older CPU could crash.
    if _kernel.cpu_x86_64_level() < level:
        return False
    return importlib.util.find_spec(f"fastloss._kernels.regression{suffix}") is not None


def available():
    """Kernel sets this build and CPU can run, least capable (baseline) first."""
    return [name for name in _SETS if _usable(name)]


def _choose():
    forced = os.environ.get("FASTLOSS_DISPATCH", "").strip().lower()
    if forced not in ("", *_SETS):
        raise ImportError(f"FASTLOSS_DISPATCH must be one of {', '.join(_SETS)}; got {forced!r}")
    sets = available()
    if forced and forced not in sets:
        raise ImportError(f"FASTLOSS_DISPATCH={forced}, but this CPU or build lacks it")
    return forced or sets[-1]


#: The active kernel set: "x86-64-v4", "x86-64-v3" or "baseline".
KERNEL_SET = _choose()
#: Whether FASTLOSS_DISPATCH chose it (then every family runs it).
FORCED = bool(os.environ.get("FASTLOSS_DISPATCH", "").strip())

#: Parts of a family that may run another kernel set than the family ("family/part"):
#: "multiclass/short-rows", the row kernels of fastloss._core.rowwise.SHORT_ROW_KERNELS
#: on rows of at most rowwise.SHORT_ROW_CLASSES classes.
PARTS = ("multiclass/short-rows",)

#: Parts that run a less capable set than the one chosen, because they ran faster
#: there on such a CPU (benchmarks/kernel_sets.py, one thread, 10^5 elements, on a
#: 2-core Intel Xeon with AVX-512; the two sets give the same bits, both with FMA): on
#: x86-64-v4, the softmax rows from logits took 0.65-0.93x their v4 time in x86-64-v3
#: at 10 classes (--classes 10), 0.78-0.94x at 100 and 0.88-1.04x at 256 (the short
#: loops of the 512-bit code), and 0.91-1.07x at 1000; cosine similarity over rows of
#: 128 took 0.76-0.86x. The ranking and embedding families build their v4 modules with
#: 256-bit vectors instead (fastloss/_kernels/meson.build). Not applied when
#: FASTLOSS_DISPATCH forces a set.
PREFERRED = {"x86-64-v4": {"multiclass/short-rows": "x86-64-v3"}}


def family_set(family):
    """The kernel set `family` (or a part of one) runs when the dispatcher chooses
    (see PREFERRED)."""
    if FORCED:
        return KERNEL_SET
    preferred = PREFERRED.get(KERNEL_SET, {}).get(family, KERNEL_SET)
    return preferred if _usable(preferred) else KERNEL_SET


class _Family:
    """The compiled kernels of one family, or part of one, in its kernel set
    (family_set)."""

    def __init__(self, name):
        self._name = name
        self._module = name.partition("/")[0]
        self._bind(family_set(name))

    def _bind(self, kernel_set):
        module = importlib.import_module(
            f"fastloss._kernels.{self._module}{_SETS[kernel_set][0]}")
        self.__dict__.update((k, v) for k, v in vars(module).items() if not k.startswith("__"))


_families = {}


def load(family):
    """The kernels of a family ("regression", ...) or part (PARTS) in its kernel set
    (family_set)."""
    if family not in _families:
        _families[family] = _Family(family)
    return _families[family]


@contextmanager
def use(kernel_set):
    """Run the block with every family bound to `kernel_set` (PREFERRED aside), then
    restore. Losses built before keep their small-call path's set: the shortcuts'
    cache of losses is emptied on the way in and out."""
    global KERNEL_SET, FORCED
    if kernel_set not in available():
        raise ValueError(f"kernel set {kernel_set!r} is not available here: {available()}")
    previous = KERNEL_SET, FORCED
    try:
        KERNEL_SET, FORCED = kernel_set, True
        for handle in _families.values():
            handle._bind(kernel_set)
        _kernel.clear_shortcuts()
        yield
    finally:
        KERNEL_SET, FORCED = previous
        for name, handle in _families.items():
            handle._bind(family_set(name))
        _kernel.clear_shortcuts()
