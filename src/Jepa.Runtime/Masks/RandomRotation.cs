using static TorchSharp.torch;

namespace Jepa.Runtime.Masks;

/// <summary>
/// <c>random_rotation(degrees, fill)</c>, torchvision's <c>RandomRotation(degrees, BILINEAR, fill)</c> per sample: each
/// image turned by an angle uniform in <c>[-degrees, degrees]</c> (counter-clockwise when positive) about its centre,
/// the corners that come from outside the image set to <paramref name="fill"/> (<see cref="ImageOps.Rotate"/>). One
/// uniform draw per sample; any number of channels; output shape = input shape.
/// </summary>
public sealed class RandomRotation : ImageCorruption
{
    private const string Link = "random_rotation";

    /// <summary>Creates the link; <paramref name="degrees"/> in [0, 180], <paramref name="fill"/> in [0, 1] (default 0,
    /// black; a set of dark strokes on a white ground wants 1).</summary>
    public RandomRotation(double degrees, double fill = 0)
    {
        Degrees = degrees is >= 0 and <= 180 ? degrees : throw new ArgumentOutOfRangeException(nameof(degrees), degrees, $"{Link} needs degrees in [0, 180].");
        Fill = fill is >= 0 and <= 1 ? fill : throw new ArgumentOutOfRangeException(nameof(fill), fill, $"{Link} needs a fill in [0, 1].");
    }

    /// <inheritdoc/>
    protected override string Name => Link;

    /// <summary>The largest angle, in degrees, either way.</summary>
    public double Degrees { get; }

    /// <summary>The value of the pixels that come from outside the image.</summary>
    public double Fill { get; }

    /// <summary>The angles of <paramref name="batch"/> samples in degrees (B, float64): <c>-degrees + 2 degrees u</c>.</summary>
    public Tensor SampleAngles(long batch, Generator g) => Draw.Uniform([batch], g).to(ScalarType.Float64) * (2 * Degrees) - Degrees;

    /// <inheritdoc/>
    protected override Tensor Transform(Tensor images, Generator g) => ImageOps.Rotate(images, SampleAngles(images.shape[0], g), Fill);

    /// <inheritdoc/>
    public override string ToString() => $"random_rotation(degrees: {Degrees}, fill: {Fill})";
}
