"""jepa_torch: the runtime that the PyTorch programs exported from `.jepa` files import.

It mirrors src/Jepa.Runtime block for block (models, corruptions, image augmentations and masks, losses and
regularizers, schedules, the optimizer's parameter groups, EMA, input normalisation, metrics, checkpoints, the
collapse monitor, data sources) and adds what the .NET runtime has
no use for: processes that share a global batch under torchrun (``jepa_torch.distributed``). State-dict names match
the TorchSharp modules', so weights move both ways through TorchSharp.PyBridge. Pure PyTorch: 1.13 (Debian bookworm)
and 2.x. See docs/scale-out.md.
"""
from . import corruptions, data, distributed, image_ops, losses, models, normalization, run, training, views  # noqa: F401
from .corruptions import BatchPart, TokenMasks  # noqa: F401
from .distributed import Distributed  # noqa: F401
from .normalization import InputNormalization  # noqa: F401
from .run import Collapse, Experiment, Options  # noqa: F401
from .training import Precision, Ramp, Step  # noqa: F401

__version__ = "0.1.0"
