"""Benchmarks: the workload registry, an interleaved timer and `python -m fastloss bench`.

A workload is one loss with the data it is measured on. Every benchmark of the
project (this command, the asv suite in asv_benchmarks/, the scripts in benchmarks/)
reads the registry below, so adding a loss to all of them is one `Workload` entry.
Workloads whose class this build does not export are left out, and a family appears
as soon as it has one.

How we measure: the machines are shared and noisy, so a claim is a ratio
of medians measured in one process on the same data, with the candidates run in
interleaved rounds so that a burst of noise hits all of them alike.

`python -m fastloss bench` runs a representative sweep by default (every workload
at one size, its `sweep_size`: about two minutes on two cores), the whole sweep
with --full (every workload's `sizes`) and a smoke test with --quick; it reports
its progress on standard error as it goes.
"""

import argparse
import gc
import json
import math
import os
import platform
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, field

import numpy as np

import fastloss
from fastloss import reference
from fastloss._cli import integers
from fastloss._core.base import Loss
from fastloss._core.config import MAX_THREADS

MODES = ("value", "value_and_gradient")
DTYPES = ("float64", "float32")
DEFAULT_SIZES = (10**2, 10**4, 10**6)
QUICK_SIZES = (10**3, 10**5)
#: The size of the elementwise workloads in the default sweep (the kernels' time, not
#: the call overhead, at this size); the others set theirs where their NumPy
#: references would take too long at this size.
SWEEP_SIZE = 10**5


