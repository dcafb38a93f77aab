using SkiaSharp;

namespace Jepa.Runtime.Data;

/// <summary>
/// Decodes one image file (PNG, JPEG, BMP, WebP, by SkiaSharp) into the experiment's <c>[c, h, w]</c> bytes, as
/// torchvision's <c>Grayscale</c> (for c = 1), <c>Resize(size)</c>, <c>CenterCrop(size)</c> do to a PIL image:
/// <list type="number">
/// <item>decode to 8-bit RGBA without colour management, then drop the alpha channel (a transparent pixel keeps the colour it stores);</item>
/// <item>channels: c = 3 keeps R, G, B; c = 1 takes the luminance <c>L = (19595 R + 38470 G + 7471 B + 32768) &gt;&gt; 16</c>,
///   the ITU-R BT.601 weights 0.299, 0.587, 0.114 in Pillow's fixed point (<c>Image.convert("L")</c>), so a grey image stays exact;</item>
/// <item>resize so that the image covers h x w with its aspect ratio kept (for a square input: the shorter side becomes the
///   input's size, the longer <c>int(size * long / short)</c>), with Pillow's antialiased bilinear filter (<see cref="Resampler"/>);</item>
/// <item>crop the centre h x w, the offsets rounded half to even as torchvision's <c>CenterCrop</c> does.</item>
/// </list>
/// An image already of the input's size is taken as it is (no resampling). Safe to call from several threads.
/// </summary>
internal static class ImageDecoder
{
    /// <summary>The file extensions read as images (compared without case).</summary>
    public static readonly IReadOnlyList<string> Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".webp"];

    public static bool IsImage(ReadOnlySpan<char> name)
    {
        var extension = Path.GetExtension(name);
        foreach (var e in Extensions)
            if (extension.Equals(e, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>
    /// Decodes <paramref name="encoded"/> (the bytes of the file that <paramref name="name"/> names in messages) into
    /// <paramref name="destination"/>, <c>channels * height * width</c> bytes, planar. Returns the image's own size.
    /// Throws a <see cref="DataException"/> naming the file when it is not a complete image of a supported format.
    /// </summary>
    public static (int Width, int Height) Decode(byte[] encoded, string name, int channels, int height, int width, Span<byte> destination)
    {
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "Images have 1 (grey) or 3 (RGB) channels.");
        byte[] rgba;
        int w, h;
        using (var data = SKData.CreateCopy(encoded))
        using (var codec = SKCodec.Create(data))
        {
            if (codec is null)
                throw new DataException($"'{name}' cannot be decoded: it is not a complete PNG, JPEG, BMP or WebP image (truncated, damaged, or another format under an image extension).");
            w = codec.Info.Width;
            h = codec.Info.Height;
            if (w < 1 || h < 1 || (long)w * h > int.MaxValue / 4)
                throw new DataException($"'{name}' cannot be decoded: its header announces {w} x {h} pixels.");
            var result = codec.GetPixels(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul), out rgba);
            if (result != SKCodecResult.Success)
            {
                var why = result == SKCodecResult.IncompleteInput ? "the file is truncated" : $"the decoder reports {result}";
                throw new DataException($"'{name}' cannot be decoded: {why} ({codec.EncodedFormat}, {w} x {h}).");
            }
        }

        var (resizedWidth, resizedHeight) = CoveringSize(w, h, width, height);
        if (resizedWidth == w && resizedHeight == h && w == width && h == height)
        {
            for (var c = 0; c < channels; c++) Plane(rgba, channels == 1 ? -1 : c, destination.Slice(c * h * w, h * w));
            return (w, h);
        }

        var top = (int)Math.Round((resizedHeight - height) / 2.0, MidpointRounding.ToEven);
        var left = (int)Math.Round((resizedWidth - width) / 2.0, MidpointRounding.ToEven);
        var plane = new byte[w * h];
        for (var c = 0; c < channels; c++)
        {
            Plane(rgba, channels == 1 ? -1 : c, plane);
            var resized = resizedWidth != w || resizedHeight != h ? Resampler.Resize(plane, w, h, resizedWidth, resizedHeight) : plane;
            var output = destination.Slice(c * height * width, height * width);
            for (var y = 0; y < height; y++)
                resized.AsSpan((top + y) * resizedWidth + left, width).CopyTo(output.Slice(y * width, width));
        }
        return (w, h);
    }

    /// <summary>
    /// The size an image of <paramref name="w"/> x <paramref name="h"/> is resized to before the centre crop: the
    /// binding side becomes the input's, the other keeps the aspect ratio (truncated, as torchvision's <c>Resize</c>).
    /// </summary>
    public static (int Width, int Height) CoveringSize(int w, int h, int width, int height)
    {
        if (w == width && h == height) return (w, h);
        return (long)width * h >= (long)height * w
            ? (width, Math.Max(height, (int)((double)width * h / w)))
            : (Math.Max(width, (int)((double)height * w / h)), height);
    }

    /// <summary>One channel of the RGBA pixels (0, 1, 2), or the luminance for <paramref name="channel"/> -1, into <paramref name="plane"/>.</summary>
    private static void Plane(byte[] rgba, int channel, Span<byte> plane)
    {
        if (channel >= 0)
        {
            for (var i = 0; i < plane.Length; i++) plane[i] = rgba[4 * i + channel];
        }
        else
        {
            for (var i = 0; i < plane.Length; i++)
                plane[i] = (byte)((rgba[4 * i] * 19595 + rgba[4 * i + 1] * 38470 + rgba[4 * i + 2] * 7471 + 0x8000) >> 16);
        }
    }
}
