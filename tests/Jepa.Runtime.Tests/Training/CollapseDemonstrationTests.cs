using System.Runtime.CompilerServices;
using System.Text.Json;
using Jepa.Runtime.Data;
using Jepa.Runtime.Losses;
using Jepa.Runtime.Masks;
using Jepa.Runtime.Models;
using Jepa.Runtime.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Training;

/// <summary>
/// Issue 3's "done when", in numbers: on the digits data, 300 steps of contract sample 1 (a JEPA with an EMA target)
/// against the same model with the context encoder as a shared, trained target, an invariance loss and no regularizer
/// (which the compiler refuses, so it is built here through the runtime API). Both runs are also checked against an
/// independent PyTorch implementation of the same two models (Reference/pytorch_collapse_reference.py, its output
/// stored beside it): the collapse metrics must agree within 10 % (their corruption noise and monitoring samples differ).
/// <para>
/// What the numbers show (PyTorch agrees to three digits): the shared target collapses by both of the calibrated
/// criteria within 100 steps (std of the L2-normalised embeddings 0.0016 &lt; 0.01, RankMe 2.2 &lt; 3) and stays there; the
/// EMA target keeps RankMe at 7 and a std five times higher, but its std passes through a transient dip below 0.01 in
/// these first hundreds of steps (0.0081 at step 300; with the full 3000-step schedule it reaches 0.0054 at step 250
/// and is back above 0.01 by step 450 and at 0.058 by step 1500). So at 300 steps the std threshold alone does not
/// separate the two; RankMe does, and the std does by a factor of five. See docs/runtime-training.md.
/// </para>
/// </summary>
[Collection(TrainerCollection.Name)]
public class CollapseDemonstrationTests(ITestOutputHelper output)
{
    private const int Steps = 300;

