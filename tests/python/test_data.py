"""Data sources as C#'s DataSources opens them (docs/data.md), the input normalisation, and how a run uses both.

References: the MNIST-10k files of data/, NumPy files written by NumPy, and the image decoding reference of
tests/Jepa.Runtime.Tests/TestData/image_reference.json (torchvision's Resize/CenterCrop/Grayscale on PIL images).
Parity of every source and of the statistics with the C# runtime is tests/Jepa.PyTorch.Tests/BlockParityTests.cs.
"""
import gzip
import json
import math
import os
import shutil
import struct

import numpy as np
import pytest
import torch

import jepa_torch as jt
from jepa_torch import data as D, normalization as N, run as R
from test_runtime import REPO

MNIST10K = os.path.join(REPO, "data", "mnist10k")
TESTDATA = os.path.join(REPO, "tests", "Jepa.Runtime.Tests", "TestData")


def idx(path, array, gz=False):
    header = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


# ---- MNIST-style IDX ----------------------------------------------------------------------------------------------

def test_an_idx_folder_trains_on_the_train_pair_and_keeps_t10k_as_the_test_split():
    loaded = D.open_data([MNIST10K], (1, 28, 28))
    assert (len(loaded.train), len(loaded.test)) == (7996, 2004)
    assert loaded.layout == "MNIST-style IDX folder" and len(loaded.files) == 4
    assert loaded.train.pixels and loaded.train.sample_shape == (1, 28, 28) and loaded.test.labels.bincount().tolist()[0] > 0
    raw = D._read_idx(os.path.join(MNIST10K, "train-images-idx3-ubyte.gz"))
    assert torch.equal(loaded.train.batch([5]), torch.from_numpy(raw[5:6].astype(np.float32)).div_(255.0).reshape(1, 1, 28, 28))
    flat = D.open_data([MNIST10K], (784,))                                                 # samples of as many values: reshaped
    assert flat.train.sample_shape == (784,)


def test_idx_folder_rules(tmp_path):
    images, labels = np.arange(3 * 2 * 2).reshape(3, 2, 2), np.array([0, 1, 1])
    idx(tmp_path / "train-images-idx3-ubyte", images)
    idx(tmp_path / "train-images-idx3-ubyte.gz", images + 1, gz=True)                      # both: the plain one is read
    idx(tmp_path / "train-labels-idx1-ubyte.gz", labels, gz=True)
    loaded = D.open_data([str(tmp_path)], (1, 2, 2))
    assert loaded.test is None and loaded.train.batch([0]).flatten().mul(255).round().tolist() == [0, 1, 2, 3]
    idx(tmp_path / "t10k-images-idx3-ubyte.gz", images[:2], gz=True)
    with pytest.raises(D.DataError, match="a test split needs both t10k files"):
        D.open_data([str(tmp_path)], (1, 2, 2))
    idx(tmp_path / "t10k-labels-idx1-ubyte", labels[:2])
    assert len(D.open_data([str(tmp_path)], (1, 2, 2)).test) == 2
    idx(tmp_path / "fashion-train-images-idx3-ubyte", images)
    with pytest.raises(D.DataError, match="IDX files of 2 data sets"):
        D.open_data([str(tmp_path)], (1, 2, 2))
    os.remove(tmp_path / "fashion-train-images-idx3-ubyte")
    (tmp_path / "x.png").write_bytes(b"")
    with pytest.raises(D.DataError, match="both IDX files .* and images"):
        D.open_data([str(tmp_path)], (1, 2, 2))


def test_idx_files_of_other_names_are_told_apart_by_their_dimensions(tmp_path):
    idx(tmp_path / "labels.bin", np.array([7, 1]))
    idx(tmp_path / "pixels.bin", np.arange(8).reshape(2, 2, 2))
    data = D.open_data([str(tmp_path / "labels.bin"), str(tmp_path / "pixels.bin")], (1, 2, 2)).train
    assert data.labels.tolist() == [7, 1]
    with pytest.raises(D.DataError, match="has 2 images but .* has 3 labels"):
        idx(tmp_path / "labels.bin", np.array([7, 1, 2]))
        D.open_data([str(tmp_path / "labels.bin"), str(tmp_path / "pixels.bin")], (1, 2, 2))


