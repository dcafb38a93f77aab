"""The building blocks of docs/models.md, layer for layer as src/Jepa.Runtime/Models builds them.

State-dict names are those of the TorchSharp modules (their field names, hence ``patchEmbed``, ``posEmbed`` and
``maskToken`` in camel case), so a state dict moves between the two through TorchSharp.PyBridge unchanged.
"""
from collections import OrderedDict
import math

import torch
from torch import nn
import torch.nn.functional as F

ACTIVATIONS = {"gelu": nn.GELU, "relu": nn.ReLU, "silu": nn.SiLU, "tanh": nn.Tanh}


def _product(shape):
    n = 1
    for s in shape:
        n *= int(s)
    return n


class MlpEncoder(nn.Module):
    """``mlp(hidden: [h1..hn], out: o, norm, act)``: per hidden width ``Linear``, the norm, the activation; then
    ``Linear(prev, o)``. The input is flattened; as a predictor on tokens (input shape ``[D]`` and an input
    ``(B, N, D)``) it applies to every token. Names: ``layers.fc{i}``, ``layers.norm{i}``, ``layers.act{i}``, ``layers.out``."""

    def __init__(self, input_shape, hidden, out, norm="none", act="gelu"):
        super().__init__()
        if out < 1:
            raise ValueError(f"The output width must be at least 1 (is {out}).")
        self.input_shape = tuple(int(s) for s in input_shape)
        self.output_width = out
        layers, prev = [], _product(self.input_shape)
        for i, h in enumerate(hidden):
            layers.append((f"fc{i}", nn.Linear(prev, h)))
            if norm == "layer":
                layers.append((f"norm{i}", nn.LayerNorm(h)))
            elif norm == "batch":
                layers.append((f"norm{i}", nn.BatchNorm1d(h)))
            elif norm != "none":
                raise ValueError(f"Unknown norm '{norm}' (none, layer or batch).")
            layers.append((f"act{i}", ACTIVATIONS[act]()))
            prev = h
        layers.append(("out", nn.Linear(prev, out)))
        self.layers = nn.Sequential(OrderedDict(layers))

    def forward(self, x):
        rank = len(self.input_shape)
        # Leading dimensions: everything before the sample shape, or just the batch for flattened samples.
        lead = x.shape[:-rank] if x.dim() > rank and tuple(x.shape[-rank:]) == self.input_shape else x.shape[:1]
        y = self.layers(x.reshape(_product(lead), -1))                              # (M, o)
        return y.reshape(*lead, self.output_width)                                  # (*lead, o)


