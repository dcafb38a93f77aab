using static TorchSharp.torch;

namespace Jepa.Runtime.Masks;

/// <summary>
/// <c>color_jitter(brightness, contrast, saturation, hue, p)</c>, torchvision's <c>RandomApply([ColorJitter(...)], p)</c>
/// per sample on the whole batch. Each sample is jittered with probability <c>p</c>; a jittered sample draws its own
/// factors, brightness, contrast and saturation uniform in <c>[max(0, 1 - s), 1 + s]</c> for strength <c>s</c>, the
/// hue shift uniform in <c>[-hue, hue]</c> (turns), and gets <see cref="ImageOps.AdjustBrightness"/>,
/// <see cref="ImageOps.AdjustContrast"/>, <see cref="ImageOps.AdjustSaturation"/> and <see cref="ImageOps.AdjustHue"/>
/// in a random order. A strength of 0 leaves that adjustment out. Difference from torchvision: the order is drawn once
/// per batch (as Kornia's <c>ColorJiggle</c>), not per image, so that the batch is processed in 4 whole-batch steps.
/// Brightness and contrast work on any number of channels (contrast against the mean of all channels unless there are
/// 3); saturation and hue need 3 (R, G, B). Output shape = input shape.
/// </summary>
public sealed class ColorJitter : ImageCorruption
{
    private const string Link = "color_jitter";

    /// <summary>Creates the link: strengths <paramref name="brightness"/>, <paramref name="contrast"/>,
    /// <paramref name="saturation"/> &gt;= 0, <paramref name="hue"/> in [0, 0.5], <paramref name="p"/> in [0, 1]
    /// (defaults 0.4, 0.4, 0.2, 0.1, 0.8: SimCLR, BYOL and DINO).</summary>
    public ColorJitter(double brightness = 0.4, double contrast = 0.4, double saturation = 0.2, double hue = 0.1, double p = 0.8)
    {
        Brightness = Strength(brightness, nameof(brightness));
        Contrast = Strength(contrast, nameof(contrast));
        Saturation = Strength(saturation, nameof(saturation));
        Hue = hue is >= 0 and <= 0.5 ? hue : throw new ArgumentOutOfRangeException(nameof(hue), hue, $"{Link} needs hue in [0, 0.5] (a fraction of a turn).");
        P = Probability(p, Link);
    }

    /// <inheritdoc/>
    protected override string Name => Link;

    /// <summary>Brightness strength: factor in <c>[max(0, 1 - s), 1 + s]</c>.</summary>
    public double Brightness { get; }

    /// <summary>Contrast strength.</summary>
    public double Contrast { get; }

    /// <summary>Saturation strength.</summary>
    public double Saturation { get; }

    /// <summary>Largest hue shift, in turns.</summary>
    public double Hue { get; }

    /// <summary>The probability that a sample is jittered.</summary>
    public double P { get; }

    /// <summary>Whether the link needs 3 colour channels (saturation or hue is not 0).</summary>
    public bool NeedsColour => Saturation > 0 || Hue > 0;

    private static double Strength(double s, string name) =>
        s >= 0 && double.IsFinite(s) ? s : throw new ArgumentOutOfRangeException(name, s, $"{Link} needs a finite {name} >= 0.");

    private static (double Min, double Max) Factors(double s) => (Math.Max(0, 1 - s), 1 + s);

    /// <inheritdoc/>
    protected override Tensor Transform(Tensor images, Generator g)
    {
        if (NeedsColour && images.shape[1] != 3)
            throw new ArgumentException($"{Link} with saturation or hue needs 3 colour channels, got {images.shape[1]}; set saturation: 0 and hue: 0 for other images.", nameof(images));
        var b = images.shape[0];
        var u = Draw.Uniform([b, 5], g);                                                          // applied, brightness, contrast, saturation, hue
        var order = Draw.Uniform([4], g).argsort().cpu().data<long>().ToArray();                 // one order per batch
        var y = images;
        foreach (var step in order)
        {
            y = step switch
            {
                0 when Brightness > 0 => ImageOps.AdjustBrightness(y, Between(u[.., 1], Factors(Brightness))),
                1 when Contrast > 0 => ImageOps.AdjustContrast(y, Between(u[.., 2], Factors(Contrast))),
                2 when Saturation > 0 => ImageOps.AdjustSaturation(y, Between(u[.., 3], Factors(Saturation))),
                3 when Hue > 0 => ImageOps.AdjustHue(y, Between(u[.., 4], (-Hue, Hue))),
                _ => y,
            };
        }
        return where(Chosen(u[.., 0], P, images), y, images);
    }

    /// <inheritdoc/>
    public override string ToString() => $"color_jitter(brightness: {Brightness}, contrast: {Contrast}, saturation: {Saturation}, hue: {Hue}, p: {P})";
}
