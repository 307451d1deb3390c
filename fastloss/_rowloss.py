"""Base of losses with one value per row of several input arrays: embedding pairs
and triplets, anchors of a batch, ranked lists (API.md section 2, row-wise)."""

from fastloss._base import Loss, ValueT
from fastloss._validation import as_sample_weight


class RowLoss(Loss[ValueT]):
    """Reductions over rows: "mean" = sum(w_i l_i) / sum(w_i), "sum", "none" (w_i l_i)."""

    @staticmethod
    def _row_weights(sample_weight, n):
        """sample_weight as C-contiguous float64 of shape (n,), or None."""
        if sample_weight is None:
            return None
        return as_sample_weight(sample_weight, (n,), rowwise=True)[0]

    def _denominator(self, n, w):
        """sum(w) over rows for "mean" (n when unweighted); ValueError when it is 0."""
        total = n if w is None else float(w.sum())
        if total <= 0:
            what = "no rows" if n == 0 else "sample weights summing to 0"
            raise ValueError(f'reduction="mean" is undefined over {what}')
        return total

    def _gradient_scale(self, n, w):
        return 1.0 / self._denominator(n, w) if self.reduction == "mean" else 1.0

    def _reduce(self, total, values, n, w):
        """The reduced value from the weighted sum `total` and per-row `values`."""
        if self.reduction == "none":
            return values
        if self.reduction == "sum":
            return float(total)
        return float(total) / self._denominator(n, w)
