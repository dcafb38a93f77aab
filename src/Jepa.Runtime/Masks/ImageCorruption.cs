using static TorchSharp.torch;

namespace Jepa.Runtime.Masks;

/// <summary>
/// The common part of the image links (<c>random_resized_crop</c>, <c>color_jitter</c>, <c>grayscale</c>,
/// <c>gaussian_blur</c>, <c>solarize</c>, <c>random_erasing</c>, pixel masks): the input is a batch of images
/// <c>(B, C, H, W)</c>, or <c>(B, H, W)</c> read as one channel, with pixels in [0, 1] (before any normalisation); every
/// random draw comes from the generator, per sample; the work is done on the whole batch in tensor operations (see
/// <see cref="ImageOps"/>). A (B, H, W) input gives a (B, H', W') output.
/// </summary>
public abstract class ImageCorruption : ICorruption
{
    /// <summary>The link's name in a .jepa file, for messages.</summary>
    protected abstract string Name { get; }

    /// <inheritdoc/>
    public Tensor Apply(Tensor x, Generator g)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(g);
        if (x.dim() is not (3 or 4))
            throw new ArgumentException($"{Name} needs images (B, C, H, W) or (B, H, W), got [{string.Join(", ", x.shape)}].", nameof(x));
        if (!x.is_floating_point())
            throw new ArgumentException($"{Name} needs floating-point pixels in [0, 1], got {x.dtype}.", nameof(x));
        var images = x.dim() == 3 ? x.unsqueeze(1) : x;                                        // (B, C, H, W)
        var y = Transform(images, g);
        return x.dim() == 3 ? y.squeeze(1) : y;
    }

    /// <summary>The link on (B, C, H, W) images.</summary>
    protected abstract Tensor Transform(Tensor images, Generator g);

    /// <summary>Per sample, true with probability <paramref name="p"/> given its uniform draw <paramref name="u"/> (B): (B, 1, 1, 1) on the images' device.</summary>
    protected static Tensor Chosen(Tensor u, double p, Tensor images) => u.lt(p).to(images.device).view(-1, 1, 1, 1);

    /// <summary>A uniform draw (B) mapped onto [min, max].</summary>
    protected static Tensor Between(Tensor u, (double Min, double Max) range) => u * (range.Max - range.Min) + range.Min;

    /// <summary>
    /// torchvision's box rule (<c>RandomResizedCrop</c>, <c>RandomErasing</c>), 10 attempts per sample at once: an area
    /// <c>A = h w s</c> with <c>s ~ U(scale)</c>, a ratio <c>r</c> log-uniform in <paramref name="ratio"/>, the sides
    /// <c>round(sqrt(A r))</c> and <c>round(sqrt(A / r))</c> (half to even, as Python's <c>round</c>), each (B, 10)
    /// float64, and two uniform draws per attempt for its position (B, 10, 2).
    /// </summary>
    protected static (Tensor RootAreaTimesRatio, Tensor RootAreaOverRatio, Tensor Position) BoxAttempts(
        long batch, long h, long w, (double Min, double Max) scale, (double Min, double Max) ratio, Generator g)
    {
        const int attempts = 10;
        var u = Draw.Uniform([batch, attempts, 4], g).to(ScalarType.Float64);                     // area, ratio, top, left
        var area = Between(u[.., .., 0], scale) * (h * w);
        var r = Between(u[.., .., 1], (Math.Log(ratio.Min), Math.Log(ratio.Max))).exp();
        return ((area * r).sqrt().round(), (area / r).sqrt().round(), u[.., .., 2..]);
    }

    /// <summary>
    /// Of the attempts (B, 10), the first that <paramref name="fits"/> (attempt 0 where none does; then
    /// <c>Found</c> is false and the box means nothing), its top-left corner uniform over the positions that keep it inside
    /// the <paramref name="h"/> x <paramref name="w"/> image; (B) float64 each.
    /// </summary>
    protected static (Tensor Top, Tensor Left, Tensor Height, Tensor Width, Tensor Found) FirstFit(
        Tensor height, Tensor width, Tensor fits, Tensor position, long h, long w)
    {
        var first = fits.to(ScalarType.Int32).argmax(1, keepdim: true);                          // (B, 1)
        Tensor Pick(Tensor t) => t.gather(1, first).squeeze(1);                                   // (B)
        var (bh, bw) = (Pick(height), Pick(width));
        var top = (Pick(position[.., .., 0]) * (h - bh + 1)).floor().minimum(h - bh);
        var left = (Pick(position[.., .., 1]) * (w - bw + 1)).floor().minimum(w - bw);
        return (top, left, bh, bw, fits.any(1));
    }

    /// <summary>Checks a probability argument.</summary>
    protected static double Probability(double p, string link) =>
        p is >= 0 and <= 1 ? p : throw new ArgumentOutOfRangeException(nameof(p), p, $"{link} needs p in [0, 1].");

    /// <summary>Checks a range argument: <c>lower &lt;= min &lt;= max &lt;= upper</c>, and <c>min &gt; 0</c> when <paramref name="positive"/>.</summary>
    protected static (double Min, double Max) Range((double Min, double Max) r, string argument, string link, double lower = 0, double upper = double.PositiveInfinity, bool positive = false)
    {
        if (r.Min >= lower && (!positive || r.Min > 0) && r.Min <= r.Max && r.Max <= upper) return r;
        var bounds = (positive ? "0 < min" : $"{lower} <= min") + " <= max" + (double.IsPositiveInfinity(upper) ? "" : $" <= {upper}");
        throw new ArgumentOutOfRangeException(argument, r, $"{link} needs {argument} min..max with {bounds}, got {r.Min}..{r.Max}.");
    }
}
