"""Inputs that silently mislead elsewhere: each has a defined behaviour here. Masked
arrays are refused (their mask would be ignored); np.matrix and memmaps are read as
the arrays they hold; byte-swapped and misaligned buffers give the native result;
object arrays, labels that overflow int64 and booleans given for numbers are clear
errors."""

import numpy as np
import pytest
from registry import ONE_PER_CLASS, params

import fastloss as fl

FLOAT_INPUT_ENTRIES = ONE_PER_CLASS


def _value_and_gradient(entry, args, kwargs):
    return entry.loss().value_and_gradient(*args, **kwargs)


def _replace(args, index, value):
    return tuple(value if i == index else a for i, a in enumerate(args))


def _assert_same(first, second):
    first = first if isinstance(first, tuple) else (first,)
    second = second if isinstance(second, tuple) else (second,)
    for a, b in zip(first, second, strict=True):
        if isinstance(a, tuple):
            _assert_same(a, b)
        else:
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def _float_arg(inputs):
    """The index of the last floating-point argument (the predictions, or the
    embeddings, scores, log-probabilities)."""
    return max(i for i, a in enumerate(inputs.args)
               if isinstance(a, np.ndarray) and a.dtype.kind == "f")


@pytest.mark.parametrize("entry", **params(FLOAT_INPUT_ENTRIES))
def test_masked_arrays_are_refused(entry):
    inputs = entry.inputs()
    k = _float_arg(inputs)
    masked = np.ma.masked_array(inputs.args[k], mask=np.zeros(inputs.args[k].shape, bool))
    with pytest.raises(TypeError, match="masked array"):
        _value_and_gradient(entry, _replace(inputs.args, k, masked), inputs.kwargs)


@pytest.mark.parametrize("entry", **params(FLOAT_INPUT_ENTRIES))
def test_byte_swapped_misaligned_and_memmapped_inputs_give_the_native_result(entry, tmp_path):
    inputs = entry.inputs()
    k = _float_arg(inputs)
    x = inputs.args[k]
    expected = _value_and_gradient(entry, inputs.args, inputs.kwargs)
    swapped = x.astype(x.dtype.newbyteorder())
    misaligned = np.frombuffer(b"\0" + x.tobytes(), dtype=x.dtype, offset=1,
                               count=x.size).reshape(x.shape)
    mapped = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=x.dtype,
                                       shape=x.shape)
    mapped[...] = x
    for other in (swapped, misaligned, mapped):
        got = _value_and_gradient(entry, _replace(inputs.args, k, other), inputs.kwargs)
        _assert_same(got, expected)


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
@pytest.mark.parametrize("entry", **params([e for e in FLOAT_INPUT_ENTRIES
                                            if np.ndim(e.inputs().args[-1]) == 2]))
def test_matrix_inputs_are_read_as_arrays(entry):
    inputs = entry.inputs()
    k = _float_arg(inputs)
    expected = _value_and_gradient(entry, inputs.args, inputs.kwargs)
    got = _value_and_gradient(entry, _replace(inputs.args, k, np.matrix(inputs.args[k])),
                              inputs.kwargs)
    _assert_same(got, expected)
    grads = got[1] if isinstance(got[1], tuple) else (got[1],)
    assert all(type(g) is np.ndarray for g in grads)


@pytest.mark.parametrize("entry", **params(FLOAT_INPUT_ENTRIES))
def test_object_arrays_of_numbers_are_refused(entry):
    inputs = entry.inputs()
    k = _float_arg(inputs)
    with pytest.raises(TypeError, match="real numbers"):
        _value_and_gradient(entry, _replace(inputs.args, k, inputs.args[k].astype(object)),
                            inputs.kwargs)


@pytest.mark.parametrize("labels", [
    np.array([0, 2**63], dtype=np.uint64),          # beyond int64
    np.array([0.0, np.nan]),                         # NaN, which int64 casts to garbage
    np.array([0.0, 2.0**70]),                        # a float beyond int64
    np.array([0, 2**40], dtype=np.int64),            # beyond int32, and the classes
])
def test_labels_that_overflow_when_cast_are_clear_errors(labels):
    logits = np.zeros((2, 3))
    with pytest.raises(ValueError, match="y_true"):
        fl.SparseCategoricalCrossEntropy(from_logits=True)(labels, logits)


@pytest.mark.parametrize("make", [
    lambda: fl.Huber(delta=True),
    lambda: fl.Quantile(quantile=np.True_),
    lambda: fl.BinaryFocal(gamma=False),
    lambda: fl.Contrastive(margin=True),
    lambda: fl.BinaryCrossEntropy(from_logits=1),
    lambda: fl.CTC(blank=True),
])
def test_booleans_for_numbers_and_numbers_for_booleans_are_refused(make):
    with pytest.raises((TypeError, ValueError)):
        make()
