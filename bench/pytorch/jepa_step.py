#!/usr/bin/env python3
"""PyTorch peer of the two benchmark architectures (bench/Jepa.Bench/Models/*.jepa, docs/models.md, docs/benchmarks.md).

Times the same training step as the generated TorchSharp code: target forward under no-grad, corruption (feature
dropout and gaussian noise for the mlp; I-JEPA multi-block masks for the vit, the same algorithm as the runtime's
MultiBlockMask), context forward, prediction, smooth L1 to the layer-normed target, backward, AdamW step over two
parameter groups, EMA update. Run with Debian's python3-torch (bench/setup.sh installs it):
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/pytorch/jepa_step.py --model mlp --steps 200 --reps 5
prints one JSON line {"model": ..., "seconds_per_step": [...per repetition...]}. With --serve it warms up, then reads
commands from standard input, so the .NET harness can interleave its repetitions with ours in one session:
"run N" takes N steps and answers one JSON line {"seconds_per_step": ..., "mean_context_tokens": ..., ...}; "quit" ends.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def sincos_2d(dim, h, w):
    # Fixed 2-D sine-cosine positional embedding (I-JEPA): half the channels for rows, half for columns.
    def one_d(d, pos):
        omega = 1.0 / 10000 ** (torch.arange(d // 2, dtype=torch.float64) / (d / 2.0))
        out = pos.reshape(-1, 1).double() * omega.reshape(1, -1)
        return torch.cat([torch.sin(out), torch.cos(out)], dim=1)
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    emb = torch.cat([one_d(dim // 2, ys.flatten()), one_d(dim // 2, xs.flatten())], dim=1)
    return emb.float()


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, 4 * dim)
        self.fc2 = nn.Linear(4 * dim, dim)

    def forward(self, x):
        b, n, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(d // self.heads)
        y = (att.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, n, d)
        x = x + self.proj(y)
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class Vit(nn.Module):
    def __init__(self, channels, size, patch, dim, depth, heads):
        super().__init__()
        self.embed = nn.Conv2d(channels, dim, patch, stride=patch)
        self.register_buffer("pos", sincos_2d(dim, size // patch, size // patch))
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)

    def forward(self, x, keep=None):
        x = self.embed(x).flatten(2).transpose(1, 2) + self.pos
        if keep is not None:
            x = torch.gather(x, 1, keep.unsqueeze(-1).expand(-1, -1, x.shape[-1]))
        for block in self.blocks:
            x = block(x)
        return self.norm(x)


class Predictor(nn.Module):
    def __init__(self, enc_dim, dim, depth, heads, grid):
        super().__init__()
        self.embed = nn.Linear(enc_dim, dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.register_buffer("pos", sincos_2d(dim, grid, grid))
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.proj = nn.Linear(dim, enc_dim)

    def forward(self, ctx, ctx_idx, tgt_idx):
        b = ctx.shape[0]
        pos = self.pos.unsqueeze(0).expand(b, -1, -1)
        x = self.embed(ctx) + torch.gather(pos, 1, ctx_idx.unsqueeze(-1).expand(-1, -1, pos.shape[-1]))
        m = self.mask_token.expand(b, tgt_idx.shape[1], -1) + torch.gather(pos, 1, tgt_idx.unsqueeze(-1).expand(-1, -1, pos.shape[-1]))
        x = torch.cat([x, m], dim=1)
        for block in self.blocks:
            x = block(x)
        return self.proj(self.norm(x)[:, ctx.shape[1]:])


class MultiBlockMask:
    """I-JEPA's multi-block masks, vectorised over the batch: the algorithm of Jepa.Runtime.Masks.MultiBlockMask."""

    def __init__(self, grid, targets=4, target_scale=(0.15, 0.2), context_scale=(0.85, 1.0), aspect=(0.75, 1.5), min_keep=4):
        self.gh, self.gw = grid
        self.targets, self.target_scale, self.context_scale, self.aspect, self.min_keep = targets, target_scale, context_scale, aspect, min_keep

    def block_size(self, scale, aspect):
        k = math.floor(self.gh * self.gw * scale)
        h, w = round(math.sqrt(k * aspect)), round(math.sqrt(k / aspect))
        return min(max(h, 1), self.gh), min(max(w, 1), self.gw)

    def block(self, b, h, w, g):
        top = torch.randint(0, self.gh - h + 1, (b,), generator=g).unsqueeze(1)
        left = torch.randint(0, self.gw - w + 1, (b,), generator=g).unsqueeze(1)
        r, c = torch.arange(self.gh), torch.arange(self.gw)
        rows = (r >= top) & (r < top + h)
        cols = (c >= left) & (c < left + w)
        return (rows.unsqueeze(2) & cols.unsqueeze(1)).reshape(b, self.gh * self.gw)

    def sample(self, b, g):
        gh, gw, t, n = self.gh, self.gw, self.targets, self.gh * self.gw
        lerp = lambda r, u: r[0] + u * (r[1] - r[0])
        u = torch.rand(3, generator=g).tolist()
        th, tw = self.block_size(lerp(self.target_scale, u[0]), lerp(self.aspect, u[1]))
        ch, cw = self.block_size(lerp(self.context_scale, u[2]), 1.0)
        top = torch.randint(0, gh - th + 1, (b, t), generator=g)
        left = torch.randint(0, gw - tw + 1, (b, t), generator=g)
        rows = top.unsqueeze(-1) + torch.arange(th)
        cols = left.unsqueeze(-1) + torch.arange(tw)
        target = (rows.unsqueeze(-1) * gw + cols.unsqueeze(-2)).reshape(b, t, th * tw)
        in_target = torch.zeros(b, t, n, dtype=torch.bool).scatter(2, target, torch.ones(target.shape, dtype=torch.bool))
        free = ~in_target.any(1)
        context = self.block(b, ch, cw, g) & free
        for _ in range(20):
            small = context.sum(1) < self.min_keep
            if not bool(small.any()):
                break
            context = torch.where(small.unsqueeze(1), self.block(b, ch, cw, g) & free, context)
        still = context.sum(1) < self.min_keep
        if bool(still.any()):
            open_ = ~torch.cat([torch.zeros(b, 1, n, dtype=torch.bool), in_target.cumsum(1) > 0], 1)
            k = ((open_.sum(2) >= self.min_keep).long() * torch.arange(t + 1)).argmax(1)
            context = torch.where(still.unsqueeze(1), open_.gather(1, k.view(b, 1, 1).expand(b, 1, n)).squeeze(1), context)
        nc = int(context.sum(1).min())
        return (~context).int().sort(dim=1, stable=True).indices[:, :nc], target.reshape(b, t * th * tw)


