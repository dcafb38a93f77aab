"""One process, or one of N launched by torchrun (or by hand with RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and
MASTER_PORT): gloo on the CPU, NCCL on CUDA.

The conventions (docs/scale-out.md):

* ``batch`` in the ``.jepa`` file is the **global** batch; process r trains on the contiguous rows
  ``[r B/N, (r + 1) B/N)`` of every global batch (not ``DistributedSampler``, which interleaves and pads).
* Trainable modules are wrapped in ``DistributedDataParallel``, which **averages** parameter gradients over processes.
* ``all_gather`` and ``all_reduce`` are autograd-aware (``torch.distributed.nn.functional``): their backward **sums**
  the gradient over processes. A term that couples samples is computed on every process from the gathered (or
  reduced) global batch; each process's gradient of it is therefore N times the global term's gradient with respect
  to its own samples, and DDP's average divides by N again: the gradient of one process on the whole batch.
* Batch norm in training mode (``BatchNorm1d`` of ``mlp(norm: batch)``, ``BatchNorm2d`` of ``conv(norm: batch)``, in
  trained modules and in an EMA target alike) normalises with the statistics of the global batch (``GlobalBatchNorm``,
  CPU and CUDA alike; SyncBatchNorm does not run on the CPU), so it too computes what one process computes.
"""
import datetime
import os

import torch
from torch import nn
import torch.distributed as dist

from .corruptions import BatchPart


class Distributed:
    """Where this process stands: ``rank`` of ``world``, its ``device``, and the collective operations."""

    def __init__(self, rank=0, world=1, local_rank=0, device="cpu"):
        self.rank, self.world, self.local_rank = rank, world, local_rank
        self.device = torch.device(device)

    @staticmethod
    def from_environment(device="cpu", timeout_s=1800):
        """Joins the process group that torchrun's environment describes, or runs as one process without one.
        ``device``: cpu, cuda (each process on ``cuda:LOCAL_RANK``) or auto."""
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise RuntimeError(f"--device {device} was asked for, but CUDA is not available to this PyTorch.")
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world == 1:
            return Distributed(device="cuda:0" if device == "cuda" else device)
        rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
        if device == "cuda":
            device = f"cuda:{local_rank}"
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.startswith("cuda") else "gloo", rank=rank, world_size=world,
                                timeout=datetime.timedelta(seconds=timeout_s))
        return Distributed(rank, world, local_rank, device)

    @property
    def is_main(self):
        """Process 0 writes the run folder (options, metrics, checkpoints) and prints."""
        return self.rank == 0

    def part(self, batch):
        """This process's contiguous rows of a global batch of ``batch`` samples."""
        if batch % self.world:
            raise ValueError(f"The global batch {batch} does not divide into {self.world} processes; "
                             f"choose a batch that is a multiple of the process count.")
        size = batch // self.world
        return BatchPart(self.rank * size, (self.rank + 1) * size, batch)

    def all_gather(self, x, dim=0):
        """Every process's ``x`` concatenated along ``dim`` (the batch's: 0, or 1 for view-major representations
        (V, b, ...)), in rank order (so the rows are the global batch's); the backward sums each process's gradient of its
        rows over processes."""
        if self.world == 1:
            return x
        import torch.distributed.nn.functional as dnn
        return torch.cat(dnn.all_gather(x.contiguous()), dim)

    def all_reduce(self, x):
        """The sum of ``x`` over processes; the backward sums the gradient over processes."""
        if self.world == 1:
            return x
        import torch.distributed.nn.functional as dnn
        return dnn.all_reduce(x.contiguous())

    def first_row(self, x):
        """The global index of this process's first row of ``x`` (tokens flattened): parts are equal and in rank order."""
        return self.rank * (x.numel() // x.shape[-1])

    def sum(self, x):
        """The sum of a detached tensor over processes (for values read, not differentiated)."""
        if self.world == 1:
            return x
        x = x.clone()
        dist.all_reduce(x)
        return x

    def wrap(self, module):
        """``DistributedDataParallel`` around a trainable module with several processes; the module itself otherwise
        (and for a module without trainable parameters, such as an EMA target). With several processes its batch norms
        become ``GlobalBatchNorm`` first, trained or not: an EMA target in training mode normalises with the global
        batch's statistics too."""
        if self.world == 1:
            return module
        global_batch_norm(module, self)
        if not any(p.requires_grad for p in module.parameters()):
            return module
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        # Buffers (batch-norm statistics of the global batch, fixed positional tables) are equal on every process.
        return nn.parallel.DistributedDataParallel(module, device_ids=device_ids, broadcast_buffers=False)

    def barrier(self):
        if self.world > 1:
            dist.barrier()

    def close(self):
        if self.world > 1 and dist.is_initialized():
            dist.destroy_process_group()


class GlobalBatchNorm(nn.modules.batchnorm._BatchNorm):
    """A batch norm (``BatchNorm1d``'s or ``BatchNorm2d``'s inputs) whose training-mode statistics are those of the
    global batch: the sum and the centred sum of squares over the samples (and positions) are all-reduced
    (autograd-aware), so N processes normalise as one process with the whole batch does and update the same running
    statistics (unbiased variance, momentum as PyTorch's). Same state-dict names; evaluation mode is PyTorch's own."""

    def __init__(self, num_features, ddp, **kwargs):
        super().__init__(num_features, **kwargs)
        self.ddp = ddp

    def _check_input_dim(self, x):
        if x.dim() not in (2, 3, 4):
            raise ValueError(f"batch norm expects (B, C), (B, C, L) or (B, C, H, W) input, got {list(x.shape)}.")

    def forward(self, x):
        if not self.training:
            return super().forward(x)
        dims = [0] + list(range(2, x.dim()))                                        # every dimension but the channels
        shape = [1, -1] + [1] * (x.dim() - 2)
        count = x.numel() // x.shape[1] * self.ddp.world                            # values per channel in the global batch
        mean = self.ddp.all_reduce(x.sum(dims)) / count
        var = self.ddp.all_reduce((x - mean.reshape(shape)).square().sum(dims)) / count
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                m = self.momentum
                self.running_mean.mul_(1 - m).add_(mean.detach(), alpha=m)
                self.running_var.mul_(1 - m).add_(var.detach() * count / max(count - 1, 1), alpha=m)
        y = (x - mean.reshape(shape)) / (var.reshape(shape) + self.eps).sqrt()
        return y * self.weight.reshape(shape) + self.bias.reshape(shape) if self.affine else y


def global_batch_norm(module, ddp):
    """Replaces every batch norm (1-d or 2-d) inside ``module`` by a ``GlobalBatchNorm`` holding the same state."""
    for name, child in module.named_children():
        if isinstance(child, (nn.BatchNorm1d, nn.BatchNorm2d)) and not isinstance(child, GlobalBatchNorm):
            replacement = GlobalBatchNorm(child.num_features, ddp, eps=child.eps, momentum=child.momentum,
                                          affine=child.affine, track_running_stats=child.track_running_stats)
            replacement.load_state_dict(child.state_dict())
            replacement.to(next(child.buffers(), torch.empty(0)).device)
            replacement.train(child.training)
            for p, q in zip(replacement.parameters(), child.parameters()):
                p.requires_grad_(q.requires_grad)
            setattr(module, name, replacement)
        else:
            global_batch_norm(child, ddp)
    return module
