using static TorchSharp.torch;

namespace Jepa.Runtime.Masks;

/// <summary>
/// <c>gaussian_blur(sigma, p)</c>, torchvision's <c>RandomApply([GaussianBlur(k, sigma)], p)</c> per sample: with
/// probability <c>p</c> a sample is blurred with its own <c>sigma ~ U(sigma)</c> (pixels) on both axes
/// (<see cref="ImageOps.GaussianBlur"/>, reflect padding). Kernel size rule: <c>k = 2 ceil(3 sigma_max) + 1</c>
/// (the kernel reaches 3 standard deviations of the widest blur, 99.7 % of its weight), at most
/// <c>2 min(H, W) - 1</c> (the widest reflect padding an image allows); the same <c>k</c> for every sample. Any number
/// of channels; output shape = input shape.
/// </summary>
public sealed class GaussianBlur : ImageCorruption
{
    private const string Link = "gaussian_blur";

    /// <summary>Creates the link; <paramref name="sigma"/> 0 &lt; min &lt;= max (default 0.1..2.0: SimCLR, BYOL, DINO),
    /// <paramref name="p"/> in [0, 1] (default 0.5).</summary>
    public GaussianBlur((double Min, double Max)? sigma = null, double p = 0.5)
    {
        Sigma = Range(sigma ?? (0.1, 2.0), nameof(sigma), Link, positive: true);
        P = Probability(p, Link);
    }

    /// <inheritdoc/>
    protected override string Name => Link;

    /// <summary>The range of the blur's standard deviation, in pixels.</summary>
    public (double Min, double Max) Sigma { get; }

    /// <summary>The probability that a sample is blurred.</summary>
    public double P { get; }

    /// <summary>The kernel size for an <paramref name="h"/> x <paramref name="w"/> image (the rule above).</summary>
    public int KernelSize(long h, long w) => (int)Math.Min(2 * Math.Ceiling(3 * Sigma.Max) + 1, 2 * Math.Min(h, w) - 1);

    /// <inheritdoc/>
    protected override Tensor Transform(Tensor images, Generator g)
    {
        var u = Draw.Uniform([images.shape[0], 2], g);                                          // applied, sigma
        var blurred = ImageOps.GaussianBlur(images, KernelSize(images.shape[2], images.shape[3]), Between(u[.., 1], Sigma));
        return where(Chosen(u[.., 0], P, images), blurred, images);
    }

    /// <inheritdoc/>
    public override string ToString() => $"gaussian_blur(sigma: {Sigma.Min}..{Sigma.Max}, p: {P})";
}
