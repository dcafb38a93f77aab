"""The exported programs the tests drive, by the experiment name of their .jepa file. JEPA_EXPORTED may name a folder
of other exported programs (train_*.py), which join them under their experiment's name."""
import importlib.util
import os
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

PROGRAMS = {
    "DigitsJepa": REPO / "examples/Digits/pytorch/train_digits_jepa.py",
    "TokenJepa": REPO / "examples/TokenJepa/pytorch/train_token_jepa.py",
    "DigitsVicReg": REPO / "examples/VicReg/pytorch/train_digits_vic_reg.py",
    "DigitsContrastive": REPO / "examples/Contrastive/pytorch/train_digits_contrastive.py",
    "DigitsSimSiam": REPO / "examples/SimSiam/pytorch/train_digits_sim_siam.py",
    "DigitsBarlow": REPO / "tests/Jepa.PyTorch.Tests/Experiments/pytorch/train_digits_barlow.py",
    "MnistLeJepa": REPO / "examples/Mnist/pytorch/train_mnist_le_jepa.py",
    "DigitsLeViews": REPO / "tests/Jepa.PyTorch.Tests/Experiments/pytorch/train_digits_le_views.py",
    "DigitsEmaViews": REPO / "tests/Jepa.PyTorch.Tests/Experiments/pytorch/train_digits_ema_views.py",
    "ImageViews": REPO / "tests/python/programs/train_image_views.py",
}


#: The data a program trains on in the tests: the digits (8x8), or MNIST-10k for the 28x28 image recipe.
DATA = {"MnistLeJepa": REPO / "data/mnist10k"}
DIGITS = REPO / "data/digits.csv.gz"


def data_path(name, input_shape=None, folder=None):
    """What ``--data`` gives the program ``name`` in the tests. An input of 3 channels gets the digits in colour (no RGB
    data set is shipped): red the digit, green its mirror image, blue its transpose, as ``colour_digits.npy`` in
    ``folder`` ([h, w, c] float32, read as [c, h, w]). Every process of a DDP test writes it: each to a file of its own,
    then renamed over the path, so that none reads another's half-written file."""
    if name in DATA:
        return DATA[name]
    if input_shape is None or len(input_shape) != 3 or input_shape[0] != 3:
        return DIGITS
    import numpy as np
    import jepa_torch as jt
    x = jt.data.read_csv(str(DIGITS)).for_experiment((1, 8, 8)).features[:, 0]          # (N, 8, 8) in [0, 1]
    path = Path(folder) / "colour_digits.npy"
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(partial, "wb") as f:
        np.save(f, np.stack([x.numpy(), x.flip(-1).numpy(), x.transpose(1, 2).numpy()], -1).astype(np.float32))
    os.replace(partial, path)
    return path


def exported(folder):
    """The programs in a folder, by the experiment name each declares (``name = "..."`` in its class)."""
    found = {}
    for path in sorted(Path(folder).glob("train_*.py")):
        match = re.search(r'^    name = "([^"]+)"$', path.read_text(encoding="utf-8"), re.M)
        if match:
            found[match.group(1)] = path
    return found


if os.environ.get("JEPA_EXPORTED"):
    PROGRAMS.update(exported(os.environ["JEPA_EXPORTED"]))


def load(name):
    """The program's module (its experiment class is ``module.<name>``, its options ``module.OPTIONS``)."""
    path = PROGRAMS[name]
    spec = importlib.util.spec_from_file_location(f"program_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def experiment_class(module, name):
    """The experiment class of a loaded program: the class whose ``name`` is the experiment's (its Python name may
    differ: an experiment named like a module of the program gets a trailing underscore)."""
    import jepa_torch as jt
    return next(v for v in vars(module).values() if isinstance(v, type) and issubclass(v, jt.Experiment) and v is not jt.Experiment and v.name == name)
