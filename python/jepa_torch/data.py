"""Data as the C# runner reads it (src/Jepa.Runner/DataFiles.cs, src/Jepa.Runtime/Data): a CSV with the label in the
last column (values divided by the largest absolute value of the file), MNIST IDX images and labels (bytes / 255),
or NumPy ``.npy`` / ``.npz`` (uint8 / 255, floats as they are); the same seeded stratified split and the same seeded
epoch orders, so a PyTorch run trains on the samples, in the order, that a TorchSharp run with the same seed uses
(PyTorch's and TorchSharp's CPU generators give the same permutations)."""
import gzip
import io
import math
import os
import struct

import numpy as np
import torch

from .training import mix


class DataError(ValueError):
    """Data that cannot be used, with what was expected and where it differs."""


class Dataset:
    """Features (N, ...) float32 and labels (N) int64 or None."""

    def __init__(self, features, labels=None, source="the in-memory data"):
        self.features = features.to(torch.float32)
        self.labels = None if labels is None else labels.to(torch.int64)
        self.source = source

    def __len__(self):
        return self.features.shape[0]

    def subset(self, indices, source=None):
        idx = torch.as_tensor(indices, dtype=torch.int64)
        return Dataset(self.features.index_select(0, idx), None if self.labels is None else self.labels.index_select(0, idx),
                       source or self.source)

    def for_experiment(self, input_shape):
        """Checks the sample size and finiteness, and views the samples with the experiment's input shape."""
        expected, actual = math.prod(input_shape), math.prod(self.features.shape[1:])
        if len(self) == 0:
            raise DataError(f"{self.source} has no samples.")
        if expected != actual:
            raise DataError(f"The experiment expects samples of shape {list(input_shape)} ({expected} values each), but "
                            f"{self.source} has samples of shape {list(self.features.shape[1:])} ({actual} values each).")
        if not bool(torch.isfinite(self.features).all()):
            raise DataError(f"{self.source} contains values that are not finite; every value must be finite.")
        return Dataset(self.features.reshape(len(self), *input_shape), self.labels, self.source)

    def __repr__(self):
        labels = f", {int(self.labels.max()) + 1} classes" if self.labels is not None and len(self) else ", no labels"
        return f"{self.source}: {len(self)} samples of shape {list(self.features.shape[1:])}{labels}"


def _open(path):
    with open(path, "rb") as f:
        magic = f.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def read_csv(path):
    """One sample per line, the label last; every value divided by the largest absolute value of the file."""
    with _open(path) as f:
        text = io.TextIOWrapper(f, encoding="utf-8")
        try:
            rows = np.loadtxt(text, delimiter=",", dtype=np.float64, ndmin=2)
        except ValueError as e:
            raise DataError(f"{path} is not a numeric CSV with the label last: {e}") from e
    if rows.shape[0] == 0 or rows.shape[1] < 2:
        raise DataError(f"{path} has no samples with a feature and a label.")
    labels = rows[:, -1]
    if (labels < 0).any() or (labels != np.floor(labels)).any():
        raise DataError(f"{path}: the last column holds labels, which must be class indices 0, 1, 2, ...")
    features = rows[:, :-1].astype(np.float32)                                      # as C# reads: float, then scaled
    divisor = float(np.abs(features).max()) if features.size else 0.0
    if divisor not in (0.0, 1.0) and math.isfinite(divisor):
        features = (features.astype(np.float64) / divisor).astype(np.float32)
    return Dataset(torch.from_numpy(features), torch.from_numpy(labels.astype(np.int64)), path)


def _read_idx(path):
    with _open(path) as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 8:
        raise DataError(f"'{path}' is not an IDX file of unsigned bytes (it must start with 00 00 08).")
    rank = data[3]
    header = 4 + 4 * rank
    dims = struct.unpack(f">{rank}i", data[4:header])
    if len(data) - header != math.prod(dims):
        raise DataError(f"'{path}': the header announces {' x '.join(map(str, dims))} values but the file holds {len(data) - header}.")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def idx_rank(path):
    """The dimension count of an IDX file (gzipped or not), 0 for anything else."""
    with _open(path) as f:
        magic = f.read(4)
    return magic[3] if len(magic) == 4 and magic[:3] == b"\x00\x00\x08" else 0


