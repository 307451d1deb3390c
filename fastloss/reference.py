# ---- embedding ----
# Plain NumPy embedding losses: the oracle of tests/test_embedding.py and the baseline
# of the benchmarks. Each returns (value, gradients) with fastloss's reductions:
# "mean" = sum(w l) / sum(w) ("mean" of BatchTriplet: over its mined triplets), "sum",
# "none" = w l per row; gradients are those of the reduced value.

import numpy as np  # noqa: E402


def _embedding_reduce(values, row_grads, sample_weight, reduction):
    """Weight, reduce and scale per-row values and per-row gradients."""
    w = np.ones(len(values)) if sample_weight is None else np.asarray(sample_weight, float)
    if reduction == "none":
        return w * values, tuple(w[:, None] * g for g in row_grads)
    scale = 1.0
    if reduction == "mean":
        scale = 1.0 / w.sum()
    return scale * np.sum(w * values), tuple(scale * w[:, None] * g for g in row_grads)


def contrastive(same, x1, x2, margin=1.0, sample_weight=None, reduction="mean"):
    """l = same d^2 + (1 - same) max(0, margin - d)^2, d = ||x1 - x2|| (Hadsell 2006)."""
    same = np.asarray(same, dtype=float)
    diff = x1 - x2
    d = np.sqrt((diff * diff).sum(axis=1))
    hinge = np.maximum(margin - d, 0.0)
    values = same * d**2 + (1 - same) * hinge**2
    with np.errstate(divide="ignore", invalid="ignore"):
        dissimilar = np.where(d > 0, 2 * (1 - same) * hinge / d, 0.0)
    g1 = (2 * same - dissimilar)[:, None] * diff
    return _embedding_reduce(values, (g1, -g1), sample_weight, reduction)


def _emb_pairwise_distance(u, v, p, eps):
    """torch.pairwise_distance: ||u - v + eps||_p per row, and its gradient wrt u."""
    x = u - v + eps
    d = (np.abs(x) ** p).sum(axis=1) ** (1.0 / p)
    with np.errstate(divide="ignore", invalid="ignore"):
        grad = np.sign(x) * (np.abs(x) / d[:, None]) ** (p - 1)
    return d, np.where(d[:, None] > 0, grad, 0.0)


def triplet(anchor, positive, negative, margin=1.0, p=2.0, swap=False, eps=1e-6,
            sample_weight=None, reduction="mean"):
    """torch.nn.functional.triplet_margin_loss: max(0, margin + d(a,p) - d(a,n))."""
    d_ap, g_ap = _emb_pairwise_distance(anchor, positive, p, eps)
    d_an, g_an = _emb_pairwise_distance(anchor, negative, p, eps)
    share_an, share_pn = np.ones_like(d_an), np.zeros_like(d_an)
    d_neg, g_pn = d_an, np.zeros_like(g_an)
    if swap:
        d_pn, g_pn = _emb_pairwise_distance(positive, negative, p, eps)
        share_an = np.where(d_pn < d_an, 0.0, np.where(d_pn == d_an, 0.5, 1.0))
        share_pn = 1.0 - share_an
        d_neg = np.minimum(d_an, d_pn)
    z = margin + d_ap - d_neg
    active = (z >= 0)[:, None]
    ga = active * (g_ap - share_an[:, None] * g_an)
    gp = active * (-g_ap - share_pn[:, None] * g_pn)
    gn = active * (share_an[:, None] * g_an + share_pn[:, None] * g_pn)
    return _embedding_reduce(np.maximum(z, 0.0), (ga, gp, gn), sample_weight, reduction)


def _emb_float_array(x):
    """x as float32 or float64 (its own dtype when floating): the dtype computed in."""
    x = np.asarray(x)
    return x if x.dtype in (np.float32, np.float64) else x.astype(np.float64)


def batch_triplet_triplets(labels, embeddings, margin=1.0, strategy="hard"):
    """The mined triplets (anchor, positive, negative index arrays) and per-anchor counts.

    Distances from the Gram matrix; "hard": per anchor its farthest positive and
    closest negative; "semihard": per anchor-positive pair the closest negative farther
    than the positive, else the farthest negative; "all": every triplet with positive
    loss. Ties go to the lowest index.
    """
    X = _emb_float_array(embeddings)
    labels = np.asarray(labels)
    n = len(X)
    sq = (X * X).sum(axis=1)
    dist = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * X @ X.T, 0.0))
    np.fill_diagonal(dist, 0.0)
    same = labels[:, None] == labels[None, :]
    pos_mask = same & ~np.eye(n, dtype=bool)
    neg_mask = ~same
    if strategy == "hard":
        valid = pos_mask.any(axis=1) & neg_mask.any(axis=1)
        a = np.flatnonzero(valid)
        p = np.where(pos_mask, dist, -np.inf).argmax(axis=1)[a]
        q = np.where(neg_mask, dist, np.inf).argmin(axis=1)[a]
        return a, p, q, valid.astype(float)
    triplets, counts = [], np.zeros(n)
    for anchor in range(n):
        positives, negatives = np.flatnonzero(pos_mask[anchor]), np.flatnonzero(neg_mask[anchor])
        if negatives.size == 0:
            continue
        row = dist[anchor]
        for positive in positives:
            if strategy == "semihard":
                farther = negatives[row[negatives] > row[positive]]
                if farther.size:
                    chosen = [farther[np.argmin(row[farther])]]
                else:
                    chosen = [negatives[np.argmax(row[negatives])]]
                counts[anchor] += 1
            else:
                chosen = negatives[margin + row[positive] - row[negatives] > 0]
                counts[anchor] += chosen.size
            triplets += [(anchor, positive, negative) for negative in chosen]
    a, p, q = (np.array(t, dtype=np.int64) for t in zip(*triplets, strict=True)) if triplets else (
        np.zeros(0, dtype=np.int64),) * 3
    return a, p, q, counts


