using Jepa.Dsl.Binding;
using Jepa.Dsl.Cost;

namespace Jepa.Dsl.Tests.Cost;

/// <summary>The cost summary against hand counts by docs/models.md, with the arithmetic written out.</summary>
public class CostTests
{
    [Fact]
    public void MlpJepaWithEmaTarget()
    {
        var e = TestHelpers.Single(Examples.ContractVector);
        var cost = e.Cost!;

        // context mlp 64 -> [256, 256] -> 128: (64*256 + 256) + (256*256 + 256) + (256*128 + 128)
        const long context = (64 * 256 + 256) + (256 * 256 + 256) + (256 * 128 + 128);
        Assert.Equal(115_328, context);
        // predictor mlp 128 -> [256] -> 128 (out given)
        const long predictor = (128 * 256 + 256) + (256 * 128 + 128);
        Assert.Equal(65_920, predictor);

        Assert.Equal(context, cost.Context.Parameters);
        Assert.Equal(context, cost.Target.Parameters); // the EMA copy holds its own weights ...
        Assert.False(cost.Target.Trainable);           // ... which are not trained
        Assert.Contains("EMA copy", cost.Target.Note);
        Assert.Equal(predictor, cost.Predictor.Parameters);
        Assert.Equal(context + predictor, cost.TrainableParameters);
        Assert.Equal(2 * context + predictor, cost.TotalParameters);
        Assert.Equal(context, e.FindEncoder("context")!.Parameters);
        Assert.Equal(predictor, e.Predictor.Parameters);

        // FLOPs per sample: 2 x multiply-adds of each Linear.
        const long contextForward = 2 * (64 * 256 + 256 * 256 + 256 * 128);
        const long predictorForward = 2 * (128 * 256 + 256 * 128);
        const long targetForward = contextForward;
        Assert.Equal(contextForward, cost.Context.ForwardFlops);
        Assert.Equal(predictorForward, cost.Predictor.ForwardFlops);
        Assert.Equal(targetForward, cost.Target.ForwardFlops);
        // B (context + predictor + target) + 2B (context + predictor): the EMA target is forward only.
        const long batch = 256;
        Assert.Equal(batch * (contextForward + predictorForward + targetForward) + 2 * batch * (contextForward + predictorForward), cost.FlopsPerStep);
        Assert.Equal(335_544_320, cost.FlopsPerStep);
    }

    [Fact]
    public void LayerNormAddsTwoParametersPerHiddenUnit()
    {
        var e = TestHelpers.Single(Examples.VicRegAndContrastive.Split("experiment DigitsContrastive")[0]);
        // mlp 64 -> [256, 256] -> 128 with norm: layer adds LayerNorm(256) twice: 2 * 256 + 2 * 256.
        Assert.Equal(115_328 + 2 * 256 + 2 * 256, e.Cost!.Context.Parameters);
        // Shared target: no parameters of its own, but forward and backward through it.
        Assert.Equal(0, e.Cost.Target.Parameters);
        Assert.True(e.Cost.Target.OnGradientPath);
        const long contextForward = 2 * (64 * 256 + 256 * 256 + 256 * 128);
        const long predictorForward = 2 * (128 * 256 + 256 * 128);
        Assert.Equal(256 * (contextForward + predictorForward + contextForward) + 2 * 256 * (contextForward + predictorForward + contextForward), e.Cost.FlopsPerStep);
    }

    [Fact]
    public void ConvEncoderWithSharedTargetAndNoPredictor()
    {
        var e = TestHelpers.CompileClean(Examples.VicRegAndContrastive).Experiments[1];
        var cost = e.Cost!;
        // conv(channels: [32, 64], kernel: 3, out: 128) on [1, 8, 8]:
        // stage 1: Conv2d(1, 32, 3): 1*32*9 + 32; stage 2: Conv2d(32, 64, 3): 32*64*9 + 64; Linear(64, 128): 64*128 + 128.
        const long parameters = (1 * 32 * 9 + 32) + (32 * 64 * 9 + 64) + (64 * 128 + 128);
        Assert.Equal(27_136, parameters);
        Assert.Equal(parameters, cost.Context.Parameters);
        Assert.Equal(0, cost.Predictor.Parameters);
        Assert.Equal(parameters, cost.TrainableParameters);

        // Padding 1 keeps 8x8 for the first convolution, pooling halves it to 4x4 for the second, then 2x2.
        const long forward = (2 * 9 * 1 * 32 * 8 * 8) + (2 * 9 * 32 * 64 * 4 * 4) + (2 * 64 * 128);
        Assert.Equal(643_072, forward);
        Assert.Equal(forward, cost.Context.ForwardFlops);
        // The same network on both sides, both with gradient: B (f + f) + 2B (f + f).
        Assert.Equal(256 * (2 * forward) + 2 * 256 * (2 * forward), cost.FlopsPerStep);
    }

