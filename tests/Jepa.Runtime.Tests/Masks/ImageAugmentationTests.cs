using System.Text.Json;
using Jepa.Runtime.Masks;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Masks;

/// <summary>
/// The image links. Deterministic cores (<see cref="ImageOps"/>) against torchvision 0.14's functional transforms on
/// generated images with the parameters stored in TestData/torchvision_reference.json (tolerance 2e-6 absolute on
/// [0, 1] pixels: float32 rounding of different but equivalent formulas); the random draws against their definition
/// (rates of p within 4 standard deviations, ranges, torchvision's own box statistics).
/// </summary>
public class ImageAugmentationTests(ITestOutputHelper output)
{
    private const double Tolerance = 2e-6;

    private static Generator Seeded(long seed) => new((ulong)seed, torch.CPU);

    private static JsonElement Case(string name) =>
        TorchvisionReference.Root.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    public static TheoryData<string> CaseNames()
    {
        var names = new TheoryData<string>();
        foreach (var c in TorchvisionReference.Root.GetProperty("cases").EnumerateArray()) names.Add(c.GetProperty("name").GetString()!);
        return names;
    }

    private static double[] Numbers(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    private static Tensor Column(JsonElement boxes, int i) =>
        tensor(boxes.EnumerateArray().Select(b => b[i].GetInt64()).ToArray());

    private static Tensor Parameter(JsonElement rows, int i) =>
        tensor(rows.EnumerateArray().Select(r => r[i].GetDouble()).ToArray());

    /// <summary>Our batched core on the case's images and per-sample parameters.</summary>
    private static Tensor Ours(JsonElement c)
    {
        var images = TorchvisionReference.Tensor(TorchvisionReference.Root.GetProperty("images").GetProperty(c.GetProperty("image").GetString()!));
        var p = c.GetProperty("params");
        return c.GetProperty("op").GetString() switch
        {
            "resized_crop" => ImageOps.ResizedCrop(images, Column(p, 0), Column(p, 1), Column(p, 2), Column(p, 3),
                                                  (c.GetProperty("size")[0].GetInt32(), c.GetProperty("size")[1].GetInt32())),
            "brightness" => ImageOps.AdjustBrightness(images, tensor(Numbers(p))),
            "contrast" => ImageOps.AdjustContrast(images, tensor(Numbers(p))),
            "saturation" => ImageOps.AdjustSaturation(images, tensor(Numbers(p))),
            "hue" => ImageOps.AdjustHue(images, tensor(Numbers(p))),
            "grayscale" => ImageOps.Grayscale(images),
            "gaussian_blur" => ImageOps.GaussianBlur(images, c.GetProperty("kernel").GetInt32(), tensor(Numbers(p))),
            "solarize" => ImageOps.Solarize(images, tensor(Numbers(p))),
            "rotate" => ImageOps.Rotate(images, tensor(Numbers(p)), c.GetProperty("fill").GetDouble()),
            "affine" => ImageOps.Affine(images, Parameter(p, 0), Parameter(p, 1), Parameter(p, 2), Parameter(p, 3), Parameter(p, 4), Parameter(p, 5),
                                        c.GetProperty("fill").GetDouble()),
            "elastic" => ImageOps.Elastic(images, new ElasticTransform(p[0].GetDouble(), p[1].GetDouble()).Displacement(TorchvisionReference.Tensor(c.GetProperty("noise"))),
                                          c.GetProperty("fill").GetDouble()),
            "erase" => ImageOps.Erase(images, Column(p, 0), Column(p, 1), Column(p, 2), Column(p, 3), c.GetProperty("value").GetDouble()),
            "mask_cells" => ImageOps.MaskCells(images, tensor(p.EnumerateArray().SelectMany(k => k.EnumerateArray().Select(v => v.GetInt64())).ToArray(),
                                                              [p.GetArrayLength(), p[0].GetArrayLength()]), c.GetProperty("patch").GetInt32(), 0),
            var op => throw new InvalidOperationException($"unknown op {op}"),
        };
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void The_batched_core_matches_torchvision(string name)
    {
        var c = Case(name);
        using var expected = TorchvisionReference.Tensor(c.GetProperty("output"));
        using var ours = Ours(c);
        Assert.Equal(expected.shape, ours.shape);
        var difference = (ours - expected).abs().max().item<float>();
        output.WriteLine($"{name}: largest difference from torchvision {difference:G3} over {expected.numel()} values");
        Assert.True(difference <= Tolerance, $"{name}: largest difference {difference}");
    }

    [Fact]
    public void Colour_operations_refuse_images_without_three_channels()
    {
        using var grey = rand(2, 1, 6, 6);
        Assert.Contains("3 colour channels", Assert.Throws<ArgumentException>(() => ImageOps.AdjustHue(grey, zeros(2))).Message);
        Assert.Contains("3 colour channels", Assert.Throws<ArgumentException>(() => new ColorJitter().Apply(grey, Seeded(1))).Message);
        Assert.Contains("3 colour channels", Assert.Throws<ArgumentException>(() => new Grayscale().Apply(grey, Seeded(1))).Message);
        // Brightness and contrast alone work on one channel.
        using var y = new ColorJitter(0.4, 0.4, 0, 0, 1).Apply(grey, Seeded(1));
        Assert.Equal(grey.shape, y.shape);
        Assert.Contains("needs images", Assert.Throws<ArgumentException>(() => new Solarize().Apply(rand(4, 16), Seeded(1))).Message);
    }

    // ---- random_resized_crop --------------------------------------------------------------------------------------

    /// <summary>
    /// Our vectorised box sampler against torchvision's <c>RandomResizedCrop.get_params</c> (20,000 boxes each, stored):
    /// the means of top, left, height, width and area agree within 4 standard errors of the difference of two means,
    /// the standard deviations within 5 %; the configuration where no attempt fits gives torchvision's central box.
    /// </summary>
    [Fact]
    public void Crop_boxes_follow_torchvision_distribution()
    {
        foreach (var config in TorchvisionReference.Root.GetProperty("crop_statistics").EnumerateArray())
        {
            var (h, w, n) = (config.GetProperty("h").GetInt32(), config.GetProperty("w").GetInt32(), config.GetProperty("n").GetInt32());
            var crop = new RandomResizedCrop(Pair(config.GetProperty("scale")), Pair(config.GetProperty("ratio")));
            var boxes = crop.SampleBoxes(n, h, w, Seeded(11));
            CompareStatistics($"crop {h}x{w} {crop}", config.GetProperty("stats"), boxes, h, w, n);
            // Every box lies inside the image.
            Assert.True(boxes.Top.ge(0).logical_and((boxes.Top + boxes.Height).le(h)).all().item<bool>());
            Assert.True(boxes.Left.ge(0).logical_and((boxes.Left + boxes.Width).le(w)).all().item<bool>());
            Assert.True(boxes.Height.ge(1).logical_and(boxes.Width.ge(1)).all().item<bool>());
        }
    }

    private static (double, double) Pair(JsonElement e) => (e[0].GetDouble(), e[1].GetDouble());

    private void CompareStatistics(string what, JsonElement expected, (Tensor Top, Tensor Left, Tensor Height, Tensor Width) boxes, int h, int w, int n)
    {
        var area = (boxes.Height * boxes.Width).to(ScalarType.Float64) / (h * w);
        foreach (var (name, values) in new[] { ("top", boxes.Top), ("left", boxes.Left), ("height", boxes.Height), ("width", boxes.Width), ("area", area) })
        {
            var v = values.to(ScalarType.Float64);
            double mean = v.mean().item<double>(), std = v.std(unbiased: false).item<double>();
            double theirMean = expected.GetProperty(name).GetProperty("mean").GetDouble(), theirStd = expected.GetProperty(name).GetProperty("std").GetDouble();
            output.WriteLine($"{what} {name}: mean {mean:F4} (torchvision {theirMean:F4}), std {std:F4} ({theirStd:F4})");
            var standardError = Math.Sqrt((std * std + theirStd * theirStd) / n);
            Assert.True(Math.Abs(mean - theirMean) <= 4 * standardError + 1e-12, $"{what}: mean {name} {mean} against {theirMean}");
            Assert.True(Math.Abs(std - theirStd) <= 0.05 * theirStd + 1e-12, $"{what}: std of {name} {std} against {theirStd}");
        }
    }

    [Fact]
    public void Random_resized_crop_resamples_its_box_to_the_output_size()
    {
        // The ramp image value = column (channel 0) and row (channel 1) reveals each sample's box: output pixel o of a
        // box [l, l + bw) reads column l + (o + 1/2) bw / ow - 1/2 (clamped inside the box).
        const int size = 24, batch = 200;
        using var cols = arange(size, dtype: ScalarType.Float32).repeat(size, 1);
        using var ramp = stack([cols, cols.t()]).unsqueeze(0).repeat(batch, 1, 1, 1);       // (B, 2, H, W)
        var crop = new RandomResizedCrop((0.2, 0.9), (0.5, 2.0), size: (12, 10));
        using var y = crop.Apply(ramp, Seeded(8));
        Assert.Equal(new long[] { batch, 2, 12, 10 }, y.shape);
        var (top, left, height, width) = crop.SampleBoxes(batch, size, size, Seeded(8));
        using var expected = ImageOps.ResizedCrop(ramp, top, left, height, width, (12, 10));
        Assert.True(y.equal(expected).all().item<bool>(), "Apply draws the boxes of SampleBoxes from the same generator");
        // First and last output columns: the box's edges, up to the half-pixel rule.
        var area = (height * width).to(ScalarType.Float64) / (size * size);
        var ratio = width.to(ScalarType.Float64) / height.to(ScalarType.Float64);
        Assert.InRange(area.min().item<double>(), 0.2 - 0.1, 0.9 + 0.1);                // rounding to whole pixels
        Assert.InRange(ratio.min().item<double>(), 0.5 * 0.8, 2.0 * 1.25);
        using var firstCol = y[.., 0, 0, 0];
        using var expectFirst = left.to(ScalarType.Float32) + ((width.to(ScalarType.Float32) / 10 * 0.5) - 0.5).clamp_min(0);
        Assert.True((firstCol - expectFirst).abs().max().item<float>() < 1e-4);
        Assert.True(height.unique().Item1.numel() > 5, "boxes differ per sample");
        // (B, H, W) input: (B, 12, 10) out.
        Assert.Equal(new long[] { 3, 12, 10 }, crop.Apply(rand(3, size, size), Seeded(1)).shape);
    }

    [Fact]
    public void Random_resized_crop_of_the_whole_image_at_its_size_is_the_identity()
    {
        using var x = rand(5, 3, 9, 13, generator: Seeded(6));
        using var y = new RandomResizedCrop((1.0, 1.0), (13.0 / 9, 13.0 / 9)).Apply(x, Seeded(7));
        Assert.True(y.allclose(x, rtol: 0, atol: 1e-5));
    }

    // ---- colour ----------------------------------------------------------------------------------------------------

    /// <summary>
    /// With one adjustment at a time the factor of each sample can be read back: brightness on pixels below 1/2 (never
    /// clipped for factors up to 2) is <c>y / x</c>, uniform on [1 - s, 1 + s] (mean 1, variance s^2 / 3); jittered with
    /// probability p.
    /// </summary>
    [Fact]
    public void Color_jitter_draws_brightness_factors_uniformly_and_applies_with_probability_p()
    {
        const int batch = 4000;
        using var x = rand(batch, 3, 4, 4, generator: Seeded(3)) * 0.45 + 0.05;
        var jitter = new ColorJitter(brightness: 0.5, contrast: 0, saturation: 0, hue: 0, p: 0.7);
        using var y = jitter.Apply(x, Seeded(4));
        using var factor = (y / x).mean([1, 2, 3]);                                            // (B)
        using var changed = (y - x).abs().amax([1, 2, 3]).gt(0);
        var rate = changed.to(ScalarType.Float64).mean().item<double>();
        AssertRate(rate, 0.7, batch, "color_jitter p");
        using var applied = factor[changed];
        Assert.InRange(applied.min().item<float>(), 0.5f - 1e-5f, 1.5f + 1e-5f);
        Assert.InRange(applied.max().item<float>(), 0.5f - 1e-5f, 1.5f + 1e-5f);
        Assert.InRange(applied.mean().item<float>(), 1 - 4 * 0.289f / MathF.Sqrt(2800), 1 + 4 * 0.289f / MathF.Sqrt(2800));
        Assert.InRange(applied.var().item<float>(), 0.25f / 3 * 0.9f, 0.25f / 3 * 1.1f);
        // The factor is one number per sample: every pixel of a sample is scaled alike.
        using var spread = (y / x).flatten(1).std(1);
        Assert.True(spread.max().item<float>() < 1e-5);
    }

    [Fact]
    public void Color_jitter_with_every_adjustment_keeps_pixels_in_range_and_is_reproducible()
    {
        using var x = rand(64, 3, 8, 8, generator: Seeded(5));
        var jitter = new ColorJitter(0.8, 0.8, 0.8, 0.5, 1.0);
        using var y = jitter.Apply(x, Seeded(6));
        Assert.InRange(y.min().item<float>(), 0, 1);
        Assert.InRange(y.max().item<float>(), 0, 1);
        Assert.True(jitter.Apply(x, Seeded(6)).equal(y).all().item<bool>());
        Assert.False(jitter.Apply(x, Seeded(7)).equal(y).all().item<bool>());
        // Hue only: the HSV value (the largest channel) of every pixel is kept.
        using var hueOnly = new ColorJitter(0, 0, 0, 0.5, 1.0).Apply(x, Seeded(8));
        Assert.True((hueOnly.amax([1]) - x.amax([1])).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void Adjustments_by_factor_one_and_shift_zero_are_the_identity()
    {
        using var x = rand(4, 3, 5, 7, generator: Seeded(9));
        using var one = ones(4);
        Assert.True(ImageOps.AdjustBrightness(x, one).equal(x).all().item<bool>());
        Assert.True(ImageOps.AdjustContrast(x, one).equal(x).all().item<bool>());
        Assert.True(ImageOps.AdjustSaturation(x, one).equal(x).all().item<bool>());
        Assert.True(ImageOps.AdjustHue(x, zeros(4)).allclose(x, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Grayscale_turns_a_fraction_p_of_the_samples_grey()
    {
        const int batch = 5000;
        using var x = rand(batch, 3, 3, 3, generator: Seeded(10));
        using var y = new Grayscale(0.2).Apply(x, Seeded(11));
        using var grey = (y[.., 0] - y[.., 1]).abs().amax([1, 2]).eq(0).logical_and((y[.., 1] - y[.., 2]).abs().amax([1, 2]).eq(0));
        AssertRate(grey.to(ScalarType.Float64).mean().item<double>(), 0.2, batch, "grayscale p");
        using var expected = ImageOps.Grayscale(x).expand_as(x);
        Assert.True(where(grey.view(-1, 1, 1, 1), expected, x).equal(y).all().item<bool>(), "grey samples are the luma, the others unchanged");
    }

    // ---- gaussian_blur ---------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(0.1, 2.0, 28, 28, 13)]
    [InlineData(0.1, 2.0, 32, 32, 13)]
    [InlineData(0.5, 1.0, 28, 28, 7)]
    [InlineData(0.1, 2.0, 5, 9, 9)]       // clipped to 2 min(H, W) - 1
    [InlineData(0.1, 0.3, 8, 8, 3)]
    public void Blur_kernel_size_follows_the_documented_rule(double min, double max, int h, int w, int expected) =>
        Assert.Equal(expected, new GaussianBlur((min, max)).KernelSize(h, w));

    /// <summary>
    /// On a single bright pixel in the middle of a dark image the blurred image is the kernel itself, so the second
    /// moment of its column sums is the sampled, truncated kernel's variance, a monotone function <c>v(sigma)</c>
    /// computed here from the definition: the blurred samples' sigmas lie in [0.5, 2], reach both ends (1,200 uniform
    /// draws come within 0.01 of each), average as a uniform draw, and come at a rate of p.
    /// </summary>
    [Fact]
    public void Gaussian_blur_draws_sigma_in_range_per_sample_with_probability_p()
    {
        const int batch = 3000, size = 21;
        var blur = new GaussianBlur((0.5, 2.0), p: 0.4);
        var half = blur.KernelSize(size, size) / 2;
        double KernelVariance(double sigma)
        {
            var w = Enumerable.Range(-half, 2 * half + 1).Select(t => (T: (double)t, W: Math.Exp(-t * t / (2 * sigma * sigma)))).ToArray();
            return w.Sum(p => p.T * p.T * p.W) / w.Sum(p => p.W);
        }
        using var x = zeros(batch, 1, size, size);
        x[.., .., size / 2, size / 2] = 1;
        using var y = blur.Apply(x, Seeded(12));
        using var blurred = y[.., 0, size / 2, size / 2].lt(1);
        AssertRate(blurred.to(ScalarType.Float64).mean().item<double>(), 0.4, batch, "gaussian_blur p");
        using var columns = y[blurred].squeeze(1).sum([1]).to(ScalarType.Float64);          // (n, W) column sums of each kernel
        using var t = (arange(size, dtype: ScalarType.Float64) - size / 2).pow(2);
        using var variance = (columns * t).sum([1]) / columns.sum([1]);                        // (n)
        double low = KernelVariance(0.5), high = KernelVariance(2.0), nearLow = KernelVariance(0.51), nearHigh = KernelVariance(1.99);
        Assert.InRange(variance.min().item<double>(), low - 1e-5, nearLow);
        Assert.InRange(variance.max().item<double>(), nearHigh, high + 1e-5);
        var expectedMean = Enumerable.Range(0, 1501).Average(i => KernelVariance(0.5 + 1.5 * i / 1500));
        var sd = Math.Sqrt(Enumerable.Range(0, 1501).Average(i => Math.Pow(KernelVariance(0.5 + 1.5 * i / 1500) - expectedMean, 2)));
        var n = blurred.sum().item<long>();
        Assert.InRange(variance.mean().item<double>(), expectedMean - 4 * sd / Math.Sqrt(n), expectedMean + 4 * sd / Math.Sqrt(n));
        Assert.True(y.sum([1, 2, 3]).allclose(ones(batch), rtol: 0, atol: 1e-4), "the kernel sums to one");
    }

    // ---- solarize --------------------------------------------------------------------------------------------------

    [Fact]
    public void Solarize_inverts_pixels_at_or_above_the_threshold_in_a_fraction_p_of_the_samples()
    {
        const int batch = 5000;
        using var x = rand(batch, 1, 4, 4, generator: Seeded(13));
        x[.., 0, 0, 0] = 0.7f;                                                               // every sample has a pixel to invert
        using var y = new Solarize(0.6, 0.3).Apply(x, Seeded(14));
        using var changed = y.ne(x).flatten(1).any(1);
        AssertRate(changed.to(ScalarType.Float64).mean().item<double>(), 0.3, batch, "solarize p");
        using var inverted = where(x.ge(0.6f), 1 - x, x);
        Assert.True(where(changed.view(-1, 1, 1, 1), inverted, x).equal(y).all().item<bool>());
    }

    // ---- random_rotation -------------------------------------------------------------------------------------------

    [Fact]
    public void Random_rotation_draws_its_angles_uniformly_within_degrees()
    {
        const int n = 20000;
        using var angles = new RandomRotation(15).SampleAngles(n, Seeded(31));
        Assert.InRange(angles.min().item<double>(), -15, -14.9);
        Assert.InRange(angles.max().item<double>(), 14.9, 15);
        var sd = 15 / Math.Sqrt(3);                                                           // of U(-15, 15)
        Assert.InRange(angles.mean().item<double>(), -4 * sd / Math.Sqrt(n), 4 * sd / Math.Sqrt(n));
        Assert.InRange(angles.std().item<double>(), 0.98 * sd, 1.02 * sd);
    }

    /// <summary>By hand: 90 degrees on a square image is <c>rot90</c> (counter-clockwise, every pixel from inside the
    /// image), 0 degrees the identity, whatever the fill.</summary>
    [Fact]
    public void Rotation_by_a_right_angle_is_rot90_and_by_zero_the_identity()
    {
        using var x = rand(3, 2, 7, 7, generator: Seeded(32));
        using var turned = ImageOps.Rotate(x, tensor(new[] { 90.0, 90.0, 0.0 }), fill: 0.5);
        using var expected = cat([x.narrow(0, 0, 2).rot90(1, (2, 3)), x.narrow(0, 2, 1)], 0);
        Assert.True((turned - expected).abs().max().item<float>() < 1e-5, "rot90 and the identity");
    }

    // ---- elastic_transform -----------------------------------------------------------------------------------------

    /// <summary>By hand: no displacement is the identity; a displacement of 2 / W in x (one pixel in grid_sample's
    /// coordinates) reads each output pixel from its right neighbour, the last column from outside (the fill); 2 / H in y
    /// from the pixel below.</summary>
    [Fact]
    public void Elastic_by_hand_identity_and_one_pixel_moves()
    {
        using var x = rand(3, 2, 6, 8, generator: Seeded(35));
        using var displacement = zeros(3, 6, 8, 2);
        displacement[1, .., .., 0] = tensor(2.0f / 8);
        displacement[2, .., .., 1] = tensor(2.0f / 6);
        using var y = ImageOps.Elastic(x, displacement, fill: 0.25);
        Assert.True((y[0] - x[0]).abs().max().item<float>() < 1e-6, "identity");
        Assert.True((y[1][.., .., ..7] - x[1][.., .., 1..]).abs().max().item<float>() < 1e-6, "one pixel to the left");
        Assert.True((y[1][.., .., 7] - 0.25).abs().max().item<float>() < 1e-6, "the fill where the image ends");
        Assert.True((y[2][.., ..5, ..] - x[2][.., 1.., ..]).abs().max().item<float>() < 1e-6, "one pixel up");
        Assert.Throws<ArgumentException>(() => ImageOps.Elastic(x, zeros(3, 8, 6, 2)));
    }

    /// <summary>The displacement from its noise: without blur (sigma 0) uniform on <c>[-alpha / H, alpha / H]</c> in x and
    /// <c>[-alpha / W, alpha / W]</c> in y (torchvision's scaling); alpha 0 is the identity link; with blur the fields are
    /// smooth (neighbours correlated) and smaller, centred on 0; the draws are per sample.</summary>
    [Fact]
    public void Elastic_displacement_is_scaled_noise_and_its_blur()
    {
        using var u = rand(64, 2, 20, 40, generator: Seeded(36));
        using var raw = new ElasticTransform(alpha: 10, sigma: 0).Displacement(u);              // (64, 20, 40, 2)
        Assert.Equal([64L, 20, 40, 2], raw.shape);
        Assert.True((raw[.., .., .., 0] - (u[.., 0] * 2 - 1) * (10.0 / 20)).abs().max().item<float>() < 1e-6, "x: alpha / H");
        Assert.True((raw[.., .., .., 1] - (u[.., 1] * 2 - 1) * (10.0 / 40)).abs().max().item<float>() < 1e-6, "y: alpha / W");
        using var blurred = new ElasticTransform(alpha: 10, sigma: 2).Displacement(u)[.., .., .., 0];   // k = 17
        var sd = blurred.std().item<float>();
        Assert.InRange(sd, 0.01, 0.5 / Math.Sqrt(3) / 3);
        Assert.InRange(blurred.mean().item<float>(), -0.1 * sd, 0.1 * sd);
        using var a = blurred[.., .., ..39].flatten();
        using var b = blurred[.., .., 1..].flatten();
        var correlation = ((a - a.mean()) * (b - b.mean())).mean().item<float>() / (a.std().item<float>() * b.std().item<float>());
        Assert.True(correlation > 0.8, $"neighbours correlate after the blur: {correlation}");
        using var images = rand(4, 1, 20, 40, generator: Seeded(37));
        // alpha 0: the identity up to the float32 rounding of the grid at pixel centres (about 1e-6 at 40 pixels).
        Assert.True((new ElasticTransform(alpha: 0, sigma: 2).Apply(images, Seeded(38)) - images).abs().max().item<float>() < 1e-5, "alpha 0");
    }

    // ---- random_affine ---------------------------------------------------------------------------------------------

    [Fact]
    public void Random_affine_draws_each_parameter_uniformly_within_its_range_and_moves_whole_pixels()
    {
        const int n = 20000;
        var (angle, tx, ty, scale, shear) = new RandomAffine(15, translate: 0.1, scale: (0.8, 1.2), shear: 10).SampleParameters(n, 20, 30, Seeded(33));
        void Uniform(Tensor v, double min, double max, string what)
        {
            var sd = (max - min) / Math.Sqrt(12);
            Assert.InRange(v.min().item<double>(), min, min + 0.01 * (max - min));
            Assert.InRange(v.max().item<double>(), max - 0.01 * (max - min), max);
            Assert.True(Math.Abs(v.mean().item<double>() - (min + max) / 2) <= 4 * sd / Math.Sqrt(n), what + " mean");
            Assert.InRange(v.std().item<double>(), 0.98 * sd, 1.02 * sd);
        }
        Uniform(angle, -15, 15, "angle");
        Uniform(scale, 0.8, 1.2, "scale");
        Uniform(shear, -10, 10, "shear");
        // Moves: round(U(-3, 3)) across a 30-pixel width and round(U(-2, 2)) across 20 rows, whole pixels, each value
        // as often as its share of the interval (half to even at the ends: -3 and 3 get 0.5 / 6 each, the inner 1 / 6).
        Assert.True(tx.eq(tx.round()).all().item<bool>() && ty.eq(ty.round()).all().item<bool>(), "whole pixels");
        Assert.Equal(-3, tx.min().item<double>());
        Assert.Equal(3, tx.max().item<double>());
        Assert.Equal(2, ty.abs().max().item<double>());
        AssertRate(tx.eq(0).to(ScalarType.Float64).mean().item<double>(), 1 / 6.0, n, "tx = 0");
        AssertRate(tx.eq(3).to(ScalarType.Float64).mean().item<double>(), 0.5 / 6, n, "tx = 3");
        AssertRate(ty.eq(1).to(ScalarType.Float64).mean().item<double>(), 1 / 4.0, n, "ty = 1");
    }

    /// <summary>By hand: no turn, move, zoom or shear is the identity; a clockwise quarter turn of a square image is
    /// <c>rot90</c> clockwise; a zoom by 2 about the centre of an 8x8 image reads halfway to the centre; a move of (1, -2) pixels puts input pixel (i, j) at (i - 2, j + 1), the fill where nothing
    /// comes from the image.</summary>
    [Fact]
    public void Affine_by_hand_identity_quarter_turn_zoom_and_move()
    {
        using var x = rand(4, 2, 8, 8, generator: Seeded(34));
        Tensor Of(params double[] v) => tensor(v);
        using var y = ImageOps.Affine(x, Of(0, 90, 0, 0), Of(0, 0, 0, 1), Of(0, 0, 0, -2), Of(1, 1, 2, 1), Of(0, 0, 0, 0), Of(0, 0, 0, 0), fill: 0.25);
        Assert.True((y[0] - x[0]).abs().max().item<float>() < 1e-6, "identity");
        Assert.True((y[1] - x[1].rot90(-1, (1, 2))).abs().max().item<float>() < 1e-5, "clockwise quarter turn");
        // Zoom by 2: output pixel (3, 3), 0.5 left of and above the centre, reads (3.25, 3.25): bilinear weights 9 / 16,
        // 3 / 16, 3 / 16, 1 / 16.
        using var zoomed = (9 * x[2][.., 3, 3] + 3 * x[2][.., 3, 4] + 3 * x[2][.., 4, 3] + x[2][.., 4, 4]) / 16;
        Assert.True((y[2][.., 3, 3] - zoomed).abs().max().item<float>() < 1e-6, "zoom by 2 reads between pixels");
        Assert.True((y[3].narrow(1, 0, 6).narrow(2, 1, 7) - x[3].narrow(1, 2, 6).narrow(2, 0, 7)).abs().max().item<float>() < 1e-6, "moved by (1, -2)");
        Assert.True((y[3].narrow(1, 6, 2) - 0.25f).abs().max().item<float>() < 1e-6, "rows from below the image are the fill");
        Assert.True((y[3].narrow(2, 0, 1) - 0.25f).abs().max().item<float>() < 1e-6, "the column from left of the image is the fill");
    }

    // ---- random_erasing --------------------------------------------------------------------------------------------

    [Fact]
    public void Erasing_boxes_follow_torchvision_distribution()
    {
        foreach (var config in TorchvisionReference.Root.GetProperty("erase_statistics").EnumerateArray())
        {
            var (h, w, n) = (config.GetProperty("h").GetInt32(), config.GetProperty("w").GetInt32(), config.GetProperty("n").GetInt32());
            var erasing = new RandomErasing(Pair(config.GetProperty("scale")), Pair(config.GetProperty("ratio")), p: 1);
            var boxes = erasing.SampleBoxes(n, h, w, Seeded(15));
            CompareStatistics($"erase {h}x{w} {erasing}", config.GetProperty("stats"), boxes, h, w, n);
            var noneFit = boxes.Height.eq(0).to(ScalarType.Float64).mean().item<double>();
            var expected = config.GetProperty("none_fit").GetDouble();
            output.WriteLine($"erase {h}x{w}: no fitting attempt in {noneFit:P2} (torchvision {expected:P2})");
            Assert.True(Math.Abs(noneFit - expected) <= 4 * Math.Sqrt(2 * Math.Max(expected, 1.0 / n) * (1 - expected) / n), $"none fit {noneFit} against {expected}");
            Assert.True((boxes.Top + boxes.Height).le(h).logical_and((boxes.Left + boxes.Width).le(w)).all().item<bool>());
            Assert.True(boxes.Height.lt(h).logical_and(boxes.Width.lt(w)).all().item<bool>(), "torchvision's rule: strictly smaller than the image");
        }
    }

    [Fact]
    public void Random_erasing_sets_one_box_to_the_value_in_a_fraction_p_of_the_samples()
    {
        const int batch = 4000;
        using var x = rand(batch, 3, 16, 16, generator: Seeded(16)) * 0.5 + 0.25;             // never 0.9
        var erasing = new RandomErasing(value: 0.9, p: 0.6);
        using var y = erasing.Apply(x, Seeded(17));
        using var erased = y.eq(0.9f);
        using var any = erased.flatten(1).any(1);
        AssertRate(any.to(ScalarType.Float64).mean().item<double>(), 0.6, batch, "random_erasing p");
        var (top, left, height, width) = erasing.SampleBoxes(batch, 16, 16, Seeded(17));
        using var box = ImageOps.Box(top, left, height, width, 16, 16, CPU);
        Assert.True(erased.equal(box.unsqueeze(1).expand_as(erased)).all().item<bool>(), "exactly the drawn box, in every channel");
        Assert.True(where(erased, x, y).equal(x).all().item<bool>(), "the rest is unchanged");
    }

    // ---- pixel masks -----------------------------------------------------------------------------------------------

    [Fact]
    public void Pixel_block_mask_keeps_exactly_the_context_cells_of_the_token_mask()
    {
        const int batch = 64;
        var blocks = new MultiBlockMask((4, 4), targets: 4, minKeep: 4);
        var mask = new PixelMask(blocks, patch: 7);
        using var x = rand(batch, 1, 28, 28, generator: Seeded(18)) + 1;                       // never 0
        using var y = mask.Apply(x, Seeded(19));
        var context = blocks.Sample(batch, Seeded(19)).Context;                                 // the same draws
        using var kept = zeros(batch, 16, dtype: ScalarType.Bool).scatter(1, context, ones(context.shape, dtype: ScalarType.Bool));
        // Cell (r, c) of sample b is kept exactly when its 7x7 pixels are unchanged, else all 0.
        using var cells = y.view(batch, 4, 7, 4, 7).permute(0, 1, 3, 2, 4).reshape(batch, 16, 49);
        using var original = x.view(batch, 4, 7, 4, 7).permute(0, 1, 3, 2, 4).reshape(batch, 16, 49);
        Assert.True(cells.eq(original).all(2).equal(kept).all().item<bool>());
        Assert.True(cells.eq(0).all(2).equal(kept.logical_not()).all().item<bool>());
        var fraction = kept.to(ScalarType.Float64).mean().item<double>();
        output.WriteLine($"pixel block mask on 4x4 cells of 7x7: {fraction:P1} of the pixels kept");
        Assert.Contains("grid", Assert.Throws<ArgumentException>(() => mask.Apply(rand(2, 1, 32, 32), Seeded(1))).Message);
    }

    [Fact]
    public void Pixel_random_mask_hides_the_target_share_of_cells_including_partial_ones()
    {
        var tokens = new RandomTokenMask((3, 4), 0.5);                                         // 8x11 in 3x3 cells: ceil gives 3x4
        var mask = new PixelMask(tokens, patch: 3, value: -1);
        using var x = rand(200, 2, 8, 11, generator: Seeded(20));
        using var y = mask.Apply(x, Seeded(21));
        using var hidden = y.eq(-1).all(1);                                                    // (B, H, W)
        // 6 of the 12 cells hidden; cells on the last row (2 pixels high) and column (2 pixels wide) are smaller.
        var cellArea = new long[] { 9, 9, 9, 6, 9, 9, 9, 6, 6, 6, 6, 4 };
        var context = tokens.Sample(200, Seeded(21)).Context;
        using var keptArea = tensor(cellArea).index_select(0, context.flatten()).view(200, -1).sum([1]);
        Assert.True(hidden.flatten(1).sum([1]).equal(88 - keptArea).all().item<bool>());
    }

    [Fact]
    public void A_pixel_mask_made_per_grid_follows_the_image_size_and_draws_as_a_given_mask_does()
    {
        var made = new List<(int H, int W)>();
        var mask = new PixelMask(grid => { made.Add(grid); return new MultiBlockMask(grid, targets: 2, minKeep: 2); }, patch: 4);
        Assert.Null(mask.Mask);

        // On 28x28 images: a 7x7 grid, exactly what a mask given for that grid draws.
        using var x = rand(16, 1, 28, 28, generator: Seeded(22)) + 1;
        using var y = mask.Apply(x, Seeded(23));
        using var expected = new PixelMask(new MultiBlockMask((7, 7), targets: 2, minKeep: 2), patch: 4).Apply(x, Seeded(23));
        Assert.True(y.equal(expected).all().item<bool>());

        // Smaller crops (14x14): a 4x4 grid of its own; the same size again reuses it.
        using var small = rand(16, 1, 14, 14, generator: Seeded(24));
        Assert.Equal([16L, 1, 14, 14], mask.Apply(small, Seeded(25)).shape);
        Assert.Equal((4, 4), mask.Mask!.Grid);
        mask.Apply(small, Seeded(26)).Dispose();
        Assert.Equal([(7, 7), (4, 4)], made);
    }

    // ---- all links ---------------------------------------------------------------------------------------------

    public static TheoryData<string> LinkNames() => new(Links().Keys);

    private static Dictionary<string, ICorruption> Links() => new()
    {
        ["random_resized_crop"] = new RandomResizedCrop(),
        ["color_jitter"] = new ColorJitter(),
        ["grayscale"] = new Grayscale(),
        ["gaussian_blur"] = new GaussianBlur(),
        ["solarize"] = new Solarize(),
        ["random_rotation"] = new RandomRotation(30, fill: 0.5),
        ["random_affine"] = new RandomAffine(20, translate: 0.1, scale: (0.8, 1.2), shear: 15, fill: 0.5),
        ["elastic_transform"] = new ElasticTransform(alpha: 34, sigma: 4, fill: 0.5),
        ["random_erasing"] = new RandomErasing(),
        ["pixel block_mask"] = new PixelMask(new MultiBlockMask((4, 4)), 8),
    };

    /// <summary>Every link: shape kept, pixels in [0, 1], the input untouched, reproducible from the generator, per-sample draws.</summary>
    [Theory]
    [MemberData(nameof(LinkNames))]
    public void Every_link_is_reproducible_leaves_its_input_alone_and_stays_in_range(string name)
    {
        var link = Links()[name];
        using var x = rand(32, 3, 32, 32, generator: Seeded(22));
        using var copy = x.clone();
        using var y = link.Apply(x, Seeded(23));
        Assert.Equal(x.shape, y.shape);
        Assert.True(x.equal(copy).all().item<bool>(), "the input is not modified");
        Assert.InRange(y.min().item<float>(), 0, 1);
        Assert.InRange(y.max().item<float>(), 0, 1);
        Assert.True(link.Apply(x, Seeded(23)).equal(y).all().item<bool>(), "same generator state, same result");
        Assert.False(link.Apply(x, Seeded(24)).equal(y).all().item<bool>(), "another seed, another result");
        var changed = (y - x).abs().flatten(1).amax(1).gt(0).sum().item<long>();
        Assert.True(changed > 0, "some samples change");
        if (name is not ("random_resized_crop" or "random_rotation" or "random_affine" or "elastic_transform" or "pixel block_mask")) Assert.True(changed < 32, "p < 1 leaves some samples alone");
        Assert.Throws<ArgumentException>(() => link.Apply(rand(4, 3), Seeded(1)));
    }

    [Fact]
    public void Invalid_arguments_are_refused_with_the_link_name()
    {
        Assert.Contains("random_resized_crop", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomResizedCrop((0.5, 1.5))).Message);
        Assert.Contains("random_resized_crop", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomResizedCrop(ratio: (2, 1))).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomResizedCrop(size: (0, 4)));
        Assert.Contains("color_jitter", Assert.Throws<ArgumentOutOfRangeException>(() => new ColorJitter(hue: 0.6)).Message);
        Assert.Contains("color_jitter", Assert.Throws<ArgumentOutOfRangeException>(() => new ColorJitter(brightness: -1)).Message);
        Assert.Contains("grayscale", Assert.Throws<ArgumentOutOfRangeException>(() => new Grayscale(1.5)).Message);
        Assert.Contains("gaussian_blur", Assert.Throws<ArgumentOutOfRangeException>(() => new GaussianBlur((0, 1))).Message);
        Assert.Contains("solarize", Assert.Throws<ArgumentOutOfRangeException>(() => new Solarize(threshold: 2)).Message);
        Assert.Contains("random_erasing", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomErasing(value: double.NaN)).Message);
        Assert.Contains("random_rotation", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomRotation(181)).Message);
        Assert.Contains("random_rotation", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomRotation(10, fill: -0.1)).Message);
        Assert.Contains("random_affine", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomAffine(-1)).Message);
        Assert.Contains("random_affine", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomAffine(10, translate: 1.5)).Message);
        Assert.Contains("random_affine", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomAffine(10, scale: (1.2, 0.8))).Message);
        Assert.Contains("random_affine", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomAffine(10, scale: (0, 1))).Message);
        Assert.Contains("random_affine", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomAffine(10, shear: 90)).Message);
        Assert.Contains("random_affine", Assert.Throws<ArgumentOutOfRangeException>(() => new RandomAffine(10, fill: 2)).Message);
        Assert.Contains("elastic_transform", Assert.Throws<ArgumentOutOfRangeException>(() => new ElasticTransform(alpha: -1)).Message);
        Assert.Contains("elastic_transform", Assert.Throws<ArgumentOutOfRangeException>(() => new ElasticTransform(sigma: double.NaN)).Message);
        Assert.Contains("elastic_transform", Assert.Throws<ArgumentOutOfRangeException>(() => new ElasticTransform(fill: 2)).Message);
        // sigma 5 blurs with a 41x41 kernel: its reflect padding of 20 needs images larger than 20x20.
        Assert.Contains("sigma < 3.875", Assert.Throws<ArgumentException>(() => new ElasticTransform(sigma: 5).Apply(rand(2, 1, 16, 30), Seeded(1))).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new PixelMask(new MultiBlockMask((4, 4)), 0));
        Assert.Equal("random_resized_crop(scale: 0.08..1, ratio: 0.75..1.3333333333333333, size: [16, 16])", new RandomResizedCrop(size: (16, 16)).ToString());
    }

    private static void AssertRate(double rate, double p, int n, string what)
    {
        var sd = Math.Sqrt(p * (1 - p) / n);
        Assert.True(Math.Abs(rate - p) <= 4 * sd, $"{what}: rate {rate:F4}, expected {p} +- {4 * sd:F4}");
    }
}
