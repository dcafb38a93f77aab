"""The deterministic cores of the image augmentations, operation for operation as src/Jepa.Runtime/Masks/ImageOps.cs
computes them: a whole batch at once with one parameter per sample (a (B) tensor), as
``torchvision.transforms.functional`` computes them for one image. Images are (B, C, H, W) floats in [0, 1]. No loop
over samples or pixels, so they run where the images are (CPU or GPU); given the same parameters the two runtimes
agree to float rounding (tests/Jepa.PyTorch.Tests/BlockParityTests.cs).
"""
import math

import torch
import torch.nn.functional as F

#: ITU-R 601-2 luma weights of (R, G, B), as torchvision's ``rgb_to_grayscale``.
LUMA = (0.2989, 0.587, 0.114)

#: The smallest normal float32: hue divides by at least this, so grey pixels (chroma 0) give 0 without a select.
_SMALLEST_NORMAL = float(torch.finfo(torch.float32).tiny)


def _check(images, op):
    if images.dim() != 4:
        raise ValueError(f"{op} needs images (B, C, H, W), got {list(images.shape)}.")


def _check_rgb(images, op):
    _check(images, op)
    if images.shape[1] != 3:
        raise ValueError(f"{op} needs 3 colour channels (R, G, B), got {images.shape[1]}.")


def _per_sample(parameter, images):
    """A (B) parameter as (B, 1, 1, 1) in the images' type and device."""
    return parameter.to(images.device, images.dtype).view(-1, 1, 1, 1)


def _blend(a, b, f):
    """``clamp(f a + (1 - f) b, 0, 1)``, torchvision's ``_blend`` for float images."""
    return (f * a + (1 - f) * b).clamp(0, 1)


def resized_crop(images, top, left, height, width, size):
    """``resized_crop``: sample i's box ``[top, top + height) x [left, left + width)`` (whole pixels, inside the image)
    resized to ``size`` (H', W') by bilinear interpolation with ``align_corners=False`` and no antialiasing (output pixel
    o reads crop coordinate ``(o + 1/2) width / out - 1/2``, clamped to ``[0, width - 1]``); one ``grid_sample`` for the
    batch. (B, C, H, W) -> (B, C, H', W')."""
    _check(images, "resized_crop")
    oh, ow = int(size[0]), int(size[1])
    if oh < 1 or ow < 1:
        raise ValueError(f"The output size must be at least 1x1, got {oh}x{ow}.")
    b, h, w = images.shape[0], images.shape[2], images.shape[3]
    y = _source_coordinates(top, height, oh, h, images.device)                     # (B, oh) in [-1, 1]
    x = _source_coordinates(left, width, ow, w, images.device)                     # (B, ow)
    grid = torch.stack([x.unsqueeze(1).expand(b, oh, ow), y.unsqueeze(2).expand(b, oh, ow)], 3)   # (B, oh, ow, 2)
    return F.grid_sample(images, grid.to(images.dtype), mode="bilinear", padding_mode="border", align_corners=False)


def _source_coordinates(start, length, out, size, device):
    """Where each output pixel along one axis reads, in ``grid_sample``'s normalised coordinates (B, out)."""
    length = length.to(device, torch.float64).unsqueeze(1)                          # (B, 1)
    o = torch.arange(out, dtype=torch.float64, device=device) + 0.5                # (out)
    in_crop = (o * length / out - 0.5).clamp_min(0).minimum(length - 1)            # (B, out) crop pixels
    pixel = in_crop + start.to(device, torch.float64).unsqueeze(1)                  # image pixels
    return (pixel * 2 + 1) / size - 1                                               # align_corners=False


def rotate(images, angles, fill=0.0):
    """``rotate`` as torchvision's ``RandomRotation`` applies it: sample i turned by ``angles[i]`` degrees
    counter-clockwise about the image's centre, bilinear, the output the input's size, the area from outside the image
    set to ``fill``. Output pixel (x, y), in pixels from the centre (y down), reads the input at
    (x cos a - y sin a, x sin a + y cos a) (``_warp``). (B, C, H, W) -> (B, C, H, W)."""
    _check(images, "rotate")
    radians = angles.to(torch.float64).to(images.device) * (math.pi / 180)                     # (B)
    cos, sin = radians.cos(), radians.sin()
    zero = torch.zeros_like(cos)
    return _warp(images, torch.stack([cos, -sin, zero, sin, cos, zero], 1), fill)


