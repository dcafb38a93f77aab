"""Schedules, the optimizer and its parameter groups, the EMA target, seeds and one training step, as
src/Jepa.Runtime/Schedules and src/Jepa.Runtime/Training define them (docs/runtime-training.md)."""
import contextlib
import math
from dataclasses import dataclass

import torch


# ---- seeds ---------------------------------------------------------------------------------------------------------

_MASK = (1 << 64) - 1


def _splitmix(x):
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def mix(seed, stream):
    """C#'s ``Seeds.Mix``: SplitMix64 of (seed, stream), a 64-bit seed that depends only on the pair."""
    return _splitmix((seed & _MASK) ^ _splitmix(((stream & _MASK) + 0x9E3779B97F4A7C15) & _MASK))


#: Mixed into the run seed for the per-step generators (``"steps"``), so they differ from the data order's.
STEP_STREAM = 0x7374657073


def step_generator(seed, step, device="cpu"):
    """The generator of the step with 0-based index ``step``: seeded from (seed, step) alone, the same on every
    process and after a resume, so nothing about it needs checkpointing. Corruptions, masks and SIGReg's directions
    draw from it for the global batch."""
    g = torch.Generator(device=device)
    g.manual_seed(mix(seed ^ STEP_STREAM, step))
    return g


# ---- schedules -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ramp:
    """A value moving from ``start`` to ``end`` over training (``Ramp(x, x)`` is constant)."""
    start: float
    end: float

    @staticmethod
    def of(value):
        return value if isinstance(value, Ramp) else Ramp(*value) if isinstance(value, (tuple, list)) else Ramp(value, value)

    @property
    def is_constant(self):
        return self.start == self.end

    def linear(self, progress):
        return self.start if self.is_constant else self.start + (self.end - self.start) * _clamp01(progress)

    def cosine(self, progress):
        if self.is_constant:
            return self.start
        return self.end + (self.start - self.end) * 0.5 * (1.0 + math.cos(math.pi * _clamp01(progress)))


def _clamp01(p):
    return 0.0 if math.isnan(p) else min(max(p, 0.0), 1.0)


def warmup_cosine(k, warmup, total, start_lr, peak_lr, final_lr):
    """I-JEPA's WarmupCosineSchedule at counter k (1 for the first step)."""
    if k < warmup:
        return start_lr + k / max(1, warmup) * (peak_lr - start_lr)
    progress = min(1.0, (k - warmup) / max(1, total - warmup))
    lr = final_lr + (peak_lr - final_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))
    return max(final_lr, lr) if final_lr <= peak_lr else min(final_lr, lr)


@dataclass(frozen=True)
class Schedule:
    """Every schedule as a pure function of the 0-based step index (C#'s ``TrainingSchedule``): lr and weight decay
    at counter ``k = step + 1``, EMA momentum ``EmaMomentum.Linear(step / T)``."""
    kind: str                 # "constant" or "warmup_cosine"
    lr: Ramp
    start_lr: float
    final_lr: float
    warmup_steps: int
    weight_decay: Ramp
    ema_momentum: Ramp        # or None without an EMA target
    total_steps: int

    def lr_at(self, step):
        if self.kind == "warmup_cosine":
            return warmup_cosine(step + 1, self.warmup_steps, self.total_steps, self.start_lr, self.lr.start, self.final_lr)
        return self.lr.linear((step + 1) / self.total_steps)

    def weight_decay_at(self, step):
        if self.kind == "warmup_cosine":
            return self.weight_decay.cosine((step + 1) / self.total_steps)
        return self.weight_decay.linear((step + 1) / self.total_steps)

    def ema_momentum_at(self, step):
        return None if self.ema_momentum is None else self.ema_momentum.linear(step / self.total_steps)


# ---- optimizer -----------------------------------------------------------------------------------------------------

def decays(name, p):
    """I-JEPA's rule: weight decay on parameters of two or more dimensions whose name does not end in ``bias``."""
    return p.dim() > 1 and not name.endswith("bias")


