"""The image links, the conv encoder's norms and the EMA of buffers (batch norm across processes: test_runtime.py).

The batched cores against torchvision 0.14 (the stored reference of tests/Jepa.Runtime.Tests/TestData, computed one
image at a time by torchvision.transforms.functional; tolerance 2e-6 on [0, 1] pixels, as the C# tests), the links'
draws against their definition, and the DDP rule: drawn for the global batch, each process's rows of the whole.
Parity with the C# runtime on the same draws is tests/Jepa.PyTorch.Tests/BlockParityTests.cs.
"""
import base64
import json
import math

import numpy as np
import pytest
import torch

from jepa_torch import corruptions as C, image_ops as O, models as M, training as T
from test_runtime import REPO

REFERENCE = json.load(open(f"{REPO}/tests/Jepa.Runtime.Tests/TestData/torchvision_reference.json"))


def stored(e):
    return torch.from_numpy(np.frombuffer(base64.b64decode(e["f32"]), dtype="<f4").copy().reshape(e["shape"]))


IMAGES = {k: stored(v) for k, v in REFERENCE["images"].items()}


def core(case):
    images, p, op = IMAGES[case["image"]], case["params"], case["op"]

    def column(i):
        return torch.tensor([b[i] for b in p])
    if op in ("resized_crop", "erase"):
        boxes = [column(i) for i in range(4)]
        return O.resized_crop(images, *boxes, case["size"]) if op == "resized_crop" else O.erase(images, *boxes, case["value"])
    if op == "grayscale":
        return O.grayscale(images)
    if op == "gaussian_blur":
        return O.gaussian_blur(images, case["kernel"], torch.tensor(p))
    if op == "mask_cells":
        return O.mask_cells(images, torch.tensor(p), case["patch"], 0.0)
    if op == "rotate":
        return O.rotate(images, torch.tensor(p), case["fill"])
    if op == "affine":
        return O.affine(images, *torch.tensor(p, dtype=torch.float64).unbind(1), case["fill"])
    if op == "elastic":
        return O.elastic(images, C.ElasticTransform(p[0], p[1]).displacement(stored(case["noise"])), case["fill"])
    adjust = {"brightness": O.adjust_brightness, "contrast": O.adjust_contrast, "saturation": O.adjust_saturation,
              "hue": O.adjust_hue, "solarize": O.solarize}[op]
    return adjust(images, torch.tensor(p))


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=[c["name"] for c in REFERENCE["cases"]])
def test_the_batched_cores_match_torchvision(case):
    expected = stored(case["output"])
    ours = core(case)
    assert ours.shape == expected.shape
    assert float((ours - expected).abs().max()) <= 2e-6


def test_colour_operations_need_three_channels():
    grey = torch.rand(2, 1, 6, 6)
    with pytest.raises(ValueError, match="3 colour channels"):
        O.adjust_hue(grey, torch.zeros(2))
    with pytest.raises(ValueError, match="3 colour channels"):
        C.ColorJitter()(grey, torch.Generator().manual_seed(1), C.BatchPart.whole(2))
    y = C.ColorJitter(0.4, 0.4, 0, 0, p=1)(grey, torch.Generator().manual_seed(1), C.BatchPart.whole(2))
    assert y.shape == grey.shape and not torch.equal(y, grey)


# ---- the links: draws and their use -------------------------------------------------------------------------------

def links():
    return {
        "random_resized_crop": C.RandomResizedCrop((0.3, 1.0)),
        "random_resized_crop to 5x6": C.RandomResizedCrop((0.3, 1.0), (0.5, 2.0), size=(5, 6)),
        "hflip": C.HorizontalFlip(0.5),
        "random_rotation": C.RandomRotation(30, fill=0.5),
        "random_affine": C.RandomAffine(20, translate=0.1, scale=(0.8, 1.2), shear=15, fill=0.5),
        "elastic_transform": C.ElasticTransform(8.0, 1.0, fill=0.5),
        "color_jitter": C.ColorJitter(0.4, 0.4, 0.3, 0.1, p=0.7),
        "grayscale": C.Grayscale(0.5),
        "gaussian_blur": C.GaussianBlur((0.1, 2.0), p=0.5),
        "solarize": C.Solarize(0.5, p=0.5),
        "random_erasing": C.RandomErasing(p=0.7, value=0.25),
        "block pixel mask": C.PixelMask(C.MultiBlockMask((4, 4), min_keep=4), patch=3),
        "random pixel mask": C.PixelMask(C.RandomTokenMask((4, 4), 0.5), patch=3, value=0.5),
        "a chain": C.Compose(C.RandomResizedCrop((0.5, 1.0)), C.HorizontalFlip(), C.ColorJitter(p=1), C.GaussianBlur(), C.Solarize(p=0.5)),
    }


