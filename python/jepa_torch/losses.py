"""Prediction losses and anti-collapse regularizers, formula for formula as src/Jepa.Runtime/Losses.

Terms that couple the samples of a batch take the whole batch across processes:

* ``info_nce`` takes this process's predictions and the **gathered** targets of every process (its negatives);
* ``vicreg_variance``, ``vicreg_covariance`` and ``barlow_twins`` take gathered embeddings (their statistics are
  over the global batch);
* ``sigreg`` takes this process's embeddings and a ``reduce`` that sums its empirical characteristic function over
  processes (the statistic of the global batch, without moving the embeddings).

The gather and the reduction are autograd-aware (``jepa_torch.distributed``): their backward **sums** the gradient
over processes, and DistributedDataParallel **averages** the parameter gradients, so with N processes of B/N samples
every parameter gets the gradient of one process with B samples. Per-sample losses (mse, smooth_l1, l1, cosine) are
means over this process's part; DDP's average makes them the mean over the global batch.
"""
import torch
import torch.nn.functional as F


def _same_shape(pred, target):
    if pred.shape != target.shape:
        raise ValueError(f"The prediction {list(pred.shape)} and the target {list(target.shape)} differ in shape.")


def mse(pred, target):
    """``mean((p - t)^2)``."""
    _same_shape(pred, target)
    return F.mse_loss(pred, target)


def smooth_l1(pred, target, beta=1.0):
    """I-JEPA's loss: ``mean(l(p - t))``, ``l(x) = 0.5 x^2 / beta`` for ``|x| < beta``, else ``|x| - 0.5 beta``."""
    _same_shape(pred, target)
    return F.smooth_l1_loss(pred, target, beta=beta)


def l1(pred, target):
    """V-JEPA's loss: ``mean(|p - t|)``."""
    _same_shape(pred, target)
    return F.l1_loss(pred, target)


def _normalize(x):
    return x / x.norm(dim=-1, keepdim=True).clamp_min(1e-8)


def cosine(pred, target):
    """``1 - mean_i cos(p_i, t_i)`` over the vectors along the last dimension."""
    _same_shape(pred, target)
    return 1 - (_normalize(pred) * _normalize(target)).sum(-1).mean()


def flatten(z):
    """(n, d) as it is; tokens (B, N, D) as (B N, D): every token is a sample."""
    if z.dim() == 2:
        return z
    if z.dim() > 2:
        return z.reshape(-1, z.shape[-1])
    raise ValueError(f"Embeddings must be (n, d) or (B, N, D), got {list(z.shape)}.")


def info_nce(pred, targets, temperature, first=0):
    """One-directional InfoNCE: L2-normalised vectors, ``s_ij = p_i . t_j / temperature`` against **every** target of
    the global batch (tokens flattened), cross-entropy with the positive of query i at row ``first + i`` of
    ``targets``. ``pred`` is this process's part (rows ``first ..``), ``targets`` the gathered targets; with one
    process ``first = 0`` and this is C#'s ``Loss.InfoNce`` exactly. The mean over this process's queries; DDP
    averages the processes' means into the mean over all queries."""
    if not temperature > 0:
        raise ValueError(f"info_nce needs temperature > 0 (is {temperature}).")
    p = _normalize(flatten(pred))                                                   # (m, D): this process's queries
    t = _normalize(flatten(targets))                                                # (M, D): every target
    if t.shape[0] < 2:
        raise ValueError("info_nce needs at least two vectors in the batch (the others are its negatives).")
    logits = p @ t.t() / temperature                                                # (m, M)
    positives = torch.arange(first, first + p.shape[0], device=p.device)
    return F.cross_entropy(logits, positives)


def layer_norm(t):
    """``target_norm: layer``: layer norm over the last dimension without affine weights, eps 1e-5."""
    return F.layer_norm(t, t.shape[-1:], eps=1e-5)


def _samples(z, name):
    x = flatten(z)
    if x.shape[0] < 2:
        raise ValueError(f"{name} needs at least two embeddings in the batch to compute statistics.")
    return x


