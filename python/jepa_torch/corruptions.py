"""Corruptions of the context view, image augmentations and token masks, as src/Jepa.Runtime/Masks defines them.

Randomness across processes: every random number is drawn for the **global** batch from the step's generator (the same
on every process) and each process keeps the rows of its part (``BatchPart``). N processes therefore see exactly the
views and masks one process sees with the whole batch, at the cost of drawing the whole batch's numbers everywhere
(cheap next to the forward pass: a few numbers per sample, or one per input element for noise and dropout).

The image links (``RandomResizedCrop``, ``HorizontalFlip``, ``RandomRotation``, ``RandomAffine``, ``ElasticTransform``, ``ColorJitter``, ``Grayscale``,
``GaussianBlur``, ``Solarize``, ``RandomErasing``, ``PixelMask``) split into ``sample(batch, h, w, g)``, the raw draws of a batch in the
order and shape the C# link draws them (a dict of tensors), and ``apply(x, draws)``, which turns draws into parameters
and calls the batched cores of ``image_ops``. The same draws give the same images in both runtimes (passed as tensors
in the parity tests); ``link(x, g, part)`` draws for the global batch and applies this process's rows.
"""
from dataclasses import dataclass
import math

import torch
import torch.nn.functional as F

from . import image_ops


@dataclass(frozen=True)
class BatchPart:
    """Rows [start, stop) of a global batch of ``total`` samples: the part one process trains on."""
    start: int
    stop: int
    total: int

    @staticmethod
    def whole(total):
        return BatchPart(0, total, total)

    @property
    def size(self):
        return self.stop - self.start

    def of(self, t):
        """This part's rows of a tensor drawn for the global batch."""
        return t[self.start:self.stop]


def _uniform(shape, g):
    return torch.rand(shape, generator=g, device=g.device, dtype=torch.float32)


def _normal(shape, g):
    return torch.randn(shape, generator=g, device=g.device, dtype=torch.float32)


def _integers(high, shape, g):
    return torch.randint(0, high, shape, generator=g, device=g.device, dtype=torch.int64)


def _global_shape(x, part):
    return (part.total, *x.shape[1:])


class GaussianNoise:
    """``gaussian_noise(std)``: ``x + std * e``, ``e ~ N(0, 1)`` per element."""

    def __init__(self, std):
        if not std >= 0:
            raise ValueError(f"The noise std must be non-negative (is {std}).")
        self.std = std

    def __call__(self, x, g, part):
        e = part.of(_normal(_global_shape(x, part), g)).to(x.device, x.dtype)
        return x + e * self.std


class FeatureDropout:
    """``feature_dropout(p)``: every element zeroed with probability p, the kept ones **not** rescaled."""

    def __init__(self, p):
        if not 0 <= p < 1:
            raise ValueError(f"feature_dropout needs p in [0, 1) (is {p}).")
        self.p = p

    def __call__(self, x, g, part):
        u = part.of(_uniform(_global_shape(x, part), g)).to(x.device, x.dtype)
        return x * u.ge(self.p).to(x.dtype)


class RandomFeatureMask:
    """``random_mask(ratio)`` on vectors: exactly ``round(ratio d)`` elements per sample (half away from zero) zeroed."""

    def __init__(self, ratio):
        if not 0 <= ratio <= 1:
            raise ValueError(f"random_mask needs a ratio in [0, 1] (is {ratio}).")
        self.ratio = ratio

    def masked_count(self, d):
        return int(math.floor(self.ratio * d + 0.5))

    def __call__(self, x, g, part):
        b, d = x.shape[0], x[0].numel()
        k = self.masked_count(d)
        order = part.of(_uniform((part.total, d), g).argsort(1)).to(x.device)       # (b, d): a permutation per sample
        keep = torch.ones(b, d, dtype=x.dtype, device=x.device)
        if k > 0:
            keep = keep.scatter(1, order[:, :k], torch.zeros(b, k, dtype=x.dtype, device=x.device))
        return x * keep.reshape(x.shape)