@pytest.mark.parametrize("name", list(links()))
def test_each_process_gets_its_rows_of_the_global_batch(name):
    link, x = links()[name], torch.rand(8, 3, 10, 12)
    whole = link(x, torch.Generator().manual_seed(5), C.BatchPart.whole(8))
    parts = [link(x[a:b], torch.Generator().manual_seed(5), C.BatchPart(a, b, 8)) for a, b in ((0, 2), (2, 4), (4, 8))]
    assert torch.equal(whole, torch.cat(parts))
    assert not torch.equal(whole[:, :, :5, :6], x[:, :, :5, :6])                  # the link did something


def test_a_link_is_its_draws_then_apply():
    link, x = C.ColorJitter(0.4, 0.4, 0.3, 0.1, p=0.7), torch.rand(6, 3, 5, 5)
    draws = link.sample(6, 5, 5, torch.Generator().manual_seed(3))
    assert sorted(draws) == ["order", "u"] and draws["u"].shape == (6, 5) and draws["order"].shape == (4,)
    assert torch.equal(link.apply(x, draws), link(x, torch.Generator().manual_seed(3), C.BatchPart.whole(6)))
    grey = C.Grayscale(1.0)(torch.rand(2, 3, 4, 4), torch.Generator(), C.BatchPart.whole(2))
    assert torch.equal(grey[:, 0], grey[:, 1]) and torch.equal(grey[:, 1], grey[:, 2])


def test_one_channel_images_without_a_channel_axis():
    x = torch.rand(4, 9, 11)
    y = C.RandomResizedCrop((0.5, 1.0), size=(4, 5))(x, torch.Generator().manual_seed(1), C.BatchPart.whole(4))
    assert y.shape == (4, 4, 5)
    assert C.HorizontalFlip(1.0)(x, torch.Generator(), C.BatchPart.whole(4)).equal(x.flip(-1))
    with pytest.raises(ValueError, match=r"needs images \(B, C, H, W\) or \(B, H, W\)"):
        C.Solarize()(torch.rand(4, 16), torch.Generator(), C.BatchPart.whole(4))


def test_hflip_by_hand():
    x = torch.arange(2 * 1 * 2 * 3, dtype=torch.float32).reshape(2, 1, 2, 3)
    y = C.HorizontalFlip(0.5).apply(x, {"u": torch.tensor([0.2, 0.7])})             # the first flips, the second not
    assert y[0, 0].tolist() == [[2, 1, 0], [5, 4, 3]] and torch.equal(y[1], x[1])


def test_a_crop_that_never_fits_takes_the_central_box_of_the_nearest_ratio():
    # 28x28 with scale 0.9..1 and ratio 2.5..3: every attempt is wider than the image (torchvision's fallback): height
    # round(28 / 2.5) = 11 (half to even), the whole width, centred: top (28 - 11) // 2 = 8.
    crop = C.RandomResizedCrop((0.9, 1.0), (2.5, 3.0))
    u = crop.sample(64, 28, 28, torch.Generator().manual_seed(0))["u"]
    top, left, height, width = crop.boxes(u, 28, 28)
    assert set(zip(top.tolist(), left.tolist(), height.tolist(), width.tolist())) == {(8, 0, 11, 28)}


def test_crop_boxes_follow_torchvisions_attempt_rule_by_hand():
    # Attempt 0: area 0.5 * 100 = 50, ratio exp(0) = 1: a 7x7 box (round(7.07)); positions 0.5 of the 4 free rows/cols.
    u = torch.zeros(1, 10, 4)
    u[0, 0] = torch.tensor([0.5, 0.5, 0.5, 0.99])
    top, left, height, width = C.RandomResizedCrop((0.0001, 1.0), (math.exp(-1), math.exp(1))).boxes(u, 10, 10)
    assert (top.item(), left.item(), height.item(), width.item()) == (2, 3, 7, 7)


