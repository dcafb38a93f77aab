"""Data as the C# runner reads it (src/Jepa.Runtime/Data/Sources, docs/data.md): what ``--data`` names decides the
source, and the samples are fitted to the experiment's input exactly as there, so a PyTorch run trains on the values,
in the order, that a TorchSharp run with the same seed uses (PyTorch's and TorchSharp's CPU generators give the same
permutations).

* a folder: MNIST-style IDX files by their standard names (``[prefix]train-images-idx3-ubyte[.gz]``, labels, and the
  ``t10k`` (or ``test``) pair, which is the **test split**), else an image folder (class folders or flat, optionally
  as ``train/`` with ``test/`` or ``val/``; Pillow decodes, as torchvision's ``ImageFolder`` with ``Grayscale``,
  ``Resize``, ``CenterCrop`` and ``ToTensor``);
* one or two ``.npy`` files (samples, and the one-dimensional labels), one ``.npz`` (``x``/``images``/``x_train``/
  ``train_images``, ``y``/``labels``/``y_train``/``train_labels``, optionally ``x_test``/``y_test`` or
  ``test_images``/``test_labels``);
* one to four IDX files (images, labels, the ``t10k`` pair; other names told apart by their dimensions);
* any other single file: a CSV, label last, every value divided by the largest absolute value of the file.

Pixels (IDX, uint8 arrays, images) are held as bytes (a quarter of float32) and scaled by 1/255 when batched; float
arrays are held as float32 as they are. Samples of the input's shape are taken as they are, ``[h, w, c]`` images for
an input ``[c, h, w]`` of 1 or 3 channels are rearranged (with a note), samples of as many values are reshaped.
"""
import concurrent.futures
import gzip
import io
import math
import os
import re
import struct
from dataclasses import dataclass, field

import numpy as np
import torch

from .training import mix


class DataError(ValueError):
    """Data that cannot be used, with what was expected and where it differs."""


class Dataset:
    """Samples (N, ...) with labels (N) int64 or None. uint8 samples are pixels: held as bytes, batched as
    ``bytes / 255`` in float32 (C#'s ``StreamingDataset``); any other type is held as float32."""

    def __init__(self, features, labels=None, source="the in-memory data", class_names=None):
        features = torch.as_tensor(features)
        self.pixels = features.dtype == torch.uint8
        self._values = features if self.pixels else features.to(torch.float32)
        self.labels = None if labels is None else torch.as_tensor(labels).to(torch.int64)
        if self.labels is not None and (self.labels.dim() != 1 or self.labels.shape[0] != self._values.shape[0]):
            raise DataError(f"{source} has {self._values.shape[0]} samples but labels of shape {list(self.labels.shape)}; give one label per sample.")
        self.source = source
        if self.labels is None:
            self.class_names = []
        else:
            self.class_names = list(class_names) if class_names is not None else \
                [str(i) for i in range(int(self.labels.max()) + 1 if len(self.labels) else 0)]

    def __len__(self):
        return self._values.shape[0]

    @property
    def sample_shape(self):
        return tuple(self._values.shape[1:])

    @property
    def features(self):
        """Every sample as float32 (N, ...) (pixels scaled by 1/255)."""
        return self.batch(None)

    def batch(self, indices):
        """The samples at ``indices`` (every sample for None) as float32: bytes / 255 for pixels, as C# batches them."""
        x = self._values if indices is None else self._values.index_select(0, torch.as_tensor(indices, dtype=torch.int64))
        return x.to(torch.float32).div_(255.0) if self.pixels else x

    def subset(self, indices, source=None):
        idx = torch.as_tensor(indices, dtype=torch.int64)
        return self._like(self._values.index_select(0, idx), None if self.labels is None else self.labels.index_select(0, idx), source or self.source)

    def _like(self, values, labels, source=None):
        return Dataset(values, labels, source or self.source, self.class_names if labels is not None else None)

    def for_experiment(self, input_shape, log=None):
        """The samples in the experiment's input shape (C#'s ``DataSources.Fit``): as they are, ``[h, w, c]`` images
        rearranged to ``[c, h, w]`` (with a note), or reshaped when they have as many values; checked finite."""
        input_shape = tuple(int(s) for s in input_shape)
        if len(self) == 0:
            raise DataError(f"{self.source} has no samples.")
        shape = self.sample_shape
        if _is_channels_last(shape, input_shape):
            if log:
                log(f"note: {self.source} has samples of shape {_format(shape)} (height, width, channels); they are read as {_format(input_shape)}.")
            values = self._values.permute(0, 3, 1, 2).contiguous()
        elif math.prod(shape) == math.prod(input_shape):
            values = self._values.reshape(len(self), *input_shape)
        else:
            raise DataError(f"The experiment expects samples of shape {_format(input_shape)} ({math.prod(input_shape)} values each), but "
                            f"{self.source} has samples of shape {_format(shape)} ({math.prod(shape)} values each).")
        if not self.pixels and not bool(torch.isfinite(values).all()):
            raise DataError(f"{self.source} contains values that are not finite; every value must be finite.")
        return self._like(values, self.labels)

    def __repr__(self):
        labels = f", {len(self.class_names)} classes" if self.labels is not None else ", no labels"
        return f"{self.source}: {len(self)} samples of shape {_format(self.sample_shape)}{labels}"


