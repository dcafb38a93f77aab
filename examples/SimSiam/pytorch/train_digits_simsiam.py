#!/usr/bin/env python3
"""DigitsSimSiam (examples/SimSiam/simsiam.jepa) as a PyTorch program: an MLP encoder and predictor with batch norm, a
stop-gradient target (the encoder itself, without gradient), the cosine loss, SGD with momentum.

    python3 train_digits_simsiam.py --data data/digits.csv.gz
    torchrun --nproc_per_node 2 train_digits_simsiam.py --data data/digits.csv.gz

The batch of the file (256) is the global batch; batch norm normalises with the statistics of the global batch on
every process (docs/scale-out.md). This file is the golden output of the PyTorch emitter (`jepa export simsiam.jepa
--target pytorch`); it imports the runtime package python/jepa_torch.
"""
import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("jepa_torch") is None:  # not installed: the repository's python/ folder
    sys.path.insert(0, str(next(p / "python" for p in Path(__file__).resolve().parents if (p / "python" / "jepa_torch").is_dir())))

import torch

import jepa_torch as jt
from jepa_torch import corruptions as C, losses as L, models as M, training as T

# Every value of simsiam.jepa.
OPTIONS = jt.Options(
    batch=256, steps=2000, seed=2,
    optimizer="sgd", lr=T.Ramp(0.05, 0.05), weight_decay=T.Ramp(1e-4, 1e-4), momentum=0.9, nesterov=False,
    schedule="constant",
    collapse=jt.Collapse(min_std=0.01, min_rank=3, action="warn", every=100),
)


class DigitsSimSiam(jt.Experiment):
    """experiment DigitsSimSiam (simsiam.jepa)."""

    name = "DigitsSimSiam"
    input_shape = (64,)          # input image: float[64]

    def __init__(self, options, ddp, precision):
        self.options, self.precision = options, precision
        # Modules are created in a fixed order under the run seed.
        self.context_encoder = M.MlpEncoder(self.input_shape, hidden=[256, 256], out=128, norm="batch", act="relu").to(ddp.device)
        self.predictor = M.MlpEncoder((128,), hidden=[64], out=128, norm="batch", act="relu").to(ddp.device)
        # corruption noisy = feature_dropout(p: 0.3) then gaussian_noise(std: 0.1)
        self.noisy = C.Compose(C.FeatureDropout(p=0.3), C.GaussianNoise(std=0.1))
        # encoder target = stopgrad(context): the same module, without gradient on the target side.
        self.register(context=self.context_encoder, target=self.context_encoder, target_kind="stopgrad", predictor=self.predictor)
        # With several processes the trained modules run under DistributedDataParallel (it averages the gradients)
        # and their batch norms use the statistics of the global batch.
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
        # 2. Target: the full input through the context encoder under stop-gradient.   (b, 64) -> (b, 128)
        with torch.no_grad(), self.precision.autocast():
            target = self.context_encoder(image)
        with self.precision.autocast():
            # 3. Context: the corrupted input through the context encoder.   (b, 64) -> (b, 128)
            context = self.context(drawn["noisy"])
            # 4. Predict the target representation from the context one.   (b, 128) -> (b, 128)
            predicted = self.predict(context)
        # 5. Loss terms, in fp32. cosine is a mean over samples: each process takes its part's, DDP averages them.
        return {"cosine": (L.cosine(predicted.float(), target.float()), 1.0)}

    def training_step(self, image, step):
        terms = self.loss_terms(image, self.draw(image, step.generator, step.part))
        # 6. Backward and optimizer step (every term checked finite on every process first; lr and weight decay
        #    follow the schedules; no decay on biases and 1-D parameters).
        step.backward_and_step(terms)
        return terms


if __name__ == "__main__":
    jt.run.main(DigitsSimSiam, OPTIONS, __doc__)
