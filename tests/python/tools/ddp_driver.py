"""The DDP scenarios: run once as one process and once as each of N processes (launch.py sets the environment);
rank 0 writes, per scenario, the gradients after the first backward and the parameters after a short run.

    python3 ddp_driver.py OUT_DIR SCENARIO...        (a scenario: NAME:OPTIMIZER:STEPS[:MODE])

MODE is how a negative control breaks the DDP semantics on purpose:
  plain_gather     all_gather / all_reduce without autograd (another process's loss sends no gradient to my
                   embeddings: the bug of vissl PR #123 and lightly #1920)
  process_seeds    each process draws its own part with its own seed (not the global batch's draws)
  local_batch_norm batch norm on each process's part (no global statistics)
  local_target_batch_norm  global statistics in the trained modules only: the EMA target's batch norm on each
                   process's part (what Distributed.wrap did before it converted modules without trainable parameters)
"""
import argparse
import contextlib
import dataclasses
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402

import programs  # noqa: E402
import jepa_torch as jt  # noqa: E402
from jepa_torch import corruptions as C, data as D, distributed as JD, training as T  # noqa: E402

BATCH = {"TokenJepa": 16, "MnistLeJepa": 8}   # the token model and the 28x28 recipe (4 views) are the slow ones on two cores; the others train at 32


#: Programs compared in float64. In float32 the MNIST recipe's first conv behind batch norm rounds at 5e-4 of the largest
#: gradient entry (PyTorch's own float32 against float64 on one process; 200,704 products per weight), so two processes
#: summing in halves cannot agree to 1e-5; and under AdamW every bias right before a batch norm, whose gradient is zero
#: up to rounding, steps +-lr in either run independently (docs/scale-out.md). In float64 both are far below the
#: tolerances (rounding 1e-16, far below AdamW's epsilon 1e-8), so the comparison sees the semantics alone: the views,
#: the projector, batch norm across processes. The catalog file's Contrastive too: at its first step info_nce sits at
#: ln 8 with near-uniform similarities, its gradients are at most 5e-3 and float32's rounding of the loss (about 1e-7 of
#: 2.1) is already 1e-5 of them: on an AVX-512 machine (2026-12-01) two processes differed from one by 1.2e-5 (the
#: target head's bias; every parameter by 1e-6 or more), against 2.8e-6 on the machines before.
FLOAT64 = {"MnistLeJepa", "DigitsLeViews", "DigitsEmaViews", "DigitsSimSiam", "ImageViews", "Contrastive"}


def _double(v):
    if torch.is_tensor(v):
        return v.double() if v.is_floating_point() else v
    return [_double(u) for u in v] if isinstance(v, list) else v


@contextlib.contextmanager
def losses_in_float64():
    """``.float()`` keeps float64 tensors as they are. The exported loss terms take ``.float()`` of their inputs (fp32
    losses under bf16 autocast); in the float64 comparison that computed every loss in float32, whose
    reductions over a process's half round differently from one process's over the whole batch: the MNIST recipe's
    first gradients differed by 3.5e-8 and its parameters after 20 AdamW steps by 4.3e-3 (6.2e-13 and 1.1e-9 with
    this; docs/scale-out.md)."""
    original = torch.Tensor.float
    torch.Tensor.float = lambda self, *args, **kwargs: self if self.dtype == torch.float64 else original(self, *args, **kwargs)
    try:
        yield
    finally:
        torch.Tensor.float = original


def in_float64(experiment):
    """The step on float64 inputs and draws (the modules are built in float64: the default dtype while they are), its
    loss terms in float64 too."""
    loss_terms = experiment.loss_terms

    def float64_loss_terms(image, drawn):
        with losses_in_float64():
            return loss_terms(image.double(), {k: _double(v) for k, v in drawn.items()})
    experiment.loss_terms = float64_loss_terms
    return experiment


def plain_all_gather(ddp):
    def gather(x, dim=0):
        parts = [torch.empty_like(x) for _ in range(ddp.world)]
        dist.all_gather(parts, x.detach().contiguous())
        parts[ddp.rank] = x                                   # only my own rows carry gradient
        return torch.cat(parts, dim)
    return gather


def plain_all_reduce(ddp):
    def reduce(x):
        total = x.detach().clone()
        dist.all_reduce(total)
        return x + (total - x).detach()                       # the global value, the local gradient
    return reduce