class ConvEncoder(nn.Module):
    """``conv(channels: [c1..cn], kernel: k, pool, out: o, norm, groups)``: per stage ``Conv2d(prev, c_i, k, padding
    (k-1)/2)``, the norm, GELU, ``MaxPool2d(2, 2)``; a global mean or max over the remaining positions and
    ``Linear(c_n, o)``. The norm: ``batch`` ``BatchNorm2d(c_i)`` (couples the samples of a batch; under several
    processes ``Distributed.wrap`` gives it the global batch's statistics), ``group`` ``GroupNorm(groups, c_i)``,
    ``layer`` ``GroupNorm(1, c_i)``, ``none``; weight 1 and bias 0 at the start (no random draws, so the initial
    weights stay those of the generated experiment). A flattened sample is reshaped; a (B, c, h', w') batch of another
    size (a smaller crop) passes as it is. Names: ``stages.conv{i}``, ``stages.norm{i}``, ``head``."""

    def __init__(self, input_shape, channels, kernel=3, pool="mean", out=128, norm="none", groups=8):
        super().__init__()
        if len(input_shape) != 3:
            raise ValueError(f"conv needs an input shape [c, h, w], not {list(input_shape)}.")
        if not channels:
            raise ValueError("conv needs at least one stage.")
        if kernel < 1:
            raise ValueError(f"The kernel must be at least 1 (is {kernel}).")
        if norm == "group" and groups < 1:
            raise ValueError(f"Group norm needs at least one group (is {groups}).")
        self.input_shape = tuple(int(s) for s in input_shape)
        self.pool, self.kernel, self.stage_count = pool, kernel, len(channels)
        self.output_width = out
        self._check_size(self.input_shape[1], self.input_shape[2])
        prev, padding = self.input_shape[0], (kernel - 1) // 2
        stages = []
        for i, c in enumerate(channels):
            stages.append((f"conv{i}", nn.Conv2d(prev, c, kernel, stride=1, padding=padding)))
            normalisation = _conv_norm(norm, c, groups, i)
            if normalisation is not None:
                stages.append((f"norm{i}", normalisation))
            stages += [(f"act{i}", nn.GELU()), (f"pool{i}", nn.MaxPool2d(2, 2))]
            prev = c
        self.stages = nn.Sequential(OrderedDict(stages))
        self.head = nn.Linear(prev, out)

    def _check_size(self, h, w):
        """Refuses an h x w input that a stage shrinks below one pixel."""
        padding = (self.kernel - 1) // 2
        h0, w0 = h, w
        for i in range(self.stage_count):
            h, w = (h + 2 * padding - self.kernel + 1) // 2, (w + 2 * padding - self.kernel + 1) // 2
            if h < 1 or w < 1:
                raise ValueError(f"conv stage {i + 1} shrinks the {h0}x{w0} input below one pixel.")

    def forward(self, x):
        c = self.input_shape[0]
        image = x if x.dim() == 4 and x.shape[1] == c else x.reshape(x.shape[0], *self.input_shape)   # (B, c, h, w)
        self._check_size(image.shape[2], image.shape[3])
        flat = self.stages(image).flatten(2)                                        # (B, c_n, s*s)
        pooled = flat.mean(2) if self.pool == "mean" else flat.amax(2)              # (B, c_n)
        return self.head(pooled)                                                    # (B, o)


def _conv_norm(norm, channels, groups, stage):
    if norm == "none":
        return None
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "layer":
        return _initialised(nn.GroupNorm(1, channels))
    if norm == "group":
        if channels % groups:
            raise ValueError(f"conv stage {stage + 1} has {channels} channels, which {groups} groups do not divide; "
                             "choose groups that divide every stage's channels.")
        return _initialised(nn.GroupNorm(groups, channels))
    raise ValueError(f"Unknown norm '{norm}' (none, batch, group or layer).")


def _initialised(norm):
    """Group norm's weight 1 and bias 0 (PyTorch's own initialisation, set explicitly as C# must: TorchSharp 0.107's
    GroupNorm leaves both uninitialised)."""
    with torch.no_grad():
        norm.weight.fill_(1)
        norm.bias.zero_()
    return norm


def sincos_2d(dim, height, width):
    """Fixed 2-D sine-cosine positional embedding (H*W, D): the first half of the channels encodes the column, the
    second the row, each ``[sin(pos w_i), cos(pos w_i)]`` with ``w_i = 1 / 10000^(i / (D/4))``; row-major tokens;
    the last ``D mod 4`` channels are zero. Computed with the C library's sin, cos and pow in double precision, as the
    C# code computes it, so both tables are the same to the bit."""
    quarter = dim // 4
    table = torch.zeros(height * width, dim, dtype=torch.float64)
    omegas = [1.0 / math.pow(10000.0, i / quarter) for i in range(quarter)]
    for r in range(height):
        for c in range(width):
            row = [math.sin(c * w) for w in omegas] + [math.cos(c * w) for w in omegas] + \
                  [math.sin(r * w) for w in omegas] + [math.cos(r * w) for w in omegas]
            table[r * width + c, :4 * quarter] = torch.tensor(row, dtype=torch.float64)
    return table.to(torch.float32)


def gather_tokens(tokens, idx):
    """The tokens at the given positions of each sample: (B, N, D) and (B, K) int64 -> (B, K, D)."""
    return tokens.gather(1, idx.unsqueeze(-1).expand(idx.shape[0], idx.shape[1], tokens.shape[2]))


