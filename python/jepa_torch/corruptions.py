"""Corruptions of the context view and token masks, as src/Jepa.Runtime/Masks defines them.

Randomness across processes: every random number is drawn for the **global** batch from the step's generator (the same
on every process) and each process keeps the rows of its part (``BatchPart``). N processes therefore see exactly the
views and masks one process sees with the whole batch, at the cost of drawing the whole batch's numbers everywhere
(cheap next to the forward pass: a few numbers per sample, or one per input element for noise and dropout).
"""
from dataclasses import dataclass
import math

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class BatchPart:
    """Rows [start, stop) of a global batch of ``total`` samples: the part one process trains on."""
    start: int
    stop: int
    total: int

    @staticmethod
    def whole(total):
        return BatchPart(0, total, total)

    @property
    def size(self):
        return self.stop - self.start

    def of(self, t):
        """This part's rows of a tensor drawn for the global batch."""
        return t[self.start:self.stop]


def _uniform(shape, g):
    return torch.rand(shape, generator=g, device=g.device, dtype=torch.float32)


def _normal(shape, g):
    return torch.randn(shape, generator=g, device=g.device, dtype=torch.float32)


def _integers(high, shape, g):
    return torch.randint(0, high, shape, generator=g, device=g.device, dtype=torch.int64)


def _global_shape(x, part):
    return (part.total, *x.shape[1:])


class GaussianNoise:
    """``gaussian_noise(std)``: ``x + std * e``, ``e ~ N(0, 1)`` per element."""

    def __init__(self, std):
        if not std >= 0:
            raise ValueError(f"The noise std must be non-negative (is {std}).")
        self.std = std

    def __call__(self, x, g, part):
        e = part.of(_normal(_global_shape(x, part), g)).to(x.device, x.dtype)
        return x + e * self.std


class FeatureDropout:
    """``feature_dropout(p)``: every element zeroed with probability p, the kept ones **not** rescaled."""

    def __init__(self, p):
        if not 0 <= p < 1:
            raise ValueError(f"feature_dropout needs p in [0, 1) (is {p}).")
        self.p = p

    def __call__(self, x, g, part):
        u = part.of(_uniform(_global_shape(x, part), g)).to(x.device, x.dtype)
        return x * u.ge(self.p).to(x.dtype)


class RandomFeatureMask:
    """``random_mask(ratio)`` on vectors: exactly ``round(ratio d)`` elements per sample (half away from zero) zeroed."""

    def __init__(self, ratio):
        if not 0 <= ratio <= 1:
            raise ValueError(f"random_mask needs a ratio in [0, 1] (is {ratio}).")
        self.ratio = ratio

    def masked_count(self, d):
        return int(math.floor(self.ratio * d + 0.5))

    def __call__(self, x, g, part):
        b, d = x.shape[0], x[0].numel()
        k = self.masked_count(d)
        order = part.of(_uniform((part.total, d), g).argsort(1)).to(x.device)       # (b, d): a permutation per sample
        keep = torch.ones(b, d, dtype=x.dtype, device=x.device)
        if k > 0:
            keep = keep.scatter(1, order[:, :k], torch.zeros(b, k, dtype=x.dtype, device=x.device))
        return x * keep.reshape(x.shape)


