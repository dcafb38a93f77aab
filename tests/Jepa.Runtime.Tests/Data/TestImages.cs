using System.Buffers.Binary;
using SkiaSharp;

namespace Jepa.Runtime.Tests.Data;

/// <summary>Image files for the data tests: pixels from a formula or given, encoded by SkiaSharp (PNG, JPEG, WebP) or by hand (BMP).</summary>
internal static class TestImages
{
    /// <summary>The reference images' pixel formula (TestData/image_reference.py).</summary>
    public static byte Pixel(int x, int y, int c) => (byte)((x * 37 + y * 11 + c * 89 + (x * y) % 7 * 13) % 256);

    /// <summary>RGBA pixels (row-major) of a w x h image: colour from <paramref name="rgb"/>, alpha 255 unless given.</summary>
    public static byte[] Rgba(int w, int h, Func<int, int, int, byte> rgb, Func<int, int, byte>? alpha = null)
    {
        var pixels = new byte[w * h * 4];
        for (var y = 0; y < h; y++)
        for (var x = 0; x < w; x++)
        {
            for (var c = 0; c < 3; c++) pixels[(y * w + x) * 4 + c] = rgb(x, y, c);
            pixels[(y * w + x) * 4 + 3] = alpha?.Invoke(x, y) ?? 255;
        }
        return pixels;
    }

    public static byte[] Encode(byte[] rgba, int w, int h, SKEncodedImageFormat format, int quality = 100, bool grey = false)
    {
        if (grey)
        {
            using var g = new SKBitmap(new SKImageInfo(w, h, SKColorType.Gray8, SKAlphaType.Opaque));
            var span = g.GetPixelSpan();
            for (var i = 0; i < w * h; i++) span[i] = rgba[4 * i];
            using var greyData = g.Encode(format, quality);
            return greyData.ToArray();
        }
        using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        rgba.CopyTo(bitmap.GetPixelSpan());
        using var data = bitmap.Encode(format, quality);
        return data.ToArray();
    }

    public static byte[] LosslessWebp(byte[] rgba, int w, int h)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        rgba.CopyTo(bitmap.GetPixelSpan());
        using var pixmap = bitmap.PeekPixels();
        using var data = pixmap.Encode(new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossless, 100));
        return data!.ToArray();
    }

    public static byte[] Png(int w, int h, Func<int, int, int, byte> rgb) => Encode(Rgba(w, h, rgb), w, h, SKEncodedImageFormat.Png);

    /// <summary>A PNG whose every pixel is <paramref name="value"/> in all channels; <paramref name="grey"/> stores it as a one-channel PNG.</summary>
    public static byte[] Flat(int w, int h, byte value, bool grey = false) => Encode(Rgba(w, h, (_, _, _) => value), w, h, SKEncodedImageFormat.Png, grey: grey);

    /// <summary>A 24-bit BMP (bottom-up rows padded to 4 bytes).</summary>
    public static byte[] Bmp(byte[] rgba, int w, int h)
    {
        var row = (w * 3 + 3) / 4 * 4;
        var bytes = new byte[54 + row * h];
        bytes[0] = (byte)'B';
        bytes[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(2), bytes.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(18), w);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(22), h);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(28), 24);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(34), row * h);
        for (var y = 0; y < h; y++)
        for (var x = 0; x < w; x++)
        for (var c = 0; c < 3; c++)
            bytes[54 + (h - 1 - y) * row + x * 3 + c] = rgba[(y * w + x) * 4 + 2 - c];   // BGR
        return bytes;
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> under <paramref name="root"/>, creating folders.</summary>
    public static string Write(string root, string path, byte[] bytes)
    {
        var full = Path.Combine(root, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, bytes);
        return full;
    }
}