# ---- NumPy --------------------------------------------------------------------------------------------------------

def test_npy_samples_and_labels_in_either_order_and_images_stored_channels_last(tmp_path):
    hwc = np.load(os.path.join(TESTDATA, "numpy", "hwc_uint8.npy"))                        # (5, 2, 4, 3)
    np.save(tmp_path / "y.npy", np.array([1.0, 0.0, 2.0, 1.0, 0.0]))                       # whole floats are labels
    notes = []
    data = D.open_data([str(tmp_path / "y.npy"), os.path.join(TESTDATA, "numpy", "hwc_uint8.npy")], (3, 2, 4), notes.append).train
    assert data.labels.tolist() == [1, 0, 2, 1, 0] and data.sample_shape == (3, 2, 4)
    assert torch.equal(data.batch([1]), torch.from_numpy(hwc[1:2].transpose(0, 3, 1, 2).astype(np.float32)).div_(255.0))
    assert "(height, width, channels); they are read as [3, 2, 4]" in notes[0]
    fortran = D.open_data([os.path.join(TESTDATA, "numpy", "fortran_float64.npy")], (4,)).train
    assert not fortran.pixels and torch.equal(fortran.features, torch.from_numpy(np.arange(24, dtype=np.float64).reshape(6, 4) / 10).float())
    with pytest.raises(D.DataError, match="holds int16 values"):
        D.open_data([os.path.join(TESTDATA, "numpy", "int16.npy")], (4,))
    np.save(tmp_path / "half.npy", np.array([0.5, 1.0, 2.0, 1.0, 0.0]))
    with pytest.raises(D.DataError, match="not whole numbers"):
        D.open_data([str(tmp_path / "half.npy"), os.path.join(TESTDATA, "numpy", "hwc_uint8.npy")], (3, 2, 4))


def test_npz_in_keras_layout_has_its_own_test_split(tmp_path):
    loaded = D.open_data([os.path.join(TESTDATA, "numpy", "keras_layout.npz")], (1, 2, 2))
    assert (len(loaded.train), len(loaded.test)) == (6, 3) and loaded.test.labels.tolist() == [2, 1, 0]
    assert float(loaded.test.batch([0]).flatten()[0]) == pytest.approx(100 / 255)
    np.savez(tmp_path / "two.npz", x=np.zeros((2, 3)), images=np.zeros((2, 3)))
    with pytest.raises(D.DataError, match="x and images: which array holds the samples is ambiguous"):
        D.open_data([str(tmp_path / "two.npz")], (3,))


# ---- image folders ------------------------------------------------------------------------------------------------

IMAGE_REFERENCE = json.load(open(os.path.join(TESTDATA, "image_reference.json")))


def pixel(x, y, c):
    return (x * 37 + y * 11 + c * 89 + (x * y) % 7 * 13) % 256


def source_image(width, height, grey):
    from PIL import Image
    channels = 1 if grey else 3
    a = np.array([[[pixel(x, y, c) for c in range(channels)] for x in range(width)] for y in range(height)], dtype=np.uint8)
    return Image.fromarray(a[:, :, 0], "L") if grey else Image.fromarray(a, "RGB")


@pytest.mark.parametrize("case", IMAGE_REFERENCE["cases"], ids=lambda c: f"{c['width']}x{c['height']}{' grey' if c['grey'] else ''} to {c['channels']}x{c['out_height']}x{c['out_width']}")
def test_images_decode_as_torchvision_transforms_them(case, tmp_path):
    source_image(case["width"], case["height"], case["grey"]).save(tmp_path / "a.png")
    data = D.open_data([str(tmp_path)], (case["channels"], case["out_height"], case["out_width"])).train
    assert data.labels is None and data.pixels
    assert data._values.reshape(-1).tolist() == case["pixels"]


