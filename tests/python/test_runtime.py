"""The runtime package against values computed by hand or by an independent formula (numpy), and its invariants."""
import gzip
import math
import os
import pickletools
import struct
import zipfile

import numpy as np
import pytest
import torch
from torch import nn

import jepa_torch as jt
from jepa_torch import corruptions as C, data as D, distributed as JD, losses as L, models as M, run as R, training as T


# ---- schedules and seeds -------------------------------------------------------------------------------------------

def test_warmup_cosine_by_hand():
    s = T.Schedule("warmup_cosine", T.Ramp(1e-3, 1e-3), 0.0, 1e-6, 10, T.Ramp(0.04, 0.4), T.Ramp(0.996, 1.0), 100)
    assert s.lr_at(4) == pytest.approx(5e-4)                                  # k = 5 of a 10-step warm-up
    assert s.lr_at(9) == pytest.approx(1e-3)                                  # the last warm-up step is the peak
    assert s.lr_at(54) == pytest.approx(1e-6 + (1e-3 - 1e-6) * 0.5)           # half way through the cosine
    assert s.lr_at(99) == pytest.approx(1e-6)                                 # the last step is at the final lr
    assert s.weight_decay_at(49) == pytest.approx(0.22)                       # cosine from 0.04 to 0.4 at k/T = 0.5
    assert s.ema_momentum_at(0) == 0.996 and s.ema_momentum_at(50) == pytest.approx(0.998)


def test_constant_schedule_follows_its_ramps_linearly():
    s = T.Schedule("constant", T.Ramp(1e-3, 1e-4), 0.0, 0.0, 0, T.Ramp(0.05, 0.05), None, 10)
    assert s.lr_at(4) == pytest.approx(1e-3 + (1e-4 - 1e-3) * 0.5)
    assert s.weight_decay_at(9) == 0.05 and s.ema_momentum_at(3) is None


def test_seed_mixing_is_splitmix64():
    assert T._splitmix(0) == 0xE220A8397B1DCDAF                                 # SplitMix64's first output from state 0
    assert T.mix(1, 0) != T.mix(1, 1) and T.mix(1, 0) == T.mix(1, 0)
    assert 0 <= T.mix(-5, -1) < 2 ** 64


def test_step_generators_depend_on_seed_and_step_only():
    a = torch.rand(4, generator=T.step_generator(3, 17))
    assert torch.equal(a, torch.rand(4, generator=T.step_generator(3, 17)))
    assert not torch.equal(a, torch.rand(4, generator=T.step_generator(3, 18)))


# ---- optimizer and EMA ---------------------------------------------------------------------------------------------

def test_weight_decay_only_on_matrices():
    model = M.MlpEncoder((8,), hidden=[4], out=2, norm="layer")
    opt = T.optimizer(jt.Options(batch=4, seed=0, weight_decay=T.Ramp(0.1, 0.1)), [(f"context.{n}", p) for n, p in model.named_parameters()])
    T.set_schedules(opt, 0.01, 0.1)
    decaying = {id(p) for g in opt.param_groups if g["weight_decay"] > 0 for p in g["params"]}
    names = sorted(n for n, p in model.named_parameters() if id(p) in decaying)
    assert names == ["layers.fc0.weight", "layers.out.weight"]


def test_ema_averages_parameters_and_float_buffers_and_copies_counters():
    online = M.MlpEncoder((4,), hidden=[3], out=2, norm="batch")
    target = T.ema_copy(online, lambda: M.MlpEncoder((4,), hidden=[3], out=2, norm="batch"))
    assert torch.equal(target.layers.fc0.weight, online.layers.fc0.weight)
    with torch.no_grad():
        for t in list(online.parameters()) + [online.layers.norm0.running_mean]:
            t.add_(1.0)
        online.layers.norm0.num_batches_tracked.fill_(7)
    before = target.layers.fc0.weight.clone()
    T.ema_update(target, online, 0.9)
    assert torch.allclose(target.layers.fc0.weight, 0.9 * before + 0.1 * online.layers.fc0.weight)
    assert torch.allclose(target.layers.norm0.running_mean, torch.full((3,), 0.1))
    assert int(target.layers.norm0.num_batches_tracked) == 7
    assert not any(p.requires_grad for p in target.parameters())


