using static TorchSharp.torch;

namespace Jepa.Runtime.Masks;

/// <summary>
/// <c>random_resized_crop(scale, ratio, size)</c>, torchvision's <c>RandomResizedCrop</c> per sample on the whole batch:
/// <list type="number">
/// <item>Each sample makes 10 attempts at once: an area <c>A = H W s</c> with <c>s ~ U(scale)</c>, a ratio
/// <c>r</c> (width / height) log-uniform in <c>ratio</c>, the box <c>w = round(sqrt(A r))</c>,
/// <c>h = round(sqrt(A / r))</c> (half to even). The first attempt with <c>0 &lt; w &lt;= W</c> and
/// <c>0 &lt; h &lt;= H</c> wins; its top-left corner is uniform over the positions that keep it inside the image.</item>
/// <item>A sample with no fitting attempt takes the central crop of the largest box whose ratio is clamped into
/// <c>ratio</c> (torchvision's fallback).</item>
/// <item>The boxes (whole pixels) are resized to <c>size</c> (default: the input's size) by bilinear interpolation,
/// <c>align_corners = false</c>, no antialiasing (<see cref="ImageOps.ResizedCrop"/>): one <c>grid_sample</c>.</item>
/// </list>
/// (B, C, H, W) -> (B, C, size.H, size.W). It replaces <see cref="RandomCrop"/> (<c>random_crop</c>, continuous boxes,
/// output the input's size), which stays only for the code generated today.
/// </summary>
public sealed class RandomResizedCrop : ImageCorruption
{
    /// <summary>Creates the link. <paramref name="scale"/>: area fraction, 0 &lt; min &lt;= max &lt;= 1 (default
    /// 0.08..1); <paramref name="ratio"/>: width / height, 0 &lt; min &lt;= max (default 3/4..4/3);
    /// <paramref name="size"/>: output (H, W), default the input's.</summary>
    public RandomResizedCrop((double Min, double Max)? scale = null, (double Min, double Max)? ratio = null, (int H, int W)? size = null)
    {
        Scale = Range(scale ?? (0.08, 1.0), nameof(scale), Link, upper: 1, positive: true);
        Ratio = Range(ratio ?? (3.0 / 4.0, 4.0 / 3.0), nameof(ratio), Link, positive: true);
        if (size is { } s && (s.H < 1 || s.W < 1)) throw new ArgumentOutOfRangeException(nameof(size), size, $"{Link} needs an output size of at least 1x1.");
        Size = size;
    }

    /// <inheritdoc/>
    protected override string Name => Link;

    private const string Link = "random_resized_crop";

    /// <summary>The range of the crop's area as a fraction of the image.</summary>
    public (double Min, double Max) Scale { get; }

    /// <summary>The range of the crop's width / height.</summary>
    public (double Min, double Max) Ratio { get; }

    /// <summary>The output (H, W), or null for the input's.</summary>
    public (int H, int W)? Size { get; }

    /// <summary>The output (H, W) for an input of <paramref name="h"/> x <paramref name="w"/>.</summary>
    public (int H, int W) OutputSize(int h, int w) => Size ?? (h, w);

    /// <summary>
    /// Draws the boxes of <paramref name="batch"/> samples of an <paramref name="h"/> x <paramref name="w"/> image:
    /// int64 tensors (B) on the generator's device.
    /// </summary>
    public (Tensor Top, Tensor Left, Tensor Height, Tensor Width) SampleBoxes(long batch, long h, long w, Generator g)
    {
        var (width, height, position) = BoxAttempts(batch, h, w, Scale, Ratio, g);               // ratio = width / height
        var fits = width.gt(0).logical_and(width.le(w)).logical_and(height.gt(0)).logical_and(height.le(h));
        var (top, left, bh, bw, any) = FirstFit(height, width, fits, position, h, w);
        var (fh, fw) = Fallback(h, w);
        return (where(any, top, (h - fh) / 2).to(ScalarType.Int64), where(any, left, (w - fw) / 2).to(ScalarType.Int64),
                where(any, bh, fh).to(ScalarType.Int64), where(any, bw, fw).to(ScalarType.Int64));
    }

    /// <summary>The central box when no attempt fits: the whole image, narrowed to the nearest ratio in range.</summary>
    private (long H, long W) Fallback(long h, long w)
    {
        var imageRatio = (double)w / h;
        if (imageRatio < Ratio.Min) return ((long)Math.Round(w / Ratio.Min, MidpointRounding.ToEven), w);
        if (imageRatio > Ratio.Max) return (h, (long)Math.Round(h * Ratio.Max, MidpointRounding.ToEven));
        return (h, w);
    }

    /// <inheritdoc/>
    protected override Tensor Transform(Tensor images, Generator g)
    {
        var (top, left, height, width) = SampleBoxes(images.shape[0], images.shape[2], images.shape[3], g);
        return ImageOps.ResizedCrop(images, top, left, height, width, OutputSize((int)images.shape[2], (int)images.shape[3]));
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"random_resized_crop(scale: {Scale.Min}..{Scale.Max}, ratio: {Ratio.Min}..{Ratio.Max}{(Size is { } s ? $", size: [{s.H}, {s.W}]" : "")})";
}
