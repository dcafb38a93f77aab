using static TorchSharp.torch;

namespace Jepa.Runtime.Masks;

/// <summary>
/// <c>random_erasing(scale, ratio, value, p)</c> (cutout), torchvision's <c>RandomErasing</c> per sample on the whole
/// batch: with probability <c>p</c> a sample makes 10 attempts at once, each an area <c>A = H W s</c> with
/// <c>s ~ U(scale)</c> and a ratio <c>r</c> (height / width, as torchvision's) log-uniform in <c>ratio</c>, the box
/// <c>h = round(sqrt(A r))</c>, <c>w = round(sqrt(A / r))</c>; the first attempt with <c>h &lt; H</c> and
/// <c>w &lt; W</c> is placed uniformly inside the image and set to <c>value</c> in every channel
/// (<see cref="ImageOps.Erase"/>); a sample with no fitting attempt is left alone. Any number of channels; output
/// shape = input shape. Difference from torchvision: <c>value</c> is one number (no per-channel values, no random noise).
/// </summary>
public sealed class RandomErasing : ImageCorruption
{
    private const string Link = "random_erasing";

    /// <summary>Creates the link; <paramref name="scale"/> 0 &lt; min &lt;= max &lt;= 1 (default 0.02..0.33),
    /// <paramref name="ratio"/> 0 &lt; min &lt;= max (default 0.3..3.3), <paramref name="value"/> finite (default 0),
    /// <paramref name="p"/> in [0, 1] (default 0.5): torchvision's defaults.</summary>
    public RandomErasing((double Min, double Max)? scale = null, (double Min, double Max)? ratio = null, double value = 0, double p = 0.5)
    {
        Scale = Range(scale ?? (0.02, 0.33), nameof(scale), Link, upper: 1, positive: true);
        Ratio = Range(ratio ?? (0.3, 3.3), nameof(ratio), Link, positive: true);
        Value = double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(nameof(value), value, $"{Link} needs a finite value.");
        P = Probability(p, Link);
    }

    /// <inheritdoc/>
    protected override string Name => Link;

    /// <summary>The range of the erased area as a fraction of the image.</summary>
    public (double Min, double Max) Scale { get; }

    /// <summary>The range of the erased box's height / width.</summary>
    public (double Min, double Max) Ratio { get; }

    /// <summary>The value written into the box.</summary>
    public double Value { get; }

    /// <summary>The probability that a sample is erased.</summary>
    public double P { get; }

    /// <summary>
    /// Draws the boxes of <paramref name="batch"/> samples of an <paramref name="h"/> x <paramref name="w"/> image, int64
    /// tensors (B) on the generator's device; a sample that erases nothing (not chosen, or no attempt fits) has the empty
    /// box (0, 0, 0, 0).
    /// </summary>
    public (Tensor Top, Tensor Left, Tensor Height, Tensor Width) SampleBoxes(long batch, long h, long w, Generator g)
    {
        var chosen = Draw.Uniform([batch], g).lt(P);                                             // (B)
        var (height, width, position) = BoxAttempts(batch, h, w, Scale, Ratio, g);               // ratio = height / width
        var fits = height.lt(h).logical_and(width.lt(w));
        var (top, left, bh, bw, found) = FirstFit(height, width, fits, position, h, w);
        var erase = found.logical_and(chosen).to(ScalarType.Float64);                           // 0: an empty box at (0, 0)
        return ((top * erase).to(ScalarType.Int64), (left * erase).to(ScalarType.Int64), (bh * erase).to(ScalarType.Int64), (bw * erase).to(ScalarType.Int64));
    }

    /// <inheritdoc/>
    protected override Tensor Transform(Tensor images, Generator g)
    {
        var (top, left, height, width) = SampleBoxes(images.shape[0], images.shape[2], images.shape[3], g);
        return ImageOps.Erase(images, top, left, height, width, Value);
    }

    /// <inheritdoc/>
    public override string ToString() => $"random_erasing(scale: {Scale.Min}..{Scale.Max}, ratio: {Ratio.Min}..{Ratio.Max}, value: {Value}, p: {P})";
}