    private static string Reference([CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, "Reference", "pytorch_collapse_reference.json");

    [Fact]
    public void Ema_target_stays_healthy_and_a_shared_target_collapses_on_digits()
    {
        using var digits = Datasets.Digits();
        var data = digits.ForExperiment(Digits.DigitsJepa.InputShape);

        using var ema = new Digits.DigitsJepa(Digits.DigitsJepa.Options.Default with { Steps = Steps });
        var healthy = ema.Train(data, new TrainOptions { Log = _ => { } });

        using var shared = new SharedTargetJepa(SharedTargetJepa.Options.Default with { Steps = Steps });
        var collapsed = shared.Train(data, new TrainOptions { Log = _ => { } });

        var monitor = Digits.DigitsJepa.Options.Default.Collapse!;
        var reference = JsonDocument.Parse(File.ReadAllText(Reference())).RootElement;
        var torchEma = reference.GetProperty("ema").EnumerateArray().ToArray();
        var torchShared = reference.GetProperty("shared").EnumerateArray().ToArray();
        output.WriteLine($"collapse thresholds: std < {monitor.MinStd}, RankMe < {monitor.MinRank}");
        output.WriteLine("step | EMA target std / RankMe (PyTorch) | shared target std / RankMe (PyTorch)");
        for (var i = 0; i < healthy.CollapseReadings.Count; i++)
        {
            var (a, b) = (healthy.CollapseReadings[i], collapsed.CollapseReadings[i]);
            output.WriteLine($"{a.Step,4} | {a.Std:F5} / {a.RankMe,5:F2} ({torchEma[i].GetProperty("std").GetDouble():F5} / {torchEma[i].GetProperty("rankme").GetDouble(),5:F2}) " +
                             $"| {b.Std:F5} / {b.RankMe,5:F2} ({torchShared[i].GetProperty("std").GetDouble():F5} / {torchShared[i].GetProperty("rankme").GetDouble(),5:F2})");
        }
        output.WriteLine($"final loss: EMA {healthy.FinalLoss:G4}, shared {collapsed.FinalLoss:G4}; alarms: EMA at [{string.Join(", ", healthy.CollapseAlarms.Select(x => x.Step))}], shared at [{string.Join(", ", collapsed.CollapseAlarms.Select(x => x.Step))}]");

        Assert.Equal(Steps, healthy.Steps);
        Assert.Equal(Steps, collapsed.Steps);
        Assert.Equal([0L, 100, 200, 300], healthy.CollapseReadings.Select(r => r.Step));
        Assert.Equal([0L, 100, 200, 300], collapsed.CollapseReadings.Select(r => r.Step));

        // Both start from the same healthy random encoder.
        Assert.Equal(healthy.CollapseReadings[0], collapsed.CollapseReadings[0]);
        Assert.True(healthy.CollapseReadings[0].Std > monitor.MinStd && healthy.CollapseReadings[0].RankMe > monitor.MinRank);

        // The shared target collapses by both criteria from step 100 on; its std falls more than tenfold.
        Assert.All(collapsed.CollapseReadings.Skip(1), r =>
        {
            Assert.True(r.Std < monitor.MinStd, $"shared target: std {r.Std} at step {r.Step}");
            Assert.True(r.RankMe < monitor.MinRank, $"shared target: RankMe {r.RankMe} at step {r.Step}");
        });
        Assert.True(collapsed.LastCollapse!.Std < collapsed.CollapseReadings[0].Std / 10);
        Assert.Equal([100L, 200, 300], collapsed.CollapseAlarms.Select(x => x.Step));

        // The EMA target does not: its rank stays above the threshold and its std at least four times the shared one's.
        for (var i = 1; i < healthy.CollapseReadings.Count; i++)
        {
            var (a, b) = (healthy.CollapseReadings[i], collapsed.CollapseReadings[i]);
            Assert.True(a.RankMe > monitor.MinRank, $"EMA target: RankMe {a.RankMe} at step {a.Step}");
            Assert.True(a.Std > 4 * b.Std, $"EMA target: std {a.Std} against {b.Std} at step {a.Step}");
        }

        // An independent PyTorch implementation of both models gives the same metrics within 10 %.
        for (var i = 0; i < healthy.CollapseReadings.Count; i++)
        {
            Close(torchEma[i], healthy.CollapseReadings[i]);
            Close(torchShared[i], collapsed.CollapseReadings[i]);
        }
    }

    private static void Close(JsonElement expected, CollapseReading actual)
    {
        Assert.Equal(expected.GetProperty("step").GetInt64(), actual.Step);
        foreach (var (name, value) in new[] { ("std", actual.Std), ("rankme", actual.RankMe) })
        {
            var e = expected.GetProperty(name).GetDouble();
            Assert.True(Math.Abs(value - e) <= 0.10 * e, $"{name} at step {actual.Step}: {value} here, {e} in PyTorch");
        }
    }

    /// <summary>Sample 1 with the EMA target replaced by the context encoder itself, trained through both branches.</summary>
    private sealed class SharedTargetJepa : JepaExperiment
    {
        public sealed record Options : ExperimentOptions
        {
            public static Options Default { get; } = new()
            {
                Optimizer = Digits.DigitsJepa.Options.Default.Optimizer,
                LearningRate = Digits.DigitsJepa.Options.Default.LearningRate,
                WeightDecay = Digits.DigitsJepa.Options.Default.WeightDecay,
                Schedule = Digits.DigitsJepa.Options.Default.Schedule,
                WarmupSteps = Digits.DigitsJepa.Options.Default.WarmupSteps,
                Batch = Digits.DigitsJepa.Options.Default.Batch,
                Steps = Digits.DigitsJepa.Options.Default.Steps,
                Seed = Digits.DigitsJepa.Options.Default.Seed,
                Collapse = Digits.DigitsJepa.Options.Default.Collapse,
            };
        }

        private readonly MlpEncoder encoder;
        private readonly MlpEncoder predictor;
        private readonly ICorruption noisy;

        public SharedTargetJepa(Options options) : base("SharedTargetJepa", options)
        {
            using var init = InitializationScope();
            encoder = new MlpEncoder(Digits.DigitsJepa.InputShape, [256, 256], 128, Norm.None, Activation.Gelu);
            predictor = new MlpEncoder([128], [256], 128, Norm.None, Activation.Gelu);
            noisy = Corruptions.Compose(new FeatureDropout(0.3), new GaussianNoise(0.1));
            Register(context: encoder, target: encoder, targetKind: TargetKind.Shared, predictor: predictor);
        }

        public override Tensor Corrupt(Tensor image, Generator generator) => noisy.Apply(image, generator);

        public override Tensor Encode(Tensor image)
        {
            using var _ = no_grad();
            return encoder.forward(image);
        }

        protected override LossTerms TrainingStep(Tensor image, StepContext step)
        {
            var target = TargetNorm.Layer(encoder.forward(image));               // with gradient: nothing stops collapse
            var predicted = predictor.forward(encoder.forward(noisy.Apply(image, step.Generator)));
            var terms = new LossTerms();
            terms.Add("smooth_l1", Loss.SmoothL1(predicted, target, beta: 1.0), weight: 1.0);
            step.BackwardAndStep(terms);
            return terms;
        }
    }
}