class RandomCrop:
    """``random_crop(scale, aspect)``: a random-resized crop per sample (area ~ U(scale), aspect log-uniform, side
    fractions clipped to 1, uniform position), resized back with bilinear ``grid_sample`` (border padding,
    ``align_corners=False``). Input (B, C, H, W) or (B, H, W)."""

    def __init__(self, scale=(0.08, 1.0), aspect=(3 / 4, 4 / 3)):
        if not 0 < scale[0] <= scale[1] <= 1:
            raise ValueError(f"random_crop needs 0 < scale min <= scale max <= 1, got {scale}.")
        if not 0 < aspect[0] <= aspect[1]:
            raise ValueError(f"random_crop needs 0 < aspect min <= aspect max, got {aspect}.")
        self.scale, self.aspect = tuple(scale), tuple(aspect)

    def __call__(self, x, g, part):
        if x.dim() not in (3, 4):
            raise ValueError(f"random_crop needs images (B, C, H, W) or (B, H, W), got {list(x.shape)}.")
        images = x.unsqueeze(1) if x.dim() == 3 else x                              # (b, C, H, W)
        u = part.of(_uniform((part.total, 4), g)).to(x.device)                      # scale, aspect, x, y draws
        area = u[:, 0] * (self.scale[1] - self.scale[0]) + self.scale[0]
        lo, hi = math.log(self.aspect[0]), math.log(self.aspect[1])
        aspect = (u[:, 1] * (hi - lo) + lo).exp()
        w = (area * aspect).sqrt().clamp_max(1.0)                                   # width fraction
        h = (area / aspect).sqrt().clamp_max(1.0)                                   # height fraction
        cx = (u[:, 2] * 2 - 1) * (1 - w)                                            # centre in [-(1 - w), 1 - w]
        cy = (u[:, 3] * 2 - 1) * (1 - h)
        zero = torch.zeros_like(w)
        theta = torch.stack([torch.stack([w, zero, cx], 1), torch.stack([zero, h, cy], 1)], 1)   # (b, 2, 3)
        grid = F.affine_grid(theta.to(images.dtype), list(images.shape), align_corners=False)
        cropped = F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)
        return cropped.squeeze(1) if x.dim() == 3 else cropped


class Compose:
    """``a then b``: ``Compose(a, b)(x) = b(a(x))``; the draws happen in that order."""

    def __init__(self, *steps):
        self.steps = steps

    def __call__(self, x, g, part):
        for step in self.steps:
            x = step(x, g, part)
        return x


# ---- image links ---------------------------------------------------------------------------------------------------

def _between(u, r):
    """A uniform draw mapped onto [min, max] (C#'s ``Between``)."""
    return u * (r[1] - r[0]) + r[0]


def _chosen(u, p, images):
    """Per sample, true with probability p given its uniform draw u (B): (B, 1, 1, 1) on the images' device."""
    return u.lt(p).to(images.device).view(-1, 1, 1, 1)


def _probability(p, link):
    if not 0 <= p <= 1:
        raise ValueError(f"{link} needs p in [0, 1] (is {p}).")
    return p


def _range(r, argument, link, lower=0.0, upper=math.inf, positive=False):
    """``lower <= min <= max <= upper`` (and ``min > 0`` when positive), as a tuple."""
    lo, hi = float(r[0]), float(r[1])
    if lo >= lower and (not positive or lo > 0) and lo <= hi <= upper:
        return lo, hi
    bounds = ("0 < min" if positive else f"{lower} <= min") + " <= max" + ("" if math.isinf(upper) else f" <= {upper}")
    raise ValueError(f"{link} needs {argument} min..max with {bounds}, got {lo}..{hi}.")


BOX_ATTEMPTS = 10


def box_attempts(u, h, w, scale, ratio):
    """torchvision's box rule (``RandomResizedCrop``, ``RandomErasing``), 10 attempts per sample at once, from the
    uniform draws u (B, 10, 4) float32: an area ``A = h w s``, ``s ~ U(scale)``, a ratio r log-uniform in ``ratio``,
    the sides ``round(sqrt(A r))`` and ``round(sqrt(A / r))`` (half to even), each (B, 10) float64, and the two draws
    of each attempt's position (B, 10, 2)."""
    u = u.to(torch.float64)
    area = _between(u[:, :, 0], scale) * (h * w)
    r = _between(u[:, :, 1], (math.log(ratio[0]), math.log(ratio[1]))).exp()
    return (area * r).sqrt().round(), (area / r).sqrt().round(), u[:, :, 2:]