@pytest.mark.parametrize("h,w,scale,ratio", [(28, 28, (0.02, 0.33), (0.3, 3.3)), (10, 10, (0.5, 0.9), (0.3, 3.3))])
def test_erasing_boxes_stay_inside_and_p_zero_erases_nothing(h, w, scale, ratio):
    erasing = C.RandomErasing(scale, ratio, p=1.0)
    draws = erasing.sample(4000, h, w, torch.Generator().manual_seed(2))
    top, left, bh, bw = erasing.boxes(draws["chosen"], draws["u"], h, w)
    assert bool(((top + bh <= h) & (left + bw <= w) & (bh < h) & (bw < w)).all())
    erased = (bh > 0).double().mean()
    area = (bh * bw).double()[bh > 0] / (h * w)
    assert float(area.min()) >= scale[0] * 0.8 and float(area.max()) <= scale[1] * 1.2   # rounding of the sides
    assert (0.9 if h == 28 else 0.5) < float(erased) <= 1.0
    none = C.RandomErasing(scale, ratio, p=0.0)
    x = torch.rand(16, 1, h, w)
    assert torch.equal(none(x, torch.Generator().manual_seed(1), C.BatchPart.whole(16)), x)


def test_pixel_masks_keep_exactly_the_context_cells():
    mask = C.MultiBlockMask((4, 4), min_keep=4)
    link, x = C.PixelMask(mask, patch=3, value=-1.0), torch.rand(6, 2, 11, 11)        # 4x4 cells, the last 2 pixels wide
    y = link(x, torch.Generator().manual_seed(7), C.BatchPart.whole(6))
    context = mask.sample(6, torch.Generator().manual_seed(7)).context
    for i in range(6):
        for cell in range(16):
            r, c = divmod(cell, 4)
            block = y[i, :, 3 * r:3 * r + 3, 3 * c:3 * c + 3]
            kept = cell in context[i].tolist()
            assert torch.equal(block, x[i, :, 3 * r:3 * r + 3, 3 * c:3 * c + 3]) if kept else bool((block == -1).all())
    with pytest.raises(ValueError, match="grid"):
        link(torch.rand(2, 1, 16, 16), torch.Generator(), C.BatchPart.whole(2))


def test_a_pixel_mask_made_from_a_function_of_the_grid_makes_its_mask_for_the_images_it_meets():
    # The exported programs' form (pixel_block_mask, pixel_random_mask): PixelMask(lambda grid: ..., patch).
    made = C.PixelMask(lambda grid: C.RandomTokenMask(grid, 0.5), patch=3, value=-1.0)
    for size, grid in ((11, (4, 4)), (16, (6, 6))):
        x = torch.rand(5, 1, size, size)
        fixed = C.PixelMask(C.RandomTokenMask(grid, 0.5), patch=3, value=-1.0)
        y = made(x, torch.Generator().manual_seed(3), C.BatchPart.whole(5))
        assert made.mask.grid == grid
        assert torch.equal(y, fixed(x, torch.Generator().manual_seed(3), C.BatchPart.whole(5)))
        assert bool((y == -1).any()) and not torch.equal(y, x)


def test_rotation_angles_are_uniform_within_degrees_and_a_right_angle_is_rot90():
    link = C.RandomRotation(15)
    angles = link.angles(link.sample(20000, 7, 7, torch.Generator().manual_seed(4)))
    sd = 15 / math.sqrt(3)
    assert -15 <= float(angles.min()) and float(angles.max()) <= 15
    assert abs(float(angles.mean())) < 4 * sd / math.sqrt(20000)
    x = torch.rand(2, 3, 7, 7)
    turned = link.apply(x, {"u": torch.tensor([1.0, 0.5])})                          # +15 degrees, then 0
    assert torch.allclose(turned[1], x[1], atol=1e-6)
    assert torch.allclose(O.rotate(x, torch.tensor([90.0, -90.0])), torch.stack([x[0].rot90(1, (1, 2)), x[1].rot90(-1, (1, 2))]), atol=1e-5)


