using Jepa.Runtime.Masks;
using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Masks;

public class TokenMaskTests
{
    private static Generator Seeded(long seed) => new Generator((ulong)seed, torch.CPU);

    private static long[][] Rows(Tensor t)
    {
        var values = t.data<long>().ToArray();
        var width = (int)t.shape[1];
        return Enumerable.Range(0, (int)t.shape[0]).Select(i => values.AsSpan(i * width, width).ToArray()).ToArray();
    }

    [Theory]
    [InlineData(14, 14, 0.2, 1.0, 6, 6)]      // k = floor(39.2) = 39, sqrt 6.24
    [InlineData(14, 14, 0.15, 1.5, 7, 4)]     // k = 29, h = round(6.60), w = round(4.40)
    [InlineData(14, 14, 1.0, 1.0, 14, 14)]    // the whole grid is allowed
    [InlineData(4, 4, 0.15, 1.0, 1, 1)]       // k = 2, round(1.41)
    [InlineData(4, 4, 0.2, 0.75, 2, 2)]       // k = 3, h = round(1.5) = 2 (to even), w = round(2) = 2
    public void Block_size_follows_the_ijepa_formula(int h, int w, double scale, double aspect, int eh, int ew)
    {
        var mask = new MultiBlockMask((h, w));
        Assert.Equal((eh, ew), mask.BlockSize(scale, aspect));
    }

    [Theory]
    [InlineData(14, 14, 4, 10, true)]     // I-JEPA's ImageNet setting at 224 px / 16
    [InlineData(4, 4, 4, 4, false)]       // the contract's digits sample: 4 blocks can cover 13+ of 16 tokens
    [InlineData(6, 9, 2, 3, true)]        // a non-square grid
    public void Multi_block_masks_are_valid(int gh, int gw, int targets, int minKeep, bool disjoint)
    {
        var sampler = new MultiBlockMask((gh, gw), targets, (0.15, 0.2), (0.85, 1.0), (0.75, 1.5), minKeep);
        var g = Seeded(11);
        var n = gh * gw;
        var targetHits = new int[n];
        for (var batch = 0; batch < 30; batch++)
        {
            var masks = sampler.Sample(32, g);
            Assert.Equal(ScalarType.Int64, masks.Context.dtype);
            Assert.Equal(32, masks.Context.shape[0]);
            Assert.Equal(32, masks.Target.shape[0]);
            Assert.True(masks.Context.shape[1] >= minKeep);
            Assert.Equal(0, masks.Target.shape[1] % targets);
            var blockTokens = (int)masks.Target.shape[1] / targets;
            foreach (var (context, target) in Rows(masks.Context).Zip(Rows(masks.Target)))
            {
                Assert.All(context, i => Assert.InRange(i, 0, n - 1));
                Assert.Equal(context.OrderBy(i => i).Distinct(), context);             // sorted, unique
                for (var b = 0; b < targets; b++)
                {
                    var block = target.AsSpan(b * blockTokens, blockTokens).ToArray();
                    // A full rectangle inside the grid, row-major.
                    var rows = block.Select(i => i / gw).Distinct().Count();
                    var cols = block.Select(i => i % gw).Distinct().Count();
                    Assert.Equal(blockTokens, rows * cols);
                    Assert.Equal(block.OrderBy(i => i), block);
                    Assert.Equal(block.Max() / gw - block.Min() / gw + 1, rows);
                    Assert.Equal(block.Max() % gw - block.Min() % gw + 1, cols);
                    foreach (var i in block) targetHits[i]++;
                }
                // Where the targets can never crowd out min_keep tokens, the context never contains a target token.
                if (disjoint) Assert.Empty(context.Intersect(target));
            }
        }
        // Every token, including the last row and column, is sometimes a target.
        Assert.All(targetHits, hits => Assert.True(hits > 0));
    }

    [Fact]
    public void Multi_block_masks_are_reproducible_from_the_generator()
    {
        var sampler = new MultiBlockMask((14, 14), minKeep: 10);
        var a = sampler.Sample(16, Seeded(12));
        var b = sampler.Sample(16, Seeded(12));
        var c = sampler.Sample(16, Seeded(13));
        Assert.True(a.Context.equal(b.Context).all().item<bool>() && a.Target.equal(b.Target).all().item<bool>());
        Assert.False(a.Target.shape.SequenceEqual(c.Target.shape) && a.Target.equal(c.Target).all().item<bool>());
    }

    [Fact]
    public void Context_is_trimmed_to_the_smallest_count_keeping_the_first_tokens()
    {
        // One sample's context is the intersection of its block with the non-target tokens; trimmed ones are a prefix.
        var sampler = new MultiBlockMask((8, 8), 2, (0.1, 0.2), (0.5, 0.7), (1.0, 1.0), 4);
        var g = Seeded(14);
        for (var i = 0; i < 20; i++)
        {
            var masks = sampler.Sample(16, g);
            var counts = Rows(masks.Context).Select(r => r.Length).Distinct();
            Assert.Single(counts);
        }
    }

    [Fact]
    public void Crowded_grids_fall_back_and_still_keep_min_keep_tokens()
    {
        // Four 3x3 target blocks on a 4x4 grid cover almost everything: the fallback lets targets overlap the context.
        var sampler = new MultiBlockMask((4, 4), 4, (0.5, 0.5), (0.5, 0.5), (1.0, 1.0), 5);
        Assert.Equal((3, 3), sampler.BlockSize(0.5, 1.0));
        var g = Seeded(15);
        for (var i = 0; i < 20; i++)
        {
            var masks = sampler.Sample(32, g);
            Assert.True(masks.Context.shape[1] >= 5);
            Assert.Equal(36, masks.Target.shape[1]);
        }
    }

    [Fact]
    public void Random_token_mask_splits_every_sample_into_context_and_targets()
    {
        var sampler = new RandomTokenMask((4, 4), 0.5);
        var masks = sampler.Sample(10, Seeded(16));
        Assert.Equal(new long[] { 10, 8 }, masks.Context.shape);
        Assert.Equal(new long[] { 10, 8 }, masks.Target.shape);
        var contexts = Rows(masks.Context);
        foreach (var (context, target) in contexts.Zip(Rows(masks.Target)))
        {
            Assert.Equal(Enumerable.Range(0, 16).Select(i => (long)i), context.Concat(target).OrderBy(i => i));
            Assert.Equal(context.OrderBy(i => i), context);
        }
        Assert.True(contexts.Select(c => string.Join(",", c)).Distinct().Count() > 5);
        Assert.Equal(1, new RandomTokenMask((4, 4), 0.01).TargetCount);
        Assert.Equal(15, new RandomTokenMask((4, 4), 0.99).TargetCount);
    }
}