def affine(images, angles, translate_x, translate_y, scales, shear_x, shear_y, fill=0.0):
    """``affine`` as torchvision's ``RandomAffine`` applies it to a tensor: sample i rotated by ``angles[i]`` degrees
    (clockwise when positive, torchvision's convention for ``affine``), zoomed by ``scales[i]``, sheared by
    ``shear_x[i]`` and ``shear_y[i]`` degrees and moved by (``translate_x[i]``, ``translate_y[i]``) pixels about the
    image's centre; bilinear, the area from outside set to ``fill``. The inverse matrix is torchvision's
    ``_get_inverse_affine_matrix`` with the centre at 0. (B, C, H, W) -> (B, C, H, W)."""
    _check(images, "affine")

    def f64(t):
        return t.to(torch.float64).to(images.device)

    r, sx, sy = (f64(t) * (math.pi / 180) for t in (angles, shear_x, shear_y))
    cos_sy = sy.cos()
    a = (r - sy).cos() / cos_sy
    b = -(r - sy).cos() * sx.tan() / cos_sy - r.sin()
    c = (r - sy).sin() / cos_sy
    d = -(r - sy).sin() * sx.tan() / cos_sy + r.cos()
    scale = f64(scales)
    m0, m1, m3, m4 = d / scale, -b / scale, -c / scale, a / scale
    tx, ty = -f64(translate_x), -f64(translate_y)
    return _warp(images, torch.stack([m0, m1, m0 * tx + m1 * ty, m3, m4, m3 * tx + m4 * ty], 1), fill)


def _warp(images, matrices, fill):
    """Output pixel (x, y), in pixels from the centre (``x = j - (W - 1) / 2``, y down), reads the input at
    (m0 x + m1 y + m2, m3 x + m4 y + m5) for sample i's row m of ``matrices`` (B, 6) float64, sampled and blended
    with the fill by ``_sample``."""
    b, c, h, w = images.shape
    m = matrices.view(b, 6, 1, 1).unbind(1)                                         # 6 x (B, 1, 1)
    x = (torch.arange(w, dtype=torch.float64, device=images.device) - (w - 1) / 2).view(1, 1, w)
    y = (torch.arange(h, dtype=torch.float64, device=images.device) - (h - 1) / 2).view(1, h, 1)
    grid = torch.stack([(x * m[0] + y * m[1] + m[2]) / (w / 2), (x * m[3] + y * m[4] + m[5]) / (h / 2)], 3)
    return _sample(images, grid.to(images.dtype), fill)


def elastic(images, displacement, fill=0.0):
    """``elastic_transform`` as torchvision applies it to a tensor: output pixel (j, i) of sample b reads the input at its
    own position plus ``displacement[b, i, j]`` (x then y), in ``grid_sample``'s normalised coordinates (pixel j's centre
    at ``(2 j + 1) / W - 1``); bilinear, the area from outside the image set to ``fill``.
    (B, C, H, W), (B, H, W, 2) -> (B, C, H, W)."""
    _check(images, "elastic")
    b, _, h, w = images.shape
    if tuple(displacement.shape) != (b, h, w, 2):
        raise ValueError(f"elastic needs a displacement ({b}, {h}, {w}, 2) for images {tuple(images.shape)}, got {tuple(displacement.shape)}.")
    x = ((torch.arange(w, dtype=torch.float64, device=images.device) * 2 + 1) / w - 1).view(1, w).expand(h, w)
    y = ((torch.arange(h, dtype=torch.float64, device=images.device) * 2 + 1) / h - 1).view(h, 1).expand(h, w)
    identity = torch.stack([x, y], 2).to(images.dtype).unsqueeze(0)                 # (1, H, W, 2)
    return _sample(images, identity + displacement.to(images.device, images.dtype), fill)