def test_image_folders_with_classes_and_a_test_split(tmp_path):
    for split, classes in (("train", ["b", "a", "C"]), ("test", ["a", "b"])):
        for c in classes:
            os.makedirs(tmp_path / split / c / "deeper")
            for i in range(2):
                source_image(10 + i, 12, grey=False).save(tmp_path / split / c / f"{i}.png")
            source_image(9, 9, grey=True).convert("RGBA").save(tmp_path / split / c / "deeper" / "z.png")
    (tmp_path / "train" / "a" / "notes.txt").write_text("not an image")
    notes = []
    loaded = D.open_data([str(tmp_path)], (1, 8, 8), notes.append)
    assert loaded.train.class_names == ["C", "a", "b"]                                  # by code point, as Python sorts
    assert loaded.train.labels.tolist() == [0] * 3 + [1] * 3 + [2] * 3
    assert loaded.test.labels.tolist() == [1] * 3 + [2] * 3                             # matched to train's classes by name
    assert loaded.layout == "image folder (3 class folders) with train/ and test/"
    assert any("1 file is not an image by extension" in n for n in notes)
    os.makedirs(tmp_path / "test" / "dog")
    source_image(9, 9, grey=True).save(tmp_path / "test" / "dog" / "0.png")
    with pytest.raises(D.DataError, match="has the class 'dog' that train/ lacks"):
        D.open_data([str(tmp_path)], (1, 8, 8))
    shutil.rmtree(tmp_path / "test")
    with pytest.raises(D.DataError, match="holds images directly .* and class folders with images .*: the layout is ambiguous"):
        D.open_data([str(tmp_path / "train" / "a")], (3, 8, 8))
    flat = D.open_data([str(tmp_path / "train" / "a" / "deeper")], (3, 8, 8))
    assert flat.train.labels is None and flat.layout == "image folder (flat, unlabelled)"
    (tmp_path / "bad.png").write_bytes(b"not a png")
    shutil.rmtree(tmp_path / "train")
    with pytest.raises(D.DataError, match="bad.png' cannot be decoded"):
        D.open_data([str(tmp_path)], (1, 8, 8))


# ---- normalisation ------------------------------------------------------------------------------------------------

def numpy_statistics(x):
    """Per channel of axis 1 (rank >= 4) or over everything, in float64."""
    values = x.transpose(1, 0, *range(2, x.ndim)).reshape(x.shape[1], -1) if x.ndim >= 4 else x.reshape(1, -1)
    return values.astype(np.float64).mean(1), values.astype(np.float64).std(1)


@pytest.mark.parametrize("shape", [(700, 3, 4, 5), (1000, 16), (300, 6, 6)])
def test_normalisation_statistics_against_numpy(shape):
    x = (np.random.default_rng(1).random(shape) * np.arange(1, shape[1] + 1).reshape(1, -1, *([1] * (len(shape) - 2)))).astype(np.float32)
    stats = N.InputNormalization.compute(D.Dataset(torch.from_numpy(x)), seed=3)
    mean, std = numpy_statistics(x)
    assert stats.samples == shape[0] and len(stats.mean) == len(mean)
    assert np.allclose(stats.mean, mean, rtol=1e-6) and np.allclose(stats.std, std, rtol=1e-6)
    y = stats.apply(torch.from_numpy(x)).numpy()
    assert np.allclose(numpy_statistics(y)[0], 0, atol=1e-5) and np.allclose(numpy_statistics(y)[1], 1, atol=1e-5)


