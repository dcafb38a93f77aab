"""The runtime's new blocks on what the .NET parity tests send (tests/Jepa.PyTorch.Tests/BlockParityTests.cs); the
.NET side compares the results with its own.

    python3 block_parity.py KIND INPUTS.pt OUTPUT.pt

KIND (and what INPUTS.pt holds):
  cores          cases: name -> {op, images, parameters...}: the image_ops cores; OUTPUT: outputs: name -> tensor
  links          cases: name -> {link, arguments..., x, draws: {...}}: link.apply(x, draws), the draws replayed by .NET
                 from its generator; OUTPUT: outputs
  conv           cases: name -> {arguments, seed, pristine, state, x, small, w, w_small}: the encoder built under the
                 seed (its own initial weights are compared with pristine), then .NET's weights (state): training-mode outputs on x and on the smaller
                 crops, gradients of sum(y w) + sum(y_small w_small), buffers after, evaluation-mode output on x
  ema            online, target (state dicts), momentum: the target after ema_update
  normalization  cases: name -> {x, seed} (or {mnist10k: seed}) and apply: {x, mean, std}: the statistics, and
                 the normalised x
  data           root (a folder to write into): writes the sources (NumPy files, image folders), reads them and every
                 source named in cases ({paths, shape}); OUTPUT: name -> {train, train_labels, test, test_labels,
                 classes, layout, first_batch}
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import torch  # noqa: E402

import jepa_torch as jt  # noqa: E402
from jepa_torch import corruptions as C, data as D, image_ops as O, models as M, training as T  # noqa: E402


def cores(case):
    op, images = case["op"], case["images"]
    box = [case[k] for k in ("top", "left", "height", "width")] if "top" in case else None
    if op == "resized_crop":
        return O.resized_crop(images, *box, (case["out_h"], case["out_w"]))
    if op == "erase":
        return O.erase(images, *box, case["value"])
    if op == "mask_cells":
        return O.mask_cells(images, case["keep"], case["patch"], case["value"])
    if op == "gaussian_blur":
        return O.gaussian_blur(images, case["kernel"], case["sigma"])
    if op == "grayscale":
        return O.grayscale(images)
    if op == "rotate":
        return O.rotate(images, case["angle"], case["fill"])
    if op == "affine":
        return O.affine(images, case["angle"], case["tx"], case["ty"], case["scale"], case["shear_x"], case["shear_y"], case["fill"])
    adjust = {"brightness": O.adjust_brightness, "contrast": O.adjust_contrast, "saturation": O.adjust_saturation,
              "hue": O.adjust_hue, "solarize": O.solarize}[op]
    return adjust(images, case["factor"])


def make_link(case):
    """The link a case names, with its arguments."""
    name = case["link"]

    def pair(key):
        return (case[f"{key}_min"], case[f"{key}_max"])
    if name == "random_resized_crop":
        size = (case["out_h"], case["out_w"]) if "out_h" in case else None
        return C.RandomResizedCrop(pair("scale"), pair("ratio"), size)
    if name == "color_jitter":
        return C.ColorJitter(case["brightness"], case["contrast"], case["saturation"], case["hue"], case["p"])
    if name == "grayscale":
        return C.Grayscale(case["p"])
    if name == "gaussian_blur":
        return C.GaussianBlur(pair("sigma"), case["p"])
    if name == "solarize":
        return C.Solarize(case["threshold"], case["p"])
    if name == "random_erasing":
        return C.RandomErasing(pair("scale"), pair("ratio"), case["value"], case["p"])
    if name == "hflip":
        return C.HorizontalFlip(case["p"])
    if name == "random_rotation":
        return C.RandomRotation(case["degrees"], case["fill"])
    if name == "random_affine":
        return C.RandomAffine(case["degrees"], case["translate"], pair("scale"), case["shear"], case["fill"])
    if name == "elastic_transform":
        return C.ElasticTransform(case["alpha"], case["sigma"], case["fill"])
    if name == "pixel_mask":
        mask = C.MultiBlockMask((case["grid_h"], case["grid_w"])) if case["mask"] == "block" else \
            C.RandomTokenMask((case["grid_h"], case["grid_w"]), case["ratio"])
        return C.PixelMask(mask, case["patch"], case["value"])
    raise ValueError(f"unknown link {name}")


def links(case):
    return make_link(case).apply(case["x"], dict(case["draws"]))


def conv(case):
    args = dict(channels=case["channels"].tolist(), kernel=case["kernel"], pool=case["pool"], out=case["out"], norm=case["norm"], groups=case["groups"])
    torch.manual_seed(case["seed"])
    model = M.ConvEncoder(tuple(case["input_shape"].tolist()), **args)
    own = model.state_dict()
    init = max(float((own[k].double() - v.double()).abs().max()) for k, v in case["pristine"].items())
    model.load_state_dict(case["state"])
    model.train()
    y, y_small = model(case["x"]), model(case["small"])
    ((y * case["w"]).sum() + (y_small * case["w_small"]).sum()).backward()
    buffers = {k: v.clone() for k, v in model.state_dict().items() if "running" in k or "num_batches" in k}
    model.eval()
    with torch.no_grad():
        y_eval = model(case["x"])
    return {"init_difference": init, "train": y.detach(), "small": y_small.detach(), "eval": y_eval, "buffers": buffers,
            "grads": {n: p.grad.clone() for n, p in model.named_parameters()}}


def ema(inputs):
    make = lambda: M.ConvEncoder((3, 8, 8), [4, 8], norm="batch", out=5)  # noqa: E731 - the .NET side's architecture
    online, target = make(), make()
    online.load_state_dict(inputs["online"])
    target.load_state_dict(inputs["target"])
    T.ema_update(target, online, inputs["momentum"])
    return {"target": target.state_dict()}


def normalization(inputs):
    out = {}
    for name, case in inputs["cases"].items():
        if "mnist10k" in case:
            data = D.open_data([os.path.join(REPO, "data", "mnist10k")], (1, 28, 28)).train
            seed = case["mnist10k"]
        else:
            data, seed = D.Dataset(case["x"]), case["seed"]
        stats = jt.InputNormalization.compute(data, seed)
        out[name] = {"mean": torch.tensor(stats.mean, dtype=torch.float64), "std": torch.tensor(stats.std, dtype=torch.float64), "samples": stats.samples}
    apply = inputs["apply"]
    out["applied"] = jt.InputNormalization(apply["mean"].tolist(), apply["std"].tolist()).apply(apply["x"])
    return out


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def write_sources(root):
    """NumPy files and image folders for the data cases (Pillow writes PNG, JPEG and BMP; grey, RGB, RGBA)."""
    from PIL import Image
    rng = np.random.default_rng(0)
    np.save(os.path.join(root, "hwc.npy"), rng.integers(0, 256, (7, 5, 6, 3), dtype=np.uint8))
    np.save(os.path.join(root, "hwc_labels.npy"), np.array([2, 0, 1, 1, 0, 2, 2], dtype=np.int32))
    np.save(os.path.join(root, "floats.npy"), rng.normal(size=(9, 2, 3)))
    np.savez(os.path.join(root, "set.npz"), train_images=rng.integers(0, 256, (6, 4, 4), dtype=np.uint8), train_labels=np.arange(6) % 3,
             test_images=rng.integers(0, 256, (3, 4, 4), dtype=np.uint8), test_labels=np.array([2.0, 1.0, 0.0]))

    def image(w, h, mode):
        a = rng.integers(0, 256, (h, w, {"L": 1, "RGB": 3, "RGBA": 4}[mode]), dtype=np.uint8)
        return Image.fromarray(a[:, :, 0] if mode == "L" else a, mode)
    sizes = [(16, 12, "RGB", "png"), (9, 14, "L", "png"), (12, 12, "RGBA", "png"), (30, 20, "RGB", "bmp"), (5, 7, "RGB", "png"), (12, 12, "RGB", "png")]
    for split, classes in (("train", ["cat", "Dog", "eel"]), ("test", ["cat", "eel"])):
        for c in classes:
            os.makedirs(os.path.join(root, "images", split, c, "more"))
            for i, (w, h, mode, ext) in enumerate(sizes):
                where = os.path.join(root, "images", split, c, "more" if i == 0 else "", f"{i}.{ext}")
                image(w, h, mode).save(where)
    os.makedirs(os.path.join(root, "flat"))
    for i, (w, h, mode, ext) in enumerate(sizes):
        image(w, h, mode).save(os.path.join(root, "flat", f"{i}.{ext}"))


def data(inputs):
    root = inputs["root"]
    write_sources(root)
    out = {}
    for name, case in inputs["cases"].items():
        paths = [p if os.path.isabs(p) else os.path.join(root, p) for p in case["paths"].split("\n")]
        loaded = D.open_data(paths, tuple(case["shape"].tolist()))
        order = D.epoch_order(len(loaded.train), 3, 0)[:min(64, len(loaded.train))]
        result = {"train": loaded.train.features, "layout": loaded.layout, "classes": "\n".join(loaded.train.class_names),
                  "first_batch": loaded.train.batch(order)}
        if loaded.train.labels is not None:
            result["train_labels"] = loaded.train.labels
        if loaded.test is not None:
            result["test"], result["test_labels"] = loaded.test.features, loaded.test.labels
        out[name] = result
    return out


def main(kind, inputs_path, output_path):
    torch.set_num_threads(1)
    inputs = jt.run.load_checkpoint(inputs_path)
    if kind in ("cores", "links"):
        function = cores if kind == "cores" else links
        result = {"outputs": {name: function(case) for name, case in inputs["cases"].items()}}
    elif kind == "conv":
        result = {name: conv(case) for name, case in inputs["cases"].items()}
    else:
        result = {"ema": ema, "normalization": normalization, "data": data}[kind](inputs)
    torch.save(result, output_path)


if __name__ == "__main__":
    main(*sys.argv[1:])
