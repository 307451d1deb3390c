"""Losses on Dask arrays: lazy values, gradients and hessians, bitwise equal to the
in-memory call on the same data.

Every kernel cuts its items into blocks of a fixed size (4096 elements, or the rows
of about 4096 elements for the multi-class and ranking losses), sums each block in a
fixed order and adds the block sums by recursive halving (`pairwise_sum` in the
kernels). The weight total that "mean" divides by is computed the same way. Here the
arrays are rechunked so that every chunk starts on a block boundary; each chunk's
task computes its blocks' sums and, from them, the sums of the subtrees of the
halving that lie inside the chunk (a few numbers per chunk); a tree of tasks merges
neighbouring chunks' subtrees. The root is the in-memory sum to the bit, whatever the
chunking, the number of workers or their threads.

Chunking rules:

- element-wise losses: the arrays are flattened (C order) and each chunk boundary is
  moved down to a multiple of 4096 elements (chunks smaller than that merge with the
  next); gradients and hessians come back with y_pred's shape and chunks;
- multi-class and ranking losses: whole rows (the class or list axis is one chunk)
  and row boundaries on multiples of the loss's rows per block;
- pair and triplet losses (Contrastive, CosineEmbedding, Triplet): whole rows of
  every input, row boundaries on multiples of the rows per block (4096 // dim);
- the losses over the whole batch (BatchTriplet, SupCon, InfoNCE, ArcFace, CosFace)
  cannot be split: TypeError.

Rechunking moves at most one block per chunk boundary between neighbouring chunks
when the original chunks are larger than a block; Dask does it lazily, chunk by
chunk.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from fastloss._core.base import ElementwiseLoss, OnePassLoss
from fastloss._core.rowwise import RowwiseLoss
from fastloss._core.validation import compute_dtype
from fastloss._kernels import common as modes
from fastloss.embedding import _RowEmbeddingLoss
from fastloss.ranking import _RankingLoss
from fastloss.segmentation import _Overlap

if TYPE_CHECKING:
    from dask.array import Array

__all__ = ["value", "gradient", "value_and_gradient", "gradient_hessian"]

#: Number of subtree sums merged by one task of the tree reduction.
_FAN_IN = 8
#: pairwise_sum adds up to this many block sums in a row (a leaf of the halving).
_LEAF = 8


def _dask():
    try:
        import dask
        import dask.array as da
    except ImportError as error:  # pragma: no cover - exercised without dask only
        raise ImportError(
            "fastloss.dask needs Dask: pip install 'fastloss[dask]'"
        ) from error
    return dask, da


# ---- the halving of pairwise_sum, split between chunks ------------------------------
# A node (lo, hi) is the sum of block sums lo..hi-1 as pairwise_sum computes it: for
# hi - lo <= 8, 0.0 + s[lo] + ... + s[hi-1] in that order; else node(lo, mid) +
# node(mid, hi) with mid = lo + (hi - lo) // 2. A chunk knows the block sums of its
# own range; it returns the largest nodes inside its range and, for a leaf that
# crosses its boundary, its raw block sums ("raw", index).


def _node_value(partials, first, lo, hi):
    """pairwise_sum of the block sums lo..hi-1, all held in `partials` (which starts
    at block `first`)."""
    if hi - lo <= _LEAF:
        total = 0.0
        for i in range(lo, hi):
            total += float(partials[i - first])
        return total
    mid = lo + (hi - lo) // 2
    return _node_value(partials, first, lo, mid) + _node_value(partials, first, mid, hi)


def _chunk_nodes(partials, first, n_blocks):
    """The largest halving nodes inside blocks [first, first + len(partials))."""
    stop = first + len(partials)
    nodes = {}

    def visit(lo, hi):
        if hi <= first or lo >= stop:
            return
        if first <= lo and hi <= stop:
            nodes[("node", lo, hi)] = _node_value(partials, first, lo, hi)
        elif hi - lo <= _LEAF:
            for i in range(max(lo, first), min(hi, stop)):
                nodes[("raw", i)] = float(partials[i - first])
        else:
            mid = lo + (hi - lo) // 2
            visit(lo, mid)
            visit(mid, hi)

    visit(0, n_blocks)
    return nodes


def _merge_nodes(n_blocks, key, *parts):
    """Merge the nodes of neighbouring chunks (each part's nodes, or its `key` entry
    when key is not None), replacing every node whose parts are all known by its
    value (so that what travels up the tree stays small)."""
    known = {}
    for part in parts:
        known.update(part if key is None else part[key])
    if not known:
        return known
    # The parts are neighbours: the blocks they cover are one range.
    first = min(key[1] for key in known)
    stop = max(key[1] + 1 if key[0] == "raw" else key[2] for key in known)

    def evaluate(lo, hi):
        """The value of node (lo, hi) if known or computable, else None."""
        if lo < first or hi > stop:
            return None
        if ("node", lo, hi) in known:
            return known[("node", lo, hi)]
        if hi - lo <= _LEAF:
            if all(("raw", i) in known for i in range(lo, hi)):
                total = 0.0
                for i in range(lo, hi):
                    total += known[("raw", i)]
                return total
            return None
        mid = lo + (hi - lo) // 2
        left = evaluate(lo, mid)
        right = evaluate(mid, hi) if left is not None else None
        return None if right is None else left + right

    merged = {}

    def collect(lo, hi):
        if hi <= first or lo >= stop:
            return
        found = evaluate(lo, hi)
        if found is not None:
            if any(_inside(key, lo, hi) for key in known):
                merged[("node", lo, hi)] = found
            return
        if hi - lo <= _LEAF:
            merged.update({key: v for key, v in known.items()
                           if key[0] == "raw" and lo <= key[1] < hi})
            return
        mid = lo + (hi - lo) // 2
        collect(lo, mid)
        collect(mid, hi)

    collect(0, n_blocks)
    return merged


def _inside(key, lo, hi):
    if key[0] == "raw":
        return lo <= key[1] < hi
    return lo <= key[1] and key[2] <= hi


def _root(n_blocks, key, *parts):
    """The sum of all block sums, in the kernels' order."""
    if n_blocks == 0:
        return 0.0
    nodes = _merge_nodes(n_blocks, key, *parts)
    if n_blocks == 1:  # blocked_sum returns a single block's sum as it is
        return nodes.get(("raw", 0), nodes.get(("node", 0, 1)))
    return nodes[("node", 0, n_blocks)]