@dataclass
class Loaded:
    """What ``--data`` named: the training samples, the source's own labelled test split (or None), the folder the
    files are in, each file read (path relative to ``root``, size, samples) and what the source was taken to be."""
    train: Dataset
    test: Dataset = None
    root: str = ""
    files: list = field(default_factory=list)
    layout: str = ""


def _format(shape):
    return "[" + ", ".join(str(int(s)) for s in shape) + "]"


def _is_channels_last(shape, input_shape):
    """Samples [h, w, c] for an input [c, h, w] with 1 or 3 channels (NumPy images are usually stored so)."""
    return (len(input_shape) == 3 and input_shape[0] in (1, 3) and len(shape) == 3 and shape[0] == input_shape[1]
            and shape[1] == input_shape[2] and shape[2] == input_shape[0] and tuple(shape) != tuple(input_shape))


# ---- opening what --data names ---------------------------------------------------------------------------------------

def open_data(paths, input_shape, log=None):
    """The data ``paths`` name (``--data``), fitted to ``input_shape``: a ``Loaded`` (C#'s ``DataSources.Open``)."""
    paths = [str(p) for p in paths]
    if not paths:
        raise DataError("--data needs a folder or files.")
    for p in paths:
        if not os.path.exists(p):
            raise DataError(f"The data path '{p}' does not exist.")
    loaded = _detect(paths, input_shape, log)
    input_shape = tuple(int(s) for s in input_shape)
    if loaded.test is not None:
        if loaded.test.sample_shape != loaded.train.sample_shape:
            raise DataError(f"The test split {loaded.test.source} has samples of shape {_format(loaded.test.sample_shape)}, but the training "
                            f"split {loaded.train.source} has {_format(loaded.train.sample_shape)}; both must have the same shape.")
        _check_classes(loaded.train, loaded.test)
    loaded.train = loaded.train.for_experiment(input_shape, log)
    loaded.test = None if loaded.test is None else loaded.test.for_experiment(input_shape, log)
    return loaded


def load(files):
    """The training samples of ``files`` (``open_data`` without fitting them to an input shape)."""
    for f in files:
        if not os.path.exists(f):
            raise DataError(f"The data path '{f}' does not exist.")
    return _detect([str(f) for f in files], None, None).train


def _detect(paths, input_shape, log):
    if any(os.path.isdir(p) for p in paths):
        if len(paths) > 1:
            raise DataError(f"--data takes one folder, or files; got {len(paths)} paths with a folder among them: {', '.join(paths)}.")
        return _open_folder(paths[0], input_shape, log)
    root = os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in paths])
    if all(_is_npy(p) for p in paths) and len(paths) <= 2:
        return _open_npy(paths, root)
    if len(paths) == 1 and _is_npz(paths[0]):
        return _open_npz(paths[0], root)
    if len(paths) <= 4 and all(_IDX_NAME.match(os.path.basename(p)) or idx_rank(p) in (1, 3) for p in paths):
        roles = [_recognise(p) or _by_dimensions(p) for p in paths]
        for key in {(r.test, r.labels) for r in roles}:
            same = [r.path for r in roles if (r.test, r.labels) == key]
            if len(same) > 1:
                raise DataError(f"--data names two IDX {'test' if key[0] else 'training'} {'labels' if key[1] else 'images'} files "
                                f"({', '.join(same)}); give one images file, optionally its labels file, and optionally the t10k pair.")
        return _open_idx(roles, root, "IDX file" if len(paths) == 1 else "IDX files")
    if len(paths) == 1:
        data = read_csv(paths[0])
        return Loaded(data, None, root, [(os.path.basename(paths[0]), os.path.getsize(paths[0]), len(data))], "CSV file")
    raise DataError(f"--data takes one folder; or one file (CSV, .npy, .npz, IDX); or IDX files (images, labels, and their t10k pair); "
                    f"or two .npy files (samples and labels); got {len(paths)} files: {', '.join(paths)}.")