def _sample(images, grid, fill):
    """torchvision's ``_apply_grid_transform``: one bilinear ``grid_sample`` (zeros outside, ``align_corners=False``)
    over the image and a channel of ones, and the pixels blended with the fill by that channel: ``v m + (1 - m) fill``.
    grid (B, H', W', 2) -> (B, C, H', W')."""
    b, c, h, w = images.shape
    with_mask = torch.cat([images, torch.ones(b, 1, h, w, dtype=images.dtype, device=images.device)], 1)
    sampled = F.grid_sample(with_mask, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    mask = sampled[:, c:]
    return sampled[:, :c] * mask + (1 - mask) * fill


def adjust_brightness(images, factor):
    """``adjust_brightness``: ``clamp(f x, 0, 1)``, any number of channels."""
    return (_per_sample(factor, images) * images).clamp(0, 1)


def adjust_contrast(images, factor):
    """``adjust_contrast``: ``clamp(f x + (1 - f) m, 0, 1)``, m the sample's mean grey level: the mean luma for 3
    channels, the mean over every channel and pixel otherwise."""
    grey = grayscale(images) if images.shape[1] == 3 else images
    mean = grey.mean([1, 2, 3], keepdim=True)                                       # (B, 1, 1, 1)
    return _blend(images, mean, _per_sample(factor, images))


def adjust_saturation(images, factor):
    """``adjust_saturation``: ``clamp(f x + (1 - f) luma(x), 0, 1)``; 3 channels."""
    _check_rgb(images, "saturation")
    return _blend(images, grayscale(images), _per_sample(factor, images))


def adjust_hue(images, shift):
    """``adjust_hue``: each pixel's hue turned by ``shift`` (turns, [-0.5, 0.5]), its value (largest channel) and chroma
    (largest minus smallest) kept; 3 channels. The hue in sixths of a turn comes from the largest channel (red first,
    then green, on ties), back to RGB with ``max - chroma clamp(min(k, 4 - k), 0, 1)``, ``k = (n + hue) mod 6`` for
    n = 5, 3, 1 (R, G, B). Masks are 0/1 factors, as in C# (exact, and no select on per-pixel conditions)."""
    _check_rgb(images, "hue")
    r, g, b = images[:, 0], images[:, 1], images[:, 2]                              # (B, H, W)
    largest = images.amax(1)
    chroma = largest - images.amin(1)
    c = chroma.clamp_min(_SMALLEST_NORMAL)
    is_red = largest.eq(r).to(images.dtype)
    is_green = largest.eq(g).to(images.dtype) * (1 - is_red)
    is_blue = 1 - is_red - is_green
    sixths = is_red * ((g - b) / c) + is_green * ((b - r) / c + 2) + is_blue * ((r - g) / c + 4)   # (B, H, W) in (-1, 5]
    turned = (sixths + (shift.to(images.device, images.dtype) * 6).view(-1, 1, 1)).remainder_(6.0)
    channels = []
    for n in (5.0, 3.0, 1.0):
        k = (turned + n).remainder_(6.0)
        channels.append(largest - chroma * torch.minimum(k, 4 - k).clamp_(0, 1))
    return torch.stack(channels, 1)                                                 # (B, 3, H, W)


def grayscale(images):
    """``rgb_to_grayscale``: ``0.2989 R + 0.587 G + 0.114 B``. (B, 3, H, W) -> (B, 1, H, W)."""
    _check_rgb(images, "grayscale")
    return images[:, 0:1] * LUMA[0] + images[:, 1:2] * LUMA[1] + images[:, 2:3] * LUMA[2]


def gaussian_blur(images, kernel_size, sigma):
    """``gaussian_blur`` with a k x k kernel and sample i's ``sigma_i`` on both axes: weights ``exp(-t^2 / (2 sigma^2))``
    at ``t = -(k - 1)/2 .. (k - 1)/2``, normalised, reflect padding of k // 2 (so ``k // 2 < min(H, W)``), in its
    separable form: per axis one batched matrix product with a per-sample (n, n) matrix holding the kernel with the
    reflection folded in."""
    _check(images, "gaussian_blur")
    h, w = images.shape[2], images.shape[3]
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"The blur kernel size must be odd and positive, got {kernel_size}.")
    half = kernel_size // 2
    if half >= min(h, w):
        raise ValueError(f"A blur kernel of {kernel_size} needs images larger than {half}x{half} (reflect padding), got {h}x{w}.")
    t = torch.linspace(-half, half, kernel_size, dtype=images.dtype, device=images.device)   # (k)
    s = sigma.to(images.device, images.dtype).unsqueeze(1)                          # (B, 1)
    weights = (-(t * t) / (2 * s * s)).exp()                                        # (B, k)
    weights = weights / weights.sum(1, keepdim=True)
    rows = _reflected_kernel(weights, h, half)                                      # (B, H, H)
    cols = _reflected_kernel(weights, w, half)                                      # (B, W, W)
    return rows.unsqueeze(1).matmul(images).matmul(cols.transpose(1, 2).unsqueeze(1))   # (B, C, H, W)


