using Jepa.Dsl.Binding;
using Jepa.Dsl.Catalog;
using Jepa.Dsl.Collections;

namespace Jepa.Dsl.Tests.Binding;

/// <summary>Every construct and extension that the examples do not use binds cleanly with the expected values.</summary>
public class ConstructTests
{
    private const string Everything = """
        namespace Lab.Models;
        experiment Everything {
            input image: float[3, 16, 16];
            corruption crop = random_crop(scale: 0.5..1.0, aspect: 0.8..1.25) then gaussian_noise(std: 0.05)
                              then feature_dropout(p: 0.1) then random_mask(ratio: 0.25);
            encoder context = vit(patch: 4, dim: 32, depth: 2, heads: 4);
            encoder target = stopgrad(context);
            predictor = transformer(dim: 16, depth: 1, heads: 2);
            objective {
                predict target(image) from context(crop(image));
                loss l1(target_norm: layer) * 0.5;
                regularize sigreg(directions: 64, weight: 0.1), vicreg(variance: 1, covariance: 0.04) * 2;
            }
            train {
                optimizer sgd(lr: 0.1, momentum: 0.8, weight_decay: 1e-4, nesterov: true);
                schedule warmup_cosine(warmup_steps: 10, start_lr: 0.01, final_lr: 0);
                batch 64; steps 500; seed 42; device auto; clip 1.0;
            }
            evaluate { linear_probe; few_shot(labels_per_class: 5, draws: 3, epochs: 50); knn(k: 5); split(test: 0.2); }
            monitor { collapse(min_std: 0.02, min_rank: 2, action: warn, every: 50); }
        }
        experiment Custom {
            input x: float[10];
            corruption drop = random_mask(ratio: 0.3);   /* feature masking: the encoder is not a token encoder */
            encoder online = My.Encoders.Tiny(out: 8, widths: [4, 4], bias: false);
            encoder teacher = ema(online, momentum: 0.99);
            predictor = none;
            objective { predict teacher(x) from online(drop(x)); loss cosine; }
            train { optimizer adamw(lr: 1e-3 -> 1e-4, betas: [0.9, 0.95]); schedule constant; epochs 2; }
        }
        experiment Barlow {
            input x: float[10];
            corruption n = gaussian_noise(std: 0.2);
            encoder f = mlp(hidden: [16], out: 8, norm: batch, act: silu);
            objective { predict f(x) from f(n(x)); loss mse * 0.1; regularize barlow_twins(lambda: 0.01); }
            train { optimizer adamw(lr: 1e-3); epochs 1; batch 128; }
        }
        """;

    [Fact]
    public void TokenModeRandomMaskStopGradientSgdAndRegularizers()
    {
        var file = TestHelpers.CompileClean(Everything);
        Assert.Equal("Lab.Models", file.Namespace);
        var e = file.Experiments[0];

        var crop = Assert.Single(e.Corruptions);
        Assert.Equal(new[] { false, false, false, true }, crop.Links.Select(l => l.IsTokenMask).ToArray());
        Assert.Same(Builtins.RandomMask, crop.TokenMask!.Builtin);
        Assert.Equal(3, crop.InputLinks.Count);
        Assert.Equal((0.8, 1.25), crop.Links[0].Call.GetRange("aspect"));

        Assert.Equal(TargetKind.StopGradient, e.Objective!.TargetKind);
        Assert.Equal("context", e.FindEncoder("target")!.Module);
        // N = (16 / 4)^2 = 16 tokens; random_mask(0.25): Nt = round(16 * 0.25) = 4, Nc = 12.
        Assert.Equal((RepresentationMode.MaskedTokens, 16, 12, 4), (e.Pipeline!.Mode, e.Pipeline.Tokens!.Value, e.Pipeline.ContextTokens!.Value, e.Pipeline.TargetTokens!.Value));
        Assert.Equal(("[Nc, 32]", "[Nt, 32]", "[Nt, 32]"), (e.Pipeline.Context.ToString(), e.Pipeline.Target.ToString(), e.Pipeline.Prediction.ToString()));

        var loss = e.Objective.Loss!;
        Assert.Equal((Builtins.L1, 0.5, true), (loss.Builtin, loss.Weight, loss.LayerNormTarget));
        Assert.Equal(new[] { (Builtins.SigReg, 1.0), (Builtins.VicReg, 2.0) }, e.Objective.Regularizers.Select(r => (r.Builtin!, r.Weight)).ToArray());
        Assert.Equal((64, 0.1), (e.Objective.Regularizers[0].Call.GetInt("directions")!.Value, e.Objective.Regularizers[0].Call.GetNumber("weight")!.Value));

        var train = e.Train!;
        Assert.Same(Builtins.Sgd, train.Optimizer);
        Assert.Equal((0.8, true), (train.OptimizerCall!.GetNumber("momentum")!.Value, train.OptimizerCall.GetBool("nesterov")!.Value));
        Assert.Equal((1e-4, 1e-4), train.WeightDecay);
        Assert.Equal((10, 0.01, 0.0), (train.WarmupSteps!.Value, train.ScheduleCall!.GetNumber("start_lr")!.Value, train.ScheduleCall.GetNumber("final_lr")!.Value));
        Assert.Equal((64, 500, 42, Builtins.Auto, 1.0), (train.Batch, train.Steps!.Value, train.Seed, train.Device, train.Clip!.Value));

        Assert.Equal((100, 5, 3, 50, 5, 0.2), (e.Evaluate.LinearProbeEpochs!.Value, e.Evaluate.FewShotLabelsPerClass!.Value, e.Evaluate.FewShotDraws!.Value, e.Evaluate.FewShotEpochs!.Value, e.Evaluate.KnnK!.Value, e.Evaluate.TestFraction));
        Assert.Equal((0.02, 2.0, CollapseAction.Warn, 50), (e.Monitor.Collapse!.MinStd, e.Monitor.Collapse.MinRank, e.Monitor.Collapse.Action, e.Monitor.Collapse.Every));
    }