def _check_classes(train, test):
    """Every class of the test split must be one the training split has (numeric labels are classes by number)."""
    if train.labels is None or test.labels is None:
        return
    known = {train.class_names[i] for i in set(train.labels.tolist())}
    unknown = sorted({test.class_names[i] for i in set(test.labels.tolist())} - known)
    if unknown:
        raise DataError(f"The test split {test.source} has the class{'' if len(unknown) == 1 else 'es'} {_few(unknown)} that the "
                        f"training split {train.source} lacks.")


def _few(items):
    items = list(items)
    return ", ".join(items[:3]) + (f" and {len(items) - 3} more" if len(items) > 3 else "")


def _relative(root, path):
    return os.path.relpath(os.path.abspath(path), root).replace(os.sep, "/")


# ---- files on disk -------------------------------------------------------------------------------------------------

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
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataError(f"'{path}' is not an IDX file: it does not start with the bytes 00 00.")
    if data[2] != 8:
        raise DataError(f"'{path}' holds IDX values of type 0x{data[2]:02x}; only unsigned bytes (0x08, as in MNIST) are supported.")
    rank = data[3]
    header = 4 + 4 * rank
    if rank < 1 or len(data) < header:
        raise DataError(f"'{path}' is truncated: its IDX header announces {rank} dimensions but the file has {len(data)} bytes.")
    dims = struct.unpack(f">{rank}i", data[4:header])
    if any(d < 0 for d in dims) or len(data) - header != math.prod(dims):
        raise DataError(f"'{path}' is {'truncated' if len(data) - header < math.prod(dims) else 'longer than its header says'}: the header "
                        f"announces {' x '.join(map(str, dims))} values ({header + math.prod(dims)} bytes) but the file has {len(data)} bytes.")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def idx_rank(path):
    """The dimension count of an IDX file (gzipped or not), 0 for anything else."""
    try:
        with _open(path) as f:
            magic = f.read(4)
    except (OSError, EOFError):
        return 0
    return magic[3] if len(magic) == 4 and magic[:3] == b"\x00\x00\x08" else 0


def read_mnist(images, labels=None):
    """IDX images (N, rows, cols) and labels (N): samples (N, 1, rows, cols) held as bytes, batched as bytes / 255."""
    pixels = _read_idx(images)
    if pixels.ndim != 3:
        raise DataError(f"'{images}' holds IDX data of {pixels.ndim} dimension(s) ({' x '.join(map(str, pixels.shape))}); MNIST images have 3 "
                        "(count x rows x columns). Are the images and labels files swapped?")
    y = None
    if labels is not None:
        values = _read_idx(labels)
        if values.ndim != 1:
            raise DataError(f"'{labels}' holds IDX data of {values.ndim} dimensions; MNIST labels have 1. Are the images and labels files swapped?")
        if values.shape[0] != pixels.shape[0]:
            raise DataError(f"'{images}' has {pixels.shape[0]} images but '{labels}' has {values.shape[0]} labels.")
        y = torch.from_numpy(values.astype(np.int64))
    return Dataset(torch.from_numpy(pixels.copy()).unsqueeze(1), y, f"'{images}'")


_IDX_NAME = re.compile(r"^(?P<prefix>.*?)(?P<split>train|t10k|test)-(?P<kind>images|labels)-idx(?P<rank>\d)-ubyte(?P<gz>\.gz)?$")


