"""Choose the kernel set at import: x86-64-v3 (AVX2 + FMA) where the CPU has it and
the build made it, else the baseline. FASTLOSS_DISPATCH=baseline forces the baseline.

`load(family)` returns a handle whose attributes are those of the family's compiled
module in the active set; `use(kernel_set)` switches every handle (for tests that
run the same checks against each set in one process).
"""

import importlib
import importlib.util
import os
from contextlib import contextmanager

from fastloss import _kernel

_SUFFIXES = {"baseline": "", "x86-64-v3": "_v3"}


def _v3_usable():
    # The CPU check comes first: loading x86-64-v3 code on an older CPU could crash.
    if not _kernel.cpu_has_x86_64_v3():
        return False
    return importlib.util.find_spec("fastloss._regression_v3") is not None


def available():
    """Kernel sets this build and CPU can run, baseline first."""
    return ["baseline", "x86-64-v3"] if _v3_usable() else ["baseline"]


def _choose():
    forced = os.environ.get("FASTLOSS_DISPATCH", "").strip().lower()
    if forced not in ("", *_SUFFIXES):
        raise ImportError(f"FASTLOSS_DISPATCH must be 'baseline' or 'x86-64-v3'; got {forced!r}")
    sets = available()
    if forced and forced not in sets:
        raise ImportError(f"FASTLOSS_DISPATCH={forced}, but this CPU or build lacks it")
    return forced or sets[-1]


#: The active kernel set: "x86-64-v3" or "baseline".
KERNEL_SET = _choose()


class _Family:
    """The compiled kernels of one family in the active kernel set."""

    def __init__(self, name):
        self._name = name
        self._bind(KERNEL_SET)

    def _bind(self, kernel_set):
        module = importlib.import_module(f"fastloss.{self._name}{_SUFFIXES[kernel_set]}")
        self.__dict__.update((k, v) for k, v in vars(module).items() if not k.startswith("__"))


_families = {}


def load(family):
    """The kernels of a family ("_regression", ...) in the active kernel set."""
    if family not in _families:
        _families[family] = _Family(family)
    return _families[family]


@contextmanager
def use(kernel_set):
    """Run the block with every family bound to `kernel_set`, then restore."""
    global KERNEL_SET
    if kernel_set not in available():
        raise ValueError(f"kernel set {kernel_set!r} is not available here: {available()}")
    previous = KERNEL_SET
    try:
        KERNEL_SET = kernel_set
        for handle in _families.values():
            handle._bind(kernel_set)
        yield
    finally:
        KERNEL_SET = previous
        for handle in _families.values():
            handle._bind(previous)
