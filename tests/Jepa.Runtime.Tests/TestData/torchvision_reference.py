# Reference values for the image augmentations and the conv encoder's norms (ImageAugmentationTests, ConvNormTests),
# computed by an independent implementation: Debian's python3-torchvision 0.14 (torchvision.transforms.functional, one
# image at a time) and python3-torch 1.13 (nn.BatchNorm2d, nn.GroupNorm). The tests read the committed JSON; a test
# regenerates it and compares when /usr/bin/python3 has torchvision (TorchvisionFixtureTests). To regenerate by hand:
#   /usr/bin/python3 torchvision_reference.py torchvision_reference.json
# Tensors are stored as {"shape": [...], "f32": base64 of little-endian float32}.
import base64, collections, json, sys

import numpy as np
import torch
import torchvision
import torchvision.transforms as T
import torchvision.transforms.functional as TF

torch.set_num_threads(1)


def f32(t):
    t = torch.as_tensor(t, dtype=torch.float32).contiguous()
    return {"shape": list(t.shape), "f32": base64.b64encode(t.numpy().astype("<f4").tobytes()).decode("ascii")}


def images():
    g = torch.Generator().manual_seed(0)
    rgb = torch.rand(3, 3, 10, 12, generator=g)
    rgb[0, :, 0, 0] = 0.4                                   # grey: hue undefined, saturation 0
    rgb[0, :, 0, 1] = torch.tensor([0.7, 0.7, 0.2])         # ties for the largest channel
    rgb[0, :, 0, 2] = torch.tensor([0.1, 0.6, 0.6])
    rgb[0, :, 0, 3] = torch.tensor([0.9, 0.3, 0.9])
    rgb[1, :, 0, 0] = 0.0                                   # black, white
    rgb[1, :, 0, 1] = 1.0
    rgb[1, :, 1, 0:3] = 0.5                                 # exactly at the solarize threshold
    gray = torch.rand(2, 1, 9, 11, generator=g)
    gray[0, 0, 0, 0] = 0.5
    gray[1, 0, 0, 0] = 1.0
    gray[1, 0, 0, 1] = 0.0
    return {"rgb": rgb, "gray": gray}


def per_image(batch, fn, params):
    return torch.stack([fn(img, p) for img, p in zip(batch, params)])


