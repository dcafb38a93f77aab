"""One step of an exported program on given weights, batch and random draws; writes the loss terms and the gradients.

    python3 parity_step.py NAME INPUTS.pt OUTPUT.pt

INPUTS.pt (written by the .NET parity tests): modules (context, target?, predictor state dicts), batch (as loaded),
normalization (mean and std tensors: the program normalises each encoder's input with them, right before the encoder,
as the generated step does), drawn (the views, or masks_context / masks_target / sigreg_directions, drawn from the
batch as loaded). OUTPUT.pt: terms
{name: value}, weights {name: weight}, grads {role.name: tensor}, and rounding: how far these float32 gradients are
from the same step in float64 (relative to the largest entry). Nothing random happens here: every draw comes from the file.
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
    batch = experiment.at_boundary(inputs["batch"])     # as loaded: the exported programs normalise their views
    drawn = dict(inputs["drawn"])
    if "masks_context" in drawn:
        drawn["masks"] = jt.TokenMasks(drawn.pop("masks_context"), drawn.pop("masks_target"))
    terms = experiment.loss_terms(batch, drawn)
    sum(value * weight for value, weight in terms.values()).backward()
    grads = {n: p.grad.detach().clone() for n, p in experiment.named_trainable()}
    rounding, rounding_worst = float32_rounding(experiment, inputs["modules"], batch, drawn, grads)
    torch.save({"init_difference": init_difference, "init_worst": init_worst, "terms": {n: float(v) for n, (v, w) in terms.items()}, "weights": {n: float(w) for n, (v, w) in terms.items()},
                "grads": grads, "rounding": rounding, "rounding_worst": rounding_worst}, output_path)


def float32_rounding(experiment, modules, batch, drawn, grads):
    """How far PyTorch's own float32 gradients are from the same step in float64 (the same weights, batch and draws),
    relative to the largest entry: the rounding of the computation itself, which bounds what two libraries can agree
    to (the first conv behind a batch norm on 28x28 images sums hundreds of thousands of products)."""
    for m in experiment.roles.values():
        m.double()
        m.zero_grad(set_to_none=True)
    experiment.load_state_dicts(modules, "the parity inputs")       # the sent weights, exactly, in float64
    double = {k: v.double() if torch.is_tensor(v) and v.is_floating_point() else v for k, v in drawn.items()}
    terms = experiment.loss_terms(batch.double(), double)
    sum(value * weight for value, weight in terms.values()).backward()
    exact = {n: p.grad.detach() for n, p in experiment.named_trainable()}
    scale = max(float(g.abs().max()) for g in exact.values())
    return max((float((grads[n].double() - exact[n]).abs().max()) / scale, n) for n in grads)


if __name__ == "__main__":
    main(*sys.argv[1:])
