using System.Text.Json;
using Jepa.Runtime.Data;
using Jepa.Runtime.Tests.Evaluation;
using SkiaSharp;

namespace Jepa.Runtime.Tests.Data;

public class ImageDecoderTests
{
    private static byte[] Decode(byte[] file, int channels, int height, int width, string name = "image.png")
    {
        var output = new byte[channels * height * width];
        ImageDecoder.Decode(file, name, channels, height, width, output);
        return output;
    }

    /// <summary>
    /// What torchvision 0.14 with Pillow 9.4 gives (TestData/image_reference.py): Grayscale for one channel, Resize,
    /// CenterCrop, PILToTensor, on RGB and grey images, shrunk, enlarged, square and not.
    /// </summary>
    [Fact]
    public void Decoding_matches_torchvision_resize_and_centre_crop_byte_for_byte()
    {
        using var reference = JsonDocument.Parse(File.ReadAllText(SklearnCrossCheckTests.TestData("image_reference.json")));
        var cases = reference.RootElement.GetProperty("cases").EnumerateArray().ToList();
        Assert.Equal(8, cases.Count);
        foreach (var c in cases)
        {
            int w = c.GetProperty("width").GetInt32(), h = c.GetProperty("height").GetInt32();
            int channels = c.GetProperty("channels").GetInt32(), oh = c.GetProperty("out_height").GetInt32(), ow = c.GetProperty("out_width").GetInt32();
            var grey = c.GetProperty("grey").GetBoolean();
            var png = TestImages.Encode(TestImages.Rgba(w, h, TestImages.Pixel), w, h, SKEncodedImageFormat.Png, grey: grey);
            var expected = c.GetProperty("pixels").EnumerateArray().Select(p => (byte)p.GetInt32()).ToArray();
            var actual = Decode(png, channels, oh, ow);
            Assert.Equal(expected.Length, actual.Length);
            var differences = Enumerable.Range(0, expected.Length).Where(i => expected[i] != actual[i]).ToList();
            Assert.True(differences.Count == 0, $"{w}x{h}{(grey ? " grey" : "")} -> [{channels}, {oh}, {ow}]: {differences.Count} bytes differ, the first at {differences.FirstOrDefault()}");
        }
    }

    [Fact]
    public void Shrinking_averages_every_pixel_so_a_fine_checkerboard_becomes_grey()
    {
        var png = TestImages.Png(64, 64, (x, y, _) => (byte)((x + y) % 2 == 0 ? 255 : 0));
        var output = Decode(png, 1, 20, 20);
        Assert.InRange(output.Min(), 120, 135);   // without antialiasing (Skia's sampling): 46..209
        Assert.InRange(output.Max(), 120, 135);
    }

    [Fact]
    public void An_image_of_the_input_size_is_taken_as_it_is()
    {
        var png = TestImages.Png(5, 3, TestImages.Pixel);
        var output = Decode(png, 3, 3, 5);
        for (var c = 0; c < 3; c++)
        for (var y = 0; y < 3; y++)
        for (var x = 0; x < 5; x++)
            Assert.Equal(TestImages.Pixel(x, y, c), output[(c * 3 + y) * 5 + x]);
    }

    [Fact]
    public void Luminance_uses_the_BT601_weights_in_Pillows_fixed_point_and_keeps_grey_exact()
    {
        byte[] Grey(byte r, byte g, byte b) => Decode(TestImages.Png(1, 1, (_, _, c) => c == 0 ? r : c == 1 ? g : b), 1, 1, 1);
        Assert.Equal(76, Grey(255, 0, 0)[0]);     // 0.299 * 255 = 76.2
        Assert.Equal(150, Grey(0, 255, 0)[0]);    // 0.587 * 255 = 149.7
        Assert.Equal(29, Grey(0, 0, 255)[0]);     // 0.114 * 255 = 29.1
        Assert.Equal(141, Grey(100, 150, 200)[0]); // 29.9 + 88.05 + 22.8 = 140.75, rounded
        for (var v = 0; v < 256; v += 17) Assert.Equal(v, Grey((byte)v, (byte)v, (byte)v)[0]);
    }

    [Fact]
    public void Alpha_is_dropped_keeping_the_stored_colour()
    {
        var rgba = TestImages.Rgba(2, 1, (x, _, c) => (byte)(x == 0 ? new[] { 200, 100, 50 }[c] : 10), (x, _) => (byte)(x == 0 ? 0 : 128));
        var output = Decode(TestImages.Encode(rgba, 2, 1, SKEncodedImageFormat.Png), 3, 1, 2);
        Assert.Equal(new byte[] { 200, 10, 100, 10, 50, 10 }, output);   // planar R, G, B
    }

    [Theory]
    [InlineData("png")]
    [InlineData("bmp")]
    [InlineData("webp")]
    [InlineData("jpeg")]
    public void Every_supported_format_decodes(string format)
    {
        var rgba = TestImages.Rgba(8, 6, (x, y, c) => (byte)(x * 20 + y * 10 + c * 30));   // smooth: no wrap-around edges
        var file = format switch
        {
            "png" => TestImages.Encode(rgba, 8, 6, SKEncodedImageFormat.Png),
            "bmp" => TestImages.Bmp(rgba, 8, 6),
            "webp" => TestImages.LosslessWebp(rgba, 8, 6),
            _ => TestImages.Encode(rgba, 8, 6, SKEncodedImageFormat.Jpeg, 100),
        };
        var output = Decode(file, 3, 6, 8);
        var tolerance = format == "jpeg" ? 8 : 0;   // JPEG is lossy (and subsamples colour)
        for (var c = 0; c < 3; c++)
        for (var y = 0; y < 6; y++)
        for (var x = 0; x < 8; x++)
            Assert.InRange(output[(c * 6 + y) * 8 + x] - rgba[(y * 8 + x) * 4 + c], -tolerance, tolerance);
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Png)]
    [InlineData(SKEncodedImageFormat.Jpeg)]
    public void A_truncated_file_is_an_error_naming_it(SKEncodedImageFormat format)
    {
        var file = TestImages.Encode(TestImages.Rgba(32, 32, TestImages.Pixel), 32, 32, format, 90);
        var e = Assert.Throws<DataException>(() => Decode(file[..(file.Length / 2)], 3, 32, 32, "cats/7.img"));
        Assert.StartsWith("'cats/7.img' cannot be decoded: ", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Text_under_an_image_extension_is_an_error_naming_the_file()
    {
        var e = Assert.Throws<DataException>(() => Decode("hello"u8.ToArray(), 1, 4, 4, "notes.png"));
        Assert.Equal("'notes.png' cannot be decoded: it is not a complete PNG, JPEG, BMP or WebP image (truncated, damaged, or another format under an image extension).", e.Message);
    }

    [Theory]
    [InlineData(40, 20, 10, 10, 20, 10)]   // wide: height binds
    [InlineData(20, 40, 10, 10, 10, 20)]   // tall: width binds
    [InlineData(30, 20, 12, 10, 18, 12)]   // height binds: int(12 * 30 / 20) = 18
    [InlineData(28, 28, 28, 28, 28, 28)]
    [InlineData(5, 7, 12, 12, 12, 16)]     // int(12 * 7 / 5) = 16
    public void The_covering_size_keeps_the_aspect_ratio(int w, int h, int height, int width, int expectedWidth, int expectedHeight)
    {
        Assert.Equal((expectedWidth, expectedHeight), ImageDecoder.CoveringSize(w, h, width, height));
    }
}
