using Jepa.Dsl.Binding;
using Jepa.Dsl.Catalog;

namespace Jepa.Dsl.Tests.Binding;

/// <summary>Every construct of language.md's examples and the contract's samples binds without a diagnostic, with the
/// shapes inferred through the graph.</summary>
public class ExampleTests
{
    [Fact]
    public void TokenJepaOfLanguageMdBindsWithTokenShapes()
    {
        var e = TestHelpers.Single(Examples.DigitsJepaTokens);
        Assert.Equal("DigitsJepa", e.Name);
        Assert.Equal("[1, 8, 8]", e.Input!.Shape.ToString());

        var masked = Assert.Single(e.Corruptions);
        var link = Assert.Single(masked.Links);
        Assert.Same(Builtins.BlockMask, link.Builtin);
        Assert.True(link.IsTokenMask);
        Assert.Equal((0.85, 1.0), link.Call.GetRange("context_scale"));
        Assert.Equal(4, link.Call.GetInt("min_keep")); // default filled in
        Assert.True(link.Call.Find("min_keep")!.IsDefault);

        var context = e.FindEncoder("context")!;
        Assert.Equal((EncoderKind.Module, Builtins.Vit), (context.Kind, context.Builtin));
        Assert.True(context.TokenMode);
        Assert.Equal("[16, 64]", context.Output.ToString());
        var target = e.FindEncoder("target")!;
        Assert.Equal(EncoderKind.Ema, target.Kind);
        Assert.Equal("context", target.Module);
        Assert.Equal((0.996, 1.0), target.Call!.GetRamp("momentum"));

        Assert.Equal(TargetKind.Ema, e.Objective!.TargetKind);
        Assert.Same(Builtins.SmoothL1, e.Objective.Loss!.Builtin);
        Assert.Equal(1.0, e.Objective.Loss.Call.GetNumber("beta"));
        Assert.False(e.Objective.Loss.LayerNormTarget);

        // N = (8 / 2)^2 = 16 tokens; Nt = 4 * round(16 * 0.175) = 12; Nc = max(4, round(16 * 0.925) - 12) = 4.
        var p = e.Pipeline!;
        Assert.Equal(RepresentationMode.MaskedTokens, p.Mode);
        Assert.Equal((16, 4, 12), (p.Tokens, p.ContextTokens, p.TargetTokens));
        Assert.Equal((4, 4), p.Grid);
        Assert.Equal("[Nc, 64]", p.Context.ToString());
        Assert.Equal("[Nt, 64]", p.Target.ToString());
        Assert.Equal("[Nt, 64]", p.Prediction.ToString());
        Assert.Equal(64, p.EmbeddingWidth);
        Assert.Same(Builtins.Transformer, e.Predictor.Builtin);
        Assert.Equal("[Nc, 64]", e.Predictor.Input.ToString());

        var train = e.Train!;
        Assert.Same(Builtins.AdamW, train.Optimizer);
        Assert.Equal((0.001, 0.001), train.LearningRate);
        Assert.Equal((0.04, 0.4), train.WeightDecay);
        Assert.Same(Builtins.WarmupCosine, train.Schedule);
        Assert.Equal(5, train.WarmupEpochs);
        Assert.Null(train.WarmupSteps);
        Assert.Equal(1e-6, train.ScheduleCall!.GetNumber("final_lr"));
        Assert.Equal((128, 30, (int?)null, 7, Builtins.Cpu), (train.Batch, train.Epochs, train.Steps, train.Seed, train.Device));
        Assert.Equal(new[] { 0.9, 0.999 }, train.OptimizerCall!.GetNumberList("betas")!.Value.ToArray());

        Assert.Equal((100, 10, 10, 100, 20, 0.25), (e.Evaluate.LinearProbeEpochs, e.Evaluate.FewShotLabelsPerClass, e.Evaluate.FewShotDraws, e.Evaluate.FewShotEpochs, e.Evaluate.KnnK, e.Evaluate.TestFraction));
        Assert.Equal(new BoundCollapseMonitor(0.01, 4, CollapseAction.Stop, 100, e.Monitor.Collapse!.Span), e.Monitor.Collapse);
        Assert.Equal(
            new[]
            {
                "input: [1, 8, 8] -> [1, 8, 8]",
                "context view: [1, 8, 8] -> [1, 8, 8]",
                "context encoder: [1, 8, 8] -> [Nc, 64]",
                "target encoder: [1, 8, 8] -> [16, 64]",
                "target tokens: [16, 64] -> [Nt, 64]",
                "predictor: [Nc, 64] -> [Nt, 64]",
                "loss: [Nt, 64] -> [Nt, 64]",
            },
            p.Stages.Select(s => $"{s.Stage}: {s.Input} -> {s.Output}").ToArray());
        Assert.Equal("corruption masked = block_mask(targets: 4, target_scale: 0.15..0.2, context_scale: 0.85..1.0, aspect: 0.75..1.5)", masked.Source);
    }

