using Jepa.Dsl.Cost;

namespace Jepa.Dsl.Tests.Cost;

/// <summary>The memory rules that issue 15 measured (docs/models.md, "Memory"), with the arithmetic written out.</summary>
public class MemoryRuleTests
{
    [Fact]
    public void SigReg_needs_six_projection_tensors_of_n_by_directions_by_knots()
    {
        // token.jepa at its peak: 128 samples x 14 context tokens, 256 directions, 17 knots: xt kept, five more at the
        // backward's peak (heaptrack: 25.5 MiB for xt and 127.5 MiB in THSTensor_backward at n = 1536), and the (n, M) projections.
        const long n = 128 * 14;
        Assert.Equal((6 * n * 256 * 17) + (n * 256), MemoryModel.SigRegValues(n, 256));
    }

    [Fact]
    public void The_batch_statistics_regularizers_count_their_centred_copies_and_their_d_by_d_matrix()
    {
        Assert.Equal((2 * 256 * 128) + (2 * 128 * 128), MemoryModel.VicRegValues(256, 128));
        Assert.Equal((4 * 256 * 128) + (2 * 128 * 128), MemoryModel.BarlowTwinsValues(256, 128));
    }

    [Fact]
    public void Block_mask_peak_context_is_the_largest_context_block_less_the_smallest_target_block()
    {
        // 16 tokens: context block at scale 1.0 = 16 tokens, one target block at 0.15 = floor(2.4) = 2 tokens: 14.
        Assert.Equal(14, CostModel.BlockMaskPeakContext(16, (0.15, 0.2), (0.85, 1.0), minKeep: 4));
        // The typical count the FLOPs take: round(16 x 0.925) - 4 x round(16 x 0.175) = 15 - 12 = 3, at least min_keep 4.
        Assert.Equal((4, 12), CostModel.BlockMaskTokens(16, 4, (0.15, 0.2), (0.85, 1.0), minKeep: 4));
        // Never below min_keep, never above the grid.
        Assert.Equal(10, CostModel.BlockMaskPeakContext(16, (0.9, 1.0), (0.1, 0.2), minKeep: 10));
    }

    [Fact]
    public void A_conv_norm_keeps_one_more_value_per_convolution_output()
    {
        // 1 x 28 x 28, channels [32], kernel 3 (padding 1): conv output 32 x 28 x 28, pooled 32 x 14 x 14.
        const long input = 28 * 28;
        const long conv = 32 * 28 * 28;
        const long pooled = 32 * 14 * 14;
        Assert.Equal(input + (2 * conv) + (3 * pooled) + 32 + 16, MemoryModel.ConvActivations(1, 28, 28, [32], 3, 16));
        Assert.Equal(input + (3 * conv) + (3 * pooled) + 32 + 16, MemoryModel.ConvActivations(1, 28, 28, [32], 3, 16, hasNorm: true));
    }
}