# -- workloads ----------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """One loss and the data it is measured on.

    loss       class name exported by fastloss
    shortcut   its function shortcut, also the name of its NumPy reference
               (`reference.<shortcut>` and `reference.<shortcut>_grad`, or one
               `reference.<shortcut>` returning (value, gradients): see paired)
    data       data(n, dtype, rng) -> (args, kwargs): the arrays of one call, with
               n the number of elements of the prediction, the last of args (its
               shape is the workload's business: (n,) elementwise, (n // C, C) for C
               classes, (n // dim, dim) embeddings, (n // L, L) lists of L items)
    params     hyper-parameters, passed to the class and to the reference
    sizes      sizes (elements) of `python -m fastloss bench --full`
    sweep_size the size of the default sweep of `python -m fastloss bench`: one
               where fastloss's speed shows and the references take at most tens of
               milliseconds per call
    max_size   largest sensible size (the asv suite skips bigger ones)
    reference_max_size  largest size the NumPy reference is run at (it may need far
               more memory or time than the loss itself); None: max_size
    torch      torch(F, params) -> f(*args) returning the scalar loss tensor, with
               F = torch.nn.functional and args in fastloss's order; None if PyTorch
               has no such loss
    wrt        indices of the args the gradient is taken for (torch's backward)
    paired     the reference computes the value and the gradients in one call (the
               embedding and ranking references): it serves value_and_gradient, and
               value mode has no NumPy reference
    label      the workload's name where one loss has several (BatchTriplet's
               strategies); None: the loss's class name
    asv_gradient_ratio_max_size  largest size at which the asv suite's Ratio
               benchmark times value_and_gradient against the reference, set where
               one reference call takes seconds (ASV_RATIO_SLOW_GRADIENT_MAX); None:
               no limit of its own. Only that benchmark reads it: `python -m fastloss
               bench`, the scripts in benchmarks/ and asv's Reference timings run the
               reference up to reference_max_size
    """

    loss: str
    shortcut: str
    data: object
    params: dict = field(default_factory=dict)
    sizes: tuple = DEFAULT_SIZES
    sweep_size: int = SWEEP_SIZE
    max_size: int = 10**7
    reference_max_size: int = None
    torch: object = None
    wrt: tuple = (1,)
    paired: bool = False
    label: str = None
    asv_gradient_ratio_max_size: int = None

    @property
    def name(self):
        """Unique among the workloads: the label, else the loss's class name."""
        return self.label or self.loss

    @property
    def loss_class(self):
        return getattr(fastloss, self.loss)

    @property
    def family(self):
        """The family is the module the class lives in: fastloss.regression -> regression."""
        return self.loss_class.__module__.rsplit(".", 1)[-1]

    def reference(self, mode, n=None):
        """The NumPy reference for `mode` as f(*args, **kwargs), or None if it is
        missing (or not run at size n: above reference_max_size)."""
        value = getattr(reference, self.shortcut, None)
        limit = self.max_size if self.reference_max_size is None else self.reference_max_size
        if value is None or (n is not None and n > limit):
            return None
        params = self.params
        if self.paired:
            return None if mode == "value" else lambda *a, **k: value(*a, **k, **params)
        if mode == "value":
            return lambda *a, **k: value(*a, **k, **params)
        grad = getattr(reference, self.shortcut + "_grad", None)
        if grad is None:
            return None
        return lambda *a, **k: (value(*a, **k, **params), grad(*a, **k, **params))

    def fastloss(self, mode):
        """The fastloss call for `mode` as f(*args, **kwargs)."""
        loss = self.loss_class(**self.params)
        return loss if mode == "value" else loss.value_and_gradient


def _normal_pair(n, dtype, rng):
    """Targets ~ N(0, 1) and predictions off by N(0, 1) errors (both sides of delta=1)."""
    y = rng.standard_normal(n)
    p = y + rng.standard_normal(n)
    return (y.astype(dtype), p.astype(dtype)), {}


def _positive_pair(n, dtype, rng):
    """Positive targets (Gamma, mean 3) and predictions within about 30 % of them."""
    y = rng.gamma(2.0, 1.5, n)
    p = y * np.exp(rng.normal(0.0, 0.3, n))
    return (y.astype(dtype), p.astype(dtype)), {}


def _count_pair(positive):
    """Non-negative (or positive) targets and log-mean predictions near log(3)."""

    def data(n, dtype, rng):
        log_mean = rng.normal(1.0, 0.5, n)
        if positive:
            y = rng.gamma(2.0, np.exp(log_mean) / 2.0)
        else:
            y = rng.poisson(np.exp(log_mean)) * rng.gamma(2.0, 0.5, n)
        return (y.astype(dtype), log_mean.astype(dtype)), {}

    return data


def _torch_elementwise(name, **names):
    """torch(F, params) for F.<name>(y_pred, y_true, <torch keyword>=<our param>)."""

    def build(F, params):
        fn = getattr(F, name)
        kw = {theirs: params[ours] for theirs, ours in names.items() if ours in params}
        return lambda y, p: fn(p, y, **kw)

    return build


def _gaussian_triple(n, dtype, rng):
    """Targets, predicted means and variances, n of each."""
    y = rng.normal(0.0, 2.0, n)
    mean = y + rng.normal(0.0, 1.0, n)
    var = rng.uniform(0.05, 3.0, n)
    return tuple(a.astype(dtype) for a in (y, mean, var)), {}


def _torch_gaussian_nll(F, params):
    return lambda y, mean, var: F.gaussian_nll_loss(mean, y, var)


def _torch_poisson(F, params):
    return lambda y, p: F.poisson_nll_loss(p, y, log_input=True, full=False)


def _binary_pair(n, dtype, rng):
    """Labels in {0, 1} (30% positives) and logits ~ N(0, 2^2)."""
    y = rng.random(n) < 0.3
    return (y.astype(dtype), rng.normal(0.0, 2.0, n).astype(dtype)), {}


def _signed_pair(n, dtype, rng):
    """_binary_pair with labels in {-1, 1} (torch's soft-margin convention)."""
    (y, z), kwargs = _binary_pair(n, dtype, rng)
    return (2 * y - 1, z), kwargs


#: The asv Ratio benchmark (asv_benchmarks/) calls the reference about eight times per
#: measurement (the value check, a warm-up, calibration, five rounds), for every dtype
#: and thread count. The value_and_gradient references that take seconds per call at
#: 10^6 elements (on a 2-core development machine: the multi-class ones 1-6 s, the
#: pairwise ranking ones 1-11 s; 0.1-0.7 s at 10^5) are timed there up to this size
#: only, so that the suite runs in minutes.
ASV_RATIO_SLOW_GRADIENT_MAX = 10**5

CLASSES = 100  # classes of the multi-class workloads: n elements are n // CLASSES rows
#: The multi-class references' logit gradients go through the (rows, C, C) softmax
#: Jacobian: O(n C) memory, so they are run up to 10^6 elements only, and they take
#: seconds per call there.
REF_ROWWISE_MAX = 10**6
#: The default sweep's multi-class size: 100 rows, where those gradients take tens of
#: milliseconds.
ROWWISE_SWEEP_SIZE = 10**4
ROWWISE_REFERENCE = {"reference_max_size": REF_ROWWISE_MAX,
                     "asv_gradient_ratio_max_size": ASV_RATIO_SLOW_GRADIENT_MAX,
                     "sweep_size": ROWWISE_SWEEP_SIZE}


def _class_rows(targets, log_probabilities=False):
    """Logit rows ~ N(0, 2^2) of CLASSES columns (their log-softmax with
    log_probabilities=True), with targets given as integer "labels" (n_rows,),
    "onehot" rows or "soft" probability rows (Dirichlet(1))."""

    def data(n, dtype, rng):
        rows = max(1, n // CLASSES)
        logits = rng.normal(0.0, 2.0, (rows, CLASSES))
        if log_probabilities:
            logits -= np.log(np.exp(logits).sum(axis=1, keepdims=True))
        logits = logits.astype(dtype)
        labels = rng.integers(0, CLASSES, rows)
        if targets == "labels":
            y = labels
        elif targets == "onehot":
            y = np.eye(CLASSES, dtype=dtype)[labels]
        else:
            y = rng.dirichlet(np.ones(CLASSES), rows).astype(dtype)
        return (y, logits), {}

    return data


def _torch_bce_logits(F, params):
    return lambda y, z: F.binary_cross_entropy_with_logits(z, y)


def _torch_soft_margin(F, params):
    return lambda y, z: F.soft_margin_loss(z, y)


def _torch_cross_entropy(F, params):
    return lambda y, z: F.cross_entropy(z, y)


def _torch_nll(F, params):
    return lambda y, z: F.nll_loss(z, y)


def _torch_multi_margin(F, params):
    return lambda y, z: F.multi_margin_loss(z, y, p=params.get("p", 1),
                                            margin=params.get("margin", 1.0))


def _torch_kl_div_logits(F, params):
    return lambda y, z: F.kl_div(F.log_softmax(z, dim=-1), y, reduction="batchmean")


EMBEDDING_DIM = 128
#: Embedding sizes in elements: 10^2, 10^4 and 10^5 rows (10^5: the issue's Triplet size).
EMBEDDING_SIZES = tuple(EMBEDDING_DIM * rows for rows in (10**2, 10**4, 10**5))
EMBEDDING_MAX = EMBEDDING_DIM * 10**5
#: The default sweep's Contrastive and Triplet: 10^3 rows.
EMBEDDING_SWEEP_SIZE = EMBEDDING_DIM * 10**3
#: BatchTriplet batches of 256 and 2048 rows; its memory and time grow as rows^2.
BATCH_SIZES = (EMBEDDING_DIM * 256, EMBEDDING_DIM * 2048)
#: The default sweep's BatchTriplet batches: 256 rows, 64 for "all" (its reference
#: takes seconds per call at 256 rows).
BATCH_SWEEP_SIZE = EMBEDDING_DIM * 256
BATCH_ALL_SWEEP_SIZE = EMBEDDING_DIM * 64
BATCH_MAX = EMBEDDING_DIM * 4096
#: SupCon batches of 256 and 4096 rows; InfoNCE's two views of half as many examples
#: make batches of the same sizes.
CONTRAST_SIZES = (EMBEDDING_DIM * 256, EMBEDDING_DIM * 4096)
VIEW_SIZES = tuple(size // 2 for size in CONTRAST_SIZES)
#: Classes of the ArcFace and CosFace workloads.
FACE_CLASSES = 1000
#: The "all" reference lists every active triplet as a Python tuple: O(rows^3).
BATCH_ALL_REFERENCE_MAX = EMBEDDING_DIM * 512
CLASS_SIZE = 8  # BatchTriplet batches hold classes of about 8 rows (P x K sampling)


def _embedding_rows(n, dtype, rng, scale=1.0):
    """(n // EMBEDDING_DIM, EMBEDDING_DIM) rows ~ N(0, scale^2 / EMBEDDING_DIM): norms
    near `scale`, so distances are of the order of the margin 1."""
    rows = max(1, n // EMBEDDING_DIM)
    return rng.normal(0.0, scale / math.sqrt(EMBEDDING_DIM), (rows, EMBEDDING_DIM)).astype(dtype)


def _pairs(n, dtype, rng):
    """Contrastive pairs, half of them matching (x2 = x1 plus a little noise)."""
    x1 = _embedding_rows(n, dtype, rng)
    same = (rng.random(len(x1)) < 0.5).astype(dtype)
    x2 = np.where(same[:, None] > 0, x1 + _embedding_rows(n, dtype, rng, 0.3),
                  _embedding_rows(n, dtype, rng))
    return (same, x1, x2.astype(dtype)), {}


def _signed_pairs(n, dtype, rng):
    """Cosine-embedding pairs: _pairs with targets 1 (matching) and -1."""
    (same, x1, x2), _ = _pairs(n, dtype, rng)
    return (2 * same - 1, x1, x2), {}


def _vectors(n, dtype, rng):
    """Target and predicted embedding rows, the predictions near the targets."""
    target = _embedding_rows(n, dtype, rng)
    return (target, (target + _embedding_rows(n, dtype, rng, 0.5)).astype(dtype)), {}


def _torch_cosine_embedding(F, params):
    return lambda target, x1, x2: F.cosine_embedding_loss(x1, x2, target,
                                                          margin=params.get("margin", 0.0))


def _torch_cosine_similarity(F, params):
    """Keras's sign: the negative mean cosine similarity (torch clamps norms at 1e-8)."""
    return lambda y_true, y_pred: -F.cosine_similarity(y_pred, y_true, dim=1).mean()


def _triplets(n, dtype, rng):
    """Positives near their anchor, negatives anywhere: most triplets inside the margin."""
    anchor = _embedding_rows(n, dtype, rng)
    positive = anchor + _embedding_rows(n, dtype, rng, 0.5)
    return (anchor, positive.astype(dtype), _embedding_rows(n, dtype, rng)), {}


def _labelled_batch(n, dtype, rng):
    """Integer labels, about CLASS_SIZE rows per class; embeddings around class centres."""
    rows = max(1, n // EMBEDDING_DIM)
    labels = rng.integers(0, max(1, rows // CLASS_SIZE), rows)
    centres = _embedding_rows(EMBEDDING_DIM * (labels.max() + 1), np.float64, rng)
    noise = _embedding_rows(n, np.float64, rng, 0.7)
    return (labels, (centres[labels] + noise).astype(dtype)), {}


def _views(n, dtype, rng):
    """Two views (n // EMBEDDING_DIM, EMBEDDING_DIM) of as many examples, the second
    near the first."""
    z1 = _embedding_rows(n, np.float64, rng)
    z2 = z1 + _embedding_rows(n, np.float64, rng, 0.5)
    return (z1.astype(dtype), z2.astype(dtype)), {}


def torch_supcon(labels, embeddings, temperature=0.1):
    """SupCon (Khosla et al. 2020, L_out) in torch operations, as the reference
    implementations write it: cosine similarities, the diagonal masked out, the mean
    over the anchors that have a positive (0 when none has)."""
    import torch

    F = torch.nn.functional
    u = F.normalize(embeddings, dim=1)
    n = len(labels)
    eye = torch.eye(n, dtype=torch.bool)
    logits = (u @ u.T / temperature).masked_fill(eye, float("-inf"))
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    positive = (labels[:, None] == labels[None, :]) & ~eye
    count = positive.sum(dim=1)
    per_anchor = -torch.where(positive, log_prob, 0.0).sum(dim=1) / count.clamp(min=1)
    return per_anchor.sum() / (count > 0).sum().clamp(min=1)  # 0 without any positive


def torch_nt_xent(z1, z2, temperature=0.1):
    """NT-Xent (SimCLR) in torch operations, as SimCLR implementations write it: the
    2n views in one batch, the diagonal masked out, cross-entropy against the other
    view."""
    import torch

    F = torch.nn.functional
    n = len(z1)
    u = F.normalize(torch.cat([z1, z2]), dim=1)
    logits = (u @ u.T / temperature).masked_fill(
        torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(logits, targets)


def torch_margin_softmax(labels, embeddings, weight, scale, margin, arc):
    """ArcFace (insightface's ArcMarginProduct, easy_margin=False) or CosFace in torch
    operations: the per-sample cross-entropy of the margin logits."""
    import torch

    F = torch.nn.functional
    cos = F.linear(F.normalize(embeddings), F.normalize(weight))
    if arc:
        sine = torch.sqrt((1.0 - cos**2).clamp(0, 1))
        phi = cos * math.cos(margin) - sine * math.sin(margin)
        phi = torch.where(cos > math.cos(math.pi - margin), phi,
                          cos - math.sin(math.pi - margin) * margin)
    else:
        phi = cos - margin
    true_class = F.one_hot(labels, weight.shape[0]).bool()
    return F.cross_entropy(scale * torch.where(true_class, phi, cos), labels,
                           reduction="none")


def _torch_margin(arc):
    def make(F, params):
        scale, margin = params.get("scale", 64.0), params.get("margin", 0.5 if arc else 0.35)
        return lambda labels, x, w: torch_margin_softmax(labels, x, w, scale, margin,
                                                         arc).mean()
    return make


def _faces(n, dtype, rng):
    """Labels among FACE_CLASSES classes, embeddings (n // EMBEDDING_DIM rows) near
    their class centre, and the centres."""
    rows = max(1, n // EMBEDDING_DIM)
    centres = _embedding_rows(EMBEDDING_DIM * FACE_CLASSES, np.float64, rng)
    labels = rng.integers(0, FACE_CLASSES, rows)
    x = centres[labels] + _embedding_rows(n, np.float64, rng, 2.0)  # losses near 1
    return (labels, x.astype(dtype), centres.astype(dtype)), {}


#: CTC: frames and classes of each sequence; sizes of 8 and 32 sequences.
CTC_FRAMES, CTC_CLASSES = 500, 50
CTC_SIZES = tuple(CTC_FRAMES * CTC_CLASSES * batch for batch in (8, 32))


def _sequences(n, dtype, rng):
    """n // (CTC_FRAMES CTC_CLASSES) sequences (fewer frames below one sequence):
    log-probabilities (frames, batch, classes) from random logits, input lengths 80% to
    100% of the frames, padded targets of 10% to 20% of the frames (500 frames: input
    lengths 400 to 500, targets of 50 to 100 labels)."""
    batch = max(1, n // (CTC_FRAMES * CTC_CLASSES))
    frames = min(CTC_FRAMES, max(2, n // (batch * CTC_CLASSES)))
    logits = rng.normal(0.0, 2.0, (frames, batch, CTC_CLASSES))
    log_probs = logits - np.log(np.exp(logits).sum(axis=2, keepdims=True))
    targets = rng.integers(1, CTC_CLASSES, (batch, max(1, frames // 5)))
    input_lengths = rng.integers(frames * 4 // 5, frames + 1, batch)
    target_lengths = rng.integers(frames // 10, frames // 5 + 1, batch)
    return (targets, log_probs.astype(dtype), input_lengths, target_lengths), {}


def _torch_ctc(F, params):
    return lambda targets, log_probs, input_lengths, target_lengths: F.ctc_loss(
        log_probs, targets, input_lengths, target_lengths)


def _torch_supcon(F, params):
    return lambda labels, x: torch_supcon(labels, x, params.get("temperature", 0.1))


def _torch_nt_xent(F, params):
    return lambda z1, z2: torch_nt_xent(z1, z2, params.get("temperature", 0.1))


def _torch_triplet(F, params):
    return lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=params["margin"])


def _torch_contrastive(F, params):
    """Hadsell et al.'s loss in torch operations (torch has no contrastive loss)."""
    import torch

    def contrastive(same, x1, x2):
        d = torch.linalg.vector_norm(x1 - x2, dim=1)
        dissimilar = torch.clamp_min(params["margin"] - d, 0.0)
        return torch.mean(same * d * d + (1 - same) * dissimilar * dissimilar)

    return contrastive


def _boxes(n, dtype, rng):
    """n // 4 target boxes (x1, y1, x2, y2) and predictions near them."""
    rows = max(1, n // 4)
    corner = rng.uniform(0.0, 100.0, (rows, 2))
    target = np.concatenate([corner, corner + rng.uniform(5.0, 50.0, (rows, 2))], axis=1)
    pred = target + rng.normal(0.0, 5.0, (rows, 4))
    return (target.astype(dtype), pred.astype(dtype)), {}


def torch_box_iou_loss(target, pred, kind, eps=1e-7):
    """torchvision.ops' generalized_box_iou_loss, distance_box_iou_loss and
    complete_box_iou_loss (and 1 - IoU), per box, in torch operations, as torchvision
    0.28 computes them (so that they run with torch alone)."""
    import torch

    x1, y1, x2, y2 = pred.unbind(dim=-1)
    tx1, ty1, tx2, ty2 = target.unbind(dim=-1)
    ix1, iy1 = torch.max(x1, tx1), torch.max(y1, ty1)
    ix2, iy2 = torch.min(x2, tx2), torch.min(y2, ty2)
    inter = torch.zeros_like(x1)
    mask = (iy2 > iy1) & (ix2 > ix1)
    inter[mask] = (ix2[mask] - ix1[mask]) * (iy2[mask] - iy1[mask])
    union = (x2 - x1) * (y2 - y1) + (tx2 - tx1) * (ty2 - ty1) - inter
    iou = inter / (union + eps)
    if kind == "iou":
        return 1 - iou
    cx1, cy1 = torch.min(x1, tx1), torch.min(y1, ty1)
    cx2, cy2 = torch.max(x2, tx2), torch.max(y2, ty2)
    if kind == "giou":
        area = (cx2 - cx1) * (cy2 - cy1)
        return 1 - (iou - (area - union) / (area + eps))
    diagonal = (cx2 - cx1) ** 2 + (cy2 - cy1) ** 2 + eps
    centres = ((x1 + x2) / 2 - (tx1 + tx2) / 2) ** 2 + ((y1 + y2) / 2 - (ty1 + ty2) / 2) ** 2
    loss = 1 - iou + centres / diagonal
    if kind == "diou":
        return loss
    v = (4 / torch.pi**2) * torch.pow(
        torch.atan((tx2 - tx1) / (ty2 - ty1)) - torch.atan((x2 - x1) / (y2 - y1)), 2)
    with torch.no_grad():
        alpha = v / (1 - iou + v + eps)
    return loss + alpha * v


def _torch_box_iou(F, params):
    return lambda target, pred: torch_box_iou_loss(target, pred, params["kind"]).mean()


def _masks(n, dtype, rng):
    """n // 4096 target masks of 64 x 64 pixels (a blob each) and logits near them; one
    mask of n // 64 lines of 64 below 4096 elements."""
    rows, height = (n // 4096, 64) if n >= 4096 else (1, max(1, n // 64))
    centre = rng.uniform(16.0, 48.0, (rows, 2, 1, 1))
    grid = np.indices((height, 64))[None].astype(np.float64)
    target = (((grid - centre) ** 2).sum(axis=1) < 15.0**2).astype(dtype)
    logits = (4.0 * target - 2.0 + rng.normal(0.0, 1.5, target.shape)).astype(dtype)
    return (target, logits), {}


def _torch_overlap(F, params):
    """Soft Dice (or Tversky) per mask in torch operations (as segmentation_models.pytorch
    and MONAI compute it), mean over masks."""
    import torch

    def overlap(target, logits):
        p = torch.sigmoid(logits).flatten(1)
        t = target.flatten(1)
        tp = (p * t).sum(1)
        if "alpha" not in params:
            return (1 - (2 * tp + 1.0) / (p.sum(1) + t.sum(1) + 1.0)).mean()
        fp, fn = (p * (1 - t)).sum(1), ((1 - p) * t).sum(1)
        return (1 - (tp + 1.0) / (tp + params["alpha"] * fp + params["beta"] * fn + 1.0)).mean()

    return overlap


LIST_SIZE = 100
#: Ranking sizes in elements: 10^2 and 10^4 lists of LIST_SIZE items (the issue's size).
RANKING_SIZES = (LIST_SIZE * 10**2, LIST_SIZE * 10**4)
#: The default sweep's ranking workloads: 10^2 lists (the pairwise references build
#: (lists, L, L) arrays: about a second per call at 10^3 lists).
RANKING_SWEEP_SIZE = LIST_SIZE * 10**2
#: The ListMLE reference forms (lists, L, L) arrays at once.
LIST_MLE_REFERENCE_MAX = LIST_SIZE * 10**3


def _lists(n, dtype, rng):
    """(n // LIST_SIZE, LIST_SIZE) relevance grades 0..4 and scores ~ N(0, 1)."""
    rows = max(1, n // LIST_SIZE)
    relevance = rng.integers(0, 5, (rows, LIST_SIZE)).astype(dtype)
    return (relevance, rng.standard_normal((rows, LIST_SIZE)).astype(dtype)), {}


def _torch_listnet(F, params):
    """ListNet as torch's cross-entropy against the relevance normalized per list."""
    return lambda r, s: F.cross_entropy(s, r / r.sum(dim=1, keepdim=True))


WORKLOADS = (
    # regression: y_true, y_pred of shape (n,)
    Workload("MeanSquaredError", "mse", _normal_pair, torch=_torch_elementwise("mse_loss")),
    Workload("MeanAbsoluteError", "mae", _normal_pair, torch=_torch_elementwise("l1_loss")),
    Workload("Huber", "huber", _normal_pair, {"delta": 1.0},
             torch=_torch_elementwise("huber_loss", delta="delta")),
    Workload("SmoothL1", "smooth_l1", _normal_pair, {"beta": 1.0},
             torch=_torch_elementwise("smooth_l1_loss", beta="beta")),
    Workload("PseudoHuber", "pseudo_huber", _normal_pair, {"delta": 1.0}),
    Workload("LogCosh", "log_cosh", _normal_pair),
    Workload("Quantile", "quantile", _normal_pair, {"quantile": 0.9}),
    Workload("Poisson", "poisson", _count_pair(positive=False), torch=_torch_poisson),
    Workload("Gamma", "gamma", _count_pair(positive=True)),
    Workload("Tweedie", "tweedie", _count_pair(positive=False), {"power": 1.5}),
    Workload("MeanSquaredLogarithmicError", "msle", _positive_pair),
    Workload("MeanAbsolutePercentageError", "mape", _normal_pair),
    Workload("GaussianNLL", "gaussian_nll", _gaussian_triple, torch=_torch_gaussian_nll,
             wrt=(1, 2), paired=True),
    # classification, binary and multi-label: labels and logits of shape (n,)
    Workload("BinaryCrossEntropy", "binary_cross_entropy", _binary_pair,
             {"from_logits": True}, torch=_torch_bce_logits),
    Workload("BinaryFocal", "binary_focal", _binary_pair, {"from_logits": True}),
    Workload("Hinge", "hinge", _binary_pair),
    Workload("SquaredHinge", "squared_hinge", _binary_pair),
    Workload("SoftMargin", "soft_margin", _signed_pair, torch=_torch_soft_margin),
    # classification, multi-class: logits (n // 100, 100) and targets per row; the
    # references' gradients are slow (ROWWISE_REFERENCE)
    Workload("CategoricalCrossEntropy", "categorical_cross_entropy", _class_rows("soft"),
             {"from_logits": True}, torch=_torch_cross_entropy, **ROWWISE_REFERENCE),
    Workload("SparseCategoricalCrossEntropy", "sparse_categorical_cross_entropy",
             _class_rows("labels"), {"from_logits": True}, torch=_torch_cross_entropy,
             **ROWWISE_REFERENCE),
    Workload("CategoricalFocal", "categorical_focal", _class_rows("onehot"),
             {"from_logits": True}, **ROWWISE_REFERENCE),
    Workload("SparseCategoricalFocal", "sparse_categorical_focal", _class_rows("labels"),
             {"from_logits": True}, **ROWWISE_REFERENCE),
    Workload("CategoricalHinge", "categorical_hinge", _class_rows("onehot"),
             sweep_size=ROWWISE_SWEEP_SIZE),
    Workload("KLDivergence", "kl_divergence", _class_rows("soft"), {"from_logits": True},
             torch=_torch_kl_div_logits, **ROWWISE_REFERENCE),
    Workload("PolyLoss", "poly_loss", _class_rows("onehot"), {"from_logits": True},
             **ROWWISE_REFERENCE),
    Workload("GeneralizedCrossEntropy", "generalized_cross_entropy", _class_rows("onehot"),
             {"from_logits": True}, **ROWWISE_REFERENCE),
    Workload("NLL", "nll", _class_rows("labels", log_probabilities=True), torch=_torch_nll,
             **ROWWISE_REFERENCE),
    Workload("MultiMargin", "multi_margin", _class_rows("labels"),
             torch=_torch_multi_margin, **ROWWISE_REFERENCE),
    # detection: boxes (n // 4, 4); torch: torchvision's definitions in torch operations
    *(Workload("BoxIoU", "box_iou_loss", _boxes, {"kind": kind}, torch=_torch_box_iou,
               label=f"BoxIoU({kind})") for kind in ("giou", "ciou")),
    # segmentation: masks of 64 x 64, from logits
    Workload("Dice", "dice", _masks, {"from_logits": True}, torch=_torch_overlap),
    Workload("Tversky", "tversky", _masks, {"alpha": 0.3, "beta": 0.7, "from_logits": True},
             torch=_torch_overlap),
    # embedding: rows of EMBEDDING_DIM, against the paired references
    Workload("Contrastive", "contrastive", _pairs, {"margin": 1.0}, sizes=EMBEDDING_SIZES,
             sweep_size=EMBEDDING_SWEEP_SIZE, max_size=EMBEDDING_MAX,
             torch=_torch_contrastive, wrt=(1, 2), paired=True),
    Workload("CosineEmbedding", "cosine_embedding", _signed_pairs, sizes=EMBEDDING_SIZES,
             sweep_size=EMBEDDING_SWEEP_SIZE, max_size=EMBEDDING_MAX,
             torch=_torch_cosine_embedding, wrt=(1, 2), paired=True),
    Workload("CosineSimilarity", "cosine_similarity", _vectors, sizes=EMBEDDING_SIZES,
             sweep_size=EMBEDDING_SWEEP_SIZE, max_size=EMBEDDING_MAX,
             torch=_torch_cosine_similarity),
    Workload("Triplet", "triplet", _triplets, {"margin": 1.0}, sizes=EMBEDDING_SIZES,
             sweep_size=EMBEDDING_SWEEP_SIZE, max_size=EMBEDDING_MAX, torch=_torch_triplet,
             wrt=(0, 1, 2), paired=True),
    *(Workload("BatchTriplet", "batch_triplet", _labelled_batch, {"strategy": strategy},
               sizes=BATCH_SIZES, sweep_size=sweep_size, max_size=BATCH_MAX,
               reference_max_size=reference_max, paired=True,
               label=f"BatchTriplet[{strategy}]")
      for strategy, reference_max, sweep_size in (
          ("hard", None, BATCH_SWEEP_SIZE), ("semihard", None, BATCH_SWEEP_SIZE),
          ("all", BATCH_ALL_REFERENCE_MAX, BATCH_ALL_SWEEP_SIZE))),
    # self-supervised and supervised contrastive: batches of 256 and 4096 rows, O(rows^2)
    Workload("InfoNCE", "info_nce", _views, sizes=VIEW_SIZES,
             sweep_size=BATCH_SWEEP_SIZE // 2, max_size=BATCH_MAX // 2, torch=_torch_nt_xent,
             wrt=(0, 1), paired=True),
    Workload("SupCon", "supcon", _labelled_batch, sizes=CONTRAST_SIZES,
             sweep_size=BATCH_SWEEP_SIZE, max_size=BATCH_MAX, torch=_torch_supcon,
             paired=True),
    # face recognition: 256 and 4096 embeddings against FACE_CLASSES class centres
    *(Workload(cls, shortcut, _faces, sizes=CONTRAST_SIZES, sweep_size=BATCH_SWEEP_SIZE,
               max_size=BATCH_MAX, torch=_torch_margin(cls == "ArcFace"), wrt=(1, 2),
               paired=True)
      for cls, shortcut in (("ArcFace", "arcface"), ("CosFace", "cosface"))),
    # sequences: CTC on 8 and 32 sequences of 500 frames over 50 classes
    Workload("CTC", "ctc", _sequences, sizes=CTC_SIZES, sweep_size=CTC_SIZES[0],
             max_size=CTC_SIZES[-1], torch=_torch_ctc, paired=True),
    # ranking: lists of LIST_SIZE items, against the paired references (the pairwise
    # ones build (lists, L, L) arrays of pairs: seconds per call at 10^4 lists)
    Workload("PairwiseHinge", "pairwise_hinge", _lists, {"margin": 1.0}, sizes=RANKING_SIZES,
             sweep_size=RANKING_SWEEP_SIZE, paired=True,
             asv_gradient_ratio_max_size=ASV_RATIO_SLOW_GRADIENT_MAX),
    Workload("PairwiseLogistic", "pairwise_logistic", _lists, sizes=RANKING_SIZES,
             sweep_size=RANKING_SWEEP_SIZE, paired=True,
             asv_gradient_ratio_max_size=ASV_RATIO_SLOW_GRADIENT_MAX),
    Workload("ListwiseSoftmax", "listwise_softmax", _lists, sizes=RANKING_SIZES,
             sweep_size=RANKING_SWEEP_SIZE, torch=_torch_listnet, paired=True),
    Workload("ListMLE", "list_mle", _lists, sizes=RANKING_SIZES, sweep_size=RANKING_SWEEP_SIZE,
             reference_max_size=LIST_MLE_REFERENCE_MAX, paired=True),
    Workload("LambdaRank", "lambda_rank", _lists, sizes=RANKING_SIZES,
             sweep_size=RANKING_SWEEP_SIZE, paired=True,
             asv_gradient_ratio_max_size=ASV_RATIO_SLOW_GRADIENT_MAX),
)


def exported_losses():
    """The loss classes this build exports, by name."""
    return {
        name: obj for name in fastloss.__all__
        if isinstance(obj := getattr(fastloss, name), type) and issubclass(obj, Loss)
    }


def workloads():
    """The registered workloads whose loss this build exports, in registry order."""
    exported = exported_losses()
    return [w for w in WORKLOADS if w.loss in exported]


def unregistered_losses():
    """Exported loss classes that have no workload yet (each needs one entry)."""
    registered = {w.loss for w in WORKLOADS}
    return sorted(set(exported_losses()) - registered)


def find(name):
    """The workload called `name`, or the first one of the loss `name` (class name or
    shortcut)."""
    for w in workloads():
        if name in (w.name, w.loss, w.shortcut):
            return w
    raise KeyError(f"no workload for {name!r}; known: {[w.name for w in workloads()]}")


# -- timing -------------------------------------------------------------------------


def _clock(fn, number):
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return time.perf_counter() - start


def calibrate(fn, target):
    """Calls per sample so that one sample lasts about `target` seconds (at least 1)."""
    number = 1
    while True:
        elapsed = _clock(fn, number)
        if elapsed >= target or number >= 1 << 24:
            return number
        guess = int(number * target / max(elapsed, 1e-9) * 1.1) + 1
        number = min(max(guess, 2 * number), 1 << 24)


def compare(candidates, *, rounds=7, target=0.02):
    """Median seconds per call of each zero-argument callable in `candidates` (a dict).

    Each candidate is warmed up and calibrated, then the candidates take turns
    (rotating the order every round) for `rounds` rounds of about `target` seconds
    each; the garbage collector is off while the clocks run.
    """
    names = list(candidates)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for name in names:
            candidates[name]()
        numbers = {name: calibrate(candidates[name], target) for name in names}
        samples = {name: [] for name in names}
        for r in range(rounds):
            for name in names[r % len(names):] + names[:r % len(names)]:
                number = numbers[name]
                samples[name].append(_clock(candidates[name], number) / number)
    finally:
        if gc_was_enabled:
            gc.enable()
    return {name: statistics.median(values) for name, values in samples.items()}


def numpy_sparse_ce(labels, z, gradient=True):
    """Mean sparse cross-entropy from logits (and its gradient) as NumPy users write it:
    a max-shifted softmax. The speed baseline of rows too wide for the reference's
    Jacobian (the benchmark scripts)."""
    rows = np.arange(len(labels))
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=1, keepdims=True)
    value = np.mean(np.log(total[:, 0]) - shifted[rows, labels])
    if not gradient:
        return value
    grad = e / total
    grad[rows, labels] -= 1
    grad /= len(labels)
    return value, grad


# -- PyTorch, optional --------------------------------------------------------------


def import_torch():
    """torch, or None when it is not installed (it is never a dependency)."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def torch_call(torch, workload, mode, args, kwargs):
    """A zero-argument callable running the PyTorch peer, or None if there is none."""
    if workload.torch is None:
        return None
    fn = workload.torch(torch.nn.functional, workload.params)

    def tensor(a):
        return torch.from_numpy(a) if isinstance(a, np.ndarray) else a

    if mode == "value":
        targs = [tensor(a) for a in args]
        tkw = {k: tensor(v) for k, v in kwargs.items()}

        def value():
            with torch.no_grad():
                return fn(*targs, **tkw).item()

        return value
    targs = [tensor(a.copy()).requires_grad_() if i in workload.wrt else tensor(a)
             for i, a in enumerate(args)]
    tkw = {k: tensor(v) for k, v in kwargs.items()}
    leaves = [targs[i] for i in workload.wrt]

    def value_and_gradient():
        loss = fn(*targs, **tkw)
        return loss.item(), torch.autograd.grad(loss, leaves)

    return value_and_gradient


class torch_threads:
    """Context manager: run PyTorch with n threads, then restore its setting."""

    def __init__(self, torch, n):
        self.torch, self.n = torch, n

    def __enter__(self):
        if self.torch is not None:
            self.previous = self.torch.get_num_threads()
            self.torch.set_num_threads(self.n)

    def __exit__(self, *exc):
        if self.torch is not None:
            self.torch.set_num_threads(self.previous)


# -- one measurement ----------------------------------------------------------------


def _scalar(result):
    value = result[0] if isinstance(result, tuple) else result
    return float(value.item() if hasattr(value, "item") else value)


def measure(workload, mode, n, dtype, threads, *, torch=None, rounds=7, target=0.02,
            seed=0):
    """Time fastloss, the NumPy reference, the memory probe and (when given) PyTorch
    on one workload.

    The memory probe ("read") is NumPy summing every input array: it reads the bytes
    any loss has to read, so a kernel at the memory limit takes about its time.
    Returns a dict (one row of the tables and of --json): times in seconds per call,
    speed-ups (peer time / fastloss time) and whether each peer's value agrees with
    fastloss's.
    """
    rng = np.random.default_rng(seed)
    args, kwargs = workload.data(n, np.dtype(dtype), rng)
    calls = {"fastloss": workload.fastloss(mode)}
    ref = workload.reference(mode, n)
    if ref is not None:
        calls["reference"] = ref
    candidates = {name: (lambda f=f: f(*args, **kwargs)) for name, f in calls.items()}
    inputs = [a for a in (*args, *kwargs.values()) if isinstance(a, np.ndarray)]
    candidates["read"] = lambda: [a.sum() for a in inputs]
    if torch is not None:
        peer = torch_call(torch, workload, mode, args, kwargs)
        if peer is not None:
            candidates["torch"] = peer
    with fastloss.threads(threads), torch_threads(torch, threads):
        values = {name: _scalar(call()) for name, call in candidates.items() if name != "read"}
        times = compare(candidates, rounds=rounds, target=target)
    rtol = 1e-9 if dtype == "float64" else 1e-4
    fl_value = values["fastloss"]
    row = {
        "family": workload.family, "workload": workload.name, "loss": workload.loss,
        "params": workload.params,
        # the shape of the first differentiated array (ArcFace's last is the centres)
        "mode": mode, "n": int(n), "dtype": str(dtype),
        "shape": list(args[workload.wrt[0] if workload.paired else -1].shape),
        "threads": threads, "seconds": times, "speedup": {}, "agrees": {},
    }
    for peer in ("reference", "read", "torch"):
        if peer in times:
            row["speedup"][peer] = times[peer] / times["fastloss"]
        if peer in values:
            row["agrees"][peer] = bool(
                math.isclose(values[peer], fl_value, rel_tol=rtol, abs_tol=1e-300)
            )
    return row


# -- python -m fastloss bench ---------------------------------------------------------


#: The largest --sizes (elements of the prediction) the command takes; --threads is
#: bounded as fastloss.set_num_threads is (MAX_THREADS).
MAX_SIZE = 2**31


def _str_list(text):
    values = [item.strip() for item in text.split(",") if item.strip()]
    if not values:
        raise argparse.ArgumentTypeError(f"expected comma-separated names, got {text!r}")
    return values


def add_arguments(parser):
    parser.description = (
        "Time every loss (value and value_and_gradient) against its plain NumPy "
        "reference (fastloss.reference) and, when PyTorch is installed, against "
        "torch.nn.functional on the CPU with the same number of threads. Prints one "
        "table per family with median times and speed-ups (peer time / fastloss "
        "time, higher is better); the NumPy reference runs on one thread. By default "
        "a representative sweep (every loss at one size, float64 and float32; about "
        "two minutes on two cores); --full for every size. Progress and the time "
        "left go to standard error."
    )
    parser.add_argument("--family", type=_str_list, default=None, metavar="F[,F]",
                        help="families to run (default: all)")
    parser.add_argument("--loss", type=_str_list, default=None, metavar="L[,L]",
                        help="losses to run, by class name or shortcut (default: all)")
    parser.add_argument("--mode", type=_str_list, default=list(MODES), metavar="M[,M]",
                        help=f"modes among {', '.join(MODES)} (default: both)")
    parser.add_argument("--sizes", type=integers(1, MAX_SIZE, many=True), default=None,
                        metavar="N[,N]",
                        help="prediction sizes in elements, e.g. 100,1e4,1e6, at most "
                             "2**31; a workload holds several arrays of its size in "
                             "memory (default: one size per workload; --full: each "
                             "workload's sizes; --quick: 1e3,1e5)")
    parser.add_argument("--dtypes", type=_str_list, default=None, metavar="D[,D]",
                        help="float64 and/or float32 (default: both; --quick: float64)")
    parser.add_argument("--threads", type=integers(1, MAX_THREADS, many=True), default=None,
                        metavar="T[,T]",
                        help=f"thread counts, at most {MAX_THREADS} (default: "
                             "fastloss.get_num_threads())")
    parser.add_argument("--rounds", type=integers(1), default=None,
                        help="timed rounds per candidate, the median is reported "
                             "(default 5; --full 7; --quick 3)")
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--full", action="store_true",
                       help="the whole sweep: every workload at each of its sizes (1e2 "
                            "to 1e6 elements and more), longer rounds (tens of minutes)")
    scope.add_argument("--quick", action="store_true",
                       help="small sizes, float64 only, fewer and shorter rounds")
    parser.add_argument("--no-progress", action="store_true",
                        help="print no progress on standard error")
    parser.add_argument("--no-torch", action="store_true",
                        help="leave PyTorch out even when it is installed")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON document (metadata and rows) instead of tables")
    parser.add_argument("--overhead", action="store_true",
                        help=f"the call overhead instead: each loss at {OVERHEAD_SIZE} "
                             "elements, float64, one thread: the object call, the "
                             "shortcut and value_and_gradient, against NumPy's "
                             "np.mean((y - p) ** 2) on the same size")


def metadata(torch=None):
    from fastloss._kernels import dispatch as _dispatch

    return {
        "fastloss": fastloss.__version__, "kernel_set": _dispatch.KERNEL_SET,
        "family_kernel_sets": {f: _dispatch.family_set(f)
                               for f in (*_dispatch.FAMILIES, *_dispatch.PARTS)},
        "numpy": np.__version__, "torch": None if torch is None else torch.__version__,
        "python": platform.python_version(), "machine": platform.machine(),
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "default_threads": fastloss.get_num_threads(),
    }


def _selected(args):
    chosen = workloads()
    if args.family:
        known = {w.family for w in chosen}
        for family in args.family:
            if family not in known:
                raise ValueError(f"unknown family {family!r}; known: {sorted(known)}")
        chosen = [w for w in chosen if w.family in args.family]
    if args.loss:
        try:
            picked = [find(name) for name in args.loss]
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        outside = [name for name, w in zip(args.loss, picked, strict=True) if w not in chosen]
        if outside:
            raise ValueError(
                f"--loss {','.join(outside)} is not in --family {','.join(args.family)}, "
                f"whose losses are {', '.join(w.name for w in chosen)}")
        chosen = picked
    return chosen


def format_seconds(seconds):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _format_peer(row, peer):
    if peer not in row["seconds"]:
        return "-", "-"
    mark = "" if row["agrees"].get(peer, True) else " !"
    return format_seconds(row["seconds"][peer]), f"{row['speedup'][peer]:.2f}x{mark}"


def format_table(rows, with_torch):
    header = ["workload", "mode", "shape", "dtype", "threads", "fastloss", "numpy", "vs numpy",
              "read", "vs read"]
    if with_torch:
        header += ["torch", "vs torch"]
    lines = [header]
    for row in rows:
        line = [row["workload"], row["mode"], "x".join(map(str, row["shape"])), row["dtype"],
                str(row["threads"]), format_seconds(row["seconds"]["fastloss"]),
                *_format_peer(row, "reference"), *_format_peer(row, "read")]
        if with_torch:
            line += _format_peer(row, "torch")
        lines.append(line)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    left = {0, 1, 3}
    text = []
    for k, line in enumerate(lines):
        cells = [c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in
                 enumerate(zip(line, widths, strict=True))]
        text.append("  ".join(cells).rstrip())
        if k == 0:
            text.append("  ".join("-" * w for w in widths))
    return "\n".join(text)


class Progress:
    """Progress of a run on a stream (standard error): a bar redrawn in place on a
    terminal, else one line per finished workload; both with the time left,
    estimated from the mean time per measurement so far."""

    def __init__(self, total, stream=None, enabled=True, bar=None):
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled and total > 0
        self.bar = self.stream.isatty() if bar is None else bar
        self.total, self.done = total, 0
        self.start = time.perf_counter()
        self.drawn = False

    def _times(self):
        elapsed = time.perf_counter() - self.start
        if self.done == 0:
            return f"{_clock_text(elapsed)} elapsed"
        left = elapsed / self.done * (self.total - self.done)
        return f"{_clock_text(elapsed)} elapsed, ~{_clock_text(left)} left"

    def _width(self):
        """The terminal's width: the stream's, else $COLUMNS or 80 (shutil's rule)."""
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            columns = 0
        return columns if columns > 0 else shutil.get_terminal_size().columns

    def begin(self, what):
        """A measurement starts: redraw the bar (terminal only)."""
        if not (self.enabled and self.bar):
            return
        width = self._width()
        filled = round(20 * self.done / self.total)
        line = (f"[{'#' * filled}{'.' * (20 - filled)}] {self.done}/{self.total} "
                f"{self._times()}  {what}")
        self.stream.write("\r" + line[:max(10, width - 1)].ljust(max(10, width - 1)))
        self.stream.flush()
        self.drawn = True

    def end(self):
        """A measurement is done."""
        self.done += 1

    def workload_done(self, name, count, seconds, index, workloads):
        """A workload is done: one line when not on a terminal."""
        if not self.enabled or self.bar:
            return
        print(f"[{index}/{workloads}] {name}: {count} measurement"
              f"{'s' if count != 1 else ''} in {seconds:.1f} s; {self.done}/{self.total} "
              f"done, {self._times()}", file=self.stream, flush=True)

    def clear(self):
        """Erase the bar before other output goes to the terminal."""
        if self.drawn:
            width = self._width()
            self.stream.write("\r" + " " * max(10, width - 1) + "\r")
            self.stream.flush()
            self.drawn = False

    def finish(self):
        if not self.enabled:
            return
        self.clear()
        elapsed = time.perf_counter() - self.start
        print(f"{self.done} measurements in {_clock_text(elapsed)}", file=self.stream,
              flush=True)


def _clock_text(seconds):
    """m:ss (h:mm:ss from an hour)."""
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"


def _plan(args):
    """(rounds, target seconds, dtypes, sizes(workload)) of the run's scope."""
    if args.quick:
        rounds, target, dtypes = 3, 0.005, ["float64"]
    elif args.full:
        rounds, target, dtypes = 7, 0.02, list(DTYPES)
    else:
        rounds, target, dtypes = 5, 0.01, list(DTYPES)

    def sizes(workload):
        if args.sizes:
            return args.sizes
        if args.quick:
            return QUICK_SIZES
        return workload.sizes if args.full else (workload.sweep_size,)

    return args.rounds or rounds, target, args.dtypes or dtypes, sizes


def _size_text(n):
    """1e6 for a power of ten from 1e3, else the digits."""
    exponent = round(math.log10(n))
    return f"1e{exponent}" if n >= 1000 and n == 10**exponent else str(n)


OVERHEAD_SIZE = 100


def overhead_rows(selected, rounds=5, target=0.005):
    """The call overhead of each workload at OVERHEAD_SIZE elements (float64, one
    thread): median seconds of the object call (the value), the shortcut and
    value_and_gradient, and of NumPy's mean squared error one-liner on two arrays of
    that size, measured in interleaved rounds with them."""
    rng = np.random.default_rng(0)
    y, p = rng.standard_normal(OVERHEAD_SIZE), rng.standard_normal(OVERHEAD_SIZE)
    rows = []
    for workload in selected:
        args, kwargs = workload.data(OVERHEAD_SIZE, np.dtype("float64"), rng)
        with fastloss.threads(1):
            times = compare(_overhead_calls(workload, args, kwargs, y, p), rounds=rounds,
                            target=target)
        shape = args[workload.wrt[0] if workload.paired else -1].shape
        rows.append({"family": workload.family, "workload": workload.name,
                     "shape": list(shape), "seconds": times})
    return rows


def _overhead_calls(workload, args, kwargs, y, p):
    loss = workload.loss_class(**workload.params)
    shortcut = getattr(fastloss, workload.shortcut)
    return {
        "object": _call_as_written(loss, args, kwargs),
        "shortcut": _call_as_written(shortcut, args, {**kwargs, **workload.params}),
        "value_and_gradient": _call_as_written(loss.value_and_gradient, args, kwargs),
        "numpy": lambda: np.mean((y - p) ** 2),
    }


def _call_as_written(function, args, keywords):
    """``function(a0, a1, ..., name=value, ...)`` as a function without arguments,
    the arguments written out as a user writes them: unpacking a tuple and a mapping
    (``f(*args, **keywords)``) costs about 100 ns more, which is not the call's."""
    names = [f"a{i}" for i in range(len(args))]
    if {"function", *names} & set(keywords):
        raise ValueError(f"keyword names clash with the call's own: {sorted(keywords)}")
    written = [*names, *(f"{name}={name}" for name in keywords)]
    namespace = {"function": function, **dict(zip(names, args, strict=True)),
                 **keywords}
    return eval(f"lambda: function({', '.join(written)})", namespace)


def format_overhead(rows):
    header = ["family", "workload", "shape", "object", "shortcut", "value_and_gradient",
              "numpy mse", "object / numpy"]
    lines = [header]
    for row in rows:
        t = row["seconds"]
        lines.append([row["family"], row["workload"], "x".join(map(str, row["shape"])),
                      *(format_seconds(t[k]) for k in
                        ("object", "shortcut", "value_and_gradient", "numpy")),
                      f"{t['object'] / t['numpy']:.2f}"])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = []
    for k, line in enumerate(lines):
        cells = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in
                 enumerate(zip(line, widths, strict=True))]
        text.append("  ".join(cells).rstrip())
        if k == 0:
            text.append("  ".join("-" * w for w in widths))
    return "\n".join(text)


def run_overhead(args):
    rows = overhead_rows(_selected(args), rounds=args.rounds or 5)
    if args.json:
        json.dump({"meta": metadata(), "rows": rows}, sys.stdout, indent=1)
        print()
    else:
        print(f"Call overhead: median seconds per call at {OVERHEAD_SIZE} elements, "
              "float64, one thread; 'numpy mse' is np.mean((y - p) ** 2) on two arrays "
              f"of {OVERHEAD_SIZE}, measured alongside.\n")
        print(format_overhead(rows))
    return 0


def run(args):
    if args.overhead:
        return run_overhead(args)
    rounds, target, dtypes, sizes_of = _plan(args)
    for mode in args.mode:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; known: {MODES}")
    for dtype in dtypes:
        if dtype not in DTYPES:
            raise ValueError(f"unknown dtype {dtype!r}; known: {DTYPES}")
    selected = _selected(args)
    # one family after the other, so that each table is printed when it is complete
    families = {}
    for workload in selected:
        families.setdefault(workload.family, []).append(workload)
    threads = args.threads or [fastloss.get_num_threads()]
    torch = None if args.no_torch else import_torch()
    meta = metadata(torch)
    plan = [
        (workload, [(n, dtype, t, mode) for n in sizes_of(workload) for dtype in dtypes
                    for t in threads for mode in args.mode])
        for group in families.values() for workload in group
    ]
    progress = Progress(sum(len(cases) for _, cases in plan), enabled=not args.no_progress)
    if not args.json:
        print(f"fastloss {meta['fastloss']} ({meta['kernel_set']} kernels), NumPy "
              f"{meta['numpy']}, PyTorch {meta['torch'] or 'not used'}, "
              f"{meta['cpus']} CPUs")
        print("Median seconds per call; 'vs X' = time of X / time of fastloss "
              "(higher is better); '!' = X's value differs from fastloss's.\n'numpy' is "
              "the NumPy reference (one thread), 'read' NumPy summing the inputs (the bytes "
              "any loss must read).", flush=True)
    rows = []
    try:
        for index, (workload, cases) in enumerate(plan, 1):
            started = time.perf_counter()
            for n, dtype, t, mode in cases:
                progress.begin(f"{workload.name} {mode} n={_size_text(n)} {dtype}"
                               + (f" {t} threads" if len(threads) > 1 else ""))
                rows.append(measure(workload, mode, n, dtype, t, torch=torch,
                                    rounds=rounds, target=target))
                progress.end()
            progress.workload_done(workload.name, len(cases), time.perf_counter() - started,
                                   index, len(plan))
            family = workload.family
            last_of_family = index == len(plan) or plan[index][0].family != family
            if last_of_family and not args.json:
                progress.clear()
                print(f"\n{family}\n")
                print(format_table([r for r in rows if r["family"] == family],
                                   torch is not None), flush=True)
    except KeyboardInterrupt:
        progress.clear()
        print(f"interrupted after {progress.done} of {progress.total} measurements",
              file=sys.stderr)
        return 130
    except MemoryError as exc:
        progress.clear()
        raise ValueError(f"{workload.name} at size {_size_text(n)} needs more memory than "
                         f"there is (choose smaller --sizes): {exc}") from None
    progress.finish()
    if args.json:
        json.dump({"meta": meta, "rows": rows}, sys.stdout, indent=1)
        print()
        return 0
    missing = unregistered_losses()
    if missing:
        print(f"\nno workload registered for: {', '.join(missing)}")
    return 0
