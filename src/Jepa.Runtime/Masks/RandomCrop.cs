using static TorchSharp.torch;

namespace Jepa.Runtime.Masks;

/// <summary>
/// <c>random_crop(scale, aspect)</c>, a random-resized crop per sample done for the whole batch at once: each sample
/// draws an area fraction <c>s ~ U(scaleMin, scaleMax)</c> and an aspect ratio <c>r</c> (width / height) log-uniform in
/// [aspectMin, aspectMax]; the crop has side fractions <c>w = sqrt(s r)</c> and <c>h = sqrt(s / r)</c> (each clipped to
/// 1, which shrinks the area when the drawn shape does not fit), a uniformly random position inside the image, and is
/// resized back to the input size with bilinear interpolation (<c>affine_grid</c> + <c>grid_sample</c>,
/// <c>align_corners = false</c>). Input (B, C, H, W) or (B, H, W).
/// </summary>
public sealed class RandomCrop : ICorruption
{
    /// <summary>Creates the corruption; scales in (0, 1], aspects positive, each range ordered.</summary>
    public RandomCrop(double scaleMin, double scaleMax, double aspectMin = 3.0 / 4.0, double aspectMax = 4.0 / 3.0)
    {
        if (!(scaleMin > 0 && scaleMin <= scaleMax && scaleMax <= 1))
            throw new ArgumentOutOfRangeException(nameof(scaleMin), $"random_crop needs 0 < scale min <= scale max <= 1, got {scaleMin}..{scaleMax}.");
        if (!(aspectMin > 0 && aspectMin <= aspectMax))
            throw new ArgumentOutOfRangeException(nameof(aspectMin), $"random_crop needs 0 < aspect min <= aspect max, got {aspectMin}..{aspectMax}.");
        Scale = (scaleMin, scaleMax);
        Aspect = (aspectMin, aspectMax);
    }

    /// <summary>The range of the crop's area fraction.</summary>
    public (double Min, double Max) Scale { get; }

    /// <summary>The range of the crop's width / height.</summary>
    public (double Min, double Max) Aspect { get; }

    /// <inheritdoc/>
    public Tensor Apply(Tensor x, Generator g)
    {
        if (x.dim() is not (3 or 4))
            throw new ArgumentException($"random_crop needs images (B, C, H, W) or (B, H, W), got [{string.Join(", ", x.shape)}].", nameof(x));
        var images = x.dim() == 3 ? x.unsqueeze(1) : x;                                    // (B, C, H, W)
        var b = images.shape[0];
        var u = Draw.Uniform([b, 4], g).to(ScalarType.Float32, x.device);                   // scale, aspect, x, y draws
        var area = u[.., 0] * (Scale.Max - Scale.Min) + Scale.Min;                          // (B)
        var logAspect = u[.., 1] * (Math.Log(Aspect.Max) - Math.Log(Aspect.Min)) + Math.Log(Aspect.Min);
        var aspect = logAspect.exp();
        var w = (area * aspect).sqrt().clamp_max(1.0);                                      // (B) width fraction
        var h = (area / aspect).sqrt().clamp_max(1.0);                                      // (B) height fraction
        // In normalised coordinates [-1, 1] the crop is centred at c with half-size w: c in [-(1 - w), 1 - w].
        var cx = (u[.., 2] * 2 - 1) * (1 - w);
        var cy = (u[.., 3] * 2 - 1) * (1 - h);
        var zero = zeros_like(w);
        var theta = stack([stack([w, zero, cx], 1), stack([zero, h, cy], 1)], 1);          // (B, 2, 3)
        var grid = nn.functional.affine_grid(theta.to(images.dtype), images.shape, align_corners: false);   // (B, H, W, 2)
        var cropped = nn.functional.grid_sample(images, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Border, align_corners: false);
        return x.dim() == 3 ? cropped.squeeze(1) : cropped;
    }

    /// <inheritdoc/>
    public override string ToString() => $"random_crop(scale: {Scale.Min}..{Scale.Max}, aspect: {Aspect.Min}..{Aspect.Max})";
}
