using static TorchSharp.torch;

namespace Jepa.Runtime.Masks;

/// <summary>
/// <c>grayscale(p)</c>, torchvision's <c>RandomGrayscale</c> per sample: with probability <c>p</c> a sample's three
/// channels are all replaced by its luma <c>0.2989 R + 0.587 G + 0.114 B</c> (<see cref="ImageOps.Grayscale"/>).
/// Needs 3 channels (R, G, B); output shape = input shape.
/// </summary>
public sealed class Grayscale : ImageCorruption
{
    private const string Link = "grayscale";

    /// <summary>Creates the link; <paramref name="p"/> in [0, 1] (default 0.2: SimCLR, BYOL, DINO).</summary>
    public Grayscale(double p = 0.2) => P = Probability(p, Link);

    /// <inheritdoc/>
    protected override string Name => Link;

    /// <summary>The probability that a sample is turned grey.</summary>
    public double P { get; }

    /// <inheritdoc/>
    protected override Tensor Transform(Tensor images, Generator g)
    {
        var u = Draw.Uniform([images.shape[0]], g);
        return where(Chosen(u, P, images), ImageOps.Grayscale(images).expand_as(images), images);
    }

    /// <inheritdoc/>
    public override string ToString() => $"grayscale(p: {P})";
}