# ---- models --------------------------------------------------------------------------------------------------------

def count(module):
    return sum(p.numel() for p in module.parameters())


def test_parameter_counts_follow_docs_models():
    assert count(M.MlpEncoder((64,), [256, 256], 128)) == (64 * 256 + 256) + (256 * 256 + 256) + (256 * 128 + 128)
    assert count(M.ConvEncoder((1, 8, 8), [32, 64], 3, "mean", 128)) == (1 * 32 * 9 + 32) + (32 * 64 * 9 + 64) + 64 * 128 + 128
    d, depth = 64, 4
    assert count(M.VitEncoder((1, 8, 8), 2, d, depth, 4)) == 1 * 4 * d + d + depth * (12 * d * d + 13 * d) + 2 * d
    dp = 32
    assert count(M.TransformerPredictor(64, dp, 2, 2, (4, 4))) == 64 * dp + dp + dp + 2 * (12 * dp * dp + 13 * dp) + 2 * dp + dp * 64 + 64


def test_state_dict_names_are_the_torchsharp_modules():
    assert list(M.MlpEncoder((8,), [4], 2, norm="batch").state_dict()) == [
        "layers.fc0.weight", "layers.fc0.bias", "layers.norm0.weight", "layers.norm0.bias", "layers.norm0.running_mean",
        "layers.norm0.running_var", "layers.norm0.num_batches_tracked", "layers.out.weight", "layers.out.bias"]
    assert set(M.ConvEncoder((1, 8, 8), [4], 3, "mean", 2).state_dict()) == {"stages.conv0.weight", "stages.conv0.bias", "head.weight", "head.bias"}
    vit = M.VitEncoder((1, 8, 8), 2, 8, 1, 2).state_dict()
    assert {"patchEmbed.weight", "posEmbed", "blocks.0.qkv.weight", "blocks.0.fc2.bias", "norm.weight"} <= set(vit)
    assert {"maskToken", "embed.weight", "proj.bias", "posEmbed"} <= set(M.TransformerPredictor(8, 4, 1, 2, (4, 4)).state_dict())


def test_sincos_table_by_formula():
    table = M.sincos_2d(8, 3, 4)
    omega = [1.0, 1.0 / 100.0]                                                # 1 / 10000^(i / 2), i = 0, 1
    r, c = 2, 3
    row = table[r * 4 + c].tolist()
    expected = [math.sin(c * omega[0]), math.sin(c * omega[1]), math.cos(c * omega[0]), math.cos(c * omega[1]),
                math.sin(r * omega[0]), math.sin(r * omega[1]), math.cos(r * omega[0]), math.cos(r * omega[1])]
    assert row == pytest.approx(expected, abs=1e-7)


def test_vit_keeps_only_the_given_tokens():
    torch.manual_seed(0)
    vit = M.VitEncoder((1, 8, 8), 2, 8, 0, 2)                                 # depth 0: keep, then the norm
    x = torch.rand(2, 1, 8, 8)
    keep = torch.tensor([[0, 5, 15], [1, 2, 3]])
    assert torch.allclose(vit(x, keep), M.gather_tokens(vit(x), keep), atol=1e-6)


# ---- losses --------------------------------------------------------------------------------------------------------

def test_smooth_l1_by_hand():
    p, t = torch.tensor([[0.0, 2.0]]), torch.tensor([[0.5, 0.0]])
    assert float(L.smooth_l1(p, t, beta=1.0)) == pytest.approx((0.5 * 0.25 + (2 - 0.5)) / 2)


def info_nce_numpy(p, t, temperature):
    p = p / np.linalg.norm(p, axis=1, keepdims=True)
    t = t / np.linalg.norm(t, axis=1, keepdims=True)
    s = p @ t.T / temperature
    return float(np.mean(-np.diag(s) + np.log(np.exp(s).sum(1))))


