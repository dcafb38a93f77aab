using static TorchSharp.torch;

namespace Jepa.Runtime.Masks;

/// <summary>
/// <c>elastic_transform(alpha, sigma, fill)</c>, torchvision's <c>ElasticTransform(alpha, sigma, BILINEAR, fill)</c> per
/// sample: each image warped by its own smooth random displacement field (Simard et al. 2003, the distortion of
/// handwriting). Per sample two fields of uniform noise in [-1, 1] over the pixels (x, then y), each blurred by a
/// Gaussian of <c>sigma</c> pixels (kernel <c>k = int(8 sigma + 1)</c>, made odd, reflect padding; no blur when sigma
/// is 0) and scaled by <c>alpha / H</c> (x) and <c>alpha / W</c> (y), torchvision's scaling, in <c>grid_sample</c>'s
/// normalised coordinates: a field value <c>f</c> moves the read position by <c>alpha f / 2</c> pixels on a square
/// image. Then <see cref="ImageOps.Elastic"/>. Draws <c>(B, 2, H, W)</c> uniforms; any number of channels; output
/// shape = input shape.
/// </summary>
public sealed class ElasticTransform : ImageCorruption
{
    private const string Link = "elastic_transform";

    /// <summary>Creates the link; <paramref name="alpha"/> &gt;= 0 (default 50, torchvision's), <paramref name="sigma"/>
    /// &gt;= 0 pixels (default 5), <paramref name="fill"/> in [0, 1] (default 0).</summary>
    public ElasticTransform(double alpha = 50, double sigma = 5, double fill = 0)
    {
        Alpha = alpha is >= 0 and < double.PositiveInfinity ? alpha : throw new ArgumentOutOfRangeException(nameof(alpha), alpha, $"{Link} needs a finite alpha >= 0.");
        Sigma = sigma is >= 0 and < double.PositiveInfinity ? sigma : throw new ArgumentOutOfRangeException(nameof(sigma), sigma, $"{Link} needs a finite sigma >= 0.");
        Fill = fill is >= 0 and <= 1 ? fill : throw new ArgumentOutOfRangeException(nameof(fill), fill, $"{Link} needs a fill in [0, 1].");
    }

    /// <inheritdoc/>
    protected override string Name => Link;

    /// <summary>The strength of the displacement.</summary>
    public double Alpha { get; }

    /// <summary>The standard deviation, in pixels, of the Gaussian that smooths the displacement fields.</summary>
    public double Sigma { get; }

    /// <summary>The value of the pixels that come from outside the image.</summary>
    public double Fill { get; }

    /// <summary>torchvision's kernel size for the blur of the fields: <c>int(8 sigma + 1)</c>, made odd.</summary>
    public int KernelSize => (int)(8 * Sigma + 1) | 1;

    /// <summary>
    /// The displacement of each sample (B, H, W, 2; x then y) from its noise <paramref name="u"/> (B, 2, H, W), uniform
    /// in [0, 1): <c>2 u - 1</c> blurred per field and scaled as the summary says. Float32, on <paramref name="u"/>'s device.
    /// </summary>
    public Tensor Displacement(Tensor u)
    {
        ArgumentNullException.ThrowIfNull(u);
        long b = u.shape[0], h = u.shape[2], w = u.shape[3];
        var fields = u.to(ScalarType.Float32) * 2 - 1;                                          // (B, 2, H, W)
        if (Sigma > 0)
        {
            if (KernelSize / 2 >= Math.Min(h, w))
                throw new ArgumentException($"{Link}(sigma: {Sigma}) blurs with a {KernelSize}x{KernelSize} kernel, which needs images larger than {KernelSize / 2}x{KernelSize / 2} (reflect padding), got {h}x{w}; choose sigma < {(2 * Math.Min(h, w) - 1) / 8.0}.", nameof(u));
            fields = ImageOps.GaussianBlur(fields, KernelSize, full(b, Sigma, dtype: ScalarType.Float32, device: u.device));
        }
        var scale = tensor(new[] { (float)(Alpha / h), (float)(Alpha / w) }, device: u.device).view(1, 2, 1, 1);
        return (fields * scale).permute(0, 2, 3, 1);                                             // (B, H, W, 2)
    }

    /// <inheritdoc/>
    protected override Tensor Transform(Tensor images, Generator g)
    {
        var u = Draw.Uniform([images.shape[0], 2, images.shape[2], images.shape[3]], g, images);   // (B, 2, H, W) on the images' device
        return ImageOps.Elastic(images, Displacement(u), Fill);
    }

    /// <inheritdoc/>
    public override string ToString() => $"elastic_transform(alpha: {Alpha}, sigma: {Sigma}, fill: {Fill})";
}
