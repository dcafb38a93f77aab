using static TorchSharp.torch;

namespace Jepa.Runtime.Masks;

/// <summary>
/// <c>feature_dropout(p)</c>: every element is zeroed independently with probability <c>p</c>. Unlike
/// <c>nn.Dropout</c> the kept values are <b>not</b> rescaled by <c>1 / (1 - p)</c>: the corruption models missing
/// input, and the target encoder sees the clean input at its original scale (this is what the calibration run used).
/// </summary>
public sealed class FeatureDropout : ICorruption
{
    /// <summary>Creates the corruption; <paramref name="p"/> in [0, 1).</summary>
    public FeatureDropout(double p)
    {
        if (!(p >= 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "feature_dropout needs p in [0, 1).");
        P = p;
    }

    /// <summary>The probability that an element is zeroed.</summary>
    public double P { get; }

    /// <inheritdoc/>
    public Tensor Apply(Tensor x, Generator g) => x * Draw.Uniform(x.shape, g, x).ge(P).to(x.dtype);

    /// <inheritdoc/>
    public override string ToString() => $"feature_dropout(p: {P})";
}