def build(program, name, options, ddp, mode):
    torch.manual_seed(options.seed)
    torch.set_default_dtype(torch.float64 if name in FLOAT64 else torch.float32)
    if mode in ("local_batch_norm", "local_target_batch_norm"):
        original = JD.global_batch_norm
        if mode == "local_batch_norm":
            JD.global_batch_norm = lambda module, _: module
        else:
            JD.global_batch_norm = lambda module, d: original(module, d) if any(p.requires_grad for p in module.parameters()) else module
        try:
            experiment = programs.experiment_class(program, name)(options, ddp, T.Precision("fp32", "cpu"))
        finally:
            JD.global_batch_norm = original
    else:
        experiment = programs.experiment_class(program, name)(options, ddp, T.Precision("fp32", "cpu"))
    if mode == "process_seeds":
        draw = experiment.draw

        def own_draw(image, g, part):
            mine = torch.Generator().manual_seed(g.initial_seed() + 1000003 * (ddp.rank + 1))
            return draw(image, mine, C.BatchPart.whole(part.size))
        experiment.draw = own_draw
    return in_float64(experiment) if name in FLOAT64 else experiment


def first_gradients(experiment, data, options, ddp):
    """The gradients after the first step's backward (DDP-averaged), before any optimizer step."""
    part = ddp.part(options.batch)
    idx = D.epoch_order(len(data), options.seed, 0)[part.start:part.stop]
    image = data.features.index_select(0, idx)
    drawn = experiment.draw(image, T.step_generator(options.seed, 0), part)
    terms = experiment.loss_terms(image, drawn)
    sum(v * w for v, w in terms.values()).backward()
    losses = ddp.sum(torch.stack([v.detach() for v, _ in terms.values()])) / ddp.world
    return {n: p.grad.detach().clone() for n, p in experiment.named_trainable()}, dict(zip(terms, losses.tolist()))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("scenarios", nargs="+")
    args = parser.parse_args()
    torch.set_num_threads(1)
    ddp = jt.Distributed.from_environment("cpu", timeout_s=120)
    digits = D.read_csv(str(programs.DIGITS))
    for scenario in args.scenarios:
        name, optimizer, steps, *rest = scenario.split(":")
        mode = rest[0] if rest else "correct"
        program = programs.load(name)
        shape = programs.experiment_class(program, name).input_shape
        path = programs.data_path(name, shape, args.out)
        data = digits.for_experiment(shape) if path == programs.DIGITS else D.open_data([str(path)], shape).train
        # A program run with the other optimizer gets a learning rate that suits it (SimSiam's SGD lr 0.05 would make
        # AdamW diverge, the AdamW programs' 1e-3 barely moves SGD).
        lr = program.OPTIONS.lr if optimizer == program.OPTIONS.optimizer else T.Ramp.of(1e-3 if optimizer == "adamw" else 0.01)
        options = dataclasses.replace(program.OPTIONS, batch=BATCH.get(name, 32), steps=int(steps), epochs=None, lr=lr,
                                      optimizer=optimizer, collapse=None, warmup_epochs=0.0,
                                      warmup_steps=3 if program.OPTIONS.schedule == "warmup_cosine" else 0)
        if mode == "plain_gather":
            ddp.all_gather, ddp.all_reduce = plain_all_gather(ddp), plain_all_reduce(ddp)
        grads, losses = first_gradients(build(program, name, options, ddp, mode), data, options, ddp)
        folder = os.path.join(args.out, f"run-{scenario.replace(':', '-')}-{ddp.world}")
        run_args = jt.run.arguments("", ["--data", "unused", "--out", folder, "--log-every", "1", "--print-every", "1000000"])
        experiment = build(program, name, options, ddp, mode)
        result = jt.run.train(experiment, data, options, ddp, run_args)
        if mode == "plain_gather":
            ddp.all_gather, ddp.all_reduce = jt.Distributed.all_gather.__get__(ddp), jt.Distributed.all_reduce.__get__(ddp)
        if ddp.is_main:
            torch.save({"grads": grads, "losses": losses, "final_terms": result["terms"],
                        "params": {f"{role}.{k}": v.clone() for role, sd in experiment.state_dicts().items() for k, v in sd.items()}},
                       os.path.join(args.out, f"{scenario.replace(':', '-')}-{ddp.world}.pt"))
    ddp.close()


if __name__ == "__main__":
    main()