def param_groups(*modules):
    decay, no_decay = [], []
    for m in modules:
        for p in m.parameters():
            (no_decay if p.ndim <= 1 else decay).append(p)
    return [{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}]


def make_mlp_step(batch):
    context, predictor = mlp([64, 256, 256, 128]), mlp([128, 256, 128])
    target = mlp([64, 256, 256, 128])
    target.load_state_dict(context.state_dict())
    for p in target.parameters():
        p.requires_grad = False
    opt = torch.optim.AdamW(param_groups(context, predictor), lr=1e-3)
    x = torch.rand(batch, 64)

    def step(m=0.996):
        with torch.no_grad():
            t = F.layer_norm(target(x), (128,))
        keep = (torch.rand_like(x) >= 0.3).float()
        noisy = x * keep + 0.1 * torch.randn_like(x)
        loss = F.smooth_l1_loss(predictor(context(noisy)), t)
        return update(loss, opt, target, context, m)
    return step


def update(loss, opt, target, context, m):
    # Backward, the AdamW step and the EMA update of the target, shared by both models' steps.
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    with torch.no_grad():
        for pt, pc in zip(target.parameters(), context.parameters()):
            pt.mul_(m).add_(pc, alpha=1 - m)
    return loss.item()


def make_vit_step(batch):
    context = Vit(1, 8, 2, 64, 4, 4)
    target = Vit(1, 8, 2, 64, 4, 4)
    target.load_state_dict(context.state_dict())
    for p in target.parameters():
        p.requires_grad = False
    predictor = Predictor(64, 32, 2, 2, 4)
    opt = torch.optim.AdamW(param_groups(context, predictor), lr=1e-3)
    x = torch.rand(batch, 1, 8, 8)
    masks = MultiBlockMask((4, 4))
    g = torch.Generator().manual_seed(7)

    def step(m=0.996):
        ctx_idx, tgt_idx = masks.sample(batch, g)
        step.tokens = (step.tokens[0] + ctx_idx.shape[1], step.tokens[1] + tgt_idx.shape[1], step.tokens[2] + 1)
        with torch.no_grad():
            h = F.layer_norm(target(x), (64,))
            t = torch.gather(h, 1, tgt_idx.unsqueeze(-1).expand(-1, -1, 64))
        z = context(x, ctx_idx)
        loss = F.smooth_l1_loss(predictor(z, ctx_idx, tgt_idx), t)
        return update(loss, opt, target, context, m)
    step.tokens = (0, 0, 0)
    return step


def serve(step):
    import sys
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        n = int(words[1])
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(n):
            step()
        seconds = (time.perf_counter() - start) / n
        answer = {"seconds_per_step": seconds, "cpu_seconds_per_step": (time.process_time() - cpu) / n}
        tokens = getattr(step, "tokens", None)
        if tokens and tokens[2]:
            answer["mean_context_tokens"] = tokens[0] / tokens[2]
            answer["mean_target_tokens"] = tokens[1] / tokens[2]
        print(json.dumps(answer), flush=True)


MATMUL_SHAPES = [(256, 64, 256), (256, 256, 256), (256, 256, 128), (2048, 2048, 2048)]


def matmul_rates(reps):
    """Best GFLOP/s of torch.mm for the mlp's matrix shapes (m, k, n) and a large square one, over `reps` timings."""
    out = {}
    for m, k, n in MATMUL_SHAPES:
        a, b = torch.randn(m, k), torch.randn(k, n)
        inner = max(1, int(2e8 // (2 * m * k * n)))
        best = 0.0
        for r in range(reps + 1):
            start = time.perf_counter()
            for _ in range(inner):
                torch.mm(a, b)
            seconds = (time.perf_counter() - start) / inner
            if r:
                best = max(best, 2 * m * k * n / seconds)
        out[f"{m}x{k}x{n}"] = best / 1e9
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["mlp", "vit"])
    ap.add_argument("--matmul", type=int, default=0, help="print the GFLOP/s of torch.mm for the mlp's shapes (best of N) and exit")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--serve", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.matmul:
        print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "gflops": matmul_rates(args.matmul)}))
        return
    if args.model is None:
        ap.error("--model is required")
    torch.manual_seed(0)
    step = (make_mlp_step if args.model == "mlp" else make_vit_step)(args.batch)
    for _ in range(args.warmup):
        step()
    if args.serve:
        print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
        serve(step)
        return
    times = []
    for _ in range(args.reps):
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        times.append((time.perf_counter() - start) / args.steps)
    print(json.dumps({"model": args.model, "torch": torch.__version__, "threads": torch.get_num_threads(), "seconds_per_step": times}))


if __name__ == "__main__":
    main()