def batch_triplet(labels, embeddings, margin=1.0, strategy="hard", sample_weight=None,
                  reduction="mean"):
    """Triplet loss over triplets mined in the batch; returns (value, gradient).

    l_a sums max(0, margin + d(a,p) - d(a,n)) over the anchor's mined triplets;
    "mean" divides by the weighted number of mined triplets (0.0 when there is none).
    hard/semihard losses use distances from the differences; "all" Gram distances.
    """
    X = _emb_float_array(embeddings)
    n = len(X)
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    a, p, q, counts = batch_triplet_triplets(labels, X, margin, strategy)
    if strategy == "all":
        sq = (X * X).sum(axis=1)
        dist = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * X @ X.T, 0.0))
        d_ap, d_an = dist[a, p], dist[a, q]
    else:
        d_ap = np.linalg.norm(X[a] - X[p], axis=1)
        d_an = np.linalg.norm(X[a] - X[q], axis=1)
    z = margin + d_ap - d_an
    values = np.bincount(a, weights=np.maximum(z, 0.0), minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        u_ap = np.where(d_ap[:, None] > 0, (X[a] - X[p]) / d_ap[:, None], 0.0)
        u_an = np.where(d_an[:, None] > 0, (X[a] - X[q]) / d_an[:, None], 0.0)
    coef = (z > 0)[:, None]
    grad_rows = np.zeros_like(X)  # gradient of sum_a w_a l_a
    np.add.at(grad_rows, a, w[a, None] * coef * (u_ap - u_an))
    np.add.at(grad_rows, p, -w[a, None] * coef * u_ap)
    np.add.at(grad_rows, q, w[a, None] * coef * u_an)
    if reduction == "none":
        return w * values, grad_rows
    total = np.sum(w * values)
    if reduction == "sum":
        return total, grad_rows
    triplets = np.sum(w * counts)
    if triplets == 0:
        return 0.0, np.zeros_like(X)
    return total / triplets, grad_rows / triplets


# ---- ranking ----
# Plain NumPy ranking losses over (n_lists, list_size) arrays with an optional `where`
# mask: the oracle of tests/test_ranking.py and the baseline of the benchmarks. Each
# returns (value, gradient wrt scores) with fastloss's reductions over lists. Pairwise
# losses work on chunks of lists to bound the (chunk, L, L) temporaries.


def _ranking_reduce(values, grad_rows, sample_weight, reduction):
    """Weight per list and reduce: "mean" over all lists, "sum", or "none"."""
    w = np.ones(len(values)) if sample_weight is None else np.asarray(sample_weight, float)
    if reduction == "none":
        return w * values, w[:, None] * grad_rows
    scale = 1.0 / w.sum() if reduction == "mean" else 1.0
    return scale * np.sum(w * values), scale * w[:, None] * grad_rows


def _ranking_mask(scores, where):
    return np.ones(scores.shape, dtype=bool) if where is None else np.asarray(where, dtype=bool)


def _rank_sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


def _rank_pairwise(relevance, scores, where, pair_fn, chunk=256):
    """Per-list sums of pair_fn over pairs rel_i > rel_j of valid items, and gradients.

    pair_fn(x, lists) -> (pair losses, d pair loss / dx) for x = s_i - s_j, x of shape
    (chunk, L, L); lists is the slice of lists, for weights that depend on the list.
    """
    relevance, scores = np.asarray(relevance, float), np.asarray(scores, float)
    mask = _ranking_mask(scores, where)
    n, size = scores.shape
    values, grad = np.zeros(n), np.zeros((n, size))
    for start in range(0, n, chunk):
        lists = slice(start, start + chunk)
        r, s, m = relevance[lists], scores[lists], mask[lists]
        valid = (r[:, :, None] > r[:, None, :]) & m[:, :, None] & m[:, None, :]
        with np.errstate(invalid="ignore", over="ignore"):
            losses, slopes = pair_fn(s[:, :, None] - s[:, None, :], lists)
        losses, slopes = np.where(valid, losses, 0.0), np.where(valid, slopes, 0.0)
        values[lists] = losses.sum(axis=(1, 2))
        grad[lists] = slopes.sum(axis=2) - slopes.sum(axis=1)
    return values, grad


def pairwise_hinge(relevance, scores, margin=1.0, where=None, sample_weight=None,
                   reduction="mean"):
    """sum over pairs rel_i > rel_j of max(0, margin - (s_i - s_j)) (rax)."""
    def pair(x, lists):
        return np.maximum(margin - x, 0.0), -(margin - x > 0).astype(float)
    values, grad = _rank_pairwise(relevance, scores, where, pair)
    return _ranking_reduce(values, grad, sample_weight, reduction)


def pairwise_logistic(relevance, scores, where=None, sample_weight=None, reduction="mean"):
    """RankNet: sum over pairs rel_i > rel_j of log(1 + exp(-(s_i - s_j))) (rax)."""
    def pair(x, lists):
        return np.logaddexp(0.0, -x), -_rank_sigmoid(-x)
    values, grad = _rank_pairwise(relevance, scores, where, pair)
    return _ranking_reduce(values, grad, sample_weight, reduction)


def ndcg_lambda_weights(relevance, scores, k=None, where=None):
    """|G_i - G_j| |D_i - D_j| / IDCG@k per pair, (n, L, L): G = 2^rel - 1,
    D = 1/log2(1 + rank by score) up to rank k (ties by index), 0 beyond."""
    relevance, scores = np.asarray(relevance, float), np.asarray(scores, float)
    mask = _ranking_mask(scores, where)
    n, size = scores.shape
    k = size if k is None else k
    positions = np.arange(size)
    order = np.argsort(np.where(mask, -scores, np.inf), axis=1, kind="stable")
    ranks = np.empty((n, size))
    np.put_along_axis(ranks, order, positions[None, :] + 1.0, axis=1)
    discounts = np.where(mask & (ranks <= k), 1.0 / np.log2(1.0 + ranks), 0.0)
    gains = np.where(mask, 2.0 ** np.where(mask, relevance, 0.0) - 1.0, 0.0)
    ideal_gains = -np.sort(-gains, axis=1)
    ideal = (ideal_gains / np.log2(2.0 + positions) * (positions < k)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        gains = np.where(ideal[:, None] > 0, gains / ideal[:, None], 0.0)
    return (np.abs(gains[:, :, None] - gains[:, None, :])
            * np.abs(discounts[:, :, None] - discounts[:, None, :]))


def lambda_rank(relevance, scores, k=None, where=None, sample_weight=None, reduction="mean"):
    """RankNet pairs weighted by NDCG@k swap deltas (weights held constant)."""
    weights = ndcg_lambda_weights(relevance, scores, k, where)

    def pair(x, lists):
        lam = weights[lists]
        return lam * np.logaddexp(0.0, -x), -lam * _rank_sigmoid(-x)
    values, grad = _rank_pairwise(relevance, scores, where, pair)
    return _ranking_reduce(values, grad, sample_weight, reduction)


def listwise_softmax(relevance, scores, where=None, sample_weight=None, reduction="mean"):
    """ListNet: -sum (rel_i / sum rel) log softmax(s)_i; 0 for lists without relevance."""
    relevance, scores = np.asarray(relevance, float), np.asarray(scores, float)
    mask = _ranking_mask(scores, where)
    rel = np.where(mask, relevance, 0.0)
    total = rel.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        target = np.where(total > 0, rel / total, 0.0)
    s = np.where(mask, scores, -np.inf)
    top = np.max(s, axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    lse = top + np.log(np.exp(s - top).sum(axis=1, keepdims=True))
    values = np.where(target > 0, target * (lse - np.where(mask, scores, 0.0)), 0.0).sum(axis=1)
    probs = np.where(mask, np.exp(s - lse), 0.0)
    grad = np.where(total > 0, probs - target, 0.0)
    return _ranking_reduce(values, grad, sample_weight, reduction)


def list_mle(relevance, scores, where=None, sample_weight=None, reduction="mean"):
    """ListMLE: sum_i (log sum_{j >= i} exp(s_pi(j)) - s_pi(i)), pi = stable sort by
    relevance descending over the valid items."""
    relevance, scores = np.asarray(relevance, float), np.asarray(scores, float)
    mask = _ranking_mask(scores, where)
    n, size = scores.shape
    order = np.argsort(np.where(mask, -relevance, np.inf), axis=1, kind="stable")
    s = np.take_along_axis(np.where(mask, scores, -np.inf), order, axis=1)
    valid = np.take_along_axis(mask, order, axis=1)
    with np.errstate(invalid="ignore", over="ignore"):
        lse = np.flip(np.logaddexp.accumulate(np.flip(s, axis=1), axis=1), axis=1)
        values = np.where(valid, lse - s, 0.0).sum(axis=1)
        # d/ds_m = sum_{i <= m} exp(s_m - lse_i) - 1, for valid i and m
        later = np.triu(np.ones((size, size), dtype=bool))  # later[i, m]: i <= m
        probs = np.exp(s[:, None, :] - lse[:, :, None])
        probs = np.where(later & valid[:, :, None] & valid[:, None, :], probs, 0.0)
    grad_sorted = np.where(valid, probs.sum(axis=1) - 1.0, 0.0)
    grad = np.zeros((n, size))
    np.put_along_axis(grad, order, grad_sorted, axis=1)
    return _ranking_reduce(values, grad, sample_weight, reduction)
