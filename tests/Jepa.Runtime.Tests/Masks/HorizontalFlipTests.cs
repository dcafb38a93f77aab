using Jepa.Runtime.Masks;
using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Masks;

public class HorizontalFlipTests
{
    private static Generator Seeded(long seed) => new((ulong)seed, torch.CPU);

    [Fact]
    public void A_flipped_image_has_its_columns_in_reverse_order()
    {
        // One 1x2x3 image by hand: [[1, 2, 3], [4, 5, 6]] -> [[3, 2, 1], [6, 5, 4]].
        using var x = tensor(new float[] { 1, 2, 3, 4, 5, 6 }).reshape(1, 1, 2, 3);

        using var flipped = new HorizontalFlip(1.0).Apply(x, Seeded(1));
        using var kept = new HorizontalFlip(0.0).Apply(x, Seeded(1));

        Assert.Equal(new float[] { 3, 2, 1, 6, 5, 4 }, flipped.data<float>().ToArray());
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, kept.data<float>().ToArray());
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, x.data<float>().ToArray()); // the input is not modified
    }

    [Fact]
    public void Each_sample_is_flipped_when_its_own_draw_is_below_p_as_a_per_image_loop_computes()
    {
        using var x = rand([64, 3, 5, 7], generator: Seeded(99));
        const double p = 0.3;

        using var y = new HorizontalFlip(p).Apply(x, Seeded(5));

        // The independent computation: the same generator's draws, one image at a time.
        using var u = rand([64], generator: Seeded(5));
        var flips = 0;
        for (var i = 0; i < 64; i++)
        {
            var flip = u[i].item<float>() < p;
            flips += flip ? 1 : 0;
            using var expected = flip ? x[i].flip(-1) : x[i].alias();
            Assert.True(y[i].equal(expected).all().item<bool>(), $"sample {i} (draw {u[i].item<float>()})");
        }

        Assert.InRange(flips, 1, 63); // both kinds occur, so the check above means something
    }

    [Fact]
    public void About_p_of_the_samples_are_flipped_and_the_same_seed_flips_the_same_ones()
    {
        // 4,000 asymmetric images, each either equal to its flip or not: Bernoulli(0.5) draws, std of the fraction 0.008.
        using var x = arange(4000 * 4, dtype: ScalarType.Float32).reshape(4000, 1, 1, 4);
        var flip = new HorizontalFlip(0.5);

        using var y = flip.Apply(x, Seeded(11));
        using var changed = y.ne(x).any(-1).flatten();

        Assert.InRange(changed.to(ScalarType.Float32).mean().item<float>(), 0.465, 0.535);
        Assert.True(flip.Apply(x, Seeded(11)).equal(y).all().item<bool>());
        Assert.False(flip.Apply(x, Seeded(12)).equal(y).all().item<bool>());
    }

    [Fact]
    public void Images_without_a_channel_dimension_are_flipped_too_and_other_ranks_or_p_are_refused()
    {
        using var x = tensor(new float[] { 1, 2, 3, 4 }).reshape(1, 2, 2);

        using var y = new HorizontalFlip(1.0).Apply(x, Seeded(1));

        Assert.Equal(new float[] { 2, 1, 4, 3 }, y.data<float>().ToArray());
        Assert.Throws<ArgumentException>(() => new HorizontalFlip().Apply(zeros(4, 8), Seeded(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HorizontalFlip(1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HorizontalFlip(double.NaN));
        Assert.Equal("hflip(p: 0.5)", new HorizontalFlip().ToString());
    }
}
