using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Masks;

/// <summary>
/// The deterministic cores of the image augmentations, on a whole batch at once with one parameter per sample (a
/// <c>(B)</c> tensor), as <c>torchvision.transforms.functional</c> computes them for one image (the reference of the
/// tests). Images are <c>(B, C, H, W)</c> floats in [0, 1]. No loop over samples or pixels: everything is tensor
/// operations, so it runs where the images are (CPU or GPU).
/// </summary>
public static class ImageOps
{
    private const float SmallestNormal = 1.17549435e-38f;

    /// <summary>ITU-R 601-2 luma weights of (R, G, B), as torchvision's <c>rgb_to_grayscale</c>.</summary>
    public static readonly (double R, double G, double B) Luma = (0.2989, 0.587, 0.114);

    /// <summary>
    /// <c>resized_crop</c>: sample i's box <c>[top, top + height) x [left, left + width)</c> (whole pixels, inside the
    /// image) resized to <paramref name="size"/> by bilinear interpolation with <c>align_corners = false</c> and no
    /// antialiasing (<c>F.interpolate</c>'s rule: output pixel <c>o</c> reads crop coordinate
    /// <c>(o + 1/2) width / out - 1/2</c>, clamped to <c>[0, width - 1]</c>). One <c>grid_sample</c> for the batch.
    /// (B, C, H, W) -> (B, C, size.H, size.W).
    /// </summary>
    public static Tensor ResizedCrop(Tensor images, Tensor top, Tensor left, Tensor height, Tensor width, (int H, int W) size)
    {
        CheckImages(images, nameof(ResizedCrop));
        if (size.H < 1 || size.W < 1) throw new ArgumentOutOfRangeException(nameof(size), size, "The output size must be at least 1x1.");
        long b = images.shape[0], h = images.shape[2], w = images.shape[3];
        var y = SourceCoordinates(top, height, size.H, h, images.device);                         // (B, oh) in [-1, 1]
        var x = SourceCoordinates(left, width, size.W, w, images.device);                         // (B, ow)
        var grid = stack([x.unsqueeze(1).expand(b, size.H, size.W), y.unsqueeze(2).expand(b, size.H, size.W)], 3);   // (B, oh, ow, 2)
        return nn.functional.grid_sample(images, grid.to(images.dtype), GridSampleMode.Bilinear, GridSamplePaddingMode.Border, align_corners: false);
    }

    /// <summary>Where each output pixel along one axis reads, in <c>grid_sample</c>'s normalised coordinates (B, out).</summary>
    private static Tensor SourceCoordinates(Tensor start, Tensor length, int outSize, long inSize, Device device)
    {
        var len = length.to(ScalarType.Float64, device).unsqueeze(1);                              // (B, 1)
        var o = arange(outSize, dtype: ScalarType.Float64, device: device) + 0.5;                 // (out)
        var inCrop = (o * len / outSize - 0.5).clamp_min(0).minimum(len - 1);                      // (B, out) crop pixels
        var pixel = inCrop + start.to(ScalarType.Float64, device).unsqueeze(1);                    // image pixels
        return (pixel * 2 + 1) / inSize - 1;                                                       // align_corners = false
    }

    /// <summary>
    /// <c>rotate</c> as torchvision's <c>RandomRotation</c> applies it: sample i turned by <c>angles[i]</c> degrees
    /// counter-clockwise about the image's centre, bilinear interpolation, the output the input's size, and the area that
    /// comes from outside the image set to <paramref name="fill"/>. Output pixel <c>(x, y)</c>, in pixels from the
    /// centre (<c>x = j - (W - 1) / 2</c>, y down), reads the input at <c>(x cos a - y sin a, x sin a + y cos a)</c>;
    /// one <c>grid_sample</c> (zeros outside, <c>align_corners = false</c>) carries the image and a channel of ones, and
    /// the pixels blend with the fill by that channel: <c>v m + (1 - m) fill</c>. (B, C, H, W) -> (B, C, H, W).
    /// </summary>
    public static Tensor Rotate(Tensor images, Tensor angles, double fill = 0)
    {
        CheckImages(images, nameof(Rotate));
        var radians = angles.to(ScalarType.Float64, images.device) * (Math.PI / 180);                // (B)
        var (cos, sin) = (radians.cos(), radians.sin());
        var zero = zeros_like(cos);
        return Warp(images, stack([cos, -sin, zero, sin, cos, zero], 1), fill);
    }