def test_info_nce_against_numpy_and_in_parts():
    g = torch.Generator().manual_seed(1)
    p, t = torch.randn(8, 5, generator=g, dtype=torch.float64), torch.randn(8, 5, generator=g, dtype=torch.float64)
    assert float(L.info_nce(p, t, 0.1)) == pytest.approx(info_nce_numpy(p.numpy(), t.numpy(), 0.1), rel=1e-12)
    halves = [L.info_nce(p[i:i + 4], t, 0.1, first=i) for i in (0, 4)]       # what two processes compute
    assert float(sum(halves) / 2) == pytest.approx(float(L.info_nce(p, t, 0.1)), rel=1e-12)


def test_vicreg_and_barlow_against_numpy():
    z1 = np.random.default_rng(2).normal(size=(16, 4))
    z2 = np.random.default_rng(3).normal(size=(16, 4))
    std = np.sqrt(z1.var(0, ddof=1) + 1e-4)
    assert float(L.vicreg_variance(torch.tensor(z1))) == pytest.approx(np.maximum(0, 1 - std).mean(), rel=1e-12)
    cov = np.cov(z1, rowvar=False)
    assert float(L.vicreg_covariance(torch.tensor(z1))) == pytest.approx(((cov ** 2).sum() - (np.diag(cov) ** 2).sum()) / 4, rel=1e-12)
    a = (z1 - z1.mean(0)) / np.sqrt(z1.var(0) + 1e-5)
    b = (z2 - z2.mean(0)) / np.sqrt(z2.var(0) + 1e-5)
    c = a.T @ b / 16
    expected = ((1 - np.diag(c)) ** 2).sum() + 0.005 * ((c ** 2).sum() - (np.diag(c) ** 2).sum())
    assert float(L.barlow_twins(torch.tensor(z1), torch.tensor(z2), 0.005)) == pytest.approx(expected, rel=1e-12)


def test_sigreg_against_its_integral():
    x = np.random.default_rng(4).normal(size=(50, 1)) * 1.5
    t = np.linspace(0, 3, 17)
    phi_n = np.exp(1j * np.outer(x[:, 0], t)).mean(0)
    integrand = np.abs(phi_n - np.exp(-t ** 2 / 2)) ** 2 * np.exp(-t ** 2 / 2)
    expected = 50 * 2 * np.trapz(integrand, t)                               # even integrand: twice [0, 3]
    value = L.sigreg(torch.tensor(x), torch.ones(1, 1, dtype=torch.float64))
    assert float(value) == pytest.approx(expected, rel=1e-10)


# ---- batch norm across processes -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind,shape", [(nn.BatchNorm1d, (10, 6)), (nn.BatchNorm2d, (4, 6, 5, 5))])
def test_global_batch_norm_on_one_process_is_batch_norm(kind, shape):
    torch.manual_seed(5)
    plain = kind(6)
    with torch.no_grad():
        plain.weight.uniform_(0.5, 1.5)
        plain.bias.uniform_(-1, 1)
    wrapper = nn.Sequential(plain)
    global_ = JD.global_batch_norm(nn.Sequential(kind(6)), jt.Distributed())
    global_[0].load_state_dict(plain.state_dict())
    assert isinstance(global_[0], JD.GlobalBatchNorm)
    x = torch.randn(*shape, requires_grad=True)
    y1, y2 = wrapper(x), global_(x)
    assert torch.allclose(y1, y2, atol=1e-6)
    g1 = torch.autograd.grad(y1.square().sum(), x)[0]
    g2 = torch.autograd.grad(y2.square().sum(), x)[0]
    assert torch.allclose(g1, g2, atol=1e-5)
    for key in ("running_mean", "running_var", "num_batches_tracked"):
        assert torch.allclose(plain.state_dict()[key].double(), global_[0].state_dict()[key].double(), atol=1e-6), key
    frozen = nn.Sequential(kind(6))
    frozen.requires_grad_(False)
    JD.global_batch_norm(frozen, jt.Distributed())                           # an EMA target's: still no gradients
    assert isinstance(frozen[0], JD.GlobalBatchNorm) and not any(p.requires_grad for p in frozen.parameters())


# ---- corruptions and masks -----------------------------------------------------------------------------------------

