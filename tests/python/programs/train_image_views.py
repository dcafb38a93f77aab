#!/usr/bin/env python3
"""ImageViews: the image links, conv batch norm and an EMA target with batch norm under DDP, written as the emitter is
to print such a program (the catalog's `.jepa` syntax for these links is not on main yet, so this program is the DDP
tests' own). A conv encoder with batch norm sees an augmented global view and a smaller local crop of each digit and
predicts, through an MLP, the layer-normed EMA target's representation of another augmented view; VICReg's variance
and covariance on the context embeddings (gathered) keep it from collapsing. The program normalises each view itself,
after its augmentations, right before the encoders (augmentations see pixels in [0, 1]).

    python3 train_image_views.py --data data/digits.csv.gz
"""
import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("jepa_torch") is None:  # not installed: the repository's python/ folder
    sys.path.insert(0, str(next(p / "python" for p in Path(__file__).resolve().parents if (p / "python" / "jepa_torch").is_dir())))

import torch

import jepa_torch as jt
from jepa_torch import corruptions as C, losses as L, models as M, training as T

OPTIONS = jt.Options(
    batch=64, steps=200, seed=6,
    optimizer="adamw", lr=T.Ramp(1e-3, 1e-3), weight_decay=T.Ramp(0.05, 0.05), betas=(0.9, 0.999),
    schedule="constant",
    ema_momentum=T.Ramp(0.99, 1.0),
    collapse=jt.Collapse(min_std=0.01, min_rank=3, action="warn", every=50),
)


def conv():
    return M.ConvEncoder((1, 8, 8), channels=[16, 32], kernel=3, pool="mean", out=32, norm="batch")


class ImageViews(jt.Experiment):
    """experiment ImageViews (image links, conv batch norm, EMA target with batch norm)."""

    name = "ImageViews"
    input_shape = (1, 8, 8)      # input image: float[1, 8, 8]
    normalizes_inputs = True     # each view is normalised after its augmentations, right before an encoder

    def __init__(self, options, ddp, precision):
        self.options, self.precision, self.ddp = options, precision, ddp
        # Modules are created in a fixed order under the run seed.
        self.context_encoder = conv().to(ddp.device)
        self.target_encoder = T.ema_copy(self.context_encoder, lambda: conv().to(ddp.device))   # ema(context, momentum: 0.99 -> 1.0)
        self.predictor = M.MlpEncoder((32,), hidden=[64], out=32, act="gelu").to(ddp.device)
        # view global = random_resized_crop(scale: 0.4..1.0) then hflip then color_jitter(brightness: 0.4, contrast: 0.4,
        #               saturation: 0, hue: 0) then gaussian_blur(sigma: 0.1..1.0) then random_erasing(p: 0.25)
        self.global_view = C.Compose(C.RandomResizedCrop(scale=(0.4, 1.0)), C.HorizontalFlip(p=0.5),
                                     C.ColorJitter(brightness=0.4, contrast=0.4, saturation=0, hue=0, p=0.8),
                                     C.GaussianBlur(sigma=(0.1, 1.0), p=0.5), C.RandomErasing(p=0.25))
        # view local = random_resized_crop(scale: 0.1..0.4, size: [6, 6]) then solarize(p: 0.2)
        self.local_view = C.Compose(C.RandomResizedCrop(scale=(0.1, 0.4), size=(6, 6)), C.Solarize(p=0.2))
        # view target = random_resized_crop(scale: 0.6..1.0) then block_mask on 2x2 pixel cells
        self.target_view = C.Compose(C.RandomResizedCrop(scale=(0.6, 1.0)), C.PixelMask(C.MultiBlockMask((4, 4), min_keep=4), patch=2))
        self.register(context=self.context_encoder, target=self.target_encoder, target_kind="ema", predictor=self.predictor)
        # With several processes the trained modules run under DistributedDataParallel (it averages the gradients); every
        # batch norm, the EMA target's included, uses the statistics of the global batch.
        self.context, self.predict, self.target = ddp.wrap(self.context_encoder), ddp.wrap(self.predictor), ddp.wrap(self.target_encoder)

    def encode(self, image):
        """The representation evaluation uses: the EMA target encoder's output.   (B, 1, 8, 8) -> (B, 32)"""
        with torch.no_grad():
            return self.target_encoder(self.normalize(image))

    def draw(self, image, g, part):
        """1. This step's random draws, for the global batch and kept for this process's part: the global view, the
        local view, the target view, in that order."""
        views = {"global": self.global_view(image, g, part)}                        # (b, 1, 8, 8)
        views["local"] = self.local_view(image, g, part)                            # (b, 1, 6, 6)
        views["target"] = self.target_view(image, g, part)                          # (b, 1, 8, 8)
        return views

    def loss_terms(self, image, drawn):
        """2-5: predict target(target view) from context(global view) and from context(local view)."""
        # 2. Target: the target view, normalised, through the EMA target encoder (training mode: its batch norm uses
        #    the global batch's statistics), without gradient; layer-normed.   (b, 1, 8, 8) -> (b, 32)
        with torch.no_grad(), self.precision.autocast():
            target = self.target(self.normalize(drawn["target"]))
        target = L.layer_norm(target.float())
        with self.precision.autocast():
            # 3. Context: each view through the context encoder (one batch-norm pass per view size).
            z_global = self.context(self.normalize(drawn["global"]))                # (b, 1, 8, 8) -> (b, 32)
            z_local = self.context(self.normalize(drawn["local"]))                  # (b, 1, 6, 6) -> (b, 32)
            # 4. Predict the target representation from each context one.   (b, 32) -> (b, 32)
            p_global, p_local = self.predict(z_global), self.predict(z_local)
        # 5. Loss terms, in fp32: smooth_l1 per sample (DDP averages); VICReg on the gathered context embeddings.
        z = self.ddp.all_gather(z_global.float())                                   # (B, 32)
        return {"smooth_l1": (L.smooth_l1(p_global.float(), target) + L.smooth_l1(p_local.float(), target), 1.0),
                "vicreg_variance": (L.vicreg_variance(z), 1.0), "vicreg_covariance": (L.vicreg_covariance(z), 0.04)}

    def training_step(self, image, step):
        terms = self.loss_terms(image, self.draw(image, step.generator, step.part))
        step.backward_and_step(terms)
        # 7. EMA update of the target's weights and batch-norm statistics.
        step.update_ema(self.target_encoder, self.context_encoder)
        return terms


if __name__ == "__main__":
    jt.run.main(ImageViews, OPTIONS, __doc__)
