using static TorchSharp.torch;

namespace Jepa.Runtime.Masks;

/// <summary>
/// <c>solarize(threshold, p)</c>, torchvision's <c>RandomSolarize</c> per sample: with probability <c>p</c> every pixel
/// value <c>x &gt;= threshold</c> of a sample becomes <c>1 - x</c> (<see cref="ImageOps.Solarize"/>). Any number of
/// channels; output shape = input shape.
/// </summary>
public sealed class Solarize : ImageCorruption
{
    private const string Link = "solarize";

    /// <summary>Creates the link; <paramref name="threshold"/> in [0, 1] (default 0.5), <paramref name="p"/> in [0, 1]
    /// (default 0.2: BYOL's second view, DINO).</summary>
    public Solarize(double threshold = 0.5, double p = 0.2)
    {
        Threshold = threshold is >= 0 and <= 1 ? threshold : throw new ArgumentOutOfRangeException(nameof(threshold), threshold, $"{Link} needs a threshold in [0, 1].");
        P = Probability(p, Link);
    }

    /// <inheritdoc/>
    protected override string Name => Link;

    /// <summary>Pixel values at or above it are inverted.</summary>
    public double Threshold { get; }

    /// <summary>The probability that a sample is solarized.</summary>
    public double P { get; }

    /// <inheritdoc/>
    protected override Tensor Transform(Tensor images, Generator g)
    {
        var u = Draw.Uniform([images.shape[0]], g);
        // A sample that is not solarized gets a threshold above every pixel.
        var threshold = where(u.lt(P), full_like(u, Threshold), full_like(u, 2.0));
        return ImageOps.Solarize(images, threshold);
    }

    /// <inheritdoc/>
    public override string ToString() => $"solarize(threshold: {Threshold}, p: {P})";
}
