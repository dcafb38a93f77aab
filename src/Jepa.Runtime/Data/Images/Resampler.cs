namespace Jepa.Runtime.Data;

/// <summary>
/// Resizes 8-bit image planes with Pillow's bilinear filter (<c>Image.resize(size, Image.BILINEAR)</c>, which is what
/// torchvision's <c>Resize</c> does to a PIL image): a separable triangle filter whose support grows with the
/// downscaling factor, so shrinking averages every source pixel (antialiased) and enlarging interpolates between the
/// two nearest. Horizontal pass first, then vertical, each rounded to 8 bits in Pillow's fixed point (22 fraction
/// bits), so the output equals Pillow's byte for byte (a test checks it against values Pillow computed).
/// SkiaSharp decodes the files but is not used here: its sampling options apply no mipmaps to raster images, and a
/// one-pixel checkerboard shrunk from 64 to 20 pixels came out between 46 and 209 instead of a flat grey.
/// </summary>
internal static class Resampler
{
    private const int PrecisionBits = 32 - 8 - 2;

    /// <summary>Resizes one <paramref name="width"/> x <paramref name="height"/> plane (row-major) to <paramref name="outWidth"/> x <paramref name="outHeight"/>.</summary>
    public static byte[] Resize(byte[] plane, int width, int height, int outWidth, int outHeight)
    {
        var current = plane;
        if (outWidth != width)
        {
            var (bounds, weights, size) = Coefficients(width, outWidth);
            var next = new byte[outWidth * height];
            for (var y = 0; y < height; y++)
            {
                var row = y * width;
                for (var x = 0; x < outWidth; x++)
                {
                    var sum = 1 << (PrecisionBits - 1);
                    int first = bounds[2 * x], count = bounds[2 * x + 1];
                    for (var k = 0; k < count; k++) sum += current[row + first + k] * weights[x * size + k];
                    next[y * outWidth + x] = Clip(sum);
                }
            }
            current = next;
        }

        if (outHeight != height)
        {
            var (bounds, weights, size) = Coefficients(height, outHeight);
            var next = new byte[outWidth * outHeight];
            for (var y = 0; y < outHeight; y++)
            {
                int first = bounds[2 * y], count = bounds[2 * y + 1];
                for (var x = 0; x < outWidth; x++)
                {
                    var sum = 1 << (PrecisionBits - 1);
                    for (var k = 0; k < count; k++) sum += current[(first + k) * outWidth + x] * weights[y * size + k];
                    next[y * outWidth + x] = Clip(sum);
                }
            }
            current = next;
        }

        return ReferenceEquals(current, plane) ? (byte[])plane.Clone() : current;
    }

    private static byte Clip(int sum)
    {
        var value = sum >> PrecisionBits;
        return (byte)Math.Clamp(value, 0, 255);
    }

    /// <summary>Pillow's <c>precompute_coeffs</c> and <c>normalize_coeffs_8bpc</c> for the bilinear filter (support 1).</summary>
    private static (int[] Bounds, int[] Weights, int Size) Coefficients(int inSize, int outSize)
    {
        var scale = (double)inSize / outSize;
        var filterScale = Math.Max(scale, 1.0);
        var support = filterScale;
        var size = (int)Math.Ceiling(support) * 2 + 1;
        var bounds = new int[2 * outSize];
        var weights = new int[outSize * size];
        var k = new double[size];
        for (var x = 0; x < outSize; x++)
        {
            var center = (x + 0.5) * scale;
            var min = Math.Max((int)(center - support + 0.5), 0);
            var max = Math.Min((int)(center + support + 0.5), inSize) - min;
            var total = 0.0;
            for (var i = 0; i < max; i++)
            {
                var w = Math.Max(0, 1 - Math.Abs((i + min - center + 0.5) / filterScale));
                k[i] = w;
                total += w;
            }
            for (var i = 0; i < max; i++)
            {
                var normalised = total != 0 ? k[i] / total : k[i];
                weights[x * size + i] = (int)(normalised < 0 ? -0.5 + normalised * (1 << PrecisionBits) : 0.5 + normalised * (1 << PrecisionBits));
            }
            bounds[2 * x] = min;
            bounds[2 * x + 1] = max;
        }
        return (bounds, weights, size);
    }
}
