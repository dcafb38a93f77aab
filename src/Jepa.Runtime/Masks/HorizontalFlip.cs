using static TorchSharp.torch;

namespace Jepa.Runtime.Masks;

/// <summary>
/// <c>hflip(p)</c>: each image of the batch is flipped left to right with probability <paramref name="p"/>, independently
/// per sample. One uniform draw per sample comes from the generator (always, whatever <c>p</c>, so the draws that follow
/// do not depend on it), and the whole batch is flipped at once: <c>where(u &lt; p, x.flip(-1), x)</c>. Input
/// (B, C, H, W) or (B, H, W).
/// </summary>
public sealed class HorizontalFlip : ICorruption
{
    /// <summary>Creates the corruption; <paramref name="p"/> must lie in [0, 1].</summary>
    public HorizontalFlip(double p = 0.5)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "hflip needs a probability p in [0, 1].");
        P = p;
    }

    /// <summary>The probability that a sample is flipped.</summary>
    public double P { get; }

    /// <inheritdoc/>
    public Tensor Apply(Tensor x, Generator g)
    {
        if (x.dim() is not (3 or 4))
            throw new ArgumentException($"hflip needs images (B, C, H, W) or (B, H, W), got [{string.Join(", ", x.shape)}].", nameof(x));
        var perSample = new long[x.dim()];
        Array.Fill(perSample, 1L);
        perSample[0] = x.shape[0];
        var flip = (Draw.Uniform([x.shape[0]], g).to(x.device) < P).view(perSample);   // (B, 1, 1[, 1])
        return where(flip, x.flip(-1), x);
    }

    /// <inheritdoc/>
    public override string ToString() => $"hflip(p: {P})";
}