@dataclass(frozen=True)
class _Role:
    path: str
    prefix: str
    test: bool
    labels: bool
    gzipped: bool


def _recognise(path):
    m = _IDX_NAME.match(os.path.basename(path))
    return None if m is None else _Role(path, m["prefix"], m["split"] != "train", m["kind"] == "labels", m["gz"] is not None)


def _by_dimensions(path):
    d = idx_rank(path)
    if d in (1, 3):
        return _Role(path, "", False, d == 1, False)
    raise DataError(f"'{path}' is {'not an IDX file' if d == 0 else f'an IDX file of {d} dimensions'}: MNIST images have 3 dimensions, labels 1.")


def _open_idx(roles, root, layout):
    def find(test, labels):
        return next((r for r in roles if r.test == test and r.labels == labels), None)
    train_images, train_labels, test_images, test_labels = find(False, False), find(False, True), find(True, False), find(True, True)
    if train_images is None:
        raise DataError(f"No IDX training images file among {', '.join(repr(r.path) for r in roles)}: expected one named like train-images-idx3-ubyte[.gz].")
    if (test_images is None) != (test_labels is None):
        lone = test_images or test_labels
        raise DataError(f"'{lone.path}' has no {'images' if test_images is None else 'labels'} file beside it: a test split needs both t10k files.")
    files = []

    def read(images, labels):
        data = read_mnist(images.path, labels.path if labels else None)
        files.extend((_relative(root, r.path), os.path.getsize(r.path), len(data)) for r in (images, labels) if r)
        return data
    train = read(train_images, train_labels)
    test = read(test_images, test_labels) if test_images else None
    return Loaded(train, test, root, files, layout)


# ---- NumPy ---------------------------------------------------------------------------------------------------------

_TRAIN_FEATURES, _TRAIN_LABELS = ("x", "images", "x_train", "train_images"), ("y", "labels", "y_train", "train_labels")
_TEST_FEATURES, _TEST_LABELS = ("x_test", "test_images"), ("y_test", "test_labels")


def _is_npy(path):
    return path.lower().endswith(".npy")


def _is_npz(path):
    return path.lower().endswith(".npz")


def _read_npy(path):
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as e:
        raise DataError(f"'{path}' is not a valid .npy file: {e}") from e


def _samples(x, y, name, label_name):
    """Samples from x [N, ...] with the labels y [N]: uint8 as bytes, float32/float64 as float32."""
    if x.ndim < 2:
        raise DataError(f"{name} has shape {_format(x.shape)}; samples are an array of shape [N, ...] (N samples, each of at least one dimension).")
    labels = None if y is None else _labels(y, x.shape[0], label_name)
    if x.dtype == np.uint8:
        return Dataset(torch.from_numpy(np.ascontiguousarray(x)), labels, name)
    if x.dtype in (np.float32, np.float64):
        return Dataset(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), labels, name)
    raise DataError(f"{name} holds {x.dtype} values; samples must be uint8 (pixels 0..255, scaled by 1/255), float32 or float64 "
                    "(taken as they are). Convert them, for example with x.astype(np.float32).")


def _labels(y, count, name):
    if y.ndim != 1 or y.shape[0] != count:
        raise DataError(f"{name} has shape {_format(y.shape)}; the labels of {count} samples are an array of shape [{count}].")
    if y.dtype.kind in "iu":
        values = y.astype(np.int64)
    elif y.dtype.kind == "f":
        if not (np.isfinite(y).all() and (y == np.round(y)).all()):
            raise DataError(f"{name} has labels that are not whole numbers; labels are class indices 0, 1, 2, ...")
        values = y.astype(np.int64)
    else:
        raise DataError(f"{name} holds {y.dtype} values; labels must be integers (class indices 0, 1, 2, ...).")
    if len(values) and values.min() < 0:
        raise DataError(f"{name} has a negative label ({values.min()}); labels are class indices 0, 1, 2, ...")
    return torch.from_numpy(values)


