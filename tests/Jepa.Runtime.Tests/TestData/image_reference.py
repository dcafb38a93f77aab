#!/usr/bin/python3
"""Reference pixels for the image decoding tests (tests/Jepa.Runtime.Tests/Data/ImageDecoderTests.cs).

Run once from the repository root with Debian's torchvision and Pillow (apt-get install python3-torchvision):
    /usr/bin/python3 tests/Jepa.Runtime.Tests/TestData/image_reference.py
It writes image_reference.json next to itself, and the NumPy files of numpy/ (written by NumPy itself, for the
.npy/.npz reader tests). Not needed at test time.

Each case builds an image from the formula below (mode RGB, or L for the grey ones), then applies what torchvision
does to a PIL image: Grayscale(1) for one output channel, Resize to the covering size (for a square output:
Resize(size), shorter side to size), CenterCrop((h, w)), and PILToTensor. The C# test encodes the same pixels as a
PNG, decodes it through ImageDecoder and expects these bytes exactly.
"""
import json
import os

import numpy as np
import torchvision
import torchvision.transforms.functional as F
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))


def pixel(x, y, c):
    return (x * 37 + y * 11 + c * 89 + (x * y) % 7 * 13) % 256


def source(width, height, grey):
    channels = 1 if grey else 3
    a = np.array([[[pixel(x, y, c) for c in range(channels)] for x in range(width)] for y in range(height)], dtype=np.uint8)
    return Image.fromarray(a[:, :, 0], "L") if grey else Image.fromarray(a, "RGB")


def covering(w, h, width, height):
    """The size before the centre crop: the binding side becomes the output's, the other keeps the aspect ratio."""
    if w == width and h == height:
        return w, h
    if width * h >= height * w:
        return width, max(height, int(width * h / w))
    return max(width, int(height * w / h)), height


cases = []
for (w, h, grey, c, oh, ow) in [(37, 23, False, 3, 16, 16), (37, 23, False, 1, 16, 16), (5, 7, False, 3, 12, 12), (64, 64, False, 3, 20, 20),
                                (40, 20, False, 3, 10, 16), (30, 30, True, 1, 8, 8), (30, 30, True, 3, 8, 8), (23, 37, False, 3, 9, 9)]:
    image = source(w, h, grey).convert("RGB")          # as torchvision's ImageFolder loads every image
    if c == 1:
        image = F.rgb_to_grayscale(image, 1)
    rw, rh = covering(w, h, ow, oh)
    if oh == ow:
        image = F.resize(image, oh)                     # torchvision's own shorter-side rule
        assert image.size == (rw, rh), (image.size, (rw, rh))
    else:
        image = F.resize(image, [rh, rw])
    image = F.center_crop(image, [oh, ow])
    out = F.pil_to_tensor(image).numpy()                # (c, h, w) uint8
    cases.append({"width": w, "height": h, "grey": grey, "channels": c, "out_height": oh, "out_width": ow,
                  "pixels": out.reshape(-1).tolist()})

with open(os.path.join(here, "image_reference.json"), "w") as f:
    json.dump({"torchvision": torchvision.__version__, "pillow": Image.__version__, "cases": cases}, f)

# NumPy files written by NumPy.
np.save(os.path.join(here, "numpy", "hwc_uint8.npy"), np.array([[[[pixel(x, y, c) for c in range(3)] for x in range(4)] for y in range(2)] for _ in range(5)], dtype=np.uint8))
np.save(os.path.join(here, "numpy", "fortran_float64.npy"), np.asfortranarray(np.arange(24, dtype=np.float64).reshape(6, 4) / 10))
np.save(os.path.join(here, "numpy", "int16.npy"), np.arange(24, dtype=np.int16).reshape(6, 4))
np.savez_compressed(os.path.join(here, "numpy", "keras_layout.npz"),
                    x_train=np.arange(6 * 4, dtype=np.uint8).reshape(6, 2, 2), y_train=np.array([0, 1, 2, 0, 1, 2], dtype=np.int64),
                    x_test=np.arange(3 * 4, dtype=np.uint8).reshape(3, 2, 2) + 100, y_test=np.array([2, 1, 0], dtype=np.uint8))