class RandomCrop:
    """``random_crop(scale, aspect)``: a random-resized crop per sample (area ~ U(scale), aspect log-uniform, side
    fractions clipped to 1, uniform position), resized back with bilinear ``grid_sample`` (border padding,
    ``align_corners=False``). Input (B, C, H, W) or (B, H, W)."""

    def __init__(self, scale=(0.08, 1.0), aspect=(3 / 4, 4 / 3)):
        if not 0 < scale[0] <= scale[1] <= 1:
            raise ValueError(f"random_crop needs 0 < scale min <= scale max <= 1, got {scale}.")
        if not 0 < aspect[0] <= aspect[1]:
            raise ValueError(f"random_crop needs 0 < aspect min <= aspect max, got {aspect}.")
        self.scale, self.aspect = tuple(scale), tuple(aspect)

    def __call__(self, x, g, part):
        if x.dim() not in (3, 4):
            raise ValueError(f"random_crop needs images (B, C, H, W) or (B, H, W), got {list(x.shape)}.")
        images = x.unsqueeze(1) if x.dim() == 3 else x                              # (b, C, H, W)
        u = part.of(_uniform((part.total, 4), g)).to(x.device)                      # scale, aspect, x, y draws
        area = u[:, 0] * (self.scale[1] - self.scale[0]) + self.scale[0]
        lo, hi = math.log(self.aspect[0]), math.log(self.aspect[1])
        aspect = (u[:, 1] * (hi - lo) + lo).exp()
        w = (area * aspect).sqrt().clamp_max(1.0)                                   # width fraction
        h = (area / aspect).sqrt().clamp_max(1.0)                                   # height fraction
        cx = (u[:, 2] * 2 - 1) * (1 - w)                                            # centre in [-(1 - w), 1 - w]
        cy = (u[:, 3] * 2 - 1) * (1 - h)
        zero = torch.zeros_like(w)
        theta = torch.stack([torch.stack([w, zero, cx], 1), torch.stack([zero, h, cy], 1)], 1)   # (b, 2, 3)
        grid = F.affine_grid(theta.to(images.dtype), list(images.shape), align_corners=False)
        cropped = F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)
        return cropped.squeeze(1) if x.dim() == 3 else cropped


class Compose:
    """``a then b``: ``Compose(a, b)(x) = b(a(x))``; the draws happen in that order."""

    def __init__(self, *steps):
        self.steps = steps

    def __call__(self, x, g, part):
        for step in self.steps:
            x = step(x, g, part)
        return x


@dataclass
class TokenMasks:
    """Token indices for a batch: ``context`` (B, Nc) and ``target`` (B, Nt), int64, row-major positions."""
    context: torch.Tensor
    target: torch.Tensor

    def part(self, part):
        return TokenMasks(part.of(self.context), part.of(self.target))

    def to(self, device):
        return TokenMasks(self.context.to(device), self.target.to(device))