def test_parts_of_a_global_draw_are_the_rows_of_the_whole():
    x = torch.rand(8, 64)
    noisy = C.Compose(C.FeatureDropout(0.3), C.GaussianNoise(0.1))
    whole = noisy(x, torch.Generator().manual_seed(9), C.BatchPart.whole(8))
    parts = [noisy(x[a:b], torch.Generator().manual_seed(9), C.BatchPart(a, b, 8)) for a, b in ((0, 4), (4, 8))]
    assert torch.equal(whole, torch.cat(parts))
    crop = C.RandomCrop((0.5, 1.0))
    images = torch.rand(8, 1, 8, 8)
    whole = crop(images, torch.Generator().manual_seed(2), C.BatchPart.whole(8))
    assert torch.equal(whole[6:], crop(images[6:], torch.Generator().manual_seed(2), C.BatchPart(6, 8, 8)))


def test_feature_mask_zeroes_exactly_round_ratio_d():
    y = C.RandomFeatureMask(0.25)(torch.ones(5, 10), torch.Generator().manual_seed(0), C.BatchPart.whole(5))
    assert (y == 0).sum(1).tolist() == [3] * 5                               # round(2.5) away from zero


@pytest.mark.parametrize("seed", range(6))
def test_block_masks_keep_enough_context_outside_the_targets(seed):
    # On I-JEPA's proportions (an 8x8 grid here) the context never needs the fallback: it avoids every target block.
    m = C.MultiBlockMask((8, 8), min_keep=4).sample(32, torch.Generator().manual_seed(seed))
    assert m.context.shape[0] == m.target.shape[0] == 32 and m.context.shape[1] >= 4
    for c, t in zip(m.context.tolist(), m.target.tolist()):
        assert c == sorted(c) and not set(c) & set(t)
    # On the 4x4 grid of token.jepa the fallback may let the last target blocks overlap; min_keep still holds.
    small = C.MultiBlockMask((4, 4), min_keep=4).sample(32, torch.Generator().manual_seed(seed))
    assert small.context.shape[1] >= 4 and small.target.shape[1] % 4 == 0


def test_random_token_mask_partitions_the_grid():
    m = C.RandomTokenMask((4, 4), 0.25).sample(3, torch.Generator().manual_seed(1))
    for c, t in zip(m.context.tolist(), m.target.tolist()):
        assert len(t) == 4 and sorted(c + t) == list(range(16))


# ---- data ----------------------------------------------------------------------------------------------------------

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_digits_csv_is_scaled_by_its_largest_value_and_split_as_the_runner():
    digits = D.read_csv(os.path.join(REPO, "data", "digits.csv.gz"))
    assert tuple(digits.features.shape) == (1797, 64) and float(digits.features.max()) == 1.0
    train, test = D.stratified_split(digits.labels, 0.25, 1)
    assert (len(train), len(test)) == (1347, 450) and not set(train) & set(test)
    sizes, counts = torch.bincount(digits.labels), torch.bincount(digits.labels[test], minlength=10)
    for n, k in zip(sizes.tolist(), counts.tolist()):
        assert k in (math.floor(0.25 * n), math.floor(0.25 * n) + 1)          # a quarter of each class, remainders spread


