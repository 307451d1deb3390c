"""The numerical edge table: every loss class's value at the domain edges, as
tests/edge_table.csv states it (docs/reliability.rst shows it).

One element of the first differentiated argument (y_pred, x1, the anchor, the scores,
the log-probabilities) is set to each edge value, the rest of the input stays valid
(4 rows, float64, reduction="sum"), and the value is classified: finite, +inf, -inf,
nan or the exception raised. Where that differs from the NumPy reference on the same
input, the table marks the cell with "*" (docs/reliability.rst says why). The
"empty" column is the sum over zero rows.

    python tests/test_edges.py > tests/edge_table.csv     (rewrites the table)
"""

import csv
import math
import pathlib

import numpy as np
import pytest
from registry import ONE_PER_CLASS, params

from fastloss import reference

pytestmark = pytest.mark.one_kernel_set

TABLE = pathlib.Path(__file__).resolve().parent / "edge_table.csv"
EDGES = {"0": 0.0, "1": 1.0, "+inf": math.inf, "-inf": -math.inf, "nan": math.nan,
         "+1e308": 1e308, "-1e308": -1e308, "subnormal": 5e-324}
COLUMNS = ("loss", *EDGES, "empty")


def outcome(compute):
    """What a call gives: "finite", "+inf", "-inf", "nan" or the exception's name."""
    try:
        with np.errstate(all="ignore"):
            value = compute()
    except (TypeError, ValueError) as error:
        return type(error).__name__, None
    if math.isnan(value):
        return "nan", value
    if math.isinf(value):
        return ("+inf" if value > 0 else "-inf"), value
    return "finite", value


def _reference_value(entry, args, kwargs):
    args = [np.asarray(a, dtype=np.float64) if np.asarray(a).dtype.kind == "f" else a
            for a in args]
    if entry.paired:
        fn = getattr(reference, entry.shortcut)
        return float(fn(*args, **entry.params, **kwargs, reduction="sum")[0])
    return float(entry.reference("value", *args, "sum"))


def edge_row(entry):
    """The table's row for `entry`: one cell per edge, then the empty input."""
    inputs = entry.inputs(n=4)
    at = entry.wrt[0]
    loss = entry.loss("sum")
    row = {"loss": entry.id}
    for name, edge in EDGES.items():
        args = list(inputs.args)
        args[at] = np.array(args[at], dtype=np.float64)
        args[at].flat[0] = edge
        got, value = outcome(lambda args=args: loss(*args, **inputs.kwargs))
        expected, reference_value = outcome(
            lambda args=args: _reference_value(entry, args, inputs.kwargs))
        if got == expected == "finite":
            np.testing.assert_allclose(value, reference_value, rtol=1e-9,
                                       err_msg=f"{entry.id} at {name}")
        row[name] = got if got == expected else got + "*"
    empty = entry.inputs(n=0)
    row["empty"] = outcome(lambda: loss(*empty.args, **empty.kwargs))[0]
    return row


def read_table():
    with TABLE.open(newline="") as f:
        return {row["loss"]: row for row in csv.DictReader(f)}


def test_the_table_has_one_row_per_loss_class():
    assert list(read_table()) == [entry.id for entry in ONE_PER_CLASS]


@pytest.mark.parametrize("entry", **params(ONE_PER_CLASS))
def test_values_at_the_domain_edges_are_the_documented_ones(entry):
    assert edge_row(entry) == read_table()[entry.id]


@pytest.mark.parametrize("entry", **params(ONE_PER_CLASS))
def test_empty_input_every_method(entry):
    """Zero rows: "sum" gives 0 and zero-size gradients (zeros for ArcFace's class
    centres), "none" empty values, "mean" a ValueError (nothing to divide by)."""
    empty = entry.inputs(n=0)
    total, grad = entry.loss("sum").value_and_gradient(*empty.args, **empty.kwargs)
    assert total == 0.0
    grads = grad if isinstance(grad, tuple) else (grad,)
    assert all(not np.any(g) for g in grads)
    assert grads[0].size == 0
    assert entry.loss("none")(*empty.args, **empty.kwargs).size == 0
    with pytest.raises(ValueError, match="undefined"):
        entry.loss("mean")(*empty.args, **empty.kwargs)


if __name__ == "__main__":
    import sys

    writer = csv.DictWriter(sys.stdout, COLUMNS, lineterminator="\n")
    writer.writeheader()
    for entry in ONE_PER_CLASS:
        writer.writerow(edge_row(entry))
