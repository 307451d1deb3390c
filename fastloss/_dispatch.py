"""Choose the kernel set at import: x86-64-v3 (AVX2 + FMA) where the CPU has it and
the build made it, else the baseline. FASTLOSS_DISPATCH=baseline forces the baseline.
"""

import importlib
import os

from fastloss import _kernel

_FORCED = os.environ.get("FASTLOSS_DISPATCH", "").strip().lower()
if _FORCED not in ("", "baseline", "x86-64-v3"):
    raise ImportError(
        f"FASTLOSS_DISPATCH must be 'baseline' or 'x86-64-v3'; got {_FORCED!r}"
    )


def _choose():
    if _FORCED == "baseline":
        return "baseline"
    try:
        importlib.import_module("fastloss._regression_v3")
        built = True
    except ImportError:
        built = False
    if built and _kernel.cpu_has_x86_64_v3():
        return "x86-64-v3"
    if _FORCED == "x86-64-v3":
        raise ImportError("FASTLOSS_DISPATCH=x86-64-v3, but this CPU or build lacks it")
    return "baseline"


#: The active kernel set: "x86-64-v3" or "baseline".
KERNEL_SET = _choose()
_SUFFIX = {"baseline": "", "x86-64-v3": "_v3"}[KERNEL_SET]


def load(family):
    """The compiled module of a kernel family ("_regression", ...) for the active set."""
    return importlib.import_module(f"fastloss.{family}{_SUFFIX}")
