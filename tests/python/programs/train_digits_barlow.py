#!/usr/bin/env python3
"""DigitsBarlow (tests/Jepa.PyTorch.Tests/Experiments/barlow.jepa) as a PyTorch program, written as the emitter is to
print it: no example uses Barlow Twins, so the parity and DDP tests use this one. One MLP encoder on both branches,
mse between the predictor's output and the target, Barlow Twins between the context and target representations.
"""
import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("jepa_torch") is None:  # not installed: the repository's python/ folder
    sys.path.insert(0, str(next(p / "python" for p in Path(__file__).resolve().parents if (p / "python" / "jepa_torch").is_dir())))

import torch

import jepa_torch as jt
from jepa_torch import corruptions as C, losses as L, models as M, training as T

# Every value of barlow.jepa.
OPTIONS = jt.Options(
    batch=64, steps=200, seed=4,
    optimizer="adamw", lr=T.Ramp(1e-3, 1e-3), weight_decay=T.Ramp(0.05, 0.05), betas=(0.9, 0.999),
    schedule="constant",
    collapse=jt.Collapse(min_std=0.01, min_rank=3, action="warn", every=50),
)
BARLOW_TWINS_LAMBDA = 0.005                                                        # regularize barlow_twins(lambda: 0.005)


class DigitsBarlow(jt.Experiment):
    """experiment DigitsBarlow (barlow.jepa)."""

    name = "DigitsBarlow"
    input_shape = (64,)          # input image: float[64]

    def __init__(self, options, ddp, precision):
        self.options, self.precision, self.ddp = options, precision, ddp
        # Modules are created in a fixed order under the run seed.
        self.context_encoder = M.MlpEncoder(self.input_shape, hidden=[128], out=64, act="relu").to(ddp.device)
        self.predictor = M.MlpEncoder((64,), hidden=[64], out=64, act="relu").to(ddp.device)
        # corruption noisy = gaussian_noise(std: 0.1) then feature_dropout(p: 0.3)
        self.noisy = C.Compose(C.GaussianNoise(std=0.1), C.FeatureDropout(p=0.3))
        # encoder target = context: the same module, trained through both branches.
        self.register(context=self.context_encoder, target=self.context_encoder, target_kind="shared", predictor=self.predictor)
        # With several processes the trained modules run under DistributedDataParallel (it averages the gradients).
        self.context, self.predict = ddp.wrap(self.context_encoder), ddp.wrap(self.predictor)

    def encode(self, image):
        """The representation evaluation uses: the context encoder's output.   (B, 64) -> (B, 64)"""
        with torch.no_grad():
            return self.context_encoder(image)

    def draw(self, image, g, part):
        """1. This step's random draws, for the global batch and kept for this process's part of it."""
        return {"noisy": self.noisy(image, g, part)}                              # (b, 64)

    def loss_terms(self, image, drawn):
        """2-5: predict target(image) from context(noisy(image)); name -> (value, weight)."""
        with self.precision.autocast():
            # 2. Target: the full input through the context encoder, with gradient (shared weights).   (b, 64) -> (b, 64)
            target = self.context(image)
            # 3. Context: the corrupted input through the context encoder.   (b, 64) -> (b, 64)
            context = self.context(drawn["noisy"])
            # 4. Predict the target representation from the context one.   (b, 64) -> (b, 64)
            predicted = self.predict(context)
        context, target = context.float(), target.float()
        # 5. Loss terms, in fp32. mse is a mean over samples: each process takes its part's, DDP averages them.
        #    barlow_twins couples the samples (its cross-correlation is over the batch): it is computed on the
        #    context and target representations of every process, gathered (autograd-aware).
        return {
            "mse": (L.mse(predicted.float(), target), 1.0),
            "barlow_twins": (L.barlow_twins(self.ddp.all_gather(context), self.ddp.all_gather(target), BARLOW_TWINS_LAMBDA), 1.0),
        }

    def training_step(self, image, step):
        terms = self.loss_terms(image, self.draw(image, step.generator, step.part))
        # 6. Backward and optimizer step (every term checked finite on every process first; lr and weight decay
        #    follow the schedules; no decay on biases and 1-D parameters).
        step.backward_and_step(terms)
        return terms


if __name__ == "__main__":
    jt.run.main(DigitsBarlow, OPTIONS, __doc__)