    [Fact]
    public void VitWithTransformerPredictorInMaskedTokenMode()
    {
        var e = TestHelpers.Single(Examples.DigitsJepaTokens);
        var cost = e.Cost!;
        // vit(patch: 2, dim: 64, depth: 4) on [1, 8, 8]: c p^2 D + D + L (12 D^2 + 13 D) + 2 D.
        const long d = 64;
        const long vit = (1 * 4 * d + d) + 4 * (12 * d * d + 13 * d) + 2 * d;
        Assert.Equal(200_384, vit);
        Assert.Equal(vit, cost.Context.Parameters);
        Assert.Equal(vit, cost.Target.Parameters);
        // transformer(dim: 32, depth: 2) for D = 64: D Dp + Dp + Dp + L (12 Dp^2 + 13 Dp) + 2 Dp + Dp D + D.
        const long p = 32;
        const long predictor = d * p + p + p + 2 * (12 * p * p + 13 * p) + 2 * p + p * d + d;
        Assert.Equal(29_696, predictor);
        Assert.Equal(predictor, cost.Predictor.Parameters);
        Assert.Equal(vit + predictor, cost.TrainableParameters);

        // N = 16 tokens, Nc = 4, Nt = 12. A block over T tokens of width D: 24 T D^2 + 4 T^2 D.
        static long Block(long t, long width) => 24 * t * width * width + 4 * t * t * width;
        const long patchEmbedding = 2 * 1 * 4 * d * 16; // over all 16 patches, also for the masked context
        var context = patchEmbedding + 4 * Block(4, d);
        var target = patchEmbedding + 4 * Block(16, d);
        var predictorForward = 2 * 4 * d * p + 2 * Block(4 + 12, p) + 2 * 12 * p * d;
        Assert.Equal(context, cost.Context.ForwardFlops);
        Assert.Equal(target, cost.Target.ForwardFlops);
        Assert.Equal(predictorForward, cost.Predictor.ForwardFlops);
        Assert.Equal(128 * (context + predictorForward + target) + 2 * 128 * (context + predictorForward), cost.FlopsPerStep);
        Assert.Equal(1_805_647_872, cost.FlopsPerStep);
    }

    [Fact]
    public void StopGradientAndIndependentTargets()
    {
        var stopGradient = TestHelpers.Single(TestHelpers.Experiment(encoders: "encoder context = mlp(out: 16);\n    encoder target = stopgrad(context);"));
        Assert.Equal(TargetKind.StopGradient, stopGradient.Objective!.TargetKind);
        Assert.Equal(0, stopGradient.Cost!.Target.Parameters);
        Assert.False(stopGradient.Cost.Target.OnGradientPath);
        // mlp 64 -> 16 (no hidden): 64*16 + 16; predictor mlp 16 -> [32] -> 16.
        Assert.Equal((64 * 16 + 16) + (16 * 32 + 32) + (32 * 16 + 16), stopGradient.Cost.TrainableParameters);

        var independent = TestHelpers.Single(TestHelpers.Experiment(
            encoders: "encoder context = mlp(out: 16);\n    encoder other = mlp(hidden: [8], out: 16);",
            objective: "objective { predict other(image) from context(noisy(image)); loss mse; regularize sigreg; }"));
        Assert.Equal(TargetKind.Independent, independent.Objective!.TargetKind);
        Assert.Equal((64 * 8 + 8) + (8 * 16 + 16), independent.Cost!.Target.Parameters);
        Assert.True(independent.Cost.Target.Trainable);
        Assert.Equal(independent.Cost.TrainableParameters, independent.Cost.TotalParameters);
    }

    [Fact]
    public void ACustomEncoderMakesCountsUnknown()
    {
        var e = TestHelpers.Single(TestHelpers.Experiment(encoders: "encoder context = My.Encoders.Tiny(out: 16, widths: [4, 8], bias: true);\n    encoder target = ema(context);"));
        var custom = e.FindEncoder("context")!.Custom!;
        Assert.Equal(("My.Encoders.Tiny", 16), (custom.TypeName, custom.Out!.Value));
        Assert.Equal(new[] { "out", "widths", "bias" }, custom.Arguments.Select(a => a.Name).ToArray());
        Assert.Equal("[16]", e.Pipeline!.Context.ToString());
        Assert.Null(e.Cost!.Context.Parameters);
        Assert.Null(e.Cost.TrainableParameters);
        Assert.Null(e.Cost.FlopsPerStep);
        Assert.NotNull(e.Cost.Predictor.Parameters);
    }

    [Fact]
    public void TokenCountEstimatesFollowModelsMd()
    {
        // Nt = targets * round(N * mid(target_scale)); Nc = max(min_keep, round(N * mid(context_scale)) - Nt).
        Assert.Equal((4, 12), CostModel.BlockMaskTokens(16, 4, (0.15, 0.2), (0.85, 1.0), 4));
        Assert.Equal((196 - 4 * 34 + 0, 4 * 34), CostModel.BlockMaskTokens(196, 4, (0.15, 0.2), (1.0, 1.0), 4)); // round(34.3) = 34
        Assert.Equal((10, 6), CostModel.RandomMaskTokens(16, 0.375));
        Assert.Equal(2, CostModel.Round(1.5)); // half away from zero
        Assert.Equal(1, CostModel.ConvStageOutput(3, 3));
        Assert.Equal(0, CostModel.ConvStageOutput(1, 3));
    }
}