def test_affine_moves_are_whole_pixels_and_no_parameters_is_the_identity():
    link = C.RandomAffine(15, translate=0.1, scale=(0.8, 1.2), shear=10)
    angle, tx, ty, scale, shear = link.parameters(link.sample(20000, 20, 30, torch.Generator().manual_seed(5)), 20, 30)
    assert torch.equal(tx, tx.round()) and torch.equal(ty, ty.round())
    assert float(tx.abs().max()) == 3 and float(ty.abs().max()) == 2
    assert abs(float(tx.eq(0).double().mean()) - 1 / 6) < 4 * math.sqrt(1 / 6 * 5 / 6 / 20000)
    for v, lo, hi in ((angle, -15, 15), (scale, 0.8, 1.2), (shear, -10, 10)):
        assert lo <= float(v.min()) and float(v.max()) <= hi
        assert abs(float(v.mean()) - (lo + hi) / 2) < 4 * (hi - lo) / math.sqrt(12 * 20000)
    x = torch.rand(2, 3, 7, 7)
    zero, one = torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    assert torch.allclose(O.affine(x, zero, zero, zero, one, zero, zero), x, atol=1e-6)
    assert torch.allclose(O.affine(x, zero + 90, zero, zero, one, zero, zero), x.rot90(-1, (2, 3)), atol=1e-5)


def test_elastic_by_hand_and_its_displacement():
    x = torch.rand(3, 2, 6, 8)
    d = torch.zeros(3, 6, 8, 2)
    d[1, :, :, 0] = 2 / 8                                                            # one pixel in x: read the right neighbour
    d[2, :, :, 1] = 2 / 6                                                            # one pixel in y: read the pixel below
    y = O.elastic(x, d, 0.25)
    assert torch.allclose(y[0], x[0], atol=1e-6)
    assert torch.allclose(y[1, :, :, :7], x[1, :, :, 1:], atol=1e-6) and torch.allclose(y[1, :, :, 7], torch.full((2, 6), 0.25), atol=1e-6)
    assert torch.allclose(y[2, :, :5], x[2, :, 1:], atol=1e-6)
    u = torch.rand(4, 2, 20, 40)
    raw = C.ElasticTransform(10.0, 0.0).displacement(u)                              # no blur: torchvision's alpha / H, alpha / W
    assert torch.allclose(raw[..., 0], (u[:, 0] * 2 - 1) * 10 / 20) and torch.allclose(raw[..., 1], (u[:, 1] * 2 - 1) * 10 / 40)
    with pytest.raises(ValueError, match="sigma < 3.875"):
        C.ElasticTransform(sigma=5.0)(torch.rand(2, 1, 16, 30), torch.Generator().manual_seed(1), C.BatchPart.whole(2))


def test_p_is_a_per_sample_probability():
    x = torch.rand(4000, 1, 6, 6)
    for link, p in ((C.Solarize(0.0, p=0.3), 0.3), (C.GaussianBlur(p=0.6), 0.6), (C.HorizontalFlip(0.25), 0.25)):
        changed = (link(x, torch.Generator().manual_seed(11), C.BatchPart.whole(4000)) != x).flatten(1).any(1).double().mean()
        assert abs(float(changed) - p) < 4 * math.sqrt(p * (1 - p) / 4000), (link, float(changed))


def test_arguments_out_of_range_are_refused():
    for make, message in ((lambda: C.RandomResizedCrop((0.0, 1.0)), "scale"), (lambda: C.ColorJitter(hue=0.7), "hue"),
                          (lambda: C.Grayscale(1.5), "p in"), (lambda: C.GaussianBlur((2.0, 1.0)), "sigma"),
                          (lambda: C.Solarize(1.2), "threshold"), (lambda: C.RandomErasing(value=float("nan")), "finite"),
                          (lambda: C.RandomResizedCrop(size=(0, 4)), "size"), (lambda: C.RandomRotation(181), "degrees"),
                          (lambda: C.RandomRotation(10, fill=1.5), "fill"),
                          (lambda: C.RandomAffine(10, translate=1.5), "translate"), (lambda: C.RandomAffine(10, scale=(1.2, 0.8)), "scale"),
                          (lambda: C.RandomAffine(10, shear=90), "shear")):
        with pytest.raises(ValueError, match=message):
            make()


