#!/usr/bin/env python3
"""PyTorch peer of one training step of examples/Mnist/mnist.jepa, to compare with the generated TorchSharp step.

The step: 4 random resized crops (area 0.3-1.0) of a batch of 28x28 images, one batch of 4 x B views through the conv
(per stage: 3x3 conv, batch norm, GELU, 2x2 max pool; then mean pool and a linear layer to 128) and the projector
(512-64, batch norm), every view's MSE to the mean of the first two, SIGReg (256 directions) on each view, backward,
AdamW. --arch strided times the calibration replica of ../shared/design/calibration.md instead (3x3 convs with strides
2-1-2-2, batch norm, ReLU, no max pool), a different and cheaper model. Run with Debian's python3-torch:
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/pytorch/mnist_step.py --arch mnist --steps 20
prints one JSON line {"arch": ..., "seconds_per_step": ..., "cpu_seconds_per_step": ...}. Compare with the
"seconds" of metrics.jsonl of `dotnet run --project examples/Mnist -c Release -- --steps 40 --plain` (steps 10-40),
taken in the same minutes: on a shared machine only interleaved runs compare.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_encoder(arch, channels=(32, 64, 128, 128), out=128):
    layers, prev = [], 1
    for i, c in enumerate(channels):
        if arch == "mnist":
            layers += [nn.Conv2d(prev, c, 3, padding=1), nn.BatchNorm2d(c), nn.GELU(), nn.MaxPool2d(2, 2)]
        else:
            layers += [nn.Conv2d(prev, c, 3, stride=1 if i == 1 else 2, padding=1), nn.BatchNorm2d(c), nn.ReLU()]
        prev = c
    return nn.Sequential(*layers, nn.Flatten(2), Mean(), nn.Linear(prev, out))


class Mean(nn.Module):
    def forward(self, x):
        return x.mean(2)


def random_resized_crop(x, scale, ratio, g):
    # Continuous boxes through one grid_sample: the cost of the runtime's ImageOps.ResizedCrop, not its exact boxes.
    b = x.shape[0]
    u = torch.rand(b, 4, generator=g)
    area = u[:, 0] * (scale[1] - scale[0]) + scale[0]
    r = (u[:, 1] * (math.log(ratio[1]) - math.log(ratio[0])) + math.log(ratio[0])).exp()
    w, h = (area * r).sqrt().clamp(max=1), (area / r).sqrt().clamp(max=1)
    z = torch.zeros_like(w)
    theta = torch.stack([torch.stack([w, z, (u[:, 2] * 2 - 1) * (1 - w)], 1), torch.stack([z, h, (u[:, 3] * 2 - 1) * (1 - h)], 1)], 1)
    return F.grid_sample(x, F.affine_grid(theta, list(x.shape), align_corners=False), align_corners=False)


def sigreg(z, directions, g, knots=17):
    # LeJEPA's SIGReg: Epps-Pulley statistic of random 1-D projections against a standard normal.
    a = torch.randn(z.shape[1], directions, generator=g)
    a = a / a.norm(dim=0, keepdim=True)
    t = torch.linspace(0, 3, knots)
    dt = 3 / (knots - 1)
    trapezoid = torch.full((knots,), 2 * dt)
    trapezoid[0] = trapezoid[-1] = dt
    phi = (-0.5 * t ** 2).exp()
    xt = (z @ a).unsqueeze(-1) * t
    err = (xt.cos().mean(0) - phi) ** 2 + xt.sin().mean(0) ** 2
    return (err @ (trapezoid * phi) * z.shape[0]).mean()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", choices=["mnist", "strided"], default="mnist")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    encoder = conv_encoder(a.arch)
    projector = nn.Sequential(nn.Linear(128, 512), nn.BatchNorm1d(512), nn.GELU(), nn.Linear(512, 64))
    params = list(encoder.parameters()) + list(projector.parameters())
    optimizer = torch.optim.AdamW([{"params": [p for p in params if p.dim() > 1], "weight_decay": 0.05},
                                   {"params": [p for p in params if p.dim() <= 1], "weight_decay": 0.0}], lr=2e-3)
    images = torch.rand(a.batch, 1, 28, 28)
    for step in range(a.steps + 2):                                      # the first 2 steps warm up
        if step == 2:
            wall, cpu = time.perf_counter(), time.process_time()
        views = torch.cat([random_resized_crop(images, (0.3, 1.0), (3 / 4, 4 / 3), g) for _ in range(4)])
        views = (views - 0.13) / 0.31                                    # (4B, 1, 28, 28)
        z = projector(encoder(views)).view(4, a.batch, -1)              # (4, B, 64)
        target = z[:2].mean(0)                                           # (B, 64)
        loss = 0.95 * ((z - target) ** 2).mean() + 0.05 * torch.stack([sigreg(z[v], 256, g) for v in range(4)]).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(json.dumps({"arch": a.arch, "threads": a.threads, "batch": a.batch, "steps": a.steps,
                      "seconds_per_step": round((time.perf_counter() - wall) / a.steps, 4),
                      "cpu_seconds_per_step": round((time.process_time() - cpu) / a.steps, 4)}))


if __name__ == "__main__":
    main()