def first_fit(height, width, fits, position, h, w):
    """Of the attempts (B, 10), the first that fits (attempt 0 where none does; then ``found`` is false), its top-left
    corner uniform over the positions that keep it inside the h x w image; (B) float64 each, and ``found``."""
    first = fits.to(torch.int32).argmax(1, keepdim=True)                              # (B, 1)

    def pick(t):
        return t.gather(1, first).squeeze(1)                                          # (B)
    bh, bw = pick(height), pick(width)
    top = (pick(position[:, :, 0]) * (h - bh + 1)).floor().minimum(h - bh)
    left = (pick(position[:, :, 1]) * (w - bw + 1)).floor().minimum(w - bw)
    return top, left, bh, bw, fits.any(1)


class ImageLink:
    """The common part of the image links (C#'s ``ImageCorruption``): images (B, C, H, W), or (B, H, W) read as one
    channel, float pixels in [0, 1] (before any normalisation); ``sample`` draws per sample for a batch, ``apply``
    works on the whole batch in tensor operations. A (B, H, W) input gives a (B, H', W') output."""

    link = "image link"
    #: Draws made once per batch (not per sample): every process keeps them whole.
    per_batch = ()

    def __call__(self, x, g, part):
        self._check_dims(x)
        draws = self.sample(part.total, x.shape[-2], x.shape[-1], g)
        return self.apply(x, {k: v if k in self.per_batch else part.of(v) for k, v in draws.items()})

    def sample(self, batch, h, w, g):
        """The raw draws of a batch of ``batch`` h x w images, as the C# link draws them: name -> tensor."""
        raise NotImplementedError

    def apply(self, x, draws):
        """The link on ``x`` with the given draws (rows of x's samples; per-batch draws whole)."""
        self._check_dims(x)
        if not x.is_floating_point():
            raise ValueError(f"{self.link} needs floating-point pixels in [0, 1], got {x.dtype}.")
        images = x.unsqueeze(1) if x.dim() == 3 else x                                 # (B, C, H, W)
        y = self.transform(images, draws)
        return y.squeeze(1) if x.dim() == 3 else y

    def transform(self, images, draws):
        raise NotImplementedError

    def _check_dims(self, x):
        if x.dim() not in (3, 4):
            raise ValueError(f"{self.link} needs images (B, C, H, W) or (B, H, W), got {list(x.shape)}.")


