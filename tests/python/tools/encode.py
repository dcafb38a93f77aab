"""Loads a checkpoint (PyTorch's, or one .NET exported) into a program's experiment and encodes a batch.

    python3 encode.py NAME CHECKPOINT.pt INPUTS.pt OUTPUT.pt      (INPUTS holds x; OUTPUT gets z = encode(x), the step
                                                                   and the modules as loaded)
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402

import programs  # noqa: E402
import jepa_torch as jt  # noqa: E402


def main(name, checkpoint, inputs, output):
    program = programs.load(name)
    experiment = getattr(program, name)(program.OPTIONS, jt.Distributed(), jt.Precision("fp32", "cpu"))
    payload = jt.run.load_checkpoint(checkpoint)
    experiment.load_state_dicts(payload["modules"], checkpoint)
    experiment.train(False)
    x = jt.run.load_checkpoint(inputs)["x"]
    torch.save({"z": experiment.encode(x), "step": payload["step"], "modules": experiment.state_dicts()}, output)


if __name__ == "__main__":
    main(*sys.argv[1:])
