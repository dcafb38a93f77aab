#!/usr/bin/env python3
"""DigitsVicReg (examples/VicReg/vicreg.jepa) as a PyTorch program: one MLP encoder on both branches (shared weights,
trained through both), kept from collapsing by VICReg's variance and covariance terms.

    python3 train_digits_vicreg.py --data data/digits.csv.gz
    torchrun --nproc_per_node 2 train_digits_vicreg.py --data data/digits.csv.gz

The batch of the file (256) is the global batch (docs/scale-out.md). This file is the golden output of the PyTorch
emitter (`jepa export vicreg.jepa --target pytorch`); it imports the runtime package python/jepa_torch.
"""
import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("jepa_torch") is None:  # not installed: the repository's python/ folder
    sys.path.insert(0, str(next(p / "python" for p in Path(__file__).resolve().parents if (p / "python" / "jepa_torch").is_dir())))

import torch

import jepa_torch as jt
from jepa_torch import corruptions as C, losses as L, models as M, training as T

# Every value of vicreg.jepa.
OPTIONS = jt.Options(
    batch=256, steps=2000, seed=1,
    optimizer="adamw", lr=T.Ramp(1e-3, 1e-3), weight_decay=T.Ramp(0.05, 0.05), betas=(0.9, 0.999),
    schedule="constant",
    collapse=jt.Collapse(min_std=0.01, min_rank=3, action="warn", every=100),
)
LOSS_SCALE = 25.0                                                                  # loss mse * 25
VICREG_VARIANCE, VICREG_COVARIANCE = 25.0, 1.0                                     # regularize vicreg(variance: 25, covariance: 1)


class DigitsVicReg(jt.Experiment):
    """experiment DigitsVicReg (vicreg.jepa)."""

    name = "DigitsVicReg"
    input_shape = (64,)          # input image: float[64]

    def __init__(self, options, ddp, precision):
        self.options, self.precision, self.ddp = options, precision, ddp
        # Modules are created in a fixed order under the run seed.
        self.context_encoder = M.MlpEncoder(self.input_shape, hidden=[256, 256], out=128, act="relu").to(ddp.device)
        self.predictor = M.MlpEncoder((128,), hidden=[256], out=128, act="relu").to(ddp.device)
        # corruption noisy = gaussian_noise(std: 0.1) then feature_dropout(p: 0.3)
        self.noisy = C.Compose(C.GaussianNoise(std=0.1), C.FeatureDropout(p=0.3))
        # encoder target = context: the same module, trained through both branches.
        self.register(context=self.context_encoder, target=self.context_encoder, target_kind="shared", predictor=self.predictor)
        # With several processes the trained modules run under DistributedDataParallel (it averages the gradients).
        self.context, self.predict = ddp.wrap(self.context_encoder), ddp.wrap(self.predictor)

    def encode(self, image):
        """The representation evaluation uses: the context encoder's output.   (B, 64) -> (B, 128)"""
        with torch.no_grad():
            return self.context_encoder(image)

    def draw(self, image, g, part):
        """1. This step's random draws, for the global batch and kept for this process's part of it."""
        return {"noisy": self.noisy(image, g, part)}                              # (b, 64)

    def loss_terms(self, image, drawn):
        """2-5: predict target(image) from context(noisy(image)); name -> (value, weight)."""
        with self.precision.autocast():
            # 2. Target: the full input through the context encoder, with gradient (shared weights).   (b, 64) -> (b, 128)
            target = self.context(image)
            # 3. Context: the corrupted input through the context encoder.   (b, 64) -> (b, 128)
            context = self.context(drawn["noisy"])
            # 4. Predict the target representation from the context one.   (b, 128) -> (b, 128)
            predicted = self.predict(context)
        context, target = context.float(), target.float()
        # 5. Loss terms, in fp32. mse is a mean over samples: each process takes its part's, DDP averages them.
        #    vicreg couples the samples (variance and covariance over the batch): it is computed on the embeddings of
        #    every process, gathered (autograd-aware), on the context encoder's output and the target's, averaged.
        contexts, targets = self.ddp.all_gather(context), self.ddp.all_gather(target)   # (B, 128): the global batch
        return {
            "mse": (L.mse(predicted.float(), target), LOSS_SCALE),
            "vicreg_variance": (0.5 * (L.vicreg_variance(contexts) + L.vicreg_variance(targets)), VICREG_VARIANCE),
            "vicreg_covariance": (0.5 * (L.vicreg_covariance(contexts) + L.vicreg_covariance(targets)), VICREG_COVARIANCE),
        }

    def training_step(self, image, step):
        terms = self.loss_terms(image, self.draw(image, step.generator, step.part))
        # 6. Backward and optimizer step (every term checked finite on every process first; lr and weight decay
        #    follow the schedules; no decay on biases and 1-D parameters).
        step.backward_and_step(terms)
        return terms


if __name__ == "__main__":
    jt.run.main(DigitsVicReg, OPTIONS, __doc__)
