#!/usr/bin/env python3
"""DigitsContrastive (examples/Contrastive/contrastive.jepa) as a PyTorch program: a conv encoder on two random crops
of each digit, InfoNCE with the other samples of the batch as negatives, no predictor.

    python3 train_digits_contrastive.py --data data/digits.csv.gz
    torchrun --nproc_per_node 2 train_digits_contrastive.py --data data/digits.csv.gz

The batch of the file (256) is the global batch: every process's queries meet the negatives of all processes
(docs/scale-out.md). This file is the golden output of the PyTorch emitter (`jepa export contrastive.jepa --target
pytorch`); it imports the runtime package python/jepa_torch.
"""
import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("jepa_torch") is None:  # not installed: the repository's python/ folder
    sys.path.insert(0, str(next(p / "python" for p in Path(__file__).resolve().parents if (p / "python" / "jepa_torch").is_dir())))

import torch

import jepa_torch as jt
from jepa_torch import corruptions as C, losses as L, models as M, training as T

# Every value of contrastive.jepa.
OPTIONS = jt.Options(
    batch=256, steps=1500, seed=3,
    optimizer="adamw", lr=T.Ramp(3e-4, 3e-4), weight_decay=T.Ramp(0.05, 0.05), betas=(0.9, 0.999),
    schedule="constant",
    collapse=jt.Collapse(min_std=0.01, min_rank=3, action="warn", every=100),
)
TEMPERATURE = 0.1                                                                  # loss info_nce(temperature: 0.1)


class DigitsContrastive(jt.Experiment):
    """experiment DigitsContrastive (contrastive.jepa)."""

    name = "DigitsContrastive"
    input_shape = (1, 8, 8)      # input image: float[1, 8, 8]

    def __init__(self, options, ddp, precision):
        self.options, self.precision, self.ddp = options, precision, ddp
        # Modules are created in a fixed order under the run seed.
        self.context_encoder = M.ConvEncoder(self.input_shape, channels=[32, 64], kernel=3, pool="mean", out=128).to(ddp.device)
        self.predictor = M.Identity()                                               # no predictor
        # corruption a = random_crop(scale: 0.6..1.0) then gaussian_noise(std: 0.05)
        self.a = C.Compose(C.RandomCrop(scale=(0.6, 1.0), aspect=(0.75, 1.3333)), C.GaussianNoise(std=0.05))
        # corruption b = random_crop(scale: 0.6..1.0)
        self.b = C.RandomCrop(scale=(0.6, 1.0), aspect=(0.75, 1.3333))
        # encoder net: one module on both views, trained through both.
        self.register(context=self.context_encoder, target=self.context_encoder, target_kind="shared", predictor=self.predictor)
        # With several processes the trained module runs under DistributedDataParallel (it averages the gradients).
        self.context = ddp.wrap(self.context_encoder)

    def encode(self, image):
        """The representation evaluation uses: the encoder's output.   (B, 1, 8, 8) -> (B, 128)"""
        with torch.no_grad():
            return self.context_encoder(image)

    def draw(self, image, g, part):
        """1. This step's random draws, for the global batch and kept for this process's part of it: view a, then b."""
        a = self.a(image, g, part)                                                  # (b, 1, 8, 8)
        return {"a": a, "b": self.b(image, g, part)}                                # (b, 1, 8, 8)

    def loss_terms(self, image, drawn):
        """2-4: predict net(a(image)) from net(b(image)); name -> (value, weight)."""
        with self.precision.autocast():
            # 2. Target: view a through the encoder, with gradient (shared weights).   (b, 1, 8, 8) -> (b, 128)
            target = self.context(drawn["a"])
            # 3. Context: view b through the encoder; no predictor: it is the prediction.   (b, 1, 8, 8) -> (b, 128)
            predicted = self.context(drawn["b"])
        # 4. Loss terms, in fp32. info_nce couples the samples (the others are its negatives): each process's
        #    predictions are scored against the targets of every process, gathered (autograd-aware, so the gradient
        #    of every process's loss reaches each target); the positive of this process's row i is global row first + i.
        targets = self.ddp.all_gather(target.float())                               # (B, 128): the global batch
        return {"info_nce": (L.info_nce(predicted.float(), targets, TEMPERATURE, first=self.ddp.first_row(predicted)), 1.0)}

    def training_step(self, image, step):
        terms = self.loss_terms(image, self.draw(image, step.generator, step.part))
        # 5. Backward and optimizer step (every term checked finite on every process first; lr and weight decay
        #    follow the schedules; no decay on biases and 1-D parameters).
        step.backward_and_step(terms)
        return terms


if __name__ == "__main__":
    jt.run.main(DigitsContrastive, OPTIONS, __doc__)