def mean_pool(tokens):
    """The mean over tokens: (B, N, D) -> (B, D)."""
    return tokens.mean(1)


def _positions(table, idx):
    """Rows of a positional table at the given positions: (N, D) and (B, K) -> (B, K, D)."""
    return table.index_select(0, idx.reshape(-1)).reshape(idx.shape[0], idx.shape[1], table.shape[1])


def _trunc_normal_(t, std):
    """N(0, std^2) truncated to [-2 std, 2 std] by the inverse CDF, as src/Jepa.Runtime/Models/Init.cs."""
    bound = 0.9544997361036416  # erf(sqrt(2))
    with torch.no_grad():
        return t.uniform_(-bound, bound).erfinv_().mul_(std * math.sqrt(2.0)).clamp_(-2 * std, 2 * std)


def _attention(q, k, v):
    """Softmax attention (B, H, N, Dh); PyTorch 2's fused kernel where it exists, the plain formula on 1.13."""
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v)
    weights = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
    return weights.softmax(-1) @ v


class TransformerBlock(nn.Module):
    """Pre-norm block ``x = x + Attn(LN(x)); x = x + MLP(LN(x))`` (ViT / I-JEPA). Names: norm1, qkv, proj, norm2, fc1, act, fc2."""

    def __init__(self, dim, heads, mlp_ratio=4):
        super().__init__()
        if heads < 1 or dim % heads:
            raise ValueError(f"The width {dim} is not divisible by {heads} heads.")
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, mlp_ratio * dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(mlp_ratio * dim, dim)

    def forward(self, x):
        x = x + self._attention(self.norm1(x))                                     # (B, N, D)
        return x + self.fc2(self.act(self.fc1(self.norm2(x))))

    def _attention(self, x):
        b, n, d = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)   # 3 x (B, H, N, Dh)
        return self.proj(_attention(q, k, v).transpose(1, 2).reshape(b, n, d))                     # (B, N, D)

    def initialize(self, layer, std):
        """I-JEPA's initialisation: Linear weights truncated normal, biases zero; residual projections / sqrt(2 layer)."""
        with torch.no_grad():
            for linear in (self.qkv, self.proj, self.fc1, self.fc2):
                _trunc_normal_(linear.weight, std)
                linear.bias.zero_()
            self.proj.weight.div_(math.sqrt(2.0 * layer))
            self.fc2.weight.div_(math.sqrt(2.0 * layer))


