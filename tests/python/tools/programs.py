"""The exported programs the tests drive, by the experiment name of their .jepa file."""
import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

PROGRAMS = {
    "DigitsJepa": REPO / "examples/Digits/pytorch/train_digits_jepa.py",
    "TokenJepa": REPO / "examples/TokenJepa/pytorch/train_token_jepa.py",
    "DigitsVicReg": REPO / "examples/VicReg/pytorch/train_digits_vicreg.py",
    "DigitsContrastive": REPO / "examples/Contrastive/pytorch/train_digits_contrastive.py",
    "DigitsSimSiam": REPO / "examples/SimSiam/pytorch/train_digits_simsiam.py",
    "DigitsBarlow": REPO / "tests/python/programs/train_digits_barlow.py",
    "ImageViews": REPO / "tests/python/programs/train_image_views.py",
}


def load(name):
    """The program's module (its experiment class is ``module.<name>``, its options ``module.OPTIONS``)."""
    path = PROGRAMS[name]
    spec = importlib.util.spec_from_file_location(f"program_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
