"""The training step's operations on several views of each sample (``views NAME = GROUP * count``, docs/language.md),
as src/Jepa.Runtime/Training/Views.cs defines them.

Views are laid out **view-major**: ``count`` views of a batch of B samples are ``(count B, ...)``, rows
``v B .. (v + 1) B - 1`` holding view v of every sample, and a side's representations are ``(V, B, ...)``. Views of
one size pass through an encoder as one batch, so batch norm normalises them together (LeJEPA's and DINO's
multi-crop), with the global batch's statistics under several processes (``GlobalBatchNorm``).

Across processes a group's views are drawn as C#'s ``Views.Draw`` draws them for the **global** batch (the global
batch repeated ``count`` times, corrupted in one call from the step's generator) and each process keeps, in every
view, the rows of its part (``ViewsPart``): N processes see exactly the views one process sees.
"""
import torch


class ViewsPart:
    """This process's rows of ``count`` views of a global batch, drawn view-major (``count * part.total`` rows): in each
    view the rows of ``part``. It stands for a ``BatchPart`` when a corruption draws for the repeated global batch."""

    def __init__(self, part, count):
        if count < 1:
            raise ValueError(f"A group of views needs at least one view (is {count}).")
        self.batch, self.count = part, count

    @property
    def total(self):
        return self.count * self.batch.total

    @property
    def size(self):
        return self.count * self.batch.size

    def of(self, t):
        """This process's rows of a tensor drawn for the repeated global batch: (count B, ...) -> (count b, ...)."""
        views = t.reshape(self.count, self.batch.total, *t.shape[1:])                 # (count, B, ...)
        return self.batch.of(views.transpose(0, 1)).transpose(0, 1).reshape(self.size, *t.shape[1:])


def draw(corruption, batch, count, g, part):
    """``count`` views of each sample of this process's ``batch`` (b, ...) through ``corruption``, each drawing its own
    randomness, as ``Views.Draw`` does for the global batch: (count b, ...'), view-major."""
    repeated = batch if count == 1 else batch.repeat(count, *([1] * (batch.dim() - 1)))   # (count b, ...)
    return corruption(repeated, g, ViewsPart(part, count))


def stack(views, *passes):
    """A side's representations, view-major: its encoder's outputs of its passes (each ``(V_p b, ...)``, one per size of
    views, in view order) concatenated and split into ``views``: ``(views, b, ...)``."""
    if not passes:
        raise ValueError("stack needs at least one pass.")
    rows = torch.cat(passes, 0) if len(passes) > 1 else passes[0]                   # (V b, ...)
    if rows.shape[0] % views:
        raise ValueError(f"{rows.shape[0]} rows do not split into {views} views of one batch.")
    return rows.reshape(views, rows.shape[0] // views, *rows.shape[1:])             # (V, b, ...)


def mean(views):
    """The mean over the views: (V, b, ...) -> (1, b, ...), one view (LeJEPA's target: the mean of the global views)."""
    return views.mean(0, keepdim=True)


def pairwise(predicted, target, loss, same_view=None):
    """The mean of ``loss(predicted[i], target[j])`` over every pair of a context view i (of predicted, (Vc, b, ...))
    and a target view j (of target, (Vt, b, ...)), but a view with itself: with ``same_view = (c, t)`` both sides take
    views of one declaration, context view i being its view ``c + i`` and target view j its view ``t + j``."""
    total, pairs = None, 0
    for i in range(predicted.shape[0]):
        for j in range(target.shape[0]):
            if same_view is not None and same_view[0] + i == same_view[1] + j:
                continue
            term = loss(predicted[i], target[j])
            total = term if total is None else total + term
            pairs += 1
    if total is None:
        raise ValueError(f"No pair of different views among {predicted.shape[0]} context and {target.shape[0]} target views.")
    return total / pairs


def mean_over_views(term, *sides, draws=None):
    """The mean of ``term(z)`` over every view z (b, ...) of every side given, each (V, b, ...): a regularizer per view
    (LeJEPA's SIGReg on each view). With ``draws`` (one per view, in that order), ``term(z, draws[k])``."""
    views = [side[v] for side in sides for v in range(side.shape[0])]
    if not views:
        raise ValueError("mean_over_views needs at least one view.")
    if draws is not None and len(draws) != len(views):
        raise ValueError(f"{len(draws)} draws for {len(views)} views.")
    total = None
    for k, z in enumerate(views):
        value = term(z) if draws is None else term(z, draws[k])
        total = value if total is None else total + value
    return total / len(views)