def cases(imgs):
    rgb, gray = imgs["rgb"], imgs["gray"]
    out = []

    def add(name, op, image, params, output, **extra):
        out.append(dict(name=name, op=op, image=image, params=params, output=f32(output), **extra))

    bilinear = T.InterpolationMode.BILINEAR
    for image, boxes, size in [("rgb", [[1, 2, 5, 7], [0, 0, 10, 12], [3, 1, 6, 4]], [8, 8]),
                               ("rgb", [[1, 2, 5, 7], [0, 0, 10, 12], [3, 1, 6, 4]], [16, 20]),
                               ("gray", [[2, 3, 4, 5], [0, 1, 9, 10]], [9, 11])]:
        y = per_image(imgs[image], lambda img, b: TF.resized_crop(img, b[0], b[1], b[2], b[3], size, bilinear, antialias=False), boxes)
        add(f"resized_crop {image} to {size}", "resized_crop", image, boxes, y, size=size)
    for image, factors in [("rgb", [0.5, 1.3, 1.0]), ("gray", [0.7, 1.6])]:
        add(f"brightness {image}", "brightness", image, factors, per_image(imgs[image], TF.adjust_brightness, factors))
    for image, factors in [("rgb", [0.2, 1.5, 0.0]), ("gray", [0.6, 1.8])]:
        add(f"contrast {image}", "contrast", image, factors, per_image(imgs[image], TF.adjust_contrast, factors))
    add("saturation rgb", "saturation", "rgb", [0.0, 0.5, 2.0], per_image(rgb, TF.adjust_saturation, [0.0, 0.5, 2.0]))
    for shifts in [[-0.3, 0.1, 0.5], [0.25, -0.5, 0.0]]:
        add(f"hue rgb {shifts}", "hue", "rgb", shifts, per_image(rgb, TF.adjust_hue, shifts))
    add("grayscale rgb", "grayscale", "rgb", [], TF.rgb_to_grayscale(rgb, num_output_channels=1))
    for image, kernel, sigmas in [("rgb", 5, [0.3, 1.0, 2.0]), ("gray", 13, [0.8, 2.0])]:
        y = per_image(imgs[image], lambda img, s: TF.gaussian_blur(img, [kernel, kernel], [s, s]), sigmas)
        add(f"gaussian_blur {image} k {kernel}", "gaussian_blur", image, sigmas, y, kernel=kernel)
    for image, thresholds in [("rgb", [0.5, 0.2, 0.9]), ("gray", [0.5, 0.7])]:
        add(f"solarize {image}", "solarize", image, thresholds, per_image(imgs[image], TF.solarize, thresholds))
    for image, angles, fill in [("rgb", [30.0, -45.0, 90.0], 0.0), ("gray", [12.5, -170.0], 1.0), ("rgb", [7.0, 180.0, -0.5], 0.25)]:
        y = per_image(imgs[image], lambda img, a: TF.rotate(img, a, bilinear, fill=[fill] * img.shape[0]), angles)
        add(f"rotate {image} fill {fill}", "rotate", image, angles, y, fill=fill)
    # params per image: angle (clockwise), translate x, y (pixels), scale, shear x, shear y (degrees)
    for image, params, fill in [("rgb", [[30.0, 2, -1, 0.8, 12.0, 0.0], [-45.0, 0, 3, 1.25, -20.0, 5.0], [0.0, 1, 1, 1.0, 30.0, 0.0]], 0.0),
                                ("gray", [[-8.0, -2, 2, 1.1, 10.0, 0.0], [170.0, 0, 0, 0.6, 0.0, -15.0]], 1.0)]:
        y = per_image(imgs[image], lambda img, q: TF.affine(img, q[0], [q[1], q[2]], q[3], [q[4], q[5]], bilinear, fill=[fill] * img.shape[0]), params)
        add(f"affine {image} fill {fill}", "affine", image, params, y, fill=fill)
    # elastic_transform: torchvision's ElasticTransform.get_params with its two torch.rand draws replaced by the stored
    # noise (B, 2, H, W), then TF.elastic_transform; params: alpha, sigma. Non-square images: x scales by alpha / H.
    noise = torch.Generator().manual_seed(2)
    for image, alpha, sigma, fill in [("rgb", 8.0, 1.0, 0.0), ("gray", 30.0, 0.5, 1.0), ("rgb", 2.0, 0.0, 0.25)]:
        batch = imgs[image]
        u = torch.rand(batch.shape[0], 2, batch.shape[2], batch.shape[3], generator=noise)
        h, w = batch.shape[2], batch.shape[3]

        def field(v, a, size):
            d = (v * 2 - 1).view(1, 1, h, w)
            if sigma > 0:
                k = int(8 * sigma + 1)
                k += 1 - k % 2
                d = TF.gaussian_blur(d, [k, k], [sigma, sigma])
            return d * a / size
        y = torch.stack([TF.elastic_transform(img, torch.cat([field(ui[0], alpha, h), field(ui[1], alpha, w)], 1).permute(0, 2, 3, 1), bilinear,
                                              fill=[fill] * img.shape[0]) for img, ui in zip(batch, u)])
        add(f"elastic {image} alpha {alpha} sigma {sigma}", "elastic", image, [alpha, sigma], y, noise=f32(u), fill=fill)
    for image, boxes, value in [("rgb", [[1, 2, 3, 4], [0, 0, 10, 12], [5, 6, 0, 0]], 0.0), ("gray", [[2, 3, 4, 5], [8, 10, 1, 1]], 0.5)]:
        y = per_image(imgs[image], lambda img, b: TF.erase(img, b[0], b[1], b[2], b[3], torch.tensor(value)), boxes)
        add(f"erase {image}", "erase", image, boxes, y, value=value)
    for image, patch, keep in [("rgb", 4, [[0, 1, 4, 8], [2, 3, 5, 7], [0, 4, 6, 7]]), ("gray", 3, [[0, 5, 6, 11, 3], [1, 2, 3, 4, 10]])]:
        def mask(img, kept):
            h, w = img.shape[-2:]
            gh, gw = -(-h // patch), -(-w // patch)
            for cell in range(gh * gw):
                if cell not in kept:
                    r, c = divmod(cell, gw)
                    img = TF.erase(img, r * patch, c * patch, min(patch, h - r * patch), min(patch, w - c * patch), torch.tensor(0.0))
            return img
        add(f"mask_cells {image} patch {patch}", "mask_cells", image, keep, per_image(imgs[image], mask, keep), patch=patch)
    return out


def summary(rows, h, w):
    a = np.array(rows, dtype=np.float64)   # (n, 4): top, left, height, width
    area = a[:, 2] * a[:, 3] / (h * w)
    cols = {"top": a[:, 0], "left": a[:, 1], "height": a[:, 2], "width": a[:, 3], "area": area}
    return {k: {"mean": float(v.mean()), "std": float(v.std())} for k, v in cols.items()}


def crop_statistics(n=20000):
    torch.manual_seed(1)
    out = []
    for h, w, scale, ratio in [(28, 28, (0.08, 1.0), (3 / 4, 4 / 3)), (20, 32, (0.3, 1.0), (0.5, 2.0)), (28, 28, (0.9, 1.0), (2.5, 3.0))]:
        img = torch.zeros(1, h, w)
        rows = [T.RandomResizedCrop.get_params(img, list(scale), list(ratio)) for _ in range(n)]
        out.append({"h": h, "w": w, "scale": list(scale), "ratio": list(ratio), "n": n, "stats": summary(rows, h, w)})
    return out


def erase_statistics(n=20000):
    torch.manual_seed(2)
    out = []
    for h, w, scale, ratio in [(28, 28, (0.02, 0.33), (0.3, 3.3)), (20, 32, (0.1, 0.6), (0.5, 2.0)), (10, 10, (0.5, 0.9), (0.3, 3.3))]:
        img = torch.zeros(1, h, w)
        rows = []
        for _ in range(n):
            i, j, eh, ew, v = T.RandomErasing.get_params(img, scale, ratio, value=[0.0])
            rows.append((i, j, eh, ew) if v is not img else (0, 0, 0, 0))   # no fitting attempt: nothing erased
        out.append({"h": h, "w": w, "scale": list(scale), "ratio": list(ratio), "n": n, "stats": summary(rows, h, w),
                    "none_fit": sum(r[2] == 0 for r in rows) / n})
    return out


class Conv(torch.nn.Module):
    # The runtime's ConvEncoder with the same module names: stages.conv{i}, stages.norm{i}, head.
    def __init__(self, norm, channels=(4, 8), groups=2, out=5):
        super().__init__()
        stages, prev = collections.OrderedDict(), 3
        for i, c in enumerate(channels):
            stages[f"conv{i}"] = torch.nn.Conv2d(prev, c, 3, padding=1)
            if norm == "batch":
                stages[f"norm{i}"] = torch.nn.BatchNorm2d(c)
            elif norm == "group":
                stages[f"norm{i}"] = torch.nn.GroupNorm(groups, c)
            elif norm == "layer":
                stages[f"norm{i}"] = torch.nn.GroupNorm(1, c)
            stages[f"act{i}"] = torch.nn.GELU()
            stages[f"pool{i}"] = torch.nn.MaxPool2d(2, 2)
            prev = c
        self.stages = torch.nn.Sequential(stages)
        self.head = torch.nn.Linear(prev, out)

    def forward(self, x):
        return self.head(self.stages(x).flatten(2).mean(2))


def state(model):
    return {k: (int(v) if v.dtype == torch.int64 else f32(v)) for k, v in model.state_dict().items()}


def conv_norms():
    out = []
    for norm in ["none", "batch", "group", "layer"]:
        torch.manual_seed(3)
        model = Conv(norm)
        with torch.no_grad():                                  # affine weights and running statistics away from 1 and 0
            for name, m in model.stages.named_children():
                if name.startswith("norm"):
                    m.weight.copy_(1 + 0.3 * torch.randn_like(m.weight))
                    m.bias.copy_(0.2 * torch.randn_like(m.bias))
                    if norm == "batch":
                        m.running_mean.copy_(0.1 * torch.randn_like(m.running_mean))
                        m.running_var.copy_(1 + torch.rand_like(m.running_var))
                        m.num_batches_tracked.fill_(3)
        x = 0.5 + 0.5 * torch.randn(4, 3, 12, 12)
        before = state(model)
        model.train()
        y = model(x)
        (y ** 2).sum().backward()
        after = state(model)
        model.eval()
        with torch.no_grad():
            y_eval = model(x)
        out.append({"norm": norm, "groups": 2, "channels": [4, 8], "input": f32(x), "state": before, "train_output": f32(y.detach()),
                    "state_after_train": after, "grad_conv0_weight": f32(model.stages.conv0.weight.grad), "eval_output": f32(y_eval)})
    return out


imgs = images()
reference = {
    "versions": {"torch": torch.__version__, "torchvision": torchvision.__version__},
    "images": {k: f32(v) for k, v in imgs.items()},
    "cases": cases(imgs),
    "crop_statistics": crop_statistics(),
    "erase_statistics": erase_statistics(),
    "conv_norms": conv_norms(),
}
with open(sys.argv[1], "w") as f:
    json.dump(reference, f, indent=1)
    f.write("\n")