class RandomResizedCrop(ImageLink):
    """``random_resized_crop(scale, ratio, size)``, torchvision's ``RandomResizedCrop`` per sample on the whole batch:
    10 attempts per sample (``box_attempts``; ratio = width / height); the first with ``0 < w <= W`` and
    ``0 < h <= H`` wins, its top-left corner uniform inside the image; a sample with none takes the central box of the
    largest ratio in range; the boxes resized to ``size`` (default the input's) by ``image_ops.resized_crop``.
    Draws: ``u`` (B, 10, 4) uniform (area, ratio, top, left). (B, C, H, W) -> (B, C, size)."""

    link = "random_resized_crop"

    def __init__(self, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3), size=None):
        self.scale = _range(scale, "scale", self.link, upper=1, positive=True)
        self.ratio = _range(ratio, "ratio", self.link, positive=True)
        if size is not None and (size[0] < 1 or size[1] < 1):
            raise ValueError(f"{self.link} needs an output size of at least 1x1, got {list(size)}.")
        self.size = None if size is None else (int(size[0]), int(size[1]))

    def output_size(self, h, w):
        return self.size or (int(h), int(w))

    def sample(self, batch, h, w, g):
        return {"u": _uniform((batch, BOX_ATTEMPTS, 4), g)}

    def boxes(self, u, h, w):
        """The boxes (top, left, height, width) of the draws u (B, 10, 4): int64 (B) each."""
        width, height, position = box_attempts(u, h, w, self.scale, self.ratio)      # ratio = width / height
        fits = width.gt(0) & width.le(w) & height.gt(0) & height.le(h)
        top, left, bh, bw, found = first_fit(height, width, fits, position, h, w)
        fh, fw = self._fallback(h, w)

        def pick(t, fallback):
            return torch.where(found, t, torch.full_like(t, fallback)).to(torch.int64)
        return pick(top, (h - fh) // 2), pick(left, (w - fw) // 2), pick(bh, fh), pick(bw, fw)

    def _fallback(self, h, w):
        """The central box when no attempt fits: the whole image, narrowed to the nearest ratio in range."""
        image_ratio = w / h
        if image_ratio < self.ratio[0]:
            return _round_half_even(w / self.ratio[0]), w
        if image_ratio > self.ratio[1]:
            return h, _round_half_even(h * self.ratio[1])
        return h, w

    def transform(self, images, draws):
        h, w = images.shape[2], images.shape[3]
        top, left, height, width = self.boxes(draws["u"], h, w)
        return image_ops.resized_crop(images, top, left, height, width, self.output_size(h, w))


class _OneDrawPerSample(ImageLink):
    """A link that draws one uniform number per sample: ``u`` (B)."""

    def sample(self, batch, h, w, g):
        return {"u": _uniform((batch,), g)}


class HorizontalFlip(_OneDrawPerSample):
    """``hflip(p)``: each image flipped left to right with probability p, per sample: one uniform draw per sample
    (always, whatever p), ``where(u < p, x.flip(-1), x)``. Draws: ``u`` (B). Input (B, C, H, W) or (B, H, W)."""

    link = "hflip"

    def __init__(self, p=0.5):
        self.p = _probability(p, self.link)

    def apply(self, x, draws):
        self._check_dims(x)
        flip = (draws["u"].to(x.device) < self.p).view(-1, *([1] * (x.dim() - 1)))   # (B, 1, 1[, 1])
        return torch.where(flip, x.flip(-1), x)


class RandomRotation(_OneDrawPerSample):
    """``random_rotation(degrees, fill)``, torchvision's ``RandomRotation(degrees, BILINEAR, fill)`` per sample: an angle
    ``-degrees + 2 degrees u`` (counter-clockwise when positive) about the image's centre, the corners set to ``fill``
    (``image_ops.rotate``). Draws: ``u`` (B)."""

    link = "random_rotation"

    def __init__(self, degrees, fill=0.0):
        if not 0 <= degrees <= 180:
            raise ValueError(f"{self.link} needs degrees in [0, 180], got {degrees}.")
        if not 0 <= fill <= 1:
            raise ValueError(f"{self.link} needs a fill in [0, 1], got {fill}.")
        self.degrees = degrees
        self.fill = fill

    def angles(self, draws):
        """The samples' angles in degrees (B, float64) from their draws: ``-degrees + 2 degrees u``."""
        return draws["u"].to(torch.float64) * (2 * self.degrees) - self.degrees

    def transform(self, images, draws):
        return image_ops.rotate(images, self.angles(draws), self.fill)


class RandomAffine(ImageLink):
    """``random_affine(degrees, translate, scale, shear, fill)``, torchvision's ``RandomAffine(degrees, (translate,
    translate), scale, shear, BILINEAR, fill)`` per sample: an angle ``U(-degrees, degrees)``, moves of
    ``round(U(-translate W, translate W))`` and ``round(U(-translate H, translate H))`` whole pixels (half to even), a
    zoom ``U(scale)`` and a horizontal shear ``U(-shear, shear)`` degrees about the image's centre
    (``image_ops.affine``). Draws: ``u`` (B, 5): angle, x move, y move, zoom, shear."""

    link = "random_affine"

    def __init__(self, degrees, translate=0.0, scale=(1.0, 1.0), shear=0.0, fill=0.0):
        if not 0 <= degrees <= 180:
            raise ValueError(f"{self.link} needs degrees in [0, 180], got {degrees}.")
        if not 0 <= translate <= 1:
            raise ValueError(f"{self.link} needs a translate in [0, 1], got {translate}.")
        if not 0 <= shear <= 89:
            raise ValueError(f"{self.link} needs a shear in [0, 89] degrees, got {shear}.")
        if not 0 <= fill <= 1:
            raise ValueError(f"{self.link} needs a fill in [0, 1], got {fill}.")
        self.degrees, self.translate, self.shear, self.fill = degrees, translate, shear, fill
        self.scale = _range(scale, "scale", self.link, positive=True)

    def sample(self, batch, h, w, g):
        return {"u": _uniform((batch, 5), g)}

    def parameters(self, draws, h, w):
        """The samples' parameters (B, float64 each) from their draws: angle, x move, y move (pixels), zoom, shear."""
        u = draws["u"].to(torch.float64)

        def symmetric(v, largest):
            return v * (2 * largest) - largest
        return (symmetric(u[:, 0], self.degrees), symmetric(u[:, 1], self.translate * w).round(),
                symmetric(u[:, 2], self.translate * h).round(), _between(u[:, 3], self.scale),
                symmetric(u[:, 4], self.shear))

    def transform(self, images, draws):
        angle, tx, ty, scale, shear = self.parameters(draws, images.shape[2], images.shape[3])
        return image_ops.affine(images, angle, tx, ty, scale, shear, torch.zeros_like(shear), self.fill)


class ElasticTransform(ImageLink):
    """``elastic_transform(alpha, sigma, fill)``, torchvision's ``ElasticTransform(alpha, sigma, BILINEAR, fill)`` per
    sample: two fields of uniform noise in [-1, 1] (x, then y), each blurred by a Gaussian of ``sigma`` pixels (kernel
    ``int(8 sigma + 1)`` made odd, reflect padding; none when sigma is 0) and scaled by ``alpha / H`` (x) and
    ``alpha / W`` (y) in normalised coordinates, torchvision's scaling (``image_ops.elastic``). Draws: ``u`` (B, 2, H, W)."""

    link = "elastic_transform"

    def __init__(self, alpha=50.0, sigma=5.0, fill=0.0):
        if not 0 <= alpha < math.inf:
            raise ValueError(f"{self.link} needs a finite alpha >= 0, got {alpha}.")
        if not 0 <= sigma < math.inf:
            raise ValueError(f"{self.link} needs a finite sigma >= 0, got {sigma}.")
        if not 0 <= fill <= 1:
            raise ValueError(f"{self.link} needs a fill in [0, 1], got {fill}.")
        self.alpha, self.sigma, self.fill = alpha, sigma, fill
        self.kernel_size = int(8 * sigma + 1) | 1

    def sample(self, batch, h, w, g):
        return {"u": _uniform((batch, 2, h, w), g)}

    def displacement(self, u):
        """The displacement (B, H, W, 2), x then y, from the noise ``u`` (B, 2, H, W) uniform in [0, 1)."""
        b, _, h, w = u.shape
        fields = u.to(torch.float32) * 2 - 1
        if self.sigma > 0:
            if self.kernel_size // 2 >= min(h, w):
                raise ValueError(f"{self.link}(sigma: {self.sigma}) blurs with a {self.kernel_size}x{self.kernel_size} kernel, which needs images "
                                 f"larger than {self.kernel_size // 2}x{self.kernel_size // 2} (reflect padding), got {h}x{w}; choose sigma < {(2 * min(h, w) - 1) / 8}.")
            fields = image_ops.gaussian_blur(fields, self.kernel_size, torch.full((b,), float(self.sigma), device=u.device))
        scale = torch.tensor([self.alpha / h, self.alpha / w], dtype=torch.float32, device=u.device).view(1, 2, 1, 1)
        return (fields * scale).permute(0, 2, 3, 1)

    def transform(self, images, draws):
        return image_ops.elastic(images, self.displacement(draws["u"].to(images.device)), self.fill)


class ColorJitter(ImageLink):
    """``color_jitter(brightness, contrast, saturation, hue, p)``, torchvision's ``RandomApply([ColorJitter], p)`` per
    sample: a jittered sample's factors uniform in ``[max(0, 1 - s), 1 + s]`` (hue in ``[-hue, hue]`` turns), the four
    adjustments in a random order drawn **once per batch** (a strength of 0 leaves one out). Brightness and contrast on
    any channel count; saturation and hue need 3. Draws: ``u`` (B, 5) (applied, brightness, contrast, saturation, hue)
    and ``order`` (4), one per batch."""

    link = "color_jitter"
    per_batch = ("order",)

    def __init__(self, brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1, p=0.8):
        self.brightness = self._strength(brightness, "brightness")
        self.contrast = self._strength(contrast, "contrast")
        self.saturation = self._strength(saturation, "saturation")
        if not 0 <= hue <= 0.5:
            raise ValueError(f"{self.link} needs hue in [0, 0.5] (a fraction of a turn), got {hue}.")
        self.hue = hue
        self.p = _probability(p, self.link)

    def _strength(self, s, name):
        if not (s >= 0 and math.isfinite(s)):
            raise ValueError(f"{self.link} needs a finite {name} >= 0, got {s}.")
        return s

    @property
    def needs_colour(self):
        return self.saturation > 0 or self.hue > 0

    @staticmethod
    def _factors(s):
        return max(0.0, 1 - s), 1 + s

    def sample(self, batch, h, w, g):
        u = _uniform((batch, 5), g)
        return {"u": u, "order": _uniform((4,), g)}

    def transform(self, images, draws):
        if self.needs_colour and images.shape[1] != 3:
            raise ValueError(f"{self.link} with saturation or hue needs 3 colour channels, got {images.shape[1]}; "
                             "set saturation: 0 and hue: 0 for other images.")
        u, y = draws["u"], images
        for step in draws["order"].argsort().tolist():
            if step == 0 and self.brightness > 0:
                y = image_ops.adjust_brightness(y, _between(u[:, 1], self._factors(self.brightness)))
            elif step == 1 and self.contrast > 0:
                y = image_ops.adjust_contrast(y, _between(u[:, 2], self._factors(self.contrast)))
            elif step == 2 and self.saturation > 0:
                y = image_ops.adjust_saturation(y, _between(u[:, 3], self._factors(self.saturation)))
            elif step == 3 and self.hue > 0:
                y = image_ops.adjust_hue(y, _between(u[:, 4], (-self.hue, self.hue)))
        return torch.where(_chosen(u[:, 0], self.p, images), y, images)


class Grayscale(_OneDrawPerSample):
    """``grayscale(p)``, torchvision's ``RandomGrayscale`` per sample: with probability p the three channels become
    the luma. Needs 3 channels. Draws: ``u`` (B)."""

    link = "grayscale"

    def __init__(self, p=0.2):
        self.p = _probability(p, self.link)

    def transform(self, images, draws):
        return torch.where(_chosen(draws["u"], self.p, images), image_ops.grayscale(images).expand_as(images), images)


class GaussianBlur(ImageLink):
    """``gaussian_blur(sigma, p)``: with probability p a sample is blurred with its own ``sigma ~ U(sigma)`` pixels
    (``image_ops.gaussian_blur``, reflect padding); kernel ``k = 2 ceil(3 sigma_max) + 1``, at most
    ``2 min(H, W) - 1``, the same for every sample. Draws: ``u`` (B, 2) (applied, sigma)."""

    link = "gaussian_blur"

    def __init__(self, sigma=(0.1, 2.0), p=0.5):
        self.sigma = _range(sigma, "sigma", self.link, positive=True)
        self.p = _probability(p, self.link)

    def kernel_size(self, h, w):
        return int(min(2 * math.ceil(3 * self.sigma[1]) + 1, 2 * min(h, w) - 1))

    def sample(self, batch, h, w, g):
        return {"u": _uniform((batch, 2), g)}

    def transform(self, images, draws):
        u = draws["u"]
        blurred = image_ops.gaussian_blur(images, self.kernel_size(images.shape[2], images.shape[3]), _between(u[:, 1], self.sigma))
        return torch.where(_chosen(u[:, 0], self.p, images), blurred, images)


class Solarize(_OneDrawPerSample):
    """``solarize(threshold, p)``: with probability p every pixel ``x >= threshold`` of a sample becomes ``1 - x``.
    Draws: ``u`` (B)."""

    link = "solarize"

    def __init__(self, threshold=0.5, p=0.2):
        if not 0 <= threshold <= 1:
            raise ValueError(f"{self.link} needs a threshold in [0, 1], got {threshold}.")
        self.threshold = threshold
        self.p = _probability(p, self.link)

    def transform(self, images, draws):
        u = draws["u"]
        # A sample that is not solarized gets a threshold above every pixel.
        threshold = torch.where(u.lt(self.p), torch.full_like(u, self.threshold), torch.full_like(u, 2.0))
        return image_ops.solarize(images, threshold)


class RandomErasing(ImageLink):
    """``random_erasing(scale, ratio, value, p)`` (cutout), torchvision's ``RandomErasing`` per sample: with probability
    p, 10 attempts (``box_attempts``; ratio = height / width, torchvision's convention here), the first with
    ``h < H`` and ``w < W`` placed uniformly and set to ``value``; a sample with none is left alone.
    Draws: ``chosen`` (B), then ``u`` (B, 10, 4)."""

    link = "random_erasing"

    def __init__(self, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0.0, p=0.5):
        self.scale = _range(scale, "scale", self.link, upper=1, positive=True)
        self.ratio = _range(ratio, "ratio", self.link, positive=True)
        if not math.isfinite(value):
            raise ValueError(f"{self.link} needs a finite value, got {value}.")
        self.value = float(value)
        self.p = _probability(p, self.link)

    def sample(self, batch, h, w, g):
        chosen = _uniform((batch,), g)
        return {"chosen": chosen, "u": _uniform((batch, BOX_ATTEMPTS, 4), g)}

    def boxes(self, chosen, u, h, w):
        """The boxes (top, left, height, width), int64 (B) each; the empty box (0, 0, 0, 0) erases nothing."""
        height, width, position = box_attempts(u, h, w, self.scale, self.ratio)     # ratio = height / width
        fits = height.lt(h) & width.lt(w)
        top, left, bh, bw, found = first_fit(height, width, fits, position, h, w)
        erase = (found & chosen.lt(self.p).to(found.device)).to(torch.float64)
        return tuple((t * erase).to(torch.int64) for t in (top, left, bh, bw))

    def transform(self, images, draws):
        top, left, height, width = self.boxes(draws["chosen"], draws["u"], images.shape[2], images.shape[3])
        return image_ops.erase(images, top, left, height, width, self.value)


class PixelMask(ImageLink):
    """A token mask applied to pixels, for encoders that do not take tokens: the image cut into patch x patch cells on
    the mask's grid (``ceil(H / patch) x ceil(W / patch)``); the mask sampled as for a token encoder (``MultiBlockMask``
    or ``RandomTokenMask``, for the global batch: the block mask's trim couples the samples) and every pixel outside
    the sample's context cells set to ``value``. ``mask`` is a token mask, or a function of the cell grid that makes
    one for the images it meets (made again when their size changes; the exported programs' ``pixel_block_mask`` and
    ``pixel_random_mask``, as C#'s ``PixelMask(grid => ...)``). Draws: ``context`` (B, Nc), the token mask's context
    indices."""

    link = "pixel mask"

    def __init__(self, mask, patch, value=0.0):
        if patch < 1:
            raise ValueError(f"A pixel mask needs cells of at least 1 pixel, got {patch}.")
        if not math.isfinite(value):
            raise ValueError(f"A pixel mask needs a finite fill value, got {value}.")
        self.create = None if hasattr(mask, "sample") else mask
        self.mask = mask if self.create is None else None
        self.patch, self.value = int(patch), float(value)

    def grid(self, h, w):
        return -(-int(h) // self.patch), -(-int(w) // self.patch)

    def sample(self, batch, h, w, g):
        grid = self.grid(h, w)
        if self.create is not None and (self.mask is None or tuple(self.mask.grid) != grid):
            self.mask = self.create(grid)
        if grid != tuple(self.mask.grid):
            raise ValueError(f"A pixel mask with {self.patch}x{self.patch} cells cuts {h}x{w} images into a {grid[0]}x{grid[1]} "
                             f"grid, but its mask is on {self.mask.grid[0]}x{self.mask.grid[1]}.")
        return {"context": self.mask.sample(batch, g).context}

    def transform(self, images, draws):
        return image_ops.mask_cells(images, draws["context"], self.patch, self.value)


@dataclass
class TokenMasks:
    """Token indices for a batch: ``context`` (B, Nc) and ``target`` (B, Nt), int64, row-major positions."""
    context: torch.Tensor
    target: torch.Tensor

    def part(self, part):
        return TokenMasks(part.of(self.context), part.of(self.target))

    def to(self, device):
        return TokenMasks(self.context.to(device), self.target.to(device))


class MultiBlockMask:
    """``block_mask(targets, target_scale, context_scale, aspect, min_keep)``: I-JEPA's multi-block sampler,
    vectorised over the batch, step for step as src/Jepa.Runtime/Masks/MultiBlockMask.cs (one target and one context
    block size per batch; per sample ``targets`` target blocks and a context block without them, redrawn up to 20
    times below ``min_keep`` tokens, then the fallback; every sample trimmed to the batch's smallest context).
    ``sample`` draws for the global batch: the trim to the smallest context couples the samples of the batch."""

    tries = 20

    def __init__(self, grid, targets=4, target_scale=(0.15, 0.2), context_scale=(0.85, 1.0), aspect=(0.75, 1.5), min_keep=4):
        self.grid = tuple(grid)
        self.targets = targets
        self.target_scale, self.context_scale, self.aspect = tuple(target_scale), tuple(context_scale), tuple(aspect)
        if not 1 <= min_keep <= self.grid[0] * self.grid[1]:
            raise ValueError(f"min_keep must be between 1 and the {self.grid[0] * self.grid[1]} tokens of the grid.")
        self.min_keep = min_keep

    def block_size(self, scale, aspect):
        gh, gw = self.grid
        k = math.floor(gh * gw * scale)
        h = _round_half_even(math.sqrt(k * aspect))
        w = _round_half_even(math.sqrt(k / aspect))
        return min(max(h, 1), gh), min(max(w, 1), gw)

    def sample(self, batch, g):
        gh, gw = self.grid
        n, device = gh * gw, g.device
        # 1. One target block size and one context block size for the whole batch.
        u = _uniform((3,), g).cpu().tolist()
        th, tw = self.block_size(_lerp(self.target_scale, u[0]), _lerp(self.aspect, u[1]))
        ch, cw = self.block_size(_lerp(self.context_scale, u[2]), 1.0)
        # 2. Target blocks at random positions: (B, T, th*tw), concatenated to (B, Nt).
        top = _integers(gh - th + 1, (batch, self.targets), g)
        left = _integers(gw - tw + 1, (batch, self.targets), g)
        rows = top.unsqueeze(-1) + torch.arange(th, device=device)                  # (B, T, th)
        cols = left.unsqueeze(-1) + torch.arange(tw, device=device)                 # (B, T, tw)
        target = (rows.unsqueeze(-1) * gw + cols.unsqueeze(-2)).reshape(batch, self.targets, th * tw)
        in_target = torch.zeros(batch, self.targets, n, dtype=torch.bool, device=device).scatter(
            2, target, torch.ones(target.shape, dtype=torch.bool, device=device))   # (B, T, N)
        outside = in_target.any(1).logical_not()                                    # (B, N)
        # 3. Context block minus the targets; redraw the position where fewer than min_keep tokens remain.
        context = self._block(_integers(gh - ch + 1, (batch,), g), _integers(gw - cw + 1, (batch,), g), ch, cw) & outside
        for _ in range(self.tries):
            small = context.sum(1) < self.min_keep
            if not bool(small.any()):
                break
            redrawn = self._block(_integers(gh - ch + 1, (batch,), g), _integers(gw - cw + 1, (batch,), g), ch, cw) & outside
            context = torch.where(small.unsqueeze(1), redrawn, context)
        # 4. Fallback: every token outside the first k target blocks, the largest k that leaves min_keep tokens.
        still_small = context.sum(1) < self.min_keep
        if bool(still_small.any()):
            covered = torch.cat([torch.zeros(batch, 1, n, dtype=torch.bool, device=device), in_target.cumsum(1) > 0], 1)
            free = covered.logical_not()                                            # (B, T+1, N)
            enough = free.sum(2) >= self.min_keep
            k = (enough.long() * torch.arange(self.targets + 1, device=device)).argmax(1)
            fallback = free.gather(1, k.view(batch, 1, 1).expand(batch, 1, n)).squeeze(1)
            context = torch.where(still_small.unsqueeze(1), fallback, context)
        # 5. Trim every sample to the smallest context of the batch: its first Nc tokens in row-major order.
        nc = int(context.sum(1).min())
        context_idx = context.logical_not().to(torch.int32).sort(dim=1, stable=True).indices[:, :nc]
        return TokenMasks(context_idx.long(), target.reshape(batch, self.targets * th * tw))

    def _block(self, top, left, h, w):
        r = torch.arange(self.grid[0], device=top.device)
        c = torch.arange(self.grid[1], device=top.device)
        in_rows = (r >= top.unsqueeze(1)) & (r < top.unsqueeze(1) + h)              # (B, H)
        in_cols = (c >= left.unsqueeze(1)) & (c < left.unsqueeze(1) + w)            # (B, W)
        return (in_rows.unsqueeze(2) & in_cols.unsqueeze(1)).reshape(top.shape[0], -1)


class RandomTokenMask:
    """``random_mask(ratio)`` on tokens: per sample ``Nt = round(ratio N)`` (in [1, N - 1]) random target tokens, the
    rest context; both ascending."""

    def __init__(self, grid, ratio):
        self.grid = tuple(grid)
        n = self.grid[0] * self.grid[1]
        if n < 2 or not 0 < ratio < 1:
            raise ValueError("random_mask needs at least two tokens and a ratio in (0, 1).")
        self.target_count = min(max(int(math.floor(ratio * n + 0.5)), 1), n - 1)

    def sample(self, batch, g):
        order = _uniform((batch, self.grid[0] * self.grid[1]), g).argsort(1)        # (B, N)
        return TokenMasks(order[:, self.target_count:].sort(1).values, order[:, :self.target_count].sort(1).values)


def _lerp(r, u):
    return r[0] + u * (r[1] - r[0])


def _round_half_even(x):
    """C#'s Math.Round (banker's rounding), which Python's round also is."""
    return int(round(x))