def test_idx_and_numpy_files(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    with gzip.open(tmp_path / "images.gz", "wb") as f:
        f.write(bytes([0, 0, 8, 3]) + struct.pack(">3i", 2, 3, 4) + images.tobytes())
    with open(tmp_path / "labels", "wb") as f:
        f.write(bytes([0, 0, 8, 1]) + struct.pack(">i", 2) + bytes([7, 1]))
    data = D.load([str(tmp_path / "labels"), str(tmp_path / "images.gz")])
    assert tuple(data.features.shape) == (2, 1, 3, 4) and data.labels.tolist() == [7, 1]
    assert torch.allclose(data.features.flatten(), torch.arange(24, dtype=torch.float32) / 255)
    np.savez(tmp_path / "set.npz", x=images, y=np.array([3, 4]))
    assert D.load([str(tmp_path / "set.npz")]).labels.tolist() == [3, 4]
    np.save(tmp_path / "floats.npy", np.ones((2, 5), dtype=np.float64) * 3)
    assert float(D.load([str(tmp_path / "floats.npy")]).features.max()) == 3.0
    np.save(tmp_path / "ints.npy", np.ones((2, 5), dtype=np.int32))
    with pytest.raises(D.DataError, match=r"uint8 \(pixels 0..255, scaled by 1/255\), float32 or float64"):
        D.load([str(tmp_path / "ints.npy")])


def test_a_sample_size_that_does_not_fit_is_refused():
    with pytest.raises(D.DataError, match=r"expects samples of shape \[1, 8, 8\]"):
        D.Dataset(torch.zeros(3, 65)).for_experiment((1, 8, 8))


# ---- checkpoints and metrics ---------------------------------------------------------------------------------------

ALLOWED_GLOBALS = {"collections OrderedDict", "torch._utils _rebuild_tensor_v2", "torch FloatStorage", "torch LongStorage",
                   "torch IntStorage", "torch BoolStorage", "torch DoubleStorage", "torch BFloat16Storage", "torch HalfStorage",
                   "torch ByteStorage"}


def pickle_globals(path):
    """The classes and functions a .pt file's pickle names: what PyTorch 2.6's ``weights_only=True`` checks."""
    with zipfile.ZipFile(path) as z:
        data = z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))
    return {str(arg) for op, arg, _ in pickletools.genops(data) if op.name in ("GLOBAL", "STACK_GLOBAL")}


def test_checkpoints_hold_only_tensors_and_plain_values(tmp_path):
    model = M.MlpEncoder((4,), [3], 2, norm="batch")
    opt = torch.optim.AdamW(model.parameters())
    model(torch.rand(5, 4)).sum().backward()
    opt.step()
    path = tmp_path / "checkpoint.pt"
    R.save_checkpoint(str(path), {"format": R.FORMAT, "version": 1, "step": 3, "modules": {"context": model.state_dict()},
                                  "optimizer": opt.state_dict(), "seconds": 1.5, "readings": [[0, 0.1, 2.0]]})
    assert pickle_globals(path) <= ALLOWED_GLOBALS
    assert R.load_checkpoint(str(path))["step"] == 3


def test_resume_falls_back_to_the_previous_checkpoint(tmp_path, capsys):
    for step in (10, 20):
        R.save_checkpoint(str(tmp_path / R.CHECKPOINT), {"format": R.FORMAT, "version": 1, "step": step},
                          previous=str(tmp_path / R.PREVIOUS_CHECKPOINT))
    with open(tmp_path / R.CHECKPOINT, "r+b") as f:
        f.truncate(100)                                                       # a damaged latest checkpoint
    path, payload = R.resume_from(str(tmp_path), print)
    assert payload["step"] == 10 and path.endswith(R.PREVIOUS_CHECKPOINT)
    assert "cannot be loaded" in capsys.readouterr().out


def test_metrics_have_the_csharp_keys_and_a_resume_drops_later_rows(tmp_path):
    m = R.Metrics(str(tmp_path), 0)
    m.write({"step": 0, "epoch": 0, "seconds": 0.0, "embedding_std": 0.1, "rankme": 5.0})
    for step in (1, 2, 3):
        m.write({"step": step, "epoch": 0, "loss": 1.0 / step, "terms": {"mse": 1.0 / step}, "lr": 1e-3, "weight_decay": 0.05,
                 "grad_norm": 2.0, "steps_per_s": 10.0, "seconds": step * 0.1})
    m.close()
    with open(tmp_path / "metrics.csv") as f:
        assert f.readline().strip() == "step,epoch,loss,loss/mse,lr,weight_decay,ema_momentum,grad_norm,steps_per_s,seconds,embedding_std,rankme"
    R.Metrics(str(tmp_path), 2).close()
    with open(tmp_path / "metrics.jsonl") as f:
        rows = [__import__("json").loads(line) for line in f]
    assert [r["step"] for r in rows] == [0, 1, 2]
    assert list(rows[1]) == ["step", "epoch", "loss", "terms", "lr", "weight_decay", "grad_norm", "steps_per_s", "seconds"]
