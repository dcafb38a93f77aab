using static TorchSharp.torch;

namespace Jepa.Runtime.Masks;

/// <summary>
/// <c>random_mask(ratio)</c> in vector mode: in every sample exactly <c>k = round(ratio * d)</c> of its <c>d</c> elements
/// (half away from zero), chosen uniformly without replacement, are set to zero. No rescaling.
/// </summary>
public sealed class RandomFeatureMask : ICorruption
{
    /// <summary>Creates the corruption; <paramref name="ratio"/> in [0, 1].</summary>
    public RandomFeatureMask(double ratio)
    {
        if (!(ratio >= 0 && ratio <= 1)) throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "random_mask needs a ratio in [0, 1].");
        Ratio = ratio;
    }

    /// <summary>The fraction of elements zeroed per sample.</summary>
    public double Ratio { get; }

    /// <summary>The number of elements zeroed in a sample of <paramref name="d"/> elements.</summary>
    public long MaskedCount(long d) => (long)Math.Round(Ratio * d, MidpointRounding.AwayFromZero);

    /// <inheritdoc/>
    public Tensor Apply(Tensor x, Generator g)
    {
        long b = x.shape[0], d = x.numel() / Math.Max(b, 1);
        var k = MaskedCount(d);
        var order = Draw.Uniform([b, d], g).argsort(1).to(x.device);                   // (B, d): a random permutation per sample
        var keep = ones(b, d, dtype: x.dtype, device: x.device);
        if (k > 0) keep = keep.scatter(1, order[.., ..(int)k], zeros(b, k, dtype: x.dtype, device: x.device));
        return x * keep.reshape(x.shape);                                             // (B, ...)
    }

    /// <inheritdoc/>
    public override string ToString() => $"random_mask(ratio: {Ratio})";
}
