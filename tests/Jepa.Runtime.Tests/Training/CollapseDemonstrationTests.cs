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
/// Issue 3's "done when", in numbers: on the digits data, 300 steps of the digits example's JEPA (an MLP with ReLU, an
/// EMA target, constant learning rate; examples/Digits/digits.jepa) against the same model with the context encoder as
/// a shared, trained target, an invariance loss and no regularizer (which the compiler refuses, so both are built here
/// through the runtime API). Both runs are also checked against an independent PyTorch implementation of the same two
/// models (Reference/pytorch_collapse_reference.py, its output stored beside it): the collapse metrics must agree within
/// 10 % for the healthy run and 25 % for the collapsing one (their corruption noise and monitoring samples differ).
/// <para>
/// What the numbers show: the EMA target stays above both calibrated thresholds (std of the L2-normalised embeddings
/// about 0.019 &gt; 0.01, RankMe about 20 &gt; 3 at step 300) while the shared target falls below both within 100 steps
/// (0.002, 2.7) and keeps falling. With GELU instead of ReLU (contract sample 1, warm-up and cosine) the EMA target's
/// std dips to 0.008 around step 300 before recovering; see docs/runtime-training.md.
/// </para>
/// </summary>
[Collection(TrainerCollection.Name)]
public class CollapseDemonstrationTests(ITestOutputHelper output)
{
    private const int Steps = 300;

    private static string Reference([CallerFilePath] string here = "") =>
        Path.Combine(RepositoryRoot.SourceDirectory(here), "Reference", "pytorch_collapse_reference.json");

    [Fact]
    public void Ema_target_stays_healthy_and_a_shared_target_collapses_on_digits()
    {
        using var digits = Datasets.Digits();
        var data = digits.ForExperiment([64]);

        using var ema = new VectorJepa(TargetKind.Ema);
        var healthy = ema.Train(data, new TrainOptions { Log = _ => { } });

        using var shared = new VectorJepa(TargetKind.Shared);
        var collapsed = shared.Train(data, new TrainOptions { Log = _ => { } });

        var monitor = VectorJepa.Settings.Collapse!;
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

        // The EMA target does not: both metrics stay above their thresholds, no alarm, the std several times the shared one's.
        Assert.All(healthy.CollapseReadings, r =>
        {
            Assert.True(r.Std > monitor.MinStd, $"EMA target: std {r.Std} at step {r.Step}");
            Assert.True(r.RankMe > monitor.MinRank, $"EMA target: RankMe {r.RankMe} at step {r.Step}");
        });
        Assert.Empty(healthy.CollapseAlarms);
        Assert.True(healthy.LastCollapse!.Std > 5 * collapsed.LastCollapse.Std);

        // An independent PyTorch implementation of both models gives the same metrics: within 10 % for the healthy run,
        // within 25 % for the collapsing one (a thousandth of a unit apart: noise on tiny values).
        for (var i = 0; i < healthy.CollapseReadings.Count; i++)
        {
            Close(torchEma[i], healthy.CollapseReadings[i], 0.10);
            Close(torchShared[i], collapsed.CollapseReadings[i], 0.25);
        }
    }

    private static void Close(JsonElement expected, CollapseReading actual, double tolerance)
    {
        Assert.Equal(expected.GetProperty("step").GetInt64(), actual.Step);
        foreach (var (name, value) in new[] { ("std", actual.Std), ("rankme", actual.RankMe) })
        {
            var e = expected.GetProperty(name).GetDouble();
            Assert.True(Math.Abs(value - e) <= tolerance * e, $"{name} at step {actual.Step}: {value} here, {e} in PyTorch");
        }
    }

    /// <summary>The digits example's JEPA built through the runtime API, with an EMA target or with the context encoder
    /// itself as a shared, trained target.</summary>
    private sealed class VectorJepa : JepaExperiment
    {
        public sealed record Options : ExperimentOptions;

        public static readonly Options Settings = new()
        {
            LearningRate = new(1e-3),
            WeightDecay = new(0.05),
            Batch = 256,
            Steps = Steps,
            Seed = 1,
            EmaMomentum = new(0.996, 1.0),
            Collapse = new CollapseMonitorOptions(MinStd: 0.01, MinRank: 3, Action: CollapseAction.Warn, Every: 100),
            Normalization = InputNormalization.None, // as the PyTorch reference script: the pixels / 16 as they are
        };

        private readonly MlpEncoder encoder;
        private readonly MlpEncoder target;
        private readonly MlpEncoder predictor;
        private readonly ICorruption noisy;

        public VectorJepa(TargetKind kind) : base($"VectorJepa({kind})", Settings)
        {
            using var init = InitializationScope();
            encoder = Encoder();
            target = kind == TargetKind.Ema ? Ema.CopyOf(encoder, Encoder) : encoder;
            predictor = new MlpEncoder([128], [256], 128, Norm.None, Activation.Relu);
            noisy = Corruptions.Compose(new FeatureDropout(0.3), new GaussianNoise(0.1));
            Register(context: encoder, target: target, targetKind: kind, predictor: predictor);
        }

        private static MlpEncoder Encoder() => new([64], [256, 256], 128, Norm.None, Activation.Relu);

        public override Tensor Corrupt(Tensor image, Generator generator) => noisy.Apply(image, generator);

        public override Tensor Encode(Tensor image)
        {
            using var _ = no_grad();
            return target.forward(image);
        }

        protected override LossTerms TrainingStep(Tensor image, StepContext step)
        {
            Tensor targets;
            if (TargetKind == TargetKind.Ema)
            {
                using var _ = no_grad();
                targets = TargetNorm.Layer(target.forward(image));
            }
            else
            {
                targets = TargetNorm.Layer(target.forward(image));                  // with gradient: nothing stops collapse
            }

            var predicted = predictor.forward(encoder.forward(noisy.Apply(image, step.Generator)));
            var terms = new LossTerms();
            terms.Add("smooth_l1", Loss.SmoothL1(predicted, targets, beta: 1.0), weight: 1.0);
            step.BackwardAndStep(terms);
            if (TargetKind == TargetKind.Ema) step.UpdateEma(target, encoder);
            return terms;
        }
    }
}