    [Fact]
    public void VicRegAndContrastiveOfLanguageMdBind()
    {
        var file = TestHelpers.CompileClean(Examples.VicRegAndContrastive);
        Assert.Equal(2, file.Experiments.Count);

        var vicreg = file.Experiments[0];
        Assert.Equal(TargetKind.Shared, vicreg.Objective!.TargetKind);
        Assert.Equal(EncoderKind.Alias, vicreg.FindEncoder("target")!.Kind);
        Assert.Equal("context", vicreg.Objective.Target.ResolvedEncoder);
        var noisy = Assert.Single(vicreg.Corruptions);
        Assert.Equal(new[] { Builtins.GaussianNoise, Builtins.FeatureDropout }, noisy.Links.Select(l => l.Builtin).ToArray());
        Assert.Equal(0.3, noisy.Links[1].Call.GetNumber("p"));
        var regularizer = Assert.Single(vicreg.Objective.Regularizers);
        Assert.Equal((Builtins.VicReg, 25.0, 1.0, 1.0), (regularizer.Builtin, regularizer.Call.GetNumber("variance")!.Value, regularizer.Call.GetNumber("covariance")!.Value, regularizer.Weight));
        Assert.Equal("layer", vicreg.FindEncoder("context")!.Call!.GetOption("norm"));
        Assert.Equal(RepresentationMode.Vector, vicreg.Pipeline!.Mode);
        Assert.Equal(("[128]", "[128]", "[128]"), (vicreg.Pipeline.Context.ToString(), vicreg.Pipeline.Target.ToString(), vicreg.Pipeline.Prediction.ToString()));
        Assert.Equal((50, (int?)null, 1), (vicreg.Train!.Epochs!.Value, vicreg.Train.Steps, vicreg.Train.Seed));
        Assert.Same(Builtins.Constant, vicreg.Train.Schedule);
        Assert.Equal((0.05, 0.05), vicreg.Train.WeightDecay); // adamw's default

        var contrastive = file.Experiments[1];
        Assert.Equal(TargetKind.Shared, contrastive.Objective!.TargetKind);
        Assert.Equal(("a", "b"), (contrastive.Objective.Target.Corruption, contrastive.Objective.Context.Corruption));
        var net = contrastive.FindEncoder("net")!;
        Assert.Equal((EncoderKind.Module, Builtins.Conv), (net.Kind, net.Builtin));
        Assert.Equal("[128]", net.Output.ToString());
        Assert.True(contrastive.Predictor.IsIdentity);
        Assert.False(contrastive.Predictor.IsDeclared);
        Assert.Same(Builtins.InfoNce, contrastive.Objective.Loss!.Builtin);
        Assert.Equal(0.1, contrastive.Objective.Loss.Call.GetNumber("temperature"));
        Assert.Equal((0.75, 1.3333), contrastive.FindCorruption("b")!.Links[0].Call.GetRange("aspect"));
        Assert.Equal("[128]", contrastive.Pipeline!.Prediction.ToString());
        Assert.Null(contrastive.Evaluate.Span);
        Assert.Null(contrastive.Monitor.Collapse);
    }