    /// <summary>
    /// <c>affine</c> as torchvision's <c>RandomAffine</c> applies it to a tensor: sample i rotated by <c>angles[i]</c>
    /// degrees (clockwise when positive, torchvision's convention for <c>affine</c>), scaled by <c>scales[i]</c>,
    /// sheared by <c>shearX[i]</c> and <c>shearY[i]</c> degrees and moved by <c>(translateX[i], translateY[i])</c> pixels, about the
    /// image's centre; bilinear, the output the input's size, the area from outside the image set to <paramref name="fill"/>.
    /// The inverse matrix is torchvision's <c>_get_inverse_affine_matrix</c> with the centre at 0: with
    /// <c>r</c>, <c>sx</c>, <c>sy</c> in radians, <c>a = cos(r - sy) / cos(sy)</c>,
    /// <c>b = -cos(r - sy) tan(sx) / cos(sy) - sin r</c>, <c>c = sin(r - sy) / cos(sy)</c>,
    /// <c>d = -sin(r - sy) tan(sx) / cos(sy) + cos r</c>; output pixel <c>(x, y)</c>, in pixels from the centre (y down),
    /// reads the input at <c>(d x - b y, -c x + a y) / scale</c> minus the same map of the translation. (B, C, H, W) -> (B, C, H, W).
    /// </summary>
    public static Tensor Affine(Tensor images, Tensor angles, Tensor translateX, Tensor translateY, Tensor scales, Tensor shearX, Tensor shearY, double fill = 0)
    {
        CheckImages(images, nameof(Affine));
        Tensor Radians(Tensor degrees) => degrees.to(ScalarType.Float64, images.device) * (Math.PI / 180);   // (B)
        Tensor F64(Tensor t) => t.to(ScalarType.Float64, images.device);
        var (r, sx, sy) = (Radians(angles), Radians(shearX), Radians(shearY));
        var cosSy = sy.cos();
        var a = (r - sy).cos() / cosSy;
        var b = -(r - sy).cos() * sx.tan() / cosSy - r.sin();
        var c = (r - sy).sin() / cosSy;
        var d = -(r - sy).sin() * sx.tan() / cosSy + r.cos();
        var scale = F64(scales);
        var (m0, m1, m3, m4) = (d / scale, -b / scale, -c / scale, a / scale);
        var (tx, ty) = (-F64(translateX), -F64(translateY));
        return Warp(images, stack([m0, m1, m0 * tx + m1 * ty, m3, m4, m3 * tx + m4 * ty], 1), fill);
    }

    /// <summary>
    /// The common part of <see cref="Rotate"/> and <see cref="Affine"/>: output pixel <c>(x, y)</c>, in pixels from the
    /// centre (<c>x = j - (W - 1) / 2</c>, y down), reads the input at <c>(m0 x + m1 y + m2, m3 x + m4 y + m5)</c> for
    /// sample i's row <c>m</c> of <paramref name="matrices"/> (B, 6) float64, sampled and blended with the fill by
    /// <see cref="Sample"/>.
    /// </summary>
    private static Tensor Warp(Tensor images, Tensor matrices, double fill)
    {
        long b = images.shape[0], c = images.shape[1], h = images.shape[2], w = images.shape[3];
        var m = matrices.view(b, 6, 1, 1).unbind(1);                                             // 6 x (B, 1, 1)
        var x = (arange(w, dtype: ScalarType.Float64, device: images.device) - (w - 1) / 2.0).view(1, 1, w);   // (1, 1, W)
        var y = (arange(h, dtype: ScalarType.Float64, device: images.device) - (h - 1) / 2.0).view(1, h, 1);   // (1, H, 1)
        var sourceX = (x * m[0] + y * m[1] + m[2]) / (w / 2.0);                                   // (B, H, W) in [-1, 1]
        var sourceY = (x * m[3] + y * m[4] + m[5]) / (h / 2.0);
        return Sample(images, stack([sourceX, sourceY], 3).to(images.dtype), fill);                // grid (B, H, W, 2)
    }

