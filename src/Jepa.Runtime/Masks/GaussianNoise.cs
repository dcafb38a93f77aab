using static TorchSharp.torch;

namespace Jepa.Runtime.Masks;

/// <summary><c>gaussian_noise(std)</c>: <c>x + std * e</c> with <c>e ~ N(0, 1)</c> drawn for every element.</summary>
public sealed class GaussianNoise : ICorruption
{
    /// <summary>Creates the corruption; <paramref name="std"/> must be non-negative.</summary>
    public GaussianNoise(double std)
    {
        if (!(std >= 0)) throw new ArgumentOutOfRangeException(nameof(std), std, "The noise std must be non-negative.");
        Std = std;
    }

    /// <summary>The standard deviation of the added noise.</summary>
    public double Std { get; }

    /// <inheritdoc/>
    public Tensor Apply(Tensor x, Generator g) => x + Draw.Normal(x.shape, g, x) * Std;

    /// <inheritdoc/>
    public override string ToString() => $"gaussian_noise(std: {Std})";
}
