"""One step of an exported program on given weights, batch and random draws; writes the loss terms and the gradients.

    python3 parity_step.py NAME INPUTS.pt OUTPUT.pt

INPUTS.pt (written by the .NET parity tests): modules (context, target?, predictor state dicts), batch (as loaded),
normalization (mean and std tensors: the trainer normalises the batch at the boundary, as .NET's does), drawn (the
views, or masks_context / masks_target / sigreg_directions, drawn from the normalised batch). OUTPUT.pt: terms
{name: value}, weights {name: weight}, grads {role.name: tensor}. Nothing random happens here: every draw comes from the file.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402

import programs  # noqa: E402
import jepa_torch as jt  # noqa: E402


def main(name, inputs_path, output_path):
    torch.set_num_threads(1)
    program = programs.load(name)
    inputs = jt.run.load_checkpoint(inputs_path)
    torch.manual_seed(program.OPTIONS.seed)
    experiment = getattr(program, name)(program.OPTIONS, jt.Distributed(), jt.Precision("fp32", "cpu"))
    # The same seed builds the same initial weights as the generated experiment (the .NET side sends its own).
    own = {f"{role}.{k}": v for role, sd in experiment.state_dicts().items() for k, v in sd.items()}
    sent = {f"{role}.{k}": v for role, sd in inputs["modules"].items() for k, v in sd.items()}
    init_difference, init_worst = max((float((own[k].double() - sent[k].double()).abs().max()), k) for k in sent)
    experiment.load_state_dicts(inputs["modules"], inputs_path)
    experiment.train(True)
    norm = inputs["normalization"]
    experiment.normalization = jt.InputNormalization(norm["mean"].tolist(), norm["std"].tolist())
    batch = experiment.at_boundary(inputs["batch"])
    drawn = dict(inputs["drawn"])
    if "masks_context" in drawn:
        drawn["masks"] = jt.TokenMasks(drawn.pop("masks_context"), drawn.pop("masks_target"))
    terms = experiment.loss_terms(batch, drawn)
    sum(value * weight for value, weight in terms.values()).backward()
    torch.save({"init_difference": init_difference, "init_worst": init_worst, "terms": {n: float(v) for n, (v, w) in terms.items()}, "weights": {n: float(w) for n, (v, w) in terms.items()},
                "grads": {n: p.grad.detach().clone() for n, p in experiment.named_trainable()}}, output_path)


if __name__ == "__main__":
    main(*sys.argv[1:])