    /// <summary>
    /// <c>elastic_transform</c> as torchvision applies it to a tensor (<c>F.elastic_transform</c>): output pixel
    /// <c>(j, i)</c> of sample b reads the input at the pixel's own position plus <c>displacement[b, i, j]</c>, both in
    /// <c>grid_sample</c>'s normalised coordinates (the image spans [-1, 1], <c>align_corners = false</c>, so pixel j's
    /// centre is <c>(2 j + 1) / W - 1</c>); bilinear, the area from outside the image set to <paramref name="fill"/>
    /// (the same blend as <see cref="Rotate"/>). <paramref name="displacement"/> (B, H, W, 2): x then y.
    /// (B, C, H, W) -> (B, C, H, W).
    /// </summary>
    public static Tensor Elastic(Tensor images, Tensor displacement, double fill = 0)
    {
        CheckImages(images, nameof(Elastic));
        long b = images.shape[0], h = images.shape[2], w = images.shape[3];
        if (displacement.dim() != 4 || displacement.shape[0] != b || displacement.shape[1] != h || displacement.shape[2] != w || displacement.shape[3] != 2)
            throw new ArgumentException($"{nameof(Elastic)} needs a displacement ({b}, {h}, {w}, 2) for images [{string.Join(", ", images.shape)}], got [{string.Join(", ", displacement.shape)}].", nameof(displacement));
        var x = ((arange(w, dtype: ScalarType.Float64, device: images.device) * 2 + 1) / w - 1).view(1, w).expand(h, w);   // (H, W)
        var y = ((arange(h, dtype: ScalarType.Float64, device: images.device) * 2 + 1) / h - 1).view(h, 1).expand(h, w);
        var identity = stack([x, y], 2).to(images.dtype).unsqueeze(0);                           // (1, H, W, 2)
        return Sample(images, identity + displacement.to(images.dtype, images.device), fill);
    }

    /// <summary>
    /// torchvision's <c>_apply_grid_transform</c>: one bilinear <c>grid_sample</c> (zeros outside,
    /// <c>align_corners = false</c>) over the image and a channel of ones <c>m</c>, and the pixels blended with the fill
    /// by that channel: <c>v m + (1 - m) fill</c>. <paramref name="grid"/> (B, H', W', 2) -> (B, C, H', W').
    /// </summary>
    private static Tensor Sample(Tensor images, Tensor grid, double fill)
    {
        long b = images.shape[0], c = images.shape[1], h = images.shape[2], w = images.shape[3];
        var withMask = cat([images, ones(b, 1, h, w, dtype: images.dtype, device: images.device)], 1);   // (B, C + 1, H, W)
        var sampled = nn.functional.grid_sample(withMask, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Zeros, align_corners: false);
        var mask = sampled.narrow(1, c, 1);                                                      // (B, 1, H, W)
        return sampled.narrow(1, 0, c) * mask + (1 - mask) * fill;
    }

    /// <summary><c>adjust_brightness</c>: <c>clamp(f x, 0, 1)</c>, any number of channels.</summary>
    public static Tensor AdjustBrightness(Tensor images, Tensor factor) =>
        (PerSample(factor, images) * images).clamp(0, 1);

    /// <summary>
    /// <c>adjust_contrast</c>: <c>clamp(f x + (1 - f) m, 0, 1)</c> with <c>m</c> the sample's mean grey level: the mean
    /// of the luma over the image for 3 channels, the mean over every channel and pixel otherwise.
    /// </summary>
    public static Tensor AdjustContrast(Tensor images, Tensor factor)
    {
        var grey = images.shape[1] == 3 ? Grayscale(images) : images;
        var mean = grey.mean([1, 2, 3], keepdim: true);                                          // (B, 1, 1, 1)
        return Blend(images, mean, PerSample(factor, images));
    }

    /// <summary><c>adjust_saturation</c>: <c>clamp(f x + (1 - f) luma(x), 0, 1)</c>; 3 channels.</summary>
    public static Tensor AdjustSaturation(Tensor images, Tensor factor)
    {
        CheckRgb(images, "saturation");
        return Blend(images, Grayscale(images), PerSample(factor, images));
    }

    /// <summary>
    /// <c>adjust_hue</c>: each pixel's hue (HSV) turned by <c>f</c> (in turns, [-0.5, 0.5]), its value (largest channel)
    /// and chroma (largest minus smallest channel) kept; 3 channels. The hue, in sixths of a turn, comes from the largest
    /// channel (red first, then green, on ties): <c>(G - B) / chroma</c>, <c>(B - R) / chroma + 2</c> or
    /// <c>(R - G) / chroma + 4</c>, 0 for grey; back to RGB with <c>channel_n = max - chroma clamp(min(k_n, 4 - k_n), 0, 1)</c>,
    /// <c>k_n = (n + hue) mod 6</c> for <c>n = 5, 3, 1</c> (R, G, B). torchvision goes through (h, s, v) with
    /// <c>s = chroma / max</c>; the same numbers up to float rounding.
    /// </summary>
    public static Tensor AdjustHue(Tensor images, Tensor shift)
    {
        CheckRgb(images, "hue");
        var (r, g, b) = (images[.., 0], images[.., 1], images[.., 2]);                            // (B, H, W)
        var max = images.amax([1]);
        var chroma = max - images.amin([1]);
        // Dividing by at least the smallest normal float makes 0 / 0 (grey, where chroma = 0) a 0 without a select; only
        // subnormal chromas are smaller.
        var c = chroma.clamp_min(SmallestNormal);
        // Masks as 0/1 factors rather than nested selects: a select on data-dependent conditions is several times slower
        // than arithmetic on the CPU (measured, docs/runtime-blocks.md), and 0/1 products and sums with 0 are exact.
        var isRed = max.eq(r).to(images.dtype);
        var isGreen = max.eq(g).to(images.dtype) * (1 - isRed);
        var isBlue = 1 - isRed - isGreen;
        var sixths = isRed * ((g - b) / c) + isGreen * ((b - r) / c + 2) + isBlue * ((r - g) / c + 4);   // (B, H, W) in (-1, 5]
        var turned = (sixths + (shift.to(images.dtype, images.device) * 6).view(-1, 1, 1)).remainder_(6.0);
        var channels = new[] { 5.0, 3.0, 1.0 }.Select(n =>
        {
            var k = (turned + n).remainder_(6.0);
            return max - chroma * minimum(k, 4 - k).clamp_(0, 1);
        }).ToArray();
        return stack(channels, 1);                                                                // (B, 3, H, W)
    }

