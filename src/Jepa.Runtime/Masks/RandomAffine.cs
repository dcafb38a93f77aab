using static TorchSharp.torch;

namespace Jepa.Runtime.Masks;

/// <summary>
/// <c>random_affine(degrees, translate, scale, shear, fill)</c>, torchvision's
/// <c>RandomAffine(degrees, (translate, translate), scale, shear, BILINEAR, fill)</c> per sample: an angle uniform in
/// <c>[-degrees, degrees]</c>, a move of <c>round(U(-translate W, translate W))</c> and <c>round(U(-translate H,
/// translate H))</c> whole pixels, a zoom uniform in <c>scale</c> and a horizontal shear uniform in
/// <c>[-shear, shear]</c> degrees, about the image's centre (<see cref="ImageOps.Affine"/>), the area from outside the
/// image set to <paramref name="fill"/>. Five uniform draws per sample, (B, 5): angle, x move, y move, zoom, shear,
/// drawn whatever the arguments; any number of channels; output shape = input shape.
/// </summary>
public sealed class RandomAffine : ImageCorruption
{
    private const string Link = "random_affine";

    /// <summary>Creates the link; <paramref name="degrees"/> in [0, 180], <paramref name="translate"/> in [0, 1] (a
    /// fraction of the width and of the height), <paramref name="scale"/> with 0 &lt; min &lt;= max, <paramref name="shear"/>
    /// in [0, 89] degrees, <paramref name="fill"/> in [0, 1].</summary>
    public RandomAffine(double degrees, double translate = 0, (double Min, double Max)? scale = null, double shear = 0, double fill = 0)
    {
        Degrees = degrees is >= 0 and <= 180 ? degrees : throw new ArgumentOutOfRangeException(nameof(degrees), degrees, $"{Link} needs degrees in [0, 180].");
        Translate = translate is >= 0 and <= 1 ? translate : throw new ArgumentOutOfRangeException(nameof(translate), translate, $"{Link} needs a translate in [0, 1].");
        Scale = scale ?? (1, 1);
        if (!(Scale.Min > 0 && Scale.Min <= Scale.Max && double.IsFinite(Scale.Max)))
            throw new ArgumentOutOfRangeException(nameof(scale), Scale, $"{Link} needs a scale with 0 < min <= max.");
        Shear = shear is >= 0 and <= 89 ? shear : throw new ArgumentOutOfRangeException(nameof(shear), shear, $"{Link} needs a shear in [0, 89] degrees.");
        Fill = fill is >= 0 and <= 1 ? fill : throw new ArgumentOutOfRangeException(nameof(fill), fill, $"{Link} needs a fill in [0, 1].");
    }

    /// <inheritdoc/>
    protected override string Name => Link;

    /// <summary>The largest angle, in degrees, either way.</summary>
    public double Degrees { get; }

    /// <summary>The largest move, as a fraction of the width (x) and of the height (y).</summary>
    public double Translate { get; }

    /// <summary>The range of the zoom factor.</summary>
    public (double Min, double Max) Scale { get; }

    /// <summary>The largest horizontal shear, in degrees, either way.</summary>
    public double Shear { get; }

    /// <summary>The value of the pixels that come from outside the image.</summary>
    public double Fill { get; }

    /// <summary>
    /// The parameters of <paramref name="batch"/> samples of <paramref name="h"/> x <paramref name="w"/> images, each
    /// (B) float64: the angle and shear in degrees, the moves in whole pixels (rounded half to even, as Python's
    /// <c>round</c>), the zoom.
    /// </summary>
    public (Tensor Angle, Tensor TranslateX, Tensor TranslateY, Tensor Scale, Tensor Shear) SampleParameters(long batch, long h, long w, Generator g)
    {
        var u = Draw.Uniform([batch, 5], g).to(ScalarType.Float64);                                 // (B, 5)
        Tensor Symmetric(Tensor v, double max) => v * (2 * max) - max;
        return (Symmetric(u[.., 0], Degrees),
                Symmetric(u[.., 1], Translate * w).round(),
                Symmetric(u[.., 2], Translate * h).round(),
                Between(u[.., 3], Scale),
                Symmetric(u[.., 4], Shear));
    }

    /// <inheritdoc/>
    protected override Tensor Transform(Tensor images, Generator g)
    {
        var (angle, tx, ty, scale, shear) = SampleParameters(images.shape[0], images.shape[2], images.shape[3], g);
        return ImageOps.Affine(images, angle, tx, ty, scale, shear, zeros_like(shear), Fill);
    }

    /// <inheritdoc/>
    public override string ToString() => $"random_affine(degrees: {Degrees}, translate: {Translate}, scale: {Scale.Min}..{Scale.Max}, shear: {Shear}, fill: {Fill})";
}
