#!/usr/bin/env python3
"""DigitsJepa (examples/Digits/digits.jepa) as a PyTorch program: an MLP encoder, an EMA target, an MLP predictor,
feature dropout and gaussian noise on the context view, smooth L1 to the layer-normed target.

    python3 train_digits_jepa.py --data data/digits.csv.gz
    torchrun --nproc_per_node 2 train_digits_jepa.py --data data/digits.csv.gz

The batch of the file (256) is the global batch: N processes train on 256/N samples each and compute the loss and
gradients that one process computes on 256 (docs/scale-out.md). This file is the golden output of the PyTorch emitter
(`jepa export digits.jepa --target pytorch`); it imports the runtime package python/jepa_torch of the repository.
"""
import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("jepa_torch") is None:  # not installed: the repository's python/ folder
    sys.path.insert(0, str(next(p / "python" for p in Path(__file__).resolve().parents if (p / "python" / "jepa_torch").is_dir())))

import torch

import jepa_torch as jt
from jepa_torch import corruptions as C, losses as L, models as M, training as T

# Every value of digits.jepa.
OPTIONS = jt.Options(
    batch=256, steps=6000, seed=1,
    optimizer="adamw", lr=T.Ramp(1e-3, 1e-3), weight_decay=T.Ramp(0.05, 0.05), betas=(0.9, 0.999),
    schedule="constant",
    ema_momentum=T.Ramp(0.996, 1.0),
    collapse=jt.Collapse(min_std=0.01, min_rank=3, action="warn", every=100),
)


class DigitsJepa(jt.Experiment):
    """experiment DigitsJepa (digits.jepa)."""

    name = "DigitsJepa"
    input_shape = (64,)          # input image: float[64]

    def __init__(self, options, ddp, precision):
        self.options, self.precision = options, precision
        # Modules are created in a fixed order under the run seed.
        self.context_encoder = M.MlpEncoder(self.input_shape, hidden=[256, 256], out=128, act="relu").to(ddp.device)
        self.target_encoder = T.ema_copy(self.context_encoder, lambda: M.MlpEncoder(self.input_shape, hidden=[256, 256], out=128, act="relu").to(ddp.device))   # ema(context, momentum: 0.996 -> 1.0)
        self.predictor = M.MlpEncoder((128,), hidden=[256], out=128, act="relu").to(ddp.device)
        # corruption noisy = feature_dropout(p: 0.3) then gaussian_noise(std: 0.1)
        self.noisy = C.Compose(C.FeatureDropout(p=0.3), C.GaussianNoise(std=0.1))
        self.register(context=self.context_encoder, target=self.target_encoder, target_kind="ema", predictor=self.predictor)
        # With several processes the trained modules run under DistributedDataParallel (it averages the gradients).
        self.context, self.predict, self.target = ddp.wrap(self.context_encoder), ddp.wrap(self.predictor), ddp.wrap(self.target_encoder)

    def encode(self, image):
        """The representation evaluation uses: the EMA target encoder's output.   (B, 64) -> (B, 128)"""
        with torch.no_grad():
            return self.target_encoder(image)

    def draw(self, image, g, part):
        """1. This step's random draws, for the global batch and kept for this process's part of it."""
        return {"noisy": self.noisy(image, g, part)}                              # (b, 64)

    def loss_terms(self, image, drawn):
        """2-5: predict target(image) from context(noisy(image)); name -> (value, weight)."""
        # 2. Target: the full input through the EMA target encoder, without gradient; layer-normed.   (b, 64) -> (b, 128)
        with torch.no_grad(), self.precision.autocast():
            target = self.target(image)
        target = L.layer_norm(target.float())
        with self.precision.autocast():
            # 3. Context: the corrupted input through the context encoder.   (b, 64) -> (b, 128)
            context = self.context(drawn["noisy"])
            # 4. Predict the target representation from the context one.   (b, 128) -> (b, 128)
            predicted = self.predict(context)
        # 5. Loss terms, in fp32. smooth_l1 is a mean over samples: each process takes its part's, DDP averages them.
        return {"smooth_l1": (L.smooth_l1(predicted.float(), target, beta=1.0), 1.0)}

    def training_step(self, image, step):
        terms = self.loss_terms(image, self.draw(image, step.generator, step.part))
        # 6. Backward and optimizer step (every term checked finite on every process first; lr and weight decay
        #    follow the schedules; no decay on biases and 1-D parameters).
        step.backward_and_step(terms)
        # 7. EMA update: theta_target <- m theta_target + (1 - m) theta_context, m from the momentum schedule.
        step.update_ema(self.target_encoder, self.context_encoder)
        return terms


if __name__ == "__main__":
    jt.run.main(DigitsJepa, OPTIONS, __doc__)