def read_mnist(images, labels=None):
    """IDX images (N, rows, cols) and labels (N): features (N, 1, rows, cols) = bytes / 255."""
    x = torch.from_numpy(_read_idx(images).copy()).to(torch.float32) / 255.0
    if x.dim() != 3:
        raise DataError(f"'{images}' holds IDX data of {x.dim()} dimensions; MNIST images have 3.")
    y = None
    if labels is not None:
        y = torch.from_numpy(_read_idx(labels).astype(np.int64))
        if y.dim() != 1 or y.shape[0] != x.shape[0]:
            raise DataError(f"'{images}' has {x.shape[0]} images but '{labels}' holds {list(y.shape)} labels.")
    return Dataset(x.unsqueeze(1), y, images)


def _from_numpy(array, path):
    if array.dtype == np.uint8:
        return torch.from_numpy(array.astype(np.float32) / np.float32(255.0))
    if array.dtype in (np.float32, np.float64):
        return torch.from_numpy(array.astype(np.float32))
    raise DataError(f"{path} holds {array.dtype} values; .npy data must be uint8, float32 or float64.")


def read_numpy(path):
    """``.npy`` (features, no labels) or ``.npz`` with ``x``/``y`` or ``images``/``labels``."""
    if path.endswith(".npz"):
        with np.load(path) as z:
            for xs, ys in (("x", "y"), ("images", "labels")):
                if xs in z:
                    return Dataset(_from_numpy(z[xs], path), torch.from_numpy(z[ys].astype(np.int64)) if ys in z else None, path)
        raise DataError(f"{path} has neither x (and y) nor images (and labels) arrays.")
    return Dataset(_from_numpy(np.load(path), path), None, path)


def load(files):
    """``--data``: one CSV, one ``.npy``/``.npz``, or MNIST IDX images and labels (in either order)."""
    for f in files:
        if not os.path.isfile(f):
            raise DataError(f"The data file {f} does not exist.")
    if len(files) == 1 and files[0].endswith((".npy", ".npz")):
        return read_numpy(files[0])
    if len(files) == 1:
        return read_mnist(files[0]) if idx_rank(files[0]) == 3 else read_csv(files[0])
    if len(files) == 2 and all(idx_rank(f) in (1, 3) for f in files):
        images, labels = files if idx_rank(files[0]) == 3 else files[::-1]
        return read_mnist(images, labels)
    raise DataError(f"--data takes one CSV or NumPy file, or two MNIST IDX files (images and labels); got {len(files)} files.")


def stratified_split(labels, test_fraction, seed):
    """C#'s ``Datasets.StratifiedSplit``: ``ceil(f N)`` test samples, ``floor(f n_c)`` per class and the rest to the
    largest remainders (then the larger class, then the smaller label), at least one per side for classes of two or
    more; which samples is random (seeded). Both index lists ascending."""
    y = labels.tolist()
    g = torch.Generator()
    g.manual_seed(mix(seed, -1))
    classes = {}
    for i in torch.randperm(len(y), generator=g).tolist():
        classes.setdefault(y[i], []).append(i)
    keys = sorted(classes)
    quota = [math.floor(test_fraction * len(classes[k])) for k in keys]
    missing = math.ceil(test_fraction * len(y) - 1e-9) - sum(quota)
    ranking = sorted(range(len(keys)), key=lambda i: (-(test_fraction * len(classes[keys[i]]) - quota[i]), -len(classes[keys[i]]), keys[i]))
    for i in ranking[:max(0, missing)]:
        quota[i] += 1
    train, test = [], []
    for i, k in enumerate(keys):
        members = classes[k]
        count = 0 if len(members) < 2 else min(max(quota[i], 1), len(members) - 1)
        test += members[:count]
        train += members[count:]
    return sorted(train), sorted(test)


def epoch_order(count, seed, epoch):
    """The sample order of an epoch: ``randperm`` from the generator seeded with Mix(seed, epoch), as C#'s ``Order``."""
    g = torch.Generator()
    g.manual_seed(mix(seed, epoch))
    return torch.randperm(count, generator=g)