def _reduce(dask, n_blocks, trees, then=None, args=()):
    """A delayed float: then(root, ..., *args) (the first root where `then` is None),
    each root being the halving's root over one (node_tasks, key) of `trees`: the tasks'
    nodes (their `key` entry when key is not None), merged in a tree of tasks up to
    _FAN_IN parts. The roots and `then` are one task: each task more on the way to the
    result is one more round trip to the scheduler (several ms: docs/dask.rst)."""
    merge = dask.delayed(_merge_nodes, pure=True)
    tops = []
    for node_tasks, key in trees:
        level = list(node_tasks)
        while len(level) > _FAN_IN:
            level = [merge(n_blocks, key, *level[i:i + _FAN_IN])
                     for i in range(0, len(level), _FAN_IN)]
            key = None
        tops.append((key, level))
    return dask.delayed(_finish, pure=True)(n_blocks, tops, then, args)


def _finish(n_blocks, tops, then, args):
    """The last task of _reduce: the roots of `tops` ((key, parts) each), then `then`."""
    roots = [_root(n_blocks, key, *parts) for key, parts in tops]
    return roots[0] if then is None else then(*roots, *args)


# ---- layouts: how a loss's arrays are split -------------------------------------------

def _aligned(chunks, block, total):
    """Chunk sizes whose boundaries are those of `chunks` moved down to multiples of
    `block` (the last chunk ends at `total`)."""
    bounds = np.cumsum(chunks)[:-1]
    cuts = sorted({int(b) - int(b) % block for b in bounds} - {0})
    cuts = [c for c in cuts if c < total]
    edges = [0, *cuts, total]
    sizes = tuple(b - a for a, b in zip(edges[:-1], edges[1:], strict=True))
    return sizes if sizes else (0,)


