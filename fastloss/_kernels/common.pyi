"""Type stub of the compiled fastloss._kernels.common module (see _kernel.pyx)."""

from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

_A = TypeVar("_A", bound=NDArray[Any])

VALUE_SUM: int
VALUE_NONE: int
GRADIENT: int
VALUE_GRADIENT: int
GRADIENT_HESSIAN: int
VALUE_NONE_GRADIENT: int
PARALLEL_MIN: int
BLOCK: int
SMALL_VALUE: int
SMALL_GRADIENT: int
SMALL_VALUE_AND_GRADIENT: int

def openmp_max_threads() -> int: ...
def cpu_x86_64_level() -> int: ...
def has_openmp() -> bool: ...
def openmp_spec() -> int: ...
def first_index_below(
    values: NDArray[np.floating[Any]], bound: float, inclusive: bool, nan_invalid: bool
) -> int: ...
RECYCLE_MIN_BYTES: int

def empty_like(like: _A) -> _A: ...
def empty(shape: tuple[int, ...], dtype: Any) -> NDArray[Any]: ...
def weight_sum(
    weight: NDArray[Any], block: int, partials_out: NDArray[Any] | None = None
) -> float: ...
def pairwise_total(partials: NDArray[Any]) -> float: ...
def block_partials(n_items: int, block: int) -> NDArray[Any]: ...
def release_cached_memory() -> None: ...
def memory_probe(
    sources: list[NDArray[Any]], destination: NDArray[Any] | None = None, n_threads: int = 1
) -> int: ...