def optimizer(options, named_parameters):
    """AdamW (decoupled decay) or SGD (coupled L2 decay, momentum, Nesterov) over two groups: decaying and not.
    ``named_parameters`` are ``(role.name, parameter)`` pairs; the lr and the decay are set each step."""
    params = [(n, p) for n, p in named_parameters if p.requires_grad]
    groups = [{"params": [p for n, p in params if decays(n, p)], "decays": True},
              {"params": [p for n, p in params if not decays(n, p)], "decays": False}]
    lr = options.lr.start
    if options.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=lr, betas=tuple(options.betas), weight_decay=0.0)
    if options.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=options.momentum, nesterov=options.nesterov, weight_decay=0.0)
    raise ValueError(f"Unknown optimizer '{options.optimizer}' (adamw or sgd).")


def set_schedules(opt, lr, weight_decay):
    for group in opt.param_groups:
        group["lr"] = lr
        group["weight_decay"] = weight_decay if group["decays"] else 0.0


# ---- EMA -----------------------------------------------------------------------------------------------------------

def ema_copy(module, create):
    """The EMA target: a second module from ``create`` (the same architecture) holding the online module's weights and
    buffers, never trained. Built as C#'s ``Ema.CopyOf`` builds it, so that its construction draws from the global
    generator as there, and the same seed gives both targets the same initial weights."""
    target = create()
    if target is module:
        raise ValueError("create must return a new module, not the online one.")
    target.load_state_dict(module.state_dict())
    for p in target.parameters():
        p.requires_grad_(False)
    return target


@torch.no_grad()
def ema_update(target, online, momentum):
    """C#'s ``Ema.Update``: ``t <- m t + (1 - m) o`` for every parameter; for every floating-point buffer (batch norm's
    running statistics) ``t <- t + (1 - m) (o - t)``, which leaves a buffer equal on both sides (a fixed positional
    table) bit for bit unchanged; integer buffers (``num_batches_tracked``) are copied. The target's statistics then
    describe the activations of the same window of steps as its weights."""
    if not 0 <= momentum <= 1:
        raise ValueError(f"EMA momentum must lie in [0, 1] (is {momentum}).")
    t_params, o_params = list(target.parameters()), list(online.parameters())
    if len(t_params) != len(o_params):
        raise ValueError(f"The EMA target has {len(t_params)} parameters and the online module {len(o_params)}; "
                         "they must share an architecture.")
    t_buffers, o_buffers = list(target.named_buffers()), list(online.named_buffers())
    if [n for n, _ in t_buffers] != [n for n, _ in o_buffers]:
        raise ValueError(f"The EMA target and the online module have different buffers: {[n for n, _ in t_buffers]} "
                         f"and {[n for n, _ in o_buffers]}.")
    mix = 1 - momentum
    for t, o in zip(t_params, o_params):
        _same_shape(t, o, "EMA parameter")
        t.mul_(momentum).add_(o, alpha=mix)
    for (name, t), (_, o) in zip(t_buffers, o_buffers):
        _same_shape(t, o, f"EMA buffer '{name}'")
        if t.is_floating_point():
            t.add_(o - t, alpha=mix)
        else:
            t.copy_(o)


def _same_shape(t, o, what):
    if t.shape != o.shape:
        raise ValueError(f"{what} has shape {list(t.shape)} in the target and {list(o.shape)} in the online module.")


# ---- precision -----------------------------------------------------------------------------------------------------

class Precision:
    """``fp32`` (TF32 off on CUDA, so a GPU run computes what the CPU computes) or ``bf16`` (autocast on CUDA around
    the modules; the loss terms are computed in fp32 from ``.float()`` inputs). bf16 on the CPU is refused."""

    def __init__(self, name, device):
        if name not in ("fp32", "bf16"):
            raise ValueError(f"--precision must be fp32 or bf16 (is {name}).")
        device = torch.device(device)
        if name == "bf16" and device.type != "cuda":
            raise ValueError("--precision bf16 needs a CUDA device; the CPU trains in fp32.")
        self.name, self.device = name, device
        if device.type == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False

    def autocast(self):
        if self.name == "bf16":
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()


