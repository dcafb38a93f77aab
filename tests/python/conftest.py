"""pytest configuration: the runtime package (python/) and the test tools on the path, one thread per process."""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "tools"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "python"))
os.environ.setdefault("OMP_NUM_THREADS", "1")

torch = pytest.importorskip("torch", reason="PyTorch is not installed for this Python: "
                            "sudo apt-get install -y --no-install-recommends python3-torch python3-pytest python3-numpy python3-pil libopenblas0")
torch.set_num_threads(1)