def test_normalisation_reads_at_most_50000_seeded_samples_and_only_centres_a_constant_channel():
    x = torch.zeros(50_300, 2, 1, 1)
    x[:, 0] = torch.arange(50_300, dtype=torch.float32).reshape(-1, 1, 1)
    stats = N.InputNormalization.compute(D.Dataset(x), seed=5)
    chosen = D.epoch_order(50_300, 5 ^ N.SEED, 0)[:50_000].double()
    assert stats.samples == 50_000 and stats.mean[0] == pytest.approx(float(chosen.mean()), rel=1e-9)
    assert stats.std[1] == 1.0 and stats.mean[1] == 0.0


def test_normalisation_channels_and_identity():
    stats = jt.InputNormalization([1.0, 2.0, 3.0], [2.0, 4.0, 8.0])
    y = stats.apply(torch.ones(2, 3, 2, 2) * 5)
    assert y[0, :, 0, 0].tolist() == [2.0, 0.75, 0.25]
    with pytest.raises(ValueError, match="has 3 channels, but samples of rank 1 are one channel"):
        stats.apply(torch.ones(2, 3))
    x = torch.rand(4, 8)
    assert jt.InputNormalization.none().apply(x) is x
    with pytest.raises(ValueError, match="positive, finite standard deviations"):
        jt.InputNormalization([0.0], [0.0])


# ---- the run: splits and normalisation ----------------------------------------------------------------------------

class _Mnist:
    name, input_shape = "Mnist", (1, 28, 28)


def test_a_run_trains_on_all_of_the_training_pair_when_the_source_has_a_test_split(capsys):
    args = R.arguments("", ["--data", MNIST10K])
    data = R._training_data(_Mnist, jt.Options(batch=8, seed=1), args, jt.Distributed())
    assert len(data) == 7996
    assert "evaluation on the 2004 samples" in capsys.readouterr().out


def test_options_and_checkpoints_keep_the_normalisation_and_a_resume_reuses_it(tmp_path, capsys):
    import programs
    program = programs.load("DigitsJepa")
    args = ["--data", str(programs.REPO / "data/digits.csv.gz"), "--out", str(tmp_path), "--monitor-samples", "64"]
    jt.run.main(program.DigitsJepa, program.OPTIONS, "", args + ["--steps", "2"])
    saved = jt.run.load_checkpoint(str(tmp_path / "checkpoint.pt"))["options"]["normalization"]
    computed = D.read_csv(str(programs.REPO / "data/digits.csv.gz"))
    train, _ = D.stratified_split(computed.labels, 0.25, program.OPTIONS.seed)
    expected = N.InputNormalization.compute(computed.subset(train), program.OPTIONS.seed)
    assert jt.InputNormalization.from_json(saved) == expected and expected.samples == 1347
    assert json.load(open(tmp_path / "options.json"))["normalization"]["samples"] == 1347
    capsys.readouterr()
    jt.run.main(program.DigitsJepa, program.OPTIONS, "", ["--data", args[1], "--steps", "3", "--resume", str(tmp_path)])
    assert f"Normalisation: {expected}." in capsys.readouterr().out
    import dataclasses
    declared = dataclasses.replace(program.OPTIONS, normalization=jt.InputNormalization([0.1], [0.3]))
    with pytest.raises(ValueError, match="normalization: mean .* in the checkpoint, mean \\[0.1\\], std \\[0.3\\] \\(declared\\) here"):
        jt.run.main(program.DigitsJepa, declared, "", ["--data", args[1], "--steps", "4", "--resume", str(tmp_path)])


def test_the_trainer_normalises_at_the_boundary_unless_the_program_does():
    e = jt.Experiment()
    e.normalization = jt.InputNormalization([0.5], [0.25])
    x = torch.ones(2, 3)
    assert torch.equal(e.at_boundary(x), torch.full((2, 3), 2.0))
    e.normalizes_inputs = True
    assert e.at_boundary(x) is x and torch.equal(e.normalize(x), torch.full((2, 3), 2.0))
    assert math.isclose(float(jt.Experiment().normalize(x).sum()), 6.0)              # no normalisation yet: unchanged