# ---- the conv encoder's norms ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", REFERENCE["conv_norms"], ids=[c["norm"] for c in REFERENCE["conv_norms"]])
def test_conv_norms_load_and_compute_as_the_reference(case):
    """PyTorch modules named as the runtime's (the stored reference): the state loads under the same names, and the
    encoder computes the same training and evaluation outputs, running statistics and gradient."""
    model = M.ConvEncoder((3, 12, 12), case["channels"], 3, "mean", 5, norm=case["norm"], groups=case["groups"])

    def state(saved):
        return {k: torch.tensor(v) if isinstance(v, int) else stored(v) for k, v in saved.items()}
    model.load_state_dict(state(case["state"]))
    x = stored(case["input"])
    model.train()
    y = model(x)
    (y ** 2).sum().backward()
    assert float((y - stored(case["train_output"])).abs().max()) <= 1e-5
    assert float((model.stages.conv0.weight.grad - stored(case["grad_conv0_weight"])).abs().max()) <= 1e-4
    for k, v in state(case["state_after_train"]).items():
        if "running" in k or "num_batches" in k:
            assert torch.allclose(model.state_dict()[k].double(), v.double(), atol=1e-6), k
    model.eval()
    assert float((model(x) - stored(case["eval_output"])).abs().max()) <= 1e-5


def test_conv_norm_names_parameters_and_initial_values():
    for norm, extra in (("none", 0), ("batch", 2 * (8 + 16)), ("group", 2 * (8 + 16)), ("layer", 2 * (8 + 16))):
        conv = M.ConvEncoder((3, 8, 8), [8, 16], 3, "mean", 4, norm=norm, groups=4)
        assert sum(p.numel() for p in conv.parameters()) == (3 * 8 * 9 + 8) + (8 * 16 * 9 + 16) + 16 * 4 + 4 + extra
        if norm != "none":
            assert bool((conv.stages.norm1.weight == 1).all()) and bool((conv.stages.norm1.bias == 0).all())
    assert set(M.ConvEncoder((1, 8, 8), [4], norm="batch", out=2).state_dict()) == {
        "stages.conv0.weight", "stages.conv0.bias", "stages.norm0.weight", "stages.norm0.bias", "stages.norm0.running_mean",
        "stages.norm0.running_var", "stages.norm0.num_batches_tracked", "head.weight", "head.bias"}
    with pytest.raises(ValueError, match="which 3 groups do not divide"):
        M.ConvEncoder((3, 8, 8), [8], norm="group", groups=3)


def test_conv_takes_smaller_crops_and_flat_samples():
    conv = M.ConvEncoder((1, 8, 8), [4, 8], 3, "max", 3, norm="group", groups=2)
    assert conv(torch.rand(5, 1, 6, 6)).shape == (5, 3)
    assert torch.equal(conv(torch.ones(2, 64)), conv(torch.ones(2, 1, 8, 8)))
    with pytest.raises(ValueError, match="shrinks the 3x3 input below one pixel"):
        conv(torch.rand(2, 1, 3, 3))


# ---- EMA of buffers -----------------------------------------------------------------------------------------------

def test_ema_moves_float_buffers_as_csharp_and_leaves_equal_ones_bit_for_bit():
    make = lambda: M.ConvEncoder((1, 8, 8), [4], norm="batch", out=2)  # noqa: E731
    online = make()
    target = T.ema_copy(online, make)
    online.train()
    online(torch.rand(6, 1, 8, 8))                                                 # moves the running statistics
    online.stages.norm0.num_batches_tracked.fill_(9)
    for m in (online, target):
        m.stages.norm0.running_var.fill_(0.3)                                       # equal on both sides
    before = {k: v.clone() for k, v in target.state_dict().items()}
    T.ema_update(target, online, 0.75)
    mean_t, mean_o = before["stages.norm0.running_mean"], online.stages.norm0.running_mean
    assert torch.equal(target.stages.norm0.running_mean, mean_t + (mean_o - mean_t) * 0.25)
    assert torch.equal(target.stages.norm0.running_var, before["stages.norm0.running_var"])   # equal on both sides: unchanged
    assert int(target.stages.norm0.num_batches_tracked) == 9
    with pytest.raises(ValueError, match="different buffers"):
        T.ema_update(M.ConvEncoder((1, 8, 8), [4], norm="batch", out=2), M.ConvEncoder((1, 8, 8), [4], norm="group", groups=2, out=2), 0.5)
