"""The collapse monitor's metrics and alarm rule (run.embedding_std, run.rankme, run.collapse_alarm), as C#'s
CollapseMetricsTests and CollapseJudgeTests check them: tokens pooled per sample, an alarm only below a threshold and
fallen from the step-0 baseline, for vector and token encoders."""
import math

import pytest
import torch

import jepa_torch as jt
import programs
from jepa_torch import models as M, run as R

CALIBRATED = jt.Collapse(min_std=0.01, min_rank=3, action="warn", every=100)


def _old_rule(r):
    """What the monitor did before: either metric below its threshold, with no regard to the baseline."""
    return r[1] < CALIBRATED.min_std or r[2] < CALIBRATED.min_rank


def test_collapse_metrics_by_hand_and_tokens_pooled_per_sample():
    # Rows (3, 4) and (0, 2) normalise to (0.6, 0.8) and (0, 1); the unbiased std of two values is |a - b| / sqrt(2).
    z = torch.tensor([[3.0, 4.0], [0.0, 2.0]])
    assert R.embedding_std(z) == pytest.approx((0.6 + 0.2) / 2 / 2 ** 0.5, abs=1e-7)
    p1, p2 = 0.75 + 1e-7, 0.25 + 1e-7
    assert R.rankme(torch.tensor([[3.0, 0.0], [0.0, 1.0]])) == pytest.approx(math.exp(-(p1 * math.log(p1) + p2 * math.log(p2))), abs=1e-9)
    g = torch.Generator().manual_seed(1)
    tokens = torch.randn(4, 5, 3, generator=g)
    assert R.embedding_std(tokens) == R.embedding_std(tokens.mean(1)) and R.rankme(tokens) == R.rankme(tokens.mean(1))
    # Tokens that differ only by position, the same in every sample: one point per sample, a collapse; read token by
    # token (as the monitor did before) they looked healthy.
    positional = torch.randn(1, 5, 3, generator=g).expand(4, 5, 3)
    assert R.embedding_std(positional) == pytest.approx(0, abs=1e-12)
    assert R.embedding_std(positional.reshape(20, 3)) > 0.1
    with pytest.raises(ValueError, match="at least two embeddings"):
        R.embedding_std(torch.zeros(1, 3))


def test_a_shared_target_that_collapses_raises_the_alarm():
    # The digits MLP (ReLU) with the context encoder as its shared, trained target (C#'s readings).
    baseline = [0, 0.03199, 42.08]
    for reading in ([100, 0.00192, 2.53], [200, 0.00141, 2.11], [300, 0.00116, 1.87]):
        message = R.collapse_alarm("Shared", reading, baseline, CALIBRATED)
        assert f"representation collapse at step {reading[0]}" in message
        assert "below a tenth of 0.032 at step 0" in message and "below half of 42.1 at step 0" in message
        assert "training goes on" in message
    assert "training stops" in R.collapse_alarm("Shared", [100, 0.00192, 2.53], baseline, jt.Collapse(0.01, 3, "stop", 100))
    assert R.collapse_alarm("Ema", [300, 0.01825, 19.69], baseline, CALIBRATED) is None   # the EMA target of that run


def test_a_gelu_mlp_whose_embeddings_grow_a_shared_component_raises_no_alarm():
    # The digits MLP 64-256-256-128 with GELU and an EMA target (C#'s readings): the std passes below 0.01 for a while,
    # RankMe stays above 4; the old rule raised six false alarms, the fall from the baseline none.
    baseline = [0, 0.02726, 24.74]
    run = [[50, 0.02384, 21.90], [100, 0.01363, 12.59], [150, 0.00838, 7.46], [200, 0.00616, 5.29], [250, 0.00543, 4.38],
           [300, 0.00570, 4.05], [350, 0.00686, 4.02], [400, 0.00870, 4.15], [450, 0.01108, 4.37], [500, 0.01385, 4.63]]
    assert [r[0] for r in run if _old_rule(r)] == [150, 200, 250, 300, 350, 400]
    assert all(R.collapse_alarm("Gelu", r, baseline, CALIBRATED) is None for r in run)


def test_a_random_init_vit_read_per_sample_raises_no_alarm_until_it_maps_every_sample_to_one_point():
    # A token encoder at random initialisation, mean-pooled per sample, reads below both thresholds without having
    # collapsed (the token JEPA's ViT on the digits, C#'s test); only a fall from that baseline alarms.
    digits = jt.data.read_csv(str(programs.REPO / "data/digits.csv.gz")).for_experiment((1, 8, 8))
    images = digits.features[:512]
    images = (images - images.mean()) / images.std()
    torch.manual_seed(7)
    vit = M.VitEncoder((1, 8, 8), patch=2, dim=64, depth=4, heads=4).eval()
    with torch.no_grad():
        tokens = vit(images)
    baseline = [0, R.embedding_std(tokens), R.rankme(tokens)]
    assert baseline[1] < 0.01 and baseline[2] < 3, baseline
    assert _old_rule([100, *baseline[1:]])   # the old rule alarmed at every reading
    assert R.collapse_alarm("Vit", [100, *baseline[1:]], baseline, CALIBRATED) is None
    assert R.collapse_alarm("Vit", [200, baseline[1] * 0.5, baseline[2] * 0.9], baseline, CALIBRATED) is None
    positional = tokens[:1].expand(512, -1, -1) + 1e-6 * torch.randn(512, 1, 64)
    message = R.collapse_alarm("Vit", [300, R.embedding_std(positional), R.rankme(positional)], baseline, CALIBRATED)
    assert message is not None and "the std of the L2-normalised embeddings" in message