def _reflected_kernel(weights, n, half):
    """Per-sample (n, n) matrices applying a 1-D kernel (B, k) with reflect padding along an axis of length n:
    ``M[i, j]`` = the sum of the weights ``w_t`` with ``reflect(i + t) = j``."""
    device = weights.device
    source = torch.arange(n, dtype=torch.int64, device=device).unsqueeze(1) + torch.arange(-half, half + 1, dtype=torch.int64, device=device)
    source = source.abs()                                                           # reflect at 0: -1 -> 1
    source = torch.where(source.gt(n - 1), 2 * (n - 1) - source, source)            # reflect at n - 1
    b, k = weights.shape[0], 2 * half + 1
    index = source.unsqueeze(0).expand(b, n, k)                                     # (B, n, k)
    return torch.zeros(b, n, n, dtype=weights.dtype, device=device).scatter_add(2, index, weights.unsqueeze(1).expand(b, n, k))


def solarize(images, threshold):
    """``solarize``: ``1 - x`` where ``x >= threshold``, else ``x``; one threshold per sample (``lerp`` with 0/1 weights)."""
    return images.lerp(1 - images, images.ge(_per_sample(threshold, images)).to(images.dtype))


def erase(images, top, left, height, width, value):
    """``erase``: sample i's box ``[top, top + height) x [left, left + width)`` set to ``value`` in every channel; a box
    of height or width 0 erases nothing."""
    _check(images, "erase")
    inside = box(top, left, height, width, images.shape[2], images.shape[3], images.device)   # (B, H, W)
    return images.masked_fill(inside.unsqueeze(1), value)


def mask_cells(images, keep, patch, value):
    """Pixel-level masking from token positions: the image cut into ``patch`` x ``patch`` cells (the last row and column
    smaller when ``patch`` does not divide the size), numbered row-major on a ``ceil(H / patch) x ceil(W / patch)``
    grid; every pixel of a cell not in sample i's ``keep`` (B, K) indices becomes ``value`` in every channel."""
    _check(images, "mask_cells")
    if patch < 1:
        raise ValueError(f"The cell size must be at least 1 pixel, got {patch}.")
    b, h, w = images.shape[0], images.shape[2], images.shape[3]
    gh, gw = -(-h // patch), -(-w // patch)
    device = images.device
    keep = keep.to(device)
    kept = torch.zeros(b, gh * gw, dtype=torch.bool, device=device).scatter(1, keep, torch.ones(keep.shape, dtype=torch.bool, device=device))
    cell_row = torch.div(torch.arange(h, dtype=torch.int64, device=device), patch, rounding_mode="floor")   # (H)
    cell_col = torch.div(torch.arange(w, dtype=torch.int64, device=device), patch, rounding_mode="floor")   # (W)
    cell_of_pixel = (cell_row.unsqueeze(1) * gw + cell_col.unsqueeze(0)).view(1, h * w).expand(b, h * w)   # (B, H W)
    kept_pixel = kept.gather(1, cell_of_pixel).view(b, 1, h, w)                     # (B, 1, H, W)
    return images.masked_fill(kept_pixel.logical_not(), value)


def box(top, left, height, width, h, w, device):
    """Boxes as masks (B, H, W): rows ``[top, top + height)``, columns ``[left, left + width)``."""
    t, l = top.to(device, torch.int64).unsqueeze(1), left.to(device, torch.int64).unsqueeze(1)
    r = torch.arange(h, dtype=torch.int64, device=device)
    c = torch.arange(w, dtype=torch.int64, device=device)
    in_rows = r.ge(t) & r.lt(t + height.to(device, torch.int64).unsqueeze(1))     # (B, H)
    in_cols = c.ge(l) & c.lt(l + width.to(device, torch.int64).unsqueeze(1))      # (B, W)
    return in_rows.unsqueeze(2) & in_cols.unsqueeze(1)
