"""One validation path for every loss: arrays, dtypes, shapes, weights, reductions.

Every error names the argument and what was wrong with it.
"""

import math

import numpy as np

REDUCTIONS = ("mean", "sum", "none")
#: Keras's epsilon (keras.backend.epsilon()): its MSLE raises inputs below it to it,
#: its MAPE divides by at least it, its L2 normalization divides by at least it.
KERAS_EPSILON = 1e-7
#: The largest relevance of an exponential gain 2^relevance - 1 (LambdaRank, NDCG's
#: "exponential" gains): the gain and the DCG sums of up to 2^23 items stay finite in
#: double.
MAX_GAIN_RELEVANCE = 1000.0
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)


def check_reduction(reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def _to_ndarray(x, name):
    """x as a NumPy array: subclasses (np.matrix, memmaps) are read as the plain array
    they hold; a masked array is refused, since a loss cannot know what its mask means
    (use .filled(), or for an element-wise loss sample_weight=~mask). A misaligned
    buffer is copied: the kernels load whole elements, which C requires aligned."""
    if type(x) is np.ndarray:
        return x if x.flags.aligned else x.copy()
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(
            f"{name} is a masked array; its mask would be ignored. Pass {name}.filled(value)"
            " or drop the masked items (for an element-wise loss, sample_weight=~mask "
            "leaves them out)")
    if isinstance(x, np.ndarray):
        return _to_ndarray(x.view(np.ndarray), name)
    if not hasattr(x, "__array__") and hasattr(x, "__dlpack__"):
        return _to_ndarray(np.from_dlpack(x), name)
    try:
        return _to_ndarray(np.asarray(x), name)
    except (ValueError, TypeError, RuntimeError) as exc:  # RuntimeError: a tensor that
        # requires grad (fastloss.torch differentiates through the loss)
        raise TypeError(f"{name} could not be converted to an array: {exc}") from None


def compute_dtype(dtype, name):
    """The dtype a kernel computes in for input of `dtype` (contract section 3)."""
    if dtype is _F64 or dtype is _F32:
        return dtype
    kind = dtype.kind
    if kind == "f":
        return _F32 if dtype.itemsize <= 4 else _F64
    if kind in "biu":
        return _F64
    raise TypeError(f"{name} must hold real numbers; got dtype {dtype}")


def as_real_array(x, name, dtype=None):
    """x as a C-contiguous float32/float64 array (dtype given, or chosen from x's dtype)."""
    arr = _to_ndarray(x, name)
    if dtype is None:
        dtype = compute_dtype(arr.dtype, name)
    elif arr.dtype is not dtype:
        compute_dtype(arr.dtype, name)  # rejects complex, object, strings
    if arr.dtype is dtype and arr.flags.c_contiguous:
        return arr
    return np.asarray(arr, dtype=dtype, order="C")  # (ascontiguousarray makes 0-d 1-d)


def check_same_shape(y_true, y_pred, true_name="y_true", pred_name="y_pred"):
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"{true_name} and {pred_name} must have the same shape; "
            f"got {true_name}.shape={y_true.shape} and {pred_name}.shape={y_pred.shape}"
        )


def as_sample_weight(sample_weight, shape, rowwise):
    """Validate sample_weight against the prediction shape.

    Returns (weights as C-contiguous float64, elements per weight). Weights have shape
    (n,) (one per row, broadcast over the other axes) or, for elementwise losses,
    exactly `shape`.
    """
    w = _to_ndarray(sample_weight, "sample_weight")
    compute_dtype(w.dtype, "sample_weight")
    w = np.asarray(w, dtype=_F64, order="C")
    n_rows = shape[0] if len(shape) else 1
    if w.shape == shape and not rowwise:
        per_weight = 1
    elif w.shape == (n_rows,) and len(shape) >= 1:
        per_weight = 1 if rowwise else int(np.prod(shape[1:], dtype=np.int64))
    else:
        if rowwise:
            expected = f"({n_rows},)"
        else:
            expected = f"({n_rows},) or {shape}" if len(shape) else "() (y_pred is a scalar)"
        raise ValueError(f"sample_weight must have shape {expected}; got {w.shape}")
    if w.size and not (np.isfinite(w).all() and (w >= 0).all()):
        bad = int(np.flatnonzero(~(np.isfinite(w) & (w >= 0)))[0])
        raise ValueError(
            f"sample_weight must be finite and >= 0; got {w.flat[bad].item()!r} at index {bad}"
        )
    return w, per_weight


def check_flag(name, value):
    """bool(value) for True or False (Python or NumPy); otherwise a ValueError."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def check_nonnegative(name, value):
    """float(value) for a finite real number >= 0; otherwise a ValueError naming it."""
    return check_number(name, value, lambda v: math.isfinite(v) and v >= 0.0,
                        "a finite number >= 0")


def check_positive(name, value):
    """float(value) for a finite real number > 0; otherwise a ValueError naming it."""
    return check_number(name, value, lambda v: math.isfinite(v) and v > 0.0,
                        "a finite number > 0")


def as_int64_array(value, name, shape=None):
    """An integer array (any integer or boolean dtype) as C-contiguous int64: a
    TypeError for other dtypes, a ValueError for another shape than `shape` (when
    given) or a uint64 value beyond int64."""
    array = _to_ndarray(value, name)
    if array.dtype.kind not in "biu":
        raise TypeError(f"{name} must hold integers; got dtype {array.dtype}")
    if shape is not None and array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}; got {array.shape}")
    if array.dtype.kind == "u" and array.dtype.itemsize == 8 and array.size \
            and array.max() > 2**63 - 1:
        raise ValueError(f"{name} must fit in int64")
    return np.ascontiguousarray(array, dtype=np.int64)


def check_number(name, value, ok, requirement):
    """float(value) for a real number (Python or NumPy scalar, not a bool) for which
    ok(float(value)) holds; otherwise a ValueError naming the parameter."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be {requirement}; got {value!r}")
    number = float(value)
    if not ok(number):
        raise ValueError(f"{name} must be {requirement}; got {value!r}")
    return number


def bad_value_error(name, values, index, requirement):
    """ValueError naming the first bad element by its (multi-)index."""
    where = np.unravel_index(index, values.shape) if values.ndim > 1 else index
    if isinstance(where, tuple):
        where = tuple(int(i) for i in where)
    return ValueError(
        f"{name} must be {requirement}; got {values.flat[index].item()!r} at index {where}"
    )