    /// <summary><c>rgb_to_grayscale</c>: <c>0.2989 R + 0.587 G + 0.114 B</c>. (B, 3, H, W) -> (B, 1, H, W).</summary>
    public static Tensor Grayscale(Tensor images)
    {
        CheckRgb(images, "grayscale");
        return (images[.., 0..1] * Luma.R + images[.., 1..2] * Luma.G + images[.., 2..3] * Luma.B);
    }

    /// <summary>
    /// <c>gaussian_blur</c> with a <paramref name="kernelSize"/> x <paramref name="kernelSize"/> kernel and sample i's
    /// <c>sigma_i</c> on both axes: weights <c>exp(-t^2 / (2 sigma^2))</c> at <c>t = -(k - 1)/2 .. (k - 1)/2</c>,
    /// normalised to sum 1, with reflect padding of <c>k / 2</c> (so <c>k / 2 &lt; min(H, W)</c>): torchvision's 2-D kernel
    /// in its separable form. Each axis is one batched matrix product with a per-sample (n, n) matrix that holds the
    /// kernel with the reflection folded in: <c>M[i, j] = sum of w_t over t with reflect(i + t) = j</c>.
    /// </summary>
    public static Tensor GaussianBlur(Tensor images, int kernelSize, Tensor sigma)
    {
        CheckImages(images, nameof(GaussianBlur));
        long h = images.shape[2], w = images.shape[3];
        if (kernelSize < 1 || kernelSize % 2 == 0) throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, "The blur kernel size must be odd and positive.");
        var half = kernelSize / 2;
        if (half >= Math.Min(h, w)) throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, $"A blur kernel of {kernelSize} needs images larger than {half}x{half} (reflect padding), got {h}x{w}.");
        var t = linspace(-half, half, kernelSize, dtype: images.dtype, device: images.device);    // (k)
        var s = sigma.to(images.dtype, images.device).unsqueeze(1);                                // (B, 1)
        var weights = (-(t * t) / (2 * s * s)).exp();                                            // (B, k)
        weights /= weights.sum([1], keepdim: true);
        var rows = ReflectedKernel(weights, h, half);                                            // (B, H, H)
        var cols = ReflectedKernel(weights, w, half);                                            // (B, W, W)
        return rows.unsqueeze(1).matmul(images).matmul(cols.transpose(1, 2).unsqueeze(1));        // (B, C, H, W)
    }

    /// <summary>Per-sample (n, n) matrices applying a 1-D kernel (B, k) with reflect padding along an axis of length n.</summary>
    private static Tensor ReflectedKernel(Tensor weights, long n, int half)
    {
        var device = weights.device;
        var source = arange(n, dtype: ScalarType.Int64, device: device).unsqueeze(1) + arange(-half, half + 1, dtype: ScalarType.Int64, device: device);   // (n, k)
        source = source.abs();                                                                    // reflect at 0: -1 -> 1
        source = where(source.gt(n - 1), 2 * (n - 1) - source, source);                           // reflect at n - 1
        var b = weights.shape[0];
        var index = source.unsqueeze(0).expand(b, n, 2 * half + 1);                               // (B, n, k)
        return zeros(b, n, n, dtype: weights.dtype, device: device).scatter_add(2, index, weights.unsqueeze(1).expand(b, n, 2 * half + 1));
    }

    /// <summary><c>solarize</c>: <c>1 - x</c> where <c>x &gt;= threshold</c>, else <c>x</c>; one threshold per sample.
    /// (<c>lerp</c> with 0/1 weights is exact and, unlike a select on the pixels, vectorised.)</summary>
    public static Tensor Solarize(Tensor images, Tensor threshold) =>
        images.lerp(1 - images, images.ge(PerSample(threshold, images)).to(images.dtype));

    /// <summary>
    /// <c>erase</c>: sample i's box <c>[top, top + height) x [left, left + width)</c> set to <paramref name="value"/> in
    /// every channel; a box of height or width 0 erases nothing.
    /// </summary>
    public static Tensor Erase(Tensor images, Tensor top, Tensor left, Tensor height, Tensor width, double value)
    {
        CheckImages(images, nameof(Erase));
        var box = Box(top, left, height, width, images.shape[2], images.shape[3], images.device);   // (B, H, W)
        return where(box.unsqueeze(1), value, images);
    }

    /// <summary>
    /// Pixel-level masking from token positions: the image is cut into <paramref name="patch"/> x <paramref name="patch"/>
    /// cells (the last row and column of cells may be smaller when <paramref name="patch"/> does not divide the size),
    /// numbered row-major on a <c>ceil(H / patch) x ceil(W / patch)</c> grid; every pixel of a cell that is not in sample
    /// i's <paramref name="keep"/> (B, K) indices becomes <paramref name="value"/> in every channel.
    /// </summary>
    public static Tensor MaskCells(Tensor images, Tensor keep, int patch, double value)
    {
        CheckImages(images, nameof(MaskCells));
        if (patch < 1) throw new ArgumentOutOfRangeException(nameof(patch), patch, "The cell size must be at least 1 pixel.");
        long b = images.shape[0], h = images.shape[2], w = images.shape[3];
        long gh = (h + patch - 1) / patch, gw = (w + patch - 1) / patch;
        var kept = zeros(b, gh * gw, dtype: ScalarType.Bool, device: images.device)
            .scatter(1, keep.to(images.device), ones(keep.shape, dtype: ScalarType.Bool, device: images.device));   // (B, gh gw)
        var cellRow = arange(h, dtype: ScalarType.Int64, device: images.device).div(patch, RoundingMode.floor);   // (H) cell row of each pixel row
        var cellCol = arange(w, dtype: ScalarType.Int64, device: images.device).div(patch, RoundingMode.floor);   // (W)
        var cellOfPixel = (cellRow.unsqueeze(1) * gw + cellCol.unsqueeze(0)).view(1, h * w).expand(b, h * w);   // (B, H W)
        var keptPixel = kept.gather(1, cellOfPixel).view(b, 1, h, w);                               // (B, 1, H, W)
        return where(keptPixel, images, value);
    }

    /// <summary>Boxes as masks (B, H, W): rows <c>[top, top + height)</c>, columns <c>[left, left + width)</c>.</summary>
    internal static Tensor Box(Tensor top, Tensor left, Tensor height, Tensor width, long h, long w, Device device)
    {
        var (t, l) = (top.to(ScalarType.Int64, device).unsqueeze(1), left.to(ScalarType.Int64, device).unsqueeze(1));
        var r = arange(h, dtype: ScalarType.Int64, device: device);
        var c = arange(w, dtype: ScalarType.Int64, device: device);
        var inRows = r.ge(t).logical_and(r.lt(t + height.to(ScalarType.Int64, device).unsqueeze(1)));   // (B, H)
        var inCols = c.ge(l).logical_and(c.lt(l + width.to(ScalarType.Int64, device).unsqueeze(1)));    // (B, W)
        return inRows.unsqueeze(2).logical_and(inCols.unsqueeze(1));
    }

    /// <summary><c>clamp(f a + (1 - f) b, 0, 1)</c>, torchvision's <c>_blend</c> for float images.</summary>
    private static Tensor Blend(Tensor a, Tensor b, Tensor f) => (f * a + (1 - f) * b).clamp(0, 1);

    /// <summary>A (B) parameter as (B, 1, 1, 1) in the images' type and device.</summary>
    private static Tensor PerSample(Tensor parameter, Tensor images) => parameter.to(images.dtype, images.device).view(-1, 1, 1, 1);

    private static void CheckImages(Tensor images, string op)
    {
        if (images.dim() != 4) throw new ArgumentException($"{op} needs images (B, C, H, W), got [{string.Join(", ", images.shape)}].", nameof(images));
    }

    private static void CheckRgb(Tensor images, string op)
    {
        CheckImages(images, op);
        if (images.shape[1] != 3) throw new ArgumentException($"{op} needs 3 colour channels (R, G, B), got {images.shape[1]}.", nameof(images));
    }
}