def _open_npy(paths, root):
    arrays = [_read_npy(p) for p in paths]
    files = [(_relative(root, p), os.path.getsize(p), a.shape[0] if a.ndim else 0) for p, a in zip(paths, arrays)]
    if len(arrays) == 1:
        return Loaded(_samples(arrays[0], None, f"'{paths[0]}'", None), None, root, files, ".npy file")
    label = next((i for i, a in enumerate(arrays) if a.ndim == 1), None)
    if label is None or arrays[1 - label].ndim == 1:
        raise DataError("Two .npy files are the samples [N, ...] and their labels [N]; got "
                        + " and ".join(f"'{p}' of shape {_format(a.shape)}" for p, a in zip(paths, arrays)) + ".")
    x = 1 - label
    return Loaded(_samples(arrays[x], arrays[label], f"'{paths[x]}'", f"'{paths[label]}'"), None, root, files, ".npy files (samples and labels)")


def _open_npz(path, root):
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as e:
        raise DataError(f"'{path}' is not a valid .npz file (a zip of .npy arrays): {e}") from e
    with archive:
        keys = list(archive.keys())

        def key(names, what, required):
            found = [n for n in names if n in keys]
            if len(found) > 1:
                raise DataError(f"'{path}' has {' and '.join(found)}: which array holds the {what} is ambiguous; keep one.")
            if not found and required:
                raise DataError(f"'{path}' has no array of {what}: expected one named {', '.join(names)}; it has {', '.join(keys) or 'none'}.")
            return found[0] if found else None
        x, y = key(_TRAIN_FEATURES, "samples", True), key(_TRAIN_LABELS, "labels", False)
        x_test, y_test = key(_TEST_FEATURES, "test samples", False), key(_TEST_LABELS, "test labels", False)
        if (x_test is None) != (y_test is None):
            raise DataError(f"'{path}' has {x_test or y_test} without "
                            f"{'test samples (x_test or test_images)' if x_test is None else 'test labels (y_test or test_labels)'}: a test split needs both.")

        def name(k):
            return f"'{path}' [{k}]"
        train = _samples(archive[x], None if y is None else archive[y], name(x), y and name(y))
        test = None if x_test is None else _samples(archive[x_test], archive[y_test], name(x_test), name(y_test))
    return Loaded(train, test, root, [(_relative(root, path), os.path.getsize(path), len(train) + (len(test) if test else 0))], ".npz file")


def read_numpy(path):
    """The training samples of one ``.npy`` or ``.npz`` file."""
    return (_open_npz(path, os.path.dirname(path)) if _is_npz(path) else _open_npy([path], os.path.dirname(path))).train


# ---- folders -------------------------------------------------------------------------------------------------------

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def _is_image(name):
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def _listing(root):
    """Every file (relative path with '/', size) and subfolder under root, hidden entries ('.name') skipped; files by
    folder then name, by code point (as Python sorts strings and torchvision's ImageFolder walks)."""
    files, folders = [], []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = os.path.relpath(folder, root).replace(os.sep, "/")
        rel = "" if rel == "." else rel
        folders += [f"{rel}/{d}" if rel else d for d in dirs]
        files += [(f"{rel}/{n}" if rel else n, os.path.getsize(os.path.join(folder, n))) for n in names if not n.startswith(".")]
    files.sort(key=lambda f: (_parent(f[0]), f[0].rsplit("/", 1)[-1]))
    return files, sorted(folders)


def _parent(path):
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _open_folder(path, input_shape, log):
    files, folders = _listing(path)
    if not files and not folders:
        raise DataError(f"The data folder '{path}' is empty.")
    idx = [f for f, _ in files if "/" not in f and _IDX_NAME.match(f)]
    if not idx:
        return _open_image_folder(path, files, folders, input_shape, log)
    images = [f for f, _ in files if _is_image(f)]
    if images:
        raise DataError(f"The data folder '{path}' holds both IDX files ({_few(idx)}) and images ({_few(images)}): which is the data is "
                        "ambiguous; give the IDX files, or a folder of images only.")
    roles = [_recognise(os.path.join(path, f)) for f in idx]
    prefixes = sorted({r.prefix for r in roles})
    if len(prefixes) > 1:
        raise DataError(f"The data folder '{path}' holds IDX files of {len(prefixes)} data sets ({', '.join(repr(p + 'train-images...') for p in prefixes)}): "
                        "which one to read is ambiguous; give the files of one with --data.")
    chosen = {}
    for r in sorted(roles, key=lambda r: r.gzipped):                                # plain beside gzipped: the plain one
        chosen.setdefault((r.test, r.labels), r)
    return _open_idx(list(chosen.values()), os.path.abspath(path), "MNIST-style IDX folder")


