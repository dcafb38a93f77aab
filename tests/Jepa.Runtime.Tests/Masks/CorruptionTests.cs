using Jepa.Runtime.Masks;
using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Masks;

public class CorruptionTests
{
    private static Generator Seeded(long seed) => new Generator((ulong)seed, torch.CPU);

    private static Tensor PositiveData(params long[] shape) => rand(shape, generator: Seeded(99)) + 1;   // no zeros

    [Fact]
    public void Gaussian_noise_has_the_requested_std_and_is_reproducible()
    {
        using var x = PositiveData(400, 250);
        var noise = new GaussianNoise(0.3);
        using var y = noise.Apply(x, Seeded(1));
        using var diff = y - x;
        // 100,000 draws: the sample std is within 1 % of 0.3 with overwhelming probability, the mean within 0.005.
        Assert.InRange(diff.std().item<float>(), 0.297, 0.303);
        Assert.InRange(diff.mean().item<float>(), -0.005, 0.005);
        Assert.True(noise.Apply(x, Seeded(1)).equal(y).all().item<bool>());
        Assert.False(noise.Apply(x, Seeded(2)).equal(y).all().item<bool>());
        Assert.True(new GaussianNoise(0).Apply(x, Seeded(1)).equal(x).all().item<bool>());
    }

    [Fact]
    public void Feature_dropout_zeroes_with_probability_p_and_does_not_rescale()
    {
        using var x = PositiveData(500, 200);
        using var y = new FeatureDropout(0.3).Apply(x, Seeded(3));
        using var zero = y.eq(0);
        // 100,000 Bernoulli(0.3) draws: std of the fraction 0.00145, so +-0.006 is over 4 sigma.
        Assert.InRange(zero.to(ScalarType.Float32).mean().item<float>(), 0.294, 0.306);
        // Kept values are unchanged (no 1 / (1 - p) factor).
        Assert.True(where(zero, x, y).equal(x).all().item<bool>());
        // Samples get different masks.
        Assert.False(zero[0].equal(zero[1]).all().item<bool>());
        Assert.Throws<ArgumentOutOfRangeException>(() => new FeatureDropout(1.0));
    }

    [Theory]
    [InlineData(0.25, 64, 16)]
    [InlineData(0.5, 10, 5)]
    [InlineData(0.15, 10, 2)]   // 1.5 rounds away from zero
    [InlineData(0.0, 10, 0)]
    [InlineData(1.0, 10, 10)]
    public void Random_feature_mask_zeroes_exactly_round_ratio_d_per_sample(double ratio, int d, int expected)
    {
        var mask = new RandomFeatureMask(ratio);
        Assert.Equal(expected, mask.MaskedCount(d));
        using var x = PositiveData(50, d);
        using var y = mask.Apply(x, Seeded(4));
        using var zeros = y.eq(0).sum([1]);
        Assert.True(zeros.eq(expected).all().item<bool>());
        Assert.True(where(y.eq(0), x, y).equal(x).all().item<bool>());
    }

    [Fact]
    public void Random_feature_mask_works_on_images_and_varies_per_sample()
    {
        using var x = PositiveData(8, 1, 8, 8);
        using var y = new RandomFeatureMask(0.5).Apply(x, Seeded(5));
        Assert.Equal(x.shape, y.shape);
        using var perSample = y.reshape(8, 64).eq(0);
        Assert.True(perSample.sum([1]).eq(32).all().item<bool>());
        Assert.False(perSample[0].equal(perSample[1]).all().item<bool>());
    }

    [Fact]
    public void Random_crop_with_full_scale_is_the_identity()
    {
        using var x = rand(3, 2, 8, 8, generator: Seeded(6));
        using var y = new RandomCrop(1.0, 1.0, 1.0, 1.0).Apply(x, Seeded(7));
        Assert.True(y.allclose(x, rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void Random_crop_resamples_a_box_inside_the_image_with_area_and_aspect_in_range()
    {
        // On a ramp image (value = column, resp. row) bilinear resampling stays a ramp away from the border: the step
        // between neighbouring output pixels is the crop's side fraction, and a pixel's value gives the box position.
        const int size = 16, batch = 64;
        using var cols = arange(size, dtype: ScalarType.Float32).repeat(size, 1);     // (H, W): value = column
        using var ramp = stack([cols, cols.t()]).unsqueeze(0).repeat(batch, 1, 1, 1);  // (B, 2, H, W)
        var crop = new RandomCrop(0.3, 0.8, 0.75, 1.0 / 0.75);
        using var y = crop.Apply(ramp, Seeded(8));
        var widths = new List<double>();
        for (var i = 0; i < batch; i++)
        {
            // Output pixels 4..11 sample the interior (the box is at least 0.47 of a side), so no border clamping there.
            var colRamp = y[i, 0, 7, 4..12];
            var rowRamp = y[i, 1, 4..12, 7];
            var w = (colRamp[^1] - colRamp[0]).item<float>() / 7;
            var h = (rowRamp[^1] - rowRamp[0]).item<float>() / 7;
            Assert.InRange(w * h, 0.3 - 1e-4, 0.8 + 1e-4);
            Assert.InRange(w / h, 0.75 - 1e-4, 1 / 0.75 + 1e-4);
            // The box [left, left + size w] lies inside the image's pixel edges [-0.5, size - 0.5].
            var left = colRamp[0].item<float>() - w * 4.5;
            var top = rowRamp[0].item<float>() - h * 4.5;
            Assert.InRange(left, -0.5 - 1e-3, size - 0.5);
            Assert.InRange(left + size * w, -0.5, size - 0.5 + 1e-3);
            Assert.InRange(top, -0.5 - 1e-3, size - 0.5);
            Assert.InRange(top + size * h, -0.5, size - 0.5 + 1e-3);
            // Linear: the second differences vanish.
            Assert.True((colRamp[2..] - 2 * colRamp[1..^1] + colRamp[..^2]).abs().max().item<float>() < 1e-3);
            widths.Add(w);
        }
        Assert.True(widths.Distinct().Count() > batch / 2, "crops differ per sample");
        // Reproducible from the generator.
        Assert.True(crop.Apply(ramp, Seeded(8)).equal(y).all().item<bool>());
        // (B, H, W) input keeps its shape.
        Assert.Equal(new long[] { 4, 8, 8 }, crop.Apply(rand(4, 8, 8), Seeded(9)).shape);
    }

    [Fact]
    public void Compose_applies_in_order_from_one_generator()
    {
        using var x = PositiveData(20, 30);
        var dropout = new FeatureDropout(0.5);
        var noise = new GaussianNoise(0.1);
        var composed = Corruptions.Compose(dropout, noise);
        using var y = composed.Apply(x, Seeded(10));
        var g = Seeded(10);
        using var expected = noise.Apply(dropout.Apply(x, g), g);
        Assert.True(y.equal(expected).all().item<bool>());
        Assert.Equal("feature_dropout(p: 0.5) then gaussian_noise(std: 0.1)", composed.ToString());
    }
}
