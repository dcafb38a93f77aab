#!/usr/bin/env python3
"""TokenJepa (examples/TokenJepa/token.jepa) as a PyTorch program: I-JEPA on the 8x8 digits. A ViT sees 2x2 patches
(a 4x4 token grid); the context encoder sees one context block without the four target blocks; a transformer
predictor predicts the EMA target encoder's tokens at the target positions; SIGReg keeps the tokens spread out.

    python3 train_token_jepa.py --data data/digits.csv.gz
    torchrun --nproc_per_node 2 train_token_jepa.py --data data/digits.csv.gz

The batch of the file (128) is the global batch: N processes train on 128/N samples each and compute the loss and
gradients that one process computes on 128 (docs/scale-out.md). This file is the golden output of the PyTorch emitter
(`jepa export token.jepa --target pytorch`); it imports the runtime package python/jepa_torch of the repository.
"""
import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("jepa_torch") is None:  # not installed: the repository's python/ folder
    sys.path.insert(0, str(next(p / "python" for p in Path(__file__).resolve().parents if (p / "python" / "jepa_torch").is_dir())))

import torch

import jepa_torch as jt
from jepa_torch import corruptions as C, losses as L, models as M, training as T

# Every value of token.jepa.
OPTIONS = jt.Options(
    batch=128, epochs=150, seed=7,
    optimizer="adamw", lr=T.Ramp(1e-3, 1e-3), weight_decay=T.Ramp(0.04, 0.4), betas=(0.9, 0.999),
    schedule="warmup_cosine", warmup_epochs=5, start_lr=0.0, final_lr=1e-6,
    ema_momentum=T.Ramp(0.996, 1.0),
    collapse=jt.Collapse(min_std=0.01, min_rank=3, action="warn", every=50),
)
SIGREG_WEIGHT, SIGREG_DIRECTIONS = 0.05, 256                                         # regularize sigreg(weight: 0.05)


class TokenJepa(jt.Experiment):
    """experiment TokenJepa (token.jepa)."""

    name = "TokenJepa"
    input_shape = (1, 8, 8)      # input image: float[1, 8, 8]

    def __init__(self, options, ddp, precision):
        self.options, self.precision, self.ddp = options, precision, ddp
        # Modules are created in a fixed order under the run seed.
        self.context_encoder = M.VitEncoder(self.input_shape, patch=2, dim=64, depth=4, heads=4).to(ddp.device)
        self.target_encoder = T.ema_copy(self.context_encoder, lambda: M.VitEncoder(self.input_shape, patch=2, dim=64, depth=4, heads=4).to(ddp.device))   # ema(context, momentum: 0.996 -> 1.0)
        self.predictor = M.TransformerPredictor(encoder_dim=64, dim=32, depth=2, heads=2, grid=(4, 4)).to(ddp.device)
        # corruption masked = block_mask(targets: 4, target_scale: 0.15..0.2, context_scale: 0.85..1.0, aspect: 0.75..1.5)
        self.masked = C.MultiBlockMask(grid=(4, 4), targets=4, target_scale=(0.15, 0.2), context_scale=(0.85, 1.0),
                                       aspect=(0.75, 1.5), min_keep=4)
        self.register(context=self.context_encoder, target=self.target_encoder, target_kind="ema", predictor=self.predictor)
        # With several processes the trained modules run under DistributedDataParallel (it averages the gradients).
        self.context, self.predict, self.target = ddp.wrap(self.context_encoder), ddp.wrap(self.predictor), ddp.wrap(self.target_encoder)

    def encode(self, image):
        """The representation evaluation uses: the EMA target's tokens, averaged.   (B, 1, 8, 8) -> (B, 16, 64) -> (B, 64)"""
        with torch.no_grad():
            return M.mean_pool(self.target_encoder(image))

    def monitor_embeddings(self, image):
        """The collapse monitor reads every token as a sample: (B, 16, 64) -> (B 16, 64)."""
        with torch.no_grad():
            return self.target_encoder(image).flatten(0, 1)

    def draw(self, image, g, part):
        """1. This step's random draws, for the global batch: the masks (whose context is trimmed to the batch's
        smallest, which couples the samples) and SIGReg's directions; each process keeps its part's masks."""
        masks = self.masked.sample(part.total, g).part(part).to(image.device)   # context (b, Nc), target (b, Nt)
        directions = L.sigreg_directions(64, SIGREG_DIRECTIONS, g).to(image.device)   # (64, 256), the same everywhere
        return {"masks": masks, "sigreg_directions": directions}

    def loss_terms(self, image, drawn):
        """2-5: predict target(image) from context(masked(image)); name -> (value, weight)."""
        masks = drawn["masks"]
        # 2. Target: the full input through the EMA target encoder, without gradient; layer-normed; kept at the
        #    target positions.   (b, 1, 8, 8) -> (b, 16, 64) -> (b, Nt, 64)
        with torch.no_grad(), self.precision.autocast():
            target = self.target(image)
        target = M.gather_tokens(L.layer_norm(target.float()), masks.target)
        with self.precision.autocast():
            # 3. Context: the encoder sees only the context tokens.   (b, 1, 8, 8) -> (b, Nc, 64)
            context = self.context(image, masks.context)
            # 4. Predict the target tokens from the context tokens and the target positions.   (b, Nc, 64) -> (b, Nt, 64)
            predicted = self.predict(context, masks.context, masks.target)
        # 5. Loss terms, in fp32. SIGReg's weight w follows LeJEPA: L = (1 - w) * L_pred + w * SIGReg.
        #    smooth_l1 is a mean over samples: each process takes its part's, DDP averages them.
        #    sigreg couples the samples: its statistic is over the global batch's tokens, so each process's sums of
        #    cos and sin are all-reduced (autograd-aware) before the statistic is taken.
        return {
            "smooth_l1": (L.smooth_l1(predicted.float(), target, beta=1.0), 1 - SIGREG_WEIGHT),
            "sigreg": (L.sigreg(context.float(), drawn["sigreg_directions"], reduce=self.ddp.all_reduce), SIGREG_WEIGHT),
        }

    def training_step(self, image, step):
        terms = self.loss_terms(image, self.draw(image, step.generator, step.part))
        # 6. Backward and optimizer step (every term checked finite on every process first; lr and weight decay
        #    follow the schedules; no decay on biases and 1-D parameters).
        step.backward_and_step(terms)
        # 7. EMA update: theta_target <- m theta_target + (1 - m) theta_context, m from the momentum schedule.
        step.update_ema(self.target_encoder, self.context_encoder)
        return terms


if __name__ == "__main__":
    jt.run.main(TokenJepa, OPTIONS, __doc__)