def _check_known(arr, name):
    if any(math.isnan(c) for dim in arr.chunks for c in dim):
        raise ValueError(
            f"{name} has unknown chunk sizes: call {name}.compute_chunk_sizes() first"
        )


class _Split:
    """The arrays of one call, rechunked so that every chunk starts on a block boundary.

    The arrays are split along their first axis, into whole rows (for an element-wise
    loss on 0-d or 1-d arrays, into elements). `inputs` are the public arrays of the
    call, rechunked (y_true and y_pred; for a pair or triplet loss its three arrays);
    `parts` is a list of (first block, the inputs' chunks, w chunk, where chunk) as
    delayed objects (None for an absent array), `chunk_sizes` the rows of each chunk,
    `preds` the arrays that gradients are shaped and chunked like (y_pred, or the
    embeddings), `items` the number of reduction items (elements, or rows for the
    row-wise losses), `row_items` the items per row and `block` the items per block.
    """

    def __init__(self, loss, arrays, sample_weight, where=None):
        dask, da = _dask()
        if not isinstance(loss, OnePassLoss):
            raise TypeError(f"loss must be a fastloss loss object, such as "
                            f"fl.MeanSquaredError(); got {loss!r}")
        if isinstance(loss, _Overlap):
            raise TypeError(f"fastloss.dask computes element-wise, multi-class, ranking, "
                            f"pair and triplet losses, not {type(loss).__name__}")
        if not isinstance(loss, _SPLITTABLE):
            raise TypeError(
                "fastloss.dask computes element-wise, multi-class, ranking, pair and "
                f"triplet losses; {type(loss).__name__} cannot be split between chunks"
                + (" (it mines triplets over the whole batch)"
                   if type(loss).__name__ == "BatchTriplet" else
                   " (each row's loss depends on the whole batch)")
            )
        names = _argument_names(loss)
        if len(arrays) != len(names):
            raise TypeError(f"{type(loss).__name__} takes {len(names)} arrays "
                            f"({', '.join(names)}); got {len(arrays)}")
        arrays = [a if isinstance(a, da.Array) else da.asarray(np.asarray(a)) for a in arrays]
        w, mask = (a if a is None or isinstance(a, da.Array) else da.asarray(np.asarray(a))
                   for a in (sample_weight, where))
        if mask is not None and not isinstance(loss, _RankingLoss):
            raise TypeError(f"where is an argument of the ranking losses, not of "
                            f"{type(loss).__name__}")
        for arr, name in (*zip(arrays, names, strict=True), (w, "sample_weight"),
                          (mask, "where")):
            if arr is not None:
                _check_known(arr, name)
        self.loss = loss
        self.rows = not isinstance(loss, ElementwiseLoss)
        self.where = None
        if isinstance(loss, _RowEmbeddingLoss):
            self._split_embeddings(names, arrays, w)
        elif self.rows:
            self._split_rows(*arrays, w, mask)
        else:
            self._split_elements(*arrays, w)
        self.shape = self.preds[0].shape
        self.n_blocks = -(-self.items // self.block) if self.items else 0
        firsts = np.cumsum((0,) + self.chunk_sizes[:-1]) * self.row_items // self.block
        columns = [a.to_delayed().ravel() for a in self.inputs]
        weights, masks = ([None] * len(firsts) if a is None else a.to_delayed().ravel()
                          for a in (self.w, self.where))
        self.parts = [(int(first), tuple(column[i] for column in columns), weights[i], masks[i])
                      for i, first in enumerate(firsts)]
        self.dask = dask

    def _split_elements(self, y, p, w):
        if y.shape != p.shape:
            raise ValueError(
                f"y_true and y_pred must have the same shape; got {y.shape} and {p.shape}"
            )
        self.preds = (p,)
        if p.ndim < 2:  # split the elements
            if w is not None and w.shape != p.shape:
                expected = "()" if p.ndim == 0 else f"{p.shape}"
                raise ValueError(f"sample_weight must have shape {expected}; got {w.shape}")
            p, y, w = (None if a is None else a.reshape(-1) for a in (p, y, w))
        elif w is not None and w.shape not in ((p.shape[0],), p.shape):
            raise ValueError(
                f"sample_weight must have shape ({p.shape[0]},) or {p.shape}; got {w.shape}"
            )
        # Whole rows, each chunk starting on a block: a multiple of `step` rows. The
        # chunks keep their shape, so per-label parameters see their columns.
        self.block = self.loss._block_items(p.shape)
        self.row_items = math.prod(p.shape[1:])
        step = self.block // math.gcd(self.block, self.row_items)
        sizes = _aligned(p.chunks[0], step, p.shape[0])
        whole = (sizes,) + (-1,) * (p.ndim - 1)
        self.inputs = (y.rechunk(whole), p.rechunk(whole))
        self.w = None if w is None else w.rechunk(whole[:w.ndim])
        self.items, self.chunk_sizes = p.shape[0] * self.row_items, sizes

    def _split_rows(self, y, p, w, mask):
        if p.ndim != 2:
            raise ValueError(f"y_pred must be 2-D (n, width); got shape {p.shape}")
        n, width = p.shape
        if y.shape not in ((n,), (n, width)):
            raise ValueError(
                f"y_true must have shape ({n},) or {p.shape}; got {y.shape}"
            )
        if mask is not None and mask.shape != p.shape:
            raise ValueError(f"where must have the shape of the scores {p.shape}; "
                             f"got {mask.shape}")
        self.preds = (p,)
        sizes = self._split_whole_rows(p, (y, p), w)
        self.where = None if mask is None else mask.rechunk((sizes, -1))

    def _split_embeddings(self, names, arrays, w):
        """A pair or triplet loss: the embeddings (n, dim), and for a pair loss its
        (n,) pair labels first."""
        embeddings = arrays[-len(self.loss._input_names):]
        first, *others = names[-len(embeddings):]
        if embeddings[0].ndim != 2:
            raise ValueError(f"{first} must be 2-D (n, dim); got shape {embeddings[0].shape}")
        for x, name in zip(embeddings[1:], others, strict=True):
            if x.shape != embeddings[0].shape:
                raise ValueError(f"{name} must have the shape of {first} "
                                 f"{embeddings[0].shape}; got {x.shape}")
        n = embeddings[0].shape[0]
        for x, name in zip(arrays[:-len(embeddings)], names, strict=False):
            if x.shape != (n,):
                raise ValueError(f"{name} must have shape ({n},), one per pair; got {x.shape}")
        self.preds = tuple(embeddings)
        self._split_whole_rows(embeddings[0], arrays, w)

    def _split_whole_rows(self, first, arrays, w):
        """Rechunk `arrays` (each (n,) or (n, width)) into whole rows, the row boundaries
        on multiples of the loss's rows per block; return the chunk sizes."""
        n = first.shape[0]
        if w is not None and w.shape != (n,):
            raise ValueError(f"sample_weight must have shape ({n},); got {w.shape}")
        self.block = self.loss._block_items(first.shape)
        sizes = _aligned(first.chunks[0], self.block, n)
        self.inputs = tuple(a.rechunk((sizes,) + (-1,) * (a.ndim - 1)) for a in arrays)
        self.w = None if w is None else w.rechunk((sizes,))
        self.items, self.chunk_sizes, self.row_items = n, sizes, 1
        return sizes

    # -- tasks --------------------------------------------------------------------------

    def map(self, task, *args):
        """One delayed call task(loss, first_block, n_blocks, arrays, *args) per chunk,
        arrays being the chunk's (inputs, w, where)."""
        call = self.dask.delayed(task, pure=True)
        return [call(self.loss, first, self.n_blocks, arrays, *args)
                for first, *arrays in self.parts]

    def weight_counted(self):
        """Whether "mean"'s weight total is the number of items, known without a pass
        over the data: an element-wise, ranking, pair or triplet loss without sample
        weights."""
        return self.w is None and isinstance(
            self.loss, (ElementwiseLoss, _RankingLoss, _RowEmbeddingLoss))

    def divisor_args(self):
        """The arguments of _check_divisor after the weight total."""
        return (self.loss._items, self.loss._zero_total, self.items)

    def divisor(self):
        """"mean"'s divisor, the in-memory weight total, with the in-memory errors when
        computed: the number of items where weight_counted() and there are some (over
        none, a delayed check that raises), else a delayed float (a pass over the
        weights, or over the targets where class weights or ignored labels define it)."""
        if self.weight_counted():
            if self.items > 0:
                return self.items
            return self.dask.delayed(_check_divisor, pure=True)(
                self.items, *self.divisor_args())
        return _reduce(self.dask, self.n_blocks, [(self.map(_weight_task), None)],
                       _check_divisor, self.divisor_args())

    def array(self, results, index):
        """The index-th output of each chunk's results as one dask array: one value
        per row or element ("values"), or shaped and chunked like the prediction (a
        tuple of arrays, one per embedding, for a pair or triplet loss)."""
        if index == "values":
            dtype = compute_dtype(self.preds[0].dtype, "y_pred")
            if self.rows:
                return self._concatenate(results, index, (), dtype)
            return self._derivative(results, index, self.preds[0], dtype)
        dtypes = _output_dtypes(self.preds)
        if len(self.preds) == 1:
            return self._derivative(results, index, self.preds[0], dtypes[0])
        return tuple(self._derivative(results, (index, j), pred, dtype)
                     for j, (pred, dtype) in enumerate(zip(self.preds, dtypes, strict=True)))

    def _derivative(self, results, key, pred, dtype):
        """The chunks' `key` outputs as one array shaped and chunked like `pred`."""
        tail = pred.shape[1:] if len(pred.shape) >= 2 else ()
        out = self._concatenate(results, key, tail, dtype)
        return out.reshape(pred.shape).rechunk(pred.chunks)

    def _concatenate(self, results, key, tail, dtype):
        _, da = _dask()
        getitem = self.dask.delayed(_item, pure=True)
        pieces = [da.from_delayed(getitem(result, key), shape=(size, *tail), dtype=dtype)
                  for size, result in zip(self.chunk_sizes, results, strict=True)]
        return da.concatenate(pieces, axis=0) if len(pieces) > 1 else pieces[0]

    def scalar(self, delayed_value):
        _, da = _dask()
        return da.from_delayed(delayed_value, shape=(), dtype=np.float64)


#: The losses whose items (elements, rows, lists, pairs, triplets) are independent.
_SPLITTABLE = (ElementwiseLoss, RowwiseLoss, _RankingLoss, _RowEmbeddingLoss)


def _argument_names(loss):
    """The names of the arrays of the loss's value call."""
    if isinstance(loss, _RowEmbeddingLoss):
        return loss._argument_names
    if isinstance(loss, _RankingLoss):
        return ("relevance", "scores")
    return ("y_true", "y_pred")


def _output_dtypes(preds):
    """The dtype of each derivative: the prediction's own float dtype, or the compute
    dtype of the call (float64 where the predictions' dtypes differ)."""
    computed = {compute_dtype(p.dtype, "y_pred") for p in preds}
    common = computed.pop() if len(computed) == 1 else np.dtype(np.float64)
    return [p.dtype if p.dtype.kind == "f" else common for p in preds]


def _item(result, key):
    if isinstance(key, tuple):
        return result[key[0]][key[1]]
    return result[key]


def _prepared(loss, arrays):
    inputs, w, where = arrays
    if where is None:
        return loss._prepare(*inputs, sample_weight=w)
    return loss._prepare(*inputs, where=where, sample_weight=w)


def _prediction(loss, inputs):
    """The prepared array that the reduction's items are counted on."""
    return inputs[0][0] if isinstance(loss, _RowEmbeddingLoss) else inputs[1]


def _new_partials(loss, inputs):
    """An array for the block sums of a chunk."""
    pred = _prediction(loss, inputs)
    items = pred.size if isinstance(loss, ElementwiseLoss) else len(pred)
    return modes.block_partials(items, loss._block_items(pred.shape))


def _weight_nodes(loss, inputs, first, n_blocks):
    partials = _new_partials(loss, inputs)
    loss._weight_total(inputs, partials)
    return _chunk_nodes(partials, first, n_blocks)


def _weight_task(loss, first, n_blocks, arrays):
    return _weight_nodes(loss, _prepared(loss, arrays), first, n_blocks)


def _kernel_task(loss, first, n_blocks, arrays, mode, scale, with_total=False):
    """One kernel pass over a chunk: its outputs, its blocks' halving nodes and, with
    `with_total`, those of its weight total."""
    inputs = _prepared(loss, arrays)
    public = arrays[0]
    original = (tuple(public[-len(loss._input_names):])
                if isinstance(loss, _RowEmbeddingLoss) else public[1])
    partials = _new_partials(loss, inputs)
    result = {}
    if mode in (modes.VALUE_NONE, modes.VALUE_NONE_GRADIENT):
        result["values"] = loss._values_buffer(inputs)
    if mode != modes.VALUE_SUM and mode != modes.VALUE_NONE:
        result["grad"] = loss._outputs(None, inputs, original)
    if mode == modes.GRADIENT_HESSIAN:
        result["hess"] = loss._outputs(None, inputs, original)
    if mode == modes.VALUE_NONE_GRADIENT:
        out_a, out_b = result["values"], result["grad"].buffer
    else:
        out_a = result["grad"].buffer if "grad" in result else result.get("values")
        out_b = result["hess"].buffer if "hess" in result else None
    loss._run(mode, inputs, out_a, out_b, scale, partials=partials)
    for key in ("grad", "hess"):
        if key in result:
            result[key] = result[key].result()
    result["nodes"] = _chunk_nodes(partials, first, n_blocks)
    if with_total:
        result["weight_nodes"] = _weight_nodes(loss, inputs, first, n_blocks)
    return result


def _check_divisor(divisor, items_word, zero_reason, count):
    """The divisor of "mean" (as the in-memory _mean_divisor: ValueError unless > 0)."""
    if not divisor > 0:
        what = f"no {items_word}" if count == 0 else zero_reason
        raise ValueError(f'reduction="mean" is undefined over {what}')
    return divisor


def _divide(total, divisor):
    return float(total) / divisor


def _mean(total, weight_total, *divisor_args):
    """total / the weight total summed in the same pass (checked as _check_divisor)."""
    return _divide(total, _check_divisor(weight_total, *divisor_args))


def _inverse(divisor):
    return 1.0 / divisor


# ---- the public functions -------------------------------------------------------------

def _gradient_scale(split):
    """(scale, divisor) of the gradient: 1 / the global weight total for "mean" (a
    number where the weight total is, so the kernel tasks wait for no other task)."""
    if split.loss.reduction != "mean":
        return 1.0, None
    divisor = split.divisor()
    if isinstance(divisor, int):
        return _inverse(divisor), divisor
    return split.dask.delayed(_inverse, pure=True)(divisor), divisor


def _total(split, results, divisor):
    """The reduced value of the chunk results: their sum, divided by `divisor` unless
    None."""
    trees = [(results, "nodes")]
    if divisor is None:
        return _reduce(split.dask, split.n_blocks, trees)
    return _reduce(split.dask, split.n_blocks, trees, _divide, (divisor,))


def value(
    loss: Any, *arrays: Any, sample_weight: Any = None, where: Any = None
) -> Array:
    """The loss value as a lazy Dask array: 0-d for "mean" and "sum" (computed, it is
    bitwise equal to ``loss(y_true, y_pred, sample_weight=...)`` on the same data),
    one value per element or row for "none". The arguments are those of the loss's
    own call (for a ranking loss: relevance, scores and its ``where`` mask; for a pair
    loss its labels and the two embeddings; for Triplet anchor, positive, negative).

    >>> import dask.array as da, fastloss as fl, fastloss.dask as fld, numpy as np
    >>> y, p = np.linspace(0, 1, 10_000), np.linspace(1, 0, 10_000)
    >>> lazy = fld.value(fl.MeanSquaredError(), da.from_array(y, chunks=3000),
    ...                  da.from_array(p, chunks=2500))
    >>> float(lazy.compute()) == fl.mse(y, p)
    True
    """
    split = _Split(loss, arrays, sample_weight, where)
    if loss.reduction == "none":
        results = split.map(_kernel_task, modes.VALUE_NONE, 1.0)
        return split.array(results, "values")
    if loss.reduction == "mean" and not split.weight_counted():
        # The weight total summed in the same pass, divided by in the last task.
        results = split.map(_kernel_task, modes.VALUE_SUM, 1.0, True)
        return split.scalar(_reduce(
            split.dask, split.n_blocks, [(results, "nodes"), (results, "weight_nodes")],
            _mean, split.divisor_args()))
    divisor = split.divisor() if loss.reduction == "mean" else None
    results = split.map(_kernel_task, modes.VALUE_SUM, 1.0)
    return split.scalar(_total(split, results, divisor))


def gradient(
    loss: Any, *arrays: Any, sample_weight: Any = None, where: Any = None
) -> Array:
    """d(reduced loss)/d(y_pred) as a lazy Dask array chunked like y_pred; for "mean"
    scaled by the global weight total (one extra pass over the weights, or over the
    targets where class weights or ignored labels define it)."""
    split = _Split(loss, arrays, sample_weight, where)
    results = split.map(_kernel_task, modes.GRADIENT, _gradient_scale(split)[0])
    return split.array(results, "grad")


def value_and_gradient(
    loss: Any, *arrays: Any, sample_weight: Any = None, where: Any = None
) -> tuple[Array, Any]:
    """(value, gradient), both lazy, from one kernel pass per chunk (as the in-memory
    method, whose results they equal bit for bit). The gradient of a pair or triplet
    loss is a tuple of lazy arrays, one per embedding."""
    split = _Split(loss, arrays, sample_weight, where)
    if loss.reduction == "none":
        results = split.map(_kernel_task, modes.VALUE_NONE_GRADIENT, 1.0)
        return split.array(results, "values"), split.array(results, "grad")
    scale, divisor = _gradient_scale(split)
    results = split.map(_kernel_task, modes.VALUE_GRADIENT, scale)
    return split.scalar(_total(split, results, divisor)), split.array(results, "grad")


def gradient_hessian(
    loss: Any, *arrays: Any, sample_weight: Any = None, where: Any = None
) -> tuple[Array, Any]:
    """(gradient, diagonal hessian) as lazy Dask arrays chunked like y_pred."""
    split = _Split(loss, arrays, sample_weight, where)
    results = split.map(_kernel_task, modes.GRADIENT_HESSIAN, _gradient_scale(split)[0])
    return split.array(results, "grad"), split.array(results, "hess")