# ---- one step ------------------------------------------------------------------------------------------------------

class NonFiniteLoss(RuntimeError):
    """A loss term (or the gradient norm) was NaN or infinite; raised on every process at the same step."""

    def __init__(self, term, step, value):
        super().__init__(f"The loss term '{term}' is {value} at step {step}; training stopped before the optimizer step "
                         f"(the last checkpoint is unchanged).")
        self.term, self.step, self.value = term, step, value


class Step:
    """What one training step may do besides computing its loss (C#'s ``StepContext``): draw from ``generator`` for
    ``part`` of the global batch, ``backward_and_step`` and ``update_ema``."""

    def __init__(self, number, epoch, generator, part, optimizer, ddp, lr, weight_decay, ema_momentum, grad_clip, stop_requested=False):
        self.number, self.epoch, self.generator, self.part = number, epoch, generator, part
        self.optimizer, self.ddp = optimizer, ddp
        self.lr, self.weight_decay, self.ema_momentum, self.grad_clip = lr, weight_decay, ema_momentum, grad_clip
        self.stop_requested = stop_requested
        self.values = None          # each term's value over the global batch, once backward_and_step ran
        self.loss = None            # their weighted total
        self.grad_norm = None
        self.stop = False           # a process asked to stop: every process stops after this step
        self.ema_updated = False

    def backward_and_step(self, terms):
        """``terms``: name -> (scalar tensor, weight). (1) one all-reduce of every term's value and the stop flag, so
        every process sees the global values and raises ``NonFiniteLoss`` at the same step before anything changes;
        (2) the weighted total; (3) zero_grad, backward (DDP averages the gradients); (4) the gradient norm before
        clipping, checked finite, and clipping; (5) lr and weight decay from the schedules; (6) the optimizer step."""
        if self.values is not None:
            raise RuntimeError(f"backward_and_step was called twice in step {self.number}.")
        if not terms:
            raise ValueError("A training step needs at least one loss term.")
        names = list(terms)
        local = torch.stack([terms[n][0].detach().float().reshape(()) for n in names]
                            + [torch.tensor(1.0 if self.stop_requested else 0.0, device=terms[names[0]][0].device)])
        reduced = self.ddp.sum(local)
        values = {n: float(reduced[i]) / self.ddp.world for i, n in enumerate(names)}
        self.stop = float(reduced[-1]) > 0
        for n in names:
            if not math.isfinite(values[n]):
                raise NonFiniteLoss(n, self.number, values[n])
        loss = sum(terms[n][0] * terms[n][1] if terms[n][1] != 1.0 else terms[n][0] for n in names)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        if self.grad_clip is not None:
            norm = float(torch.nn.utils.clip_grad_norm_(params, self.grad_clip))
        else:
            grads = [p.grad.detach().norm() for p in params if p.grad is not None]
            norm = float(torch.stack(grads).norm()) if grads else 0.0
        if not math.isfinite(norm):
            raise NonFiniteLoss("gradient norm", self.number, norm)
        self.grad_norm = norm
        set_schedules(self.optimizer, self.lr, self.weight_decay)
        self.optimizer.step()
        self.values = values
        self.loss = sum(values[n] * terms[n][1] for n in names)

    def update_ema(self, target, online):
        """``theta_target <- m theta_target + (1 - m) theta_online`` with this step's momentum, after the step."""
        if self.values is None:
            raise RuntimeError("update_ema must follow backward_and_step (the EMA tracks the updated weights).")
        if self.ema_momentum is None:
            raise RuntimeError("update_ema needs an EMA target.")
        ema_update(target, online, self.ema_momentum)
        self.ema_updated = True