    [Fact]
    public void CustomEncoderWithEmaAndIdentityPredictor()
    {
        var e = TestHelpers.CompileClean(Everything).Experiments[1];
        var online = e.FindEncoder("online")!;
        Assert.Equal(EncoderKind.Custom, online.Kind);
        Assert.Equal("My.Encoders.Tiny", online.Custom!.TypeName);
        Assert.Equal(new BoundValue[] { new NumberValue(8), new ListValue(new[] { (BoundValue)new NumberValue(4), new NumberValue(4) }.ToEquatableArray()), new BooleanValue(false) },
            online.Custom.Arguments.Select(a => a.Value).ToArray());
        Assert.Equal("widths", online.Custom.Arguments[1].Name);
        Assert.False(Assert.Single(e.FindCorruption("drop")!.Links).IsTokenMask);
        Assert.Equal(TargetKind.Ema, e.Objective!.TargetKind);
        Assert.Equal((0.99, 0.99), e.FindEncoder("teacher")!.Call!.GetRamp("momentum"));
        Assert.Equal((true, true), (e.Predictor.IsIdentity, e.Predictor.IsDeclared));
        Assert.Equal("[8]", e.Pipeline!.Prediction.ToString());
        Assert.Equal((0.001, 0.0001), e.Train!.LearningRate);
        Assert.Same(Builtins.Constant, e.Train.Schedule);
        Assert.Equal(new[] { 0.9, 0.95 }, e.Train.OptimizerCall!.GetNumberList("betas")!.Value.ToArray());
    }

    [Fact]
    public void BarlowTwinsOnASharedEncoder()
    {
        var e = TestHelpers.CompileClean(Everything).Experiments[2];
        Assert.Equal(TargetKind.Shared, e.Objective!.TargetKind);
        Assert.Equal((Builtins.BarlowTwins, 0.01), (e.Objective.Regularizers[0].Builtin, e.Objective.Regularizers[0].Call.GetNumber("lambda")!.Value));
        Assert.Equal(("batch", "silu"), (e.FindEncoder("f")!.Call!.GetOption("norm"), e.FindEncoder("f")!.Call!.GetOption("act")));
        Assert.Equal(0.1, e.Objective.Loss!.Weight);
    }

    [Fact]
    public void TokenModeWithoutAMaskPredictsEveryToken()
    {
        var e = TestHelpers.Single(TestHelpers.Experiment(
            input: "input image: float[1, 8, 8];",
            encoders: "encoder context = vit(patch: 2, dim: 16, depth: 1, heads: 2);\n    encoder target = ema(context);",
            predictor: "predictor = mlp(hidden: [32]);"));
        Assert.Equal(RepresentationMode.Tokens, e.Pipeline!.Mode);
        Assert.Equal(("[16, 16]", "[16, 16]", "[16, 16]"), (e.Pipeline.Context.ToString(), e.Pipeline.Target.ToString(), e.Pipeline.Prediction.ToString()));
        // The mlp predictor runs per token: 16 rows of 16 -> 32 -> 16.
        Assert.Equal(2 * 16 * (16 * 32 + 32 * 16), e.Cost!.Predictor.ForwardFlops);
    }

    [Fact]
    public void NamesMayBeDeclaredInAnyOrder()
    {
        var e = TestHelpers.Single("""
            experiment E {
                train { optimizer adamw(lr: 1e-3); steps 10; }
                objective { predict target(image) from context(noisy(image)); loss mse; }
                encoder target = ema(context);
                predictor = mlp(hidden: [8]);
                encoder context = mlp(out: 4);
                corruption noisy = gaussian_noise(std: 0.1);
                input image: float[2];
            }
            """);
        Assert.Equal(TargetKind.Ema, e.Objective!.TargetKind);
    }
}