def vicreg_variance(z):
    """VICReg's variance term on the (gathered) batch: ``mean_j relu(1 - sqrt(Var(z_j) + 1e-4))``, unbiased variance."""
    x = _samples(z, "vicreg")
    return F.relu(1 - (x.var(0) + 1e-4).sqrt()).mean()


def vicreg_covariance(z):
    """VICReg's covariance term on the (gathered) batch: ``sum_{i != j} C_ij^2 / d``, ``C = Zc^T Zc / (n - 1)``."""
    x = _samples(z, "vicreg")
    n, d = x.shape
    centred = x - x.mean(0)
    cov = centred.t() @ centred / (n - 1)                                           # (d, d)
    return (cov.square().sum() - cov.diagonal().square().sum()) / d


def _standardise(x):
    return (x - x.mean(0)) / (x.var(0, unbiased=False) + 1e-5).sqrt()


def barlow_twins(z1, z2, lam):
    """Barlow Twins on (gathered) views: standardised per dimension over the batch, ``c = z1n^T z2n / n``,
    ``sum_i (1 - c_ii)^2 + lambda sum_{i != j} c_ij^2``."""
    _same_shape(z1, z2)
    a, b = _standardise(_samples(z1, "barlow_twins")), _standardise(_samples(z2, "barlow_twins"))
    c = a.t() @ b / a.shape[0]                                                      # (d, d)
    diagonal = c.diagonal()
    return (1 - diagonal).square().sum() + lam * (c.square().sum() - diagonal.square().sum())


def sigreg_directions(width, count, g):
    """SIGReg's random unit directions (d, M): Gaussian, normalised per column; drawn from the step's generator,
    which is the same on every process, so every process projects on the same directions."""
    if count < 1:
        raise ValueError(f"sigreg needs at least one direction (is {count}).")
    a = torch.randn((width, count), generator=g, device=g.device, dtype=torch.float32)
    return a / a.norm(dim=0, keepdim=True)


def epps_pulley_grid(dtype, device, t_max=3.0, knots=17):
    """Knots on [0, 3], trapezoid weights doubled for symmetry times w(t) = exp(-t^2/2), and phi(t) = exp(-t^2/2)."""
    t = torch.linspace(0, t_max, knots, dtype=dtype, device=device)
    dt = t_max / (knots - 1)
    trapezoid = torch.full((knots,), 2 * dt, dtype=dtype, device=device)
    trapezoid[0] = dt
    trapezoid[-1] = dt
    phi = (t.square() * -0.5).exp()
    return t, trapezoid * phi, phi


def _identity(x):
    return x


def sigreg(z, directions, reduce=_identity):
    """LeJEPA's SIGReg for unit directions (d, M): per projection the Epps-Pulley statistic
    ``n * integral w(t) |phi_n(t) - exp(-t^2/2)|^2 dt`` on [-3, 3] (trapezoid, 17 knots on [0, 3], doubled), averaged
    over the directions. ``phi_n`` is the empirical characteristic function of the **global** batch: ``reduce`` sums
    the per-process sums of ``cos`` and ``sin`` (and the sample counts) over processes; n is the global count."""
    x = _samples(z, "sigreg")
    t, weights, phi = epps_pulley_grid(x.dtype, x.device)
    xt = (x @ directions.to(x.dtype)).unsqueeze(-1) * t                             # (n_local, M, T)
    count = torch.tensor([float(x.shape[0])], dtype=x.dtype, device=x.device)
    sums = reduce(torch.cat([xt.cos().sum(0).flatten(), xt.sin().sum(0).flatten(), count]))
    n = sums[-1]
    m, k = xt.shape[1], xt.shape[2]
    cos_mean = sums[:m * k].reshape(m, k) / n                                       # (M, T)
    sin_mean = sums[m * k:2 * m * k].reshape(m, k) / n
    err = (cos_mean - phi).square() + sin_mean.square()
    return (err @ weights * n).mean()
