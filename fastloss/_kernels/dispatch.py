"""Choose the kernel set at import: the most capable one the CPU runs and the build
made: x86-64-v4 (AVX-512), x86-64-v3 (AVX2 + FMA), else the baseline.
FASTLOSS_DISPATCH=<set> forces one (baseline, x86-64-v3 or x86-64-v4).

`load(family)` returns a handle whose attributes are those of the family's compiled
module in the active set; `use(kernel_set)` switches every handle (for tests that
run the same checks against each set in one process).
"""

import importlib
import importlib.util
import os
from contextlib import contextmanager

from fastloss._kernels import common as _kernel

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


class _Family:
    """The compiled kernels of one family in the active kernel set."""

    def __init__(self, name):
        self._name = name
        self._bind(KERNEL_SET)

    def _bind(self, kernel_set):
        module = importlib.import_module(f"fastloss._kernels.{self._name}{_SETS[kernel_set][0]}")
        self.__dict__.update((k, v) for k, v in vars(module).items() if not k.startswith("__"))


_families = {}


def load(family):
    """The kernels of a family ("regression", ...) in the active kernel set."""
    if family not in _families:
        _families[family] = _Family(family)
    return _families[family]


@contextmanager
def use(kernel_set):
    """Run the block with every family bound to `kernel_set`, then restore. Losses
    built before keep their small-call path's set: the shortcuts' cache of losses is
    emptied on the way in and out."""
    global KERNEL_SET
    if kernel_set not in available():
        raise ValueError(f"kernel set {kernel_set!r} is not available here: {available()}")
    previous = KERNEL_SET
    try:
        KERNEL_SET = kernel_set
        for handle in _families.values():
            handle._bind(kernel_set)
        _kernel.clear_shortcuts()
        yield
    finally:
        KERNEL_SET = previous
        for handle in _families.values():
            handle._bind(previous)
        _kernel.clear_shortcuts()