class MultiBlockMask:
    """``block_mask(targets, target_scale, context_scale, aspect, min_keep)``: I-JEPA's multi-block sampler,
    vectorised over the batch, step for step as src/Jepa.Runtime/Masks/MultiBlockMask.cs (one target and one context
    block size per batch; per sample ``targets`` target blocks and a context block without them, redrawn up to 20
    times below ``min_keep`` tokens, then the fallback; every sample trimmed to the batch's smallest context).
    ``sample`` draws for the global batch: the trim to the smallest context couples the samples of the batch."""

    tries = 20

    def __init__(self, grid, targets=4, target_scale=(0.15, 0.2), context_scale=(0.85, 1.0), aspect=(0.75, 1.5), min_keep=4):
        self.grid = tuple(grid)
        self.targets = targets
        self.target_scale, self.context_scale, self.aspect = tuple(target_scale), tuple(context_scale), tuple(aspect)
        if not 1 <= min_keep <= self.grid[0] * self.grid[1]:
            raise ValueError(f"min_keep must be between 1 and the {self.grid[0] * self.grid[1]} tokens of the grid.")
        self.min_keep = min_keep

    def block_size(self, scale, aspect):
        gh, gw = self.grid
        k = math.floor(gh * gw * scale)
        h = _round_half_even(math.sqrt(k * aspect))
        w = _round_half_even(math.sqrt(k / aspect))
        return min(max(h, 1), gh), min(max(w, 1), gw)

    def sample(self, batch, g):
        gh, gw = self.grid
        n, device = gh * gw, g.device
        # 1. One target block size and one context block size for the whole batch.
        u = _uniform((3,), g).cpu().tolist()
        th, tw = self.block_size(_lerp(self.target_scale, u[0]), _lerp(self.aspect, u[1]))
        ch, cw = self.block_size(_lerp(self.context_scale, u[2]), 1.0)
        # 2. Target blocks at random positions: (B, T, th*tw), concatenated to (B, Nt).
        top = _integers(gh - th + 1, (batch, self.targets), g)
        left = _integers(gw - tw + 1, (batch, self.targets), g)
        rows = top.unsqueeze(-1) + torch.arange(th, device=device)                  # (B, T, th)
        cols = left.unsqueeze(-1) + torch.arange(tw, device=device)                 # (B, T, tw)
        target = (rows.unsqueeze(-1) * gw + cols.unsqueeze(-2)).reshape(batch, self.targets, th * tw)
        in_target = torch.zeros(batch, self.targets, n, dtype=torch.bool, device=device).scatter(
            2, target, torch.ones(target.shape, dtype=torch.bool, device=device))   # (B, T, N)
        outside = in_target.any(1).logical_not()                                    # (B, N)
        # 3. Context block minus the targets; redraw the position where fewer than min_keep tokens remain.
        context = self._block(_integers(gh - ch + 1, (batch,), g), _integers(gw - cw + 1, (batch,), g), ch, cw) & outside
        for _ in range(self.tries):
            small = context.sum(1) < self.min_keep
            if not bool(small.any()):
                break
            redrawn = self._block(_integers(gh - ch + 1, (batch,), g), _integers(gw - cw + 1, (batch,), g), ch, cw) & outside
            context = torch.where(small.unsqueeze(1), redrawn, context)
        # 4. Fallback: every token outside the first k target blocks, the largest k that leaves min_keep tokens.
        still_small = context.sum(1) < self.min_keep
        if bool(still_small.any()):
            covered = torch.cat([torch.zeros(batch, 1, n, dtype=torch.bool, device=device), in_target.cumsum(1) > 0], 1)
            free = covered.logical_not()                                            # (B, T+1, N)
            enough = free.sum(2) >= self.min_keep
            k = (enough.long() * torch.arange(self.targets + 1, device=device)).argmax(1)
            fallback = free.gather(1, k.view(batch, 1, 1).expand(batch, 1, n)).squeeze(1)
            context = torch.where(still_small.unsqueeze(1), fallback, context)
        # 5. Trim every sample to the smallest context of the batch: its first Nc tokens in row-major order.
        nc = int(context.sum(1).min())
        context_idx = context.logical_not().to(torch.int32).sort(dim=1, stable=True).indices[:, :nc]
        return TokenMasks(context_idx.long(), target.reshape(batch, self.targets * th * tw))

    def _block(self, top, left, h, w):
        r = torch.arange(self.grid[0], device=top.device)
        c = torch.arange(self.grid[1], device=top.device)
        in_rows = (r >= top.unsqueeze(1)) & (r < top.unsqueeze(1) + h)              # (B, H)
        in_cols = (c >= left.unsqueeze(1)) & (c < left.unsqueeze(1) + w)            # (B, W)
        return (in_rows.unsqueeze(2) & in_cols.unsqueeze(1)).reshape(top.shape[0], -1)


class RandomTokenMask:
    """``random_mask(ratio)`` on tokens: per sample ``Nt = round(ratio N)`` (in [1, N - 1]) random target tokens, the
    rest context; both ascending."""

    def __init__(self, grid, ratio):
        self.grid = tuple(grid)
        n = self.grid[0] * self.grid[1]
        if n < 2 or not 0 < ratio < 1:
            raise ValueError("random_mask needs at least two tokens and a ratio in (0, 1).")
        self.target_count = min(max(int(math.floor(ratio * n + 0.5)), 1), n - 1)

    def sample(self, batch, g):
        order = _uniform((batch, self.grid[0] * self.grid[1]), g).argsort(1)        # (B, N)
        return TokenMasks(order[:, self.target_count:].sort(1).values, order[:, :self.target_count].sort(1).values)


def _lerp(r, u):
    return r[0] + u * (r[1] - r[0])


def _round_half_even(x):
    """C#'s Math.Round (banker's rounding), which Python's round also is."""
    return int(round(x))