def _open_image_folder(root, files, folders, input_shape, log):
    ignored = [f for f, _ in files if not _is_image(f)]
    top = {f for f in folders if "/" not in f}
    test_folder = None
    if "train" in top:
        if "test" in top and "val" in top:
            raise DataError(f"The data folder '{root}' has train/, test/ and val/ subfolders: which one is the test split is ambiguous; "
                            "give --data the train/ folder, or remove one.")
        test_folder = "test" if "test" in top else "val" if "val" in top else None
    if test_folder is None:
        train, test = _index_images(root, files, folders, ""), None
    else:
        stray = [f for f, _ in files if "/" not in f and _is_image(f)]
        if stray:
            raise DataError(f"The data folder '{root}' has train/ and {test_folder}/ subfolders and also images beside them ({_few(stray)}); "
                            f"put every image in train/ or {test_folder}/.")
        train, test = _index_images(root, files, folders, "train"), _index_images(root, files, folders, test_folder)
        if test[2] is None:
            raise DataError(f"'{os.path.join(root, test_folder)}' holds images but no class folders: a test split needs labels, one subfolder per class as in train/.")
        if train[2] is not None:
            unknown = [c for c in test[2] if c not in train[2]]
            if unknown:
                raise DataError(f"'{os.path.join(root, test_folder)}' has the class{'' if len(unknown) == 1 else 'es'} {', '.join(repr(u) for u in unknown[:5])} "
                                "that train/ lacks; test classes are matched to the training classes by folder name.")
            test = (test[0], [train[2].index(test[2][label]) for label in test[1]], train[2])
    if ignored and log:
        counts = {}
        for f in ignored:
            ext = os.path.splitext(f)[1].lower() or "(no extension)"
            counts[ext] = counts.get(ext, 0) + 1
        listed = ", ".join(f"{e} ({n})" for e, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        log(f"note: {len(ignored)} file{' is' if len(ignored) == 1 else 's are'} not {'an image' if len(ignored) == 1 else 'images'} by extension "
            f"and {'was' if len(ignored) == 1 else 'were'} ignored in '{root}': {listed}.")
    shape = _image_shape(input_shape, root)
    decoder = _ImageDecoder(shape, log)

    def dataset(split, folder):
        images, labels, classes = split
        pixels = decoder.decode_all([os.path.join(root, f) for f, _ in images], shape)
        name = f"'{root}'" if not folder else f"'{os.path.join(root, folder)}'"
        return Dataset(pixels, None if labels is None else torch.tensor(labels, dtype=torch.int64), name, classes)
    layout = ("image folder (flat, unlabelled)" if train[2] is None else f"image folder ({len(train[2])} class folders)") + \
             ("" if test_folder is None else f" with train/ and {test_folder}/")
    listed = train[0] + (test[0] if test else [])
    return Loaded(dataset(train, "train" if test_folder else ""), None if test is None else dataset(test, test_folder),
                  os.path.abspath(root), [(f, size, 1) for f, size in listed], layout)


def _image_shape(input_shape, root):
    """The input as [c, h, w] with c = 1 or 3 (a two-dimensional input [h, w] is grey)."""
    shape = tuple(int(s) for s in input_shape) if input_shape is not None else None
    if shape is not None and len(shape) == 3 and shape[0] in (1, 3) and shape[1] > 0 and shape[2] > 0:
        return shape
    if shape is not None and len(shape) == 2 and min(shape) > 0:
        return (1, *shape)
    raise DataError(f"'{root}' is a folder of images, which become samples of shape [channels, height, width] with 1 (grey) or 3 (RGB) channels; "
                    f"the experiment's input is {_format(shape or ())}. Declare the input as, for example, float[1, 28, 28] or float[3, 32, 32].")


def _index_images(root, files, folders, folder):
    """The images under ``folder``: (files, labels, classes) for class folders, (files, None, None) for a flat folder."""
    where = f"'{root}'" if not folder else f"'{os.path.join(root, folder)}'"
    prefix = folder + "/" if folder else ""
    direct, by_class, anything = [], {}, False
    for f, size in files:
        if not f.startswith(prefix):
            continue
        anything = True
        if not _is_image(f):
            continue
        rest = f[len(prefix):]
        if "/" not in rest:
            direct.append((f, size))
        else:
            by_class.setdefault(rest.split("/", 1)[0], []).append((f, size))
    subfolders = sorted(d[len(prefix):] for d in folders if _parent(d) == folder)
    if by_class:
        if direct:
            raise DataError(f"{where} holds images directly ({_few(f[len(prefix):] for f, _ in direct)}) and class folders with images "
                            f"({_few(sorted(by_class))}): the layout is ambiguous. Put every image in a class folder (labelled) or all of them in one folder (unlabelled).")
        empty = [s for s in subfolders if s not in by_class]
        if empty:
            raise DataError(f"The class folder{'' if len(empty) == 1 else 's'} {', '.join(repr(e) for e in empty[:5])} in {where} "
                            f"hold{'s' if len(empty) == 1 else ''} no images ({', '.join(IMAGE_EXTENSIONS)}); every subfolder is a class: add images or remove "
                            f"{'it' if len(empty) == 1 else 'them'}.")
        images, labels = [], []
        for c, name in enumerate(subfolders):
            images += by_class[name]
            labels += [c] * len(by_class[name])
        return images, labels, subfolders
    if direct:
        return direct, None, None
    if not anything and not subfolders:
        raise DataError(f"The data folder {where} is empty.")
    raise DataError(f"{where} holds no images ({', '.join(IMAGE_EXTENSIONS)}).")


def covering_size(w, h, width, height):
    """The size an image of w x h is resized to before the centre crop: the binding side becomes the input's, the other
    keeps the aspect ratio (truncated, as torchvision's ``Resize``)."""
    if w == width and h == height:
        return w, h
    if width * h >= height * w:
        return width, max(height, int(width * h / w))
    return max(width, int(height * w / h)), height


class _ImageDecoder:
    """Pillow, as torchvision's ImageFolder loads and transforms a PIL image (C#'s ``ImageDecoder`` matches it byte
    for byte): RGB without alpha; ``convert("L")`` for one channel; ``Resize`` to the covering size with Pillow's
    bilinear filter; ``CenterCrop`` (offsets rounded half to even); bytes planar [c, h, w]."""

    def __init__(self, shape, log):
        try:
            from PIL import Image
        except ImportError as e:
            raise DataError("Image folders need Pillow (pip install pillow, or apt-get install python3-pil).") from e
        self.image, self.shape, self.log, self.upscaled = Image, shape, log, None

    def decode_all(self, paths, shape):
        out = np.empty((len(paths), *shape), dtype=np.uint8)
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
            for i, size in enumerate(pool.map(lambda a: self.decode(a[1], out[a[0]]), enumerate(paths))):
                if self.upscaled is None and (size[0] < shape[2] or size[1] < shape[1]):
                    self.upscaled = paths[i]
                    if self.log:
                        self.log(f"note: images smaller than the input {shape[1]} x {shape[2]} are upscaled (the first: {paths[i]}, {size[0]} x {size[1]})")
        return torch.from_numpy(out)

    def decode(self, path, destination):
        c, height, width = destination.shape
        try:
            with self.image.open(path) as f:
                image = f.convert("RGBA").convert("RGB")
        except Exception as e:  # noqa: BLE001 - any decoding failure names the file
            raise DataError(f"'{path}' cannot be decoded: it is not a complete PNG, JPEG, BMP or WebP image ({e}).") from e
        if c == 1:
            image = image.convert("L")
        w, h = image.size
        rw, rh = covering_size(w, h, width, height)
        if (rw, rh) != (w, h):
            image = image.resize((rw, rh), getattr(self.image, "Resampling", self.image).BILINEAR)   # Pillow >= 9.1 and older
        top, left = int(round((rh - height) / 2.0)), int(round((rw - width) / 2.0))
        image = image.crop((left, top, left + width, top + height))
        pixels = np.asarray(image, dtype=np.uint8)
        destination[:] = pixels[None] if c == 1 else pixels.transpose(2, 0, 1)
        return w, h


# ---- splits and orders ---------------------------------------------------------------------------------------------

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
