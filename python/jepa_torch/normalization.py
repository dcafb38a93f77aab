"""Per-channel input normalisation, ``x' = (x - mean[c]) / std[c]``, as src/Jepa.Runtime/Training/InputNormalization.cs
defines, computes and applies it (docs/runtime-training.md, "Normalisation").

Channels: a sample of rank 3 or more (``[c, h, w]``) has c channels, its first axis, each with its own mean and
standard deviation over all samples and positions (torchvision's ``Normalize``); a sample of rank 1 or 2 (``[d]``,
``[h, w]``) is **one** channel. The values are declared, or computed on the training data when a fresh run starts
(``compute``: the same samples, batches and arithmetic as C#, so both runtimes get the same statistics), and kept in
the options of ``options.json`` and of every checkpoint.
"""
from dataclasses import dataclass
import math

import torch

from .data import epoch_order

#: Samples read at most by ``compute`` (a seeded random subset of larger data sets).
MAX_SAMPLES = 50_000
#: Below this, a channel's standard deviation is taken as 1: a constant channel is only centred.
MIN_STD = 1e-6
#: Mixed into the run seed to draw the samples of ``compute`` ("normal").
SEED = 0x6E6F726D616C
#: ``compute`` reads the data in batches of this many samples.
BATCH = 256


@dataclass(frozen=True)
class InputNormalization:
    """One mean and standard deviation per channel (or one for every channel); ``samples``: how many training samples
    they were computed on, None when declared."""
    mean: tuple
    std: tuple
    samples: int = None

    def __post_init__(self):
        object.__setattr__(self, "mean", tuple(float(m) for m in self.mean))
        object.__setattr__(self, "std", tuple(float(s) for s in self.std))
        if not self.mean or len(self.mean) != len(self.std):
            raise ValueError(f"Normalization needs as many means as standard deviations, at least one (has {len(self.mean)} and {len(self.std)}).")
        if not all(math.isfinite(m) for m in self.mean) or not all(math.isfinite(s) and s > 0 for s in self.std):
            raise ValueError(f"Normalization needs finite means and positive, finite standard deviations (is {self}).")

    @staticmethod
    def none():
        """No normalisation: mean 0 and standard deviation 1 for every channel."""
        return InputNormalization((0.0,), (1.0,))

    @property
    def is_identity(self):
        return all(m == 0 for m in self.mean) and all(s == 1 for s in self.std)

    @staticmethod
    def compute(data, seed):
        """The mean and the population standard deviation of each channel over ``data`` (a ``data.Dataset``): every
        sample when there are at most 50,000, else 50,000 drawn at random by the seed; read in batches of 256 in the
        order of epoch 0 of ``seed ^ SEED``, each batch's mean and variance in float32 (torch's reductions), combined
        in float64 (Chan's parallel update), exactly as C#'s ``InputNormalization.Compute``."""
        order = epoch_order(len(data), seed ^ SEED, 0)
        mean = m2 = None
        n, samples = 0.0, 0
        for start in range(0, len(data), BATCH):
            x = data.batch(order[start:start + BATCH])
            if samples + x.shape[0] > MAX_SAMPLES:
                x = x[:MAX_SAMPLES - samples]
            samples += x.shape[0]
            values = x.transpose(0, 1).reshape(x.shape[1], -1) if x.dim() >= 4 else x.reshape(1, -1)   # (channels, values)
            count = float(values.shape[1])
            bm = values.mean(1).to(torch.float64).tolist()
            b2 = (values.var(1, unbiased=False).to(torch.float64) * count).tolist()
            if mean is None:
                mean, m2 = [0.0] * len(bm), [0.0] * len(bm)
            total = n + count
            for c in range(len(mean)):
                delta = bm[c] - mean[c]
                mean[c] += delta * count / total
                m2[c] += b2[c] + delta * delta * n * count / total
            n = total
            if samples >= MAX_SAMPLES:
                break
        if mean is None or n == 0:
            raise ValueError("The training data has no samples to compute the normalisation on.")
        std = [math.sqrt(v / n) for v in m2]
        return InputNormalization(mean, [1.0 if s < MIN_STD else s for s in std], samples)

    def apply(self, x):
        """``(x - mean) / std`` per channel of axis 1 for batches (B, C, H, W, ...), one channel for (B, d) and
        (B, H, W): a new tensor, or ``x`` itself when this changes nothing."""
        if self.is_identity:
            return x
        mean, std = self._tensors(x)
        return x.sub(mean).div_(std)

    def _tensors(self, x):
        rank = x.dim()
        channels = x.shape[1] if rank >= 4 else 1
        if len(self.mean) not in (1, channels):
            raise ValueError(f"The normalisation has {len(self.mean)} channels, but the samples have {channels} (axis 1 of the batch)." if rank >= 4
                             else f"The normalisation has {len(self.mean)} channels, but samples of rank {rank - 1} are one channel "
                                  "(docs/runtime-training.md, \"Normalisation\").")
        key = (rank, x.device)
        cache = self.__dict__.setdefault("_cache", {})
        if key not in cache:
            shape = [1] * rank
            if rank >= 4:
                shape[1] = len(self.mean)
            cache[key] = tuple(torch.tensor(v, dtype=torch.float32, device=x.device).reshape(shape) for v in (self.mean, self.std))
        return cache[key]

    def to_json(self):
        return {"mean": list(self.mean), "std": list(self.std), "samples": self.samples}

    @staticmethod
    def from_json(value):
        """From ``to_json`` (or a dataclass dict), None from None."""
        if value is None or isinstance(value, InputNormalization):
            return value
        return InputNormalization(value["mean"], value["std"], value.get("samples"))

    def __str__(self):
        def join(values):
            return ", ".join(f"{v:.6g}" for v in values)
        return f"mean [{join(self.mean)}], std [{join(self.std)}]" + \
            (f" (computed on {self.samples} training samples)" if self.samples is not None else " (declared)")