    [Fact]
    public void VectorSampleOfTheContractBinds()
    {
        var file = TestHelpers.CompileClean(Examples.ContractVector);
        Assert.Equal("Digits", file.Namespace);
        var e = Assert.Single(file.Experiments);
        Assert.Equal("Digits", e.Namespace);
        Assert.Equal(TargetKind.Ema, e.Objective!.TargetKind);
        Assert.True(e.Objective.Loss!.LayerNormTarget);
        Assert.Equal(new[] { Builtins.FeatureDropout, Builtins.GaussianNoise }, e.Corruptions[0].Links.Select(l => l.Builtin).ToArray());
        Assert.All(e.Corruptions[0].Links, l => Assert.False(l.IsTokenMask));
        Assert.Equal(new[] { 256, 256 }, e.FindEncoder("context")!.Call!.GetIntList("hidden")!.Value.ToArray());
        Assert.Equal(128, e.Predictor.Out);
        Assert.Equal(("[64]", "[128]", "[128]", "[128]"), (e.Input!.Shape.ToString(), e.Pipeline!.Context.ToString(), e.Pipeline.Target.ToString(), e.Pipeline.Prediction.ToString()));
        Assert.Equal(128, e.Pipeline.EmbeddingWidth);
        Assert.Equal((100, (int?)null, 3000), (e.Train!.WarmupSteps!.Value, e.Train.WarmupEpochs, e.Train.Steps!.Value));
        Assert.Equal(100, e.Monitor.Collapse!.Every);
        Assert.Equal("objective { predict target(image) from context(noisy(image)); loss smooth_l1(target_norm: layer); }", e.Objective.Source);
    }

    [Fact]
    public void TokenSampleOfTheContractBinds()
    {
        var e = TestHelpers.Single(Examples.ContractTokens);
        Assert.Null(e.Namespace);
        Assert.Equal(RepresentationMode.MaskedTokens, e.Pipeline!.Mode);
        Assert.Equal(("[Nc, 64]", "[Nt, 64]", "[Nt, 64]"), (e.Pipeline.Context.ToString(), e.Pipeline.Target.ToString(), e.Pipeline.Prediction.ToString()));
        Assert.True(e.Objective!.Loss!.LayerNormTarget);
        Assert.Null(e.Evaluate.LinearProbeEpochs);
    }

    [Fact]
    public void MlpOnAnImageShowsTheFlatten()
    {
        var e = TestHelpers.Single(TestHelpers.Experiment(input: "input image: float[1, 8, 8];"));
        Assert.Contains(e.Pipeline!.Stages, s => s.Stage == "context flatten" && s.Input.ToString() == "[1, 8, 8]" && s.Output.ToString() == "[64]");
        Assert.Contains(e.Pipeline.Stages, s => s.Stage == "context encoder" && s.Input.ToString() == "[64]" && s.Output.ToString() == "[16]");
    }

    [Fact]
    public void TheBoundModelHasValueEquality()
    {
        var first = JepaCompiler.Compile("a.jepa", Examples.DigitsJepaTokens);
        var second = JepaCompiler.Compile("a.jepa", Examples.DigitsJepaTokens);
        Assert.NotSame(first.Bound, second.Bound);
        Assert.Equal(first.Bound, second.Bound);
        Assert.Equal(first.Bound.GetHashCode(), second.Bound.GetHashCode());
        Assert.Equal(first.Diagnostics, second.Diagnostics);
        var edited = JepaCompiler.Compile("a.jepa", Examples.DigitsJepaTokens.Replace("seed 7", "seed 8"));
        Assert.NotEqual(first.Bound, edited.Bound);
    }
}
