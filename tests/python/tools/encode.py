"""Loads a checkpoint (PyTorch's, or one .NET exported) into a program's experiment and encodes a batch.

    python3 encode.py NAME CHECKPOINT.pt INPUTS.pt OUTPUT.pt      (INPUTS holds x, and normalization {mean, std} for a
                                                                   checkpoint without options; OUTPUT gets z = encode(x), the step
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
    sent = jt.run.load_checkpoint(inputs)
    x = sent["x"]
    # encode normalises the batch (as .NET's Encode does) with the run's normalisation: a PyTorch checkpoint's options
    # keep it; a .NET-exported checkpoint has no options, and INPUTS then holds it (mean and std tensors).
    norm = sent.get("normalization")
    experiment.normalization = (jt.InputNormalization(norm["mean"].tolist(), norm["std"].tolist()) if norm is not None
                                else jt.InputNormalization.from_json((payload.get("options") or {}).get("normalization")))
    torch.save({"z": experiment.encode(x), "step": payload["step"], "modules": experiment.state_dicts()}, output)


if __name__ == "__main__":
    main(*sys.argv[1:])