class VitEncoder(nn.Module):
    """``vit(patch: p, dim: D, depth: L, heads: H, pool?)`` without a class token: ``Conv2d(c, D, p, stride p)`` patch
    embedding, fixed sin-cos positions (a buffer), L blocks, ``LayerNorm(D)``; tokens (B, N, D), or their mean/max
    with a pool. ``forward(x, keep)`` keeps only the tokens at ``keep`` (B, K) before the blocks (I-JEPA's apply_masks).
    Names: ``patchEmbed``, ``blocks.{i}``, ``norm``, ``posEmbed``."""

    def __init__(self, input_shape, patch, dim, depth, heads, pool=None, init_std=0.02):
        super().__init__()
        c, h, w = (int(s) for s in input_shape)
        if patch < 1 or h % patch or w % patch:
            raise ValueError(f"The patch size {patch} does not divide the {h}x{w} image.")
        self.input_shape = (c, h, w)
        self.pool = pool
        self.grid = (h // patch, w // patch)
        self.dim = dim
        self.patchEmbed = nn.Conv2d(c, dim, patch, stride=patch)
        self.blocks = nn.ModuleList([TransformerBlock(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.register_buffer("posEmbed", sincos_2d(dim, *self.grid))                  # (N, D)
        with torch.no_grad():
            _trunc_normal_(self.patchEmbed.weight, init_std)
            self.patchEmbed.bias.zero_()
        for i, block in enumerate(self.blocks):
            block.initialize(i + 1, init_std)

    @property
    def token_count(self):
        return self.grid[0] * self.grid[1]

    def forward(self, x, keep=None):
        image = x.reshape(x.shape[0], *self.input_shape)                           # (B, c, h, w)
        tokens = self.patchEmbed(image).flatten(2).transpose(1, 2) + self.posEmbed  # (B, N, D), row-major
        if keep is not None:
            tokens = gather_tokens(tokens, keep)                                    # (B, K, D)
        for block in self.blocks:
            tokens = block(tokens)
        tokens = self.norm(tokens)
        if self.pool is None:
            return tokens                                                           # (B, K, D)
        return mean_pool(tokens) if self.pool == "mean" else tokens.amax(1)         # (B, D)


class TransformerPredictor(nn.Module):
    """``transformer(dim: Dp, depth: L, heads: H)``, I-JEPA's predictor: ``Linear(D, Dp)`` on the context tokens plus
    their positions; a learned mask token plus the position of each target; L blocks, ``LayerNorm(Dp)``; the outputs
    at the mask tokens through ``Linear(Dp, D)``. All target blocks are predicted in one pass.
    Names: ``embed``, ``maskToken``, ``blocks.{i}``, ``norm``, ``proj``, ``posEmbed``."""

    def __init__(self, encoder_dim, dim, depth, heads, grid, init_std=0.02):
        super().__init__()
        self.grid = tuple(grid)
        self.embed = nn.Linear(encoder_dim, dim)
        self.maskToken = nn.Parameter(torch.zeros(1, 1, dim))
        self.blocks = nn.ModuleList([TransformerBlock(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.proj = nn.Linear(dim, encoder_dim)
        self.register_buffer("posEmbed", sincos_2d(dim, *self.grid))                  # (N, Dp)
        with torch.no_grad():
            for linear in (self.embed, self.proj):
                _trunc_normal_(linear.weight, init_std)
                linear.bias.zero_()
            _trunc_normal_(self.maskToken, init_std)
        for i, block in enumerate(self.blocks):
            block.initialize(i + 1, init_std)

    def forward(self, context, context_idx, target_idx):
        b, nt = context.shape[0], target_idx.shape[1]
        x = self.embed(context) + _positions(self.posEmbed, context_idx)            # (B, Nc, Dp)
        m = self.maskToken.expand(b, nt, -1) + _positions(self.posEmbed, target_idx)  # (B, Nt, Dp)
        z = torch.cat([x, m], 1)                                                    # (B, Nc + Nt, Dp)
        for block in self.blocks:
            z = block(z)
        return self.proj(self.norm(z)[:, -nt:])                                     # (B, Nt, D)


class Identity(nn.Module):
    """``predictor = none``: the context representation is the prediction. No parameters."""

    def forward(self, x):
        return x


class Projected(nn.Module):
    """An encoder with its projector head (``projector = mlp(...)``), C#'s ``Projected<T>``: ``forward`` is the
    projector on the encoder's output (token by token for a token encoder), which the loss and the regularizers read;
    ``encoder`` is the backbone, whose output ``encode``, the probes and the collapse monitor read. One module, so that an
    EMA copy, a stop-gradient view, DDP and the optimizer treat the pair as the encoder alone is treated. Names:
    ``encoder.*`` and ``projector.*``."""

    def __init__(self, encoder, projector):
        super().__init__()
        self.encoder, self.projector = encoder, projector
        self.output_width = projector.output_width

    def forward(self, x, keep=None):
        """(B, ...) -> (B, P), or tokens (B, N, P); with ``keep`` (a vit's kept tokens) (B, K, P)."""
        if keep is None:
            return self.projector(self.encoder(x))
        if not isinstance(self.encoder, VitEncoder):
            raise ValueError(f"Only a vit encoder keeps masked tokens; this projected encoder wraps a {type(self.encoder).__name__}.")
        return self.projector(self.encoder(x, keep))
