using Jepa.Runtime.Data;
using Jepa.Runtime.Evaluation;
using Jepa.Runtime.Losses;
using Jepa.Runtime.Masks;
using Jepa.Runtime.Models;
using Jepa.Runtime.Schedules;
using Jepa.Runtime.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Training;

// TEMPORARY exploration: not committed.
[Collection(TrainerCollection.Name)]
public class MonitorExploration(ITestOutputHelper output)
{
    private static string Candidates(Tensor z)
    {
        using var scope = NewDisposeScope();
        z = z.detach().to(ScalarType.Float64);
        if (z.dim() == 3) z = z.mean([1]);
        var std = CollapseMetrics.EmbeddingStd(z);
        var rank = CollapseMetrics.RankMe(z);
        var zc = z - z.mean([0], keepdim: true);
        var rho = Math.Sqrt(zc.square().sum(1).mean().item<double>() / z.square().sum(1).mean().item<double>());
        var cv = (z.std(0) / z.square().mean([0]).sqrt().clamp_min(1e-30)).mean().item<double>();
        var rankC = CollapseMetrics.RankMe(zc);
        var stdC = nn.functional.normalize(zc, p: 2, dim: 1).std(0).mean().item<double>();
        return $"std {std:F5} rank {rank,6:F2} | rho {rho:F4} cv {cv:F4} rank_c {rankC,6:F2} std_c {stdC:F4} (d {z.shape[1]})";
    }

    private static string Probe(Func<Tensor, Tensor> embed, JepaDataset data)
    {
        var (train, test) = data.Split(0.25, 0);
        using (train)
        using (test)
        using (var scope = NewDisposeScope())
        {
            var a = Evaluator.Embed(embed, train);
            var b = Evaluator.Embed(embed, test);
            var rms = a.square().mean().sqrt().item<float>();
            a /= rms; b /= rms;
            var lr = LogisticRegression.Fit(a, train.Labels!, 10, 100).Accuracy(b, test.Labels!);
            var ridge = RidgeClassifier.Fit(a, train.Labels!, 10).Accuracy(b, test.Labels!);
            var knn = Knn.Accuracy(a, train.Labels!, b, test.Labels!, 20, 10);
            return $"lp {lr * 100:F1} ridge {ridge * 100:F1} knn {knn * 100:F1}";
        }
    }

    [Fact]
    public void Explore_tokens()
    {
        if (Environment.GetEnvironmentVariable("JEPA_EXPLORE") is null) return;
        using var digits = Datasets.Digits();
        using var images = digits.Reshape([1, 8, 8]);
        var norm = InputNormalization.Compute(images, 0);
        using var normed = new JepaDataset((images.Features - norm.Mean[0]) / norm.Std[0], images.Labels);
        var mon = normed.Features.narrow(0, 0, 1024);
        foreach (var (kind, sigreg) in new[] { (TargetKind.Ema, 0.05), (TargetKind.Ema, 0.0), (TargetKind.Shared, 0.0) })
        {
            using var e = new TokenExperiment(kind, sigreg, 400);
            using (no_grad())
            {
                using var _ = e.EvaluationMode();
                output.WriteLine($"{kind} sigreg {sigreg} step 0: pooled {Candidates(e.TargetTokens(mon))} | tokens-flat std {CollapseMetrics.EmbeddingStd(e.TargetTokens(mon)):F5} rank {CollapseMetrics.RankMe(e.TargetTokens(mon)):F2} | {Probe(x => e.TargetTokens(x), normed)}");
            }
            e.Train(normed, new TrainOptions { Log = _ => { } }, new SyncProgress<StepReport>(r =>
            {
                if (r.Step % 100 != 0) return;
                using var _ = e.EvaluationMode();
                using var ng = no_grad();
                output.WriteLine($"{kind} sigreg {sigreg} step {r.Step}: pooled {Candidates(e.TargetTokens(mon))} | tokens-flat std {CollapseMetrics.EmbeddingStd(e.TargetTokens(mon)):F5} rank {CollapseMetrics.RankMe(e.TargetTokens(mon)):F2} | {Probe(x => e.TargetTokens(x), normed)}");
            }));
        }
    }

    [Fact]
    public void Explore_gelu()
    {
        if (Environment.GetEnvironmentVariable("JEPA_EXPLORE") is null) return;
        using var digits = Datasets.Digits();
        var data = digits.ForExperiment([64]);
        var norm = InputNormalization.Compute(data, 0);
        using var normed = new JepaDataset((data.Features - norm.Mean[0]) / norm.Std[0], data.Labels);
        var mon = normed.Features.narrow(0, 0, 1024);
        foreach (var act in new[] { Activation.Gelu, Activation.Relu })
        {
            using var e = new MlpExperiment(act, 3000);
            using (no_grad()) output.WriteLine($"{act} step 0: {Candidates(e.Target.forward(mon))} | {Probe(x => e.Target.forward(x), normed)}");
            long[] at = [100, 200, 250, 300, 400, 500, 1000];
            using var cancel = new CancellationTokenSource();
            e.Train(normed, new TrainOptions { Log = _ => { } }, new SyncProgress<StepReport>(r =>
            {
                if (r.Step >= 1000) cancel.Cancel();
                if (!at.Contains(r.Step)) return;
                using var _ = e.EvaluationMode();
                using var ng = no_grad();
                output.WriteLine($"{act} step {r.Step}: {Candidates(e.Target.forward(mon))} | {Probe(x => e.Target.forward(x), normed)}");
            }), cancel.Token);
        }
    }

    private sealed record Opts : ExperimentOptions;

    private sealed class MlpExperiment : JepaExperiment
    {
        public readonly MlpEncoder Context, Target, Predictor;
        private readonly ICorruption noisy;

        public MlpExperiment(Activation act, long steps) : base("Mlp", new Opts
        {
            LearningRate = new(1e-3), WeightDecay = new(0.05), Batch = 256, Steps = steps, Seed = 1, Schedule = LrScheduleKind.WarmupCosine,
            WarmupSteps = 100, FinalLr = 1e-6, Collapse = null, Normalization = InputNormalization.None,
        })
        {
            using var init = InitializationScope();
            Context = new MlpEncoder([64], [256, 256], 128, Norm.None, act);
            Target = Ema.CopyOf(Context, () => new MlpEncoder([64], [256, 256], 128, Norm.None, act));
            Predictor = new MlpEncoder([128], [256], 128, Norm.None, act);
            noisy = Corruptions.Compose(new FeatureDropout(0.3), new GaussianNoise(0.1));
            Register(Context, Target, TargetKind.Ema, Predictor);
        }

        public override Tensor Corrupt(Tensor image, Generator generator) => noisy.Apply(image, generator);

        public override Tensor Encode(Tensor image)
        {
            using var _ = no_grad();
            return Target.forward(image);
        }

        protected override LossTerms TrainingStep(Tensor image, StepContext step)
        {
            Tensor t;
            using (no_grad()) t = TargetNorm.Layer(Target.forward(image));
            var terms = new LossTerms();
            terms.Add("smooth_l1", Loss.SmoothL1(Predictor.forward(Context.forward(noisy.Apply(image, step.Generator))), t, beta: 1.0), weight: 1.0);
            step.BackwardAndStep(terms);
            step.UpdateEma(Target, Context);
            return terms;
        }
    }

    private sealed class TokenExperiment : JepaExperiment
    {
        private readonly VitEncoder context, target;
        private readonly TransformerPredictor predictor;
        private readonly MultiBlockMask masked;
        private readonly double sigreg;

        public TokenExperiment(TargetKind kind, double sigreg, long steps) : base("Tokens", new Opts
        {
            LearningRate = new(1e-3), WeightDecay = new(0.04, 0.4), Batch = 128, Steps = steps, Seed = 7, Schedule = LrScheduleKind.WarmupCosine,
            WarmupSteps = 50, FinalLr = 1e-6, Collapse = null, Normalization = InputNormalization.None,
        })
        {
            this.sigreg = sigreg;
            using var init = InitializationScope();
            context = new VitEncoder([1, 8, 8], 2, 64, 4, 4);
            target = kind == TargetKind.Ema ? Ema.CopyOf(context, () => new VitEncoder([1, 8, 8], 2, 64, 4, 4)) : context;
            predictor = new TransformerPredictor(64, 32, 2, 2, (4, 4));
            masked = new MultiBlockMask((4, 4), 4, (0.15, 0.2), (0.85, 1.0), (0.75, 1.5), 4);
            Register(context, target, kind, predictor);
        }

        public Tensor TargetTokens(Tensor x) => target.forward(x);

        public override Tensor Corrupt(Tensor image, Generator generator) => image.alias();

        public override Tensor Encode(Tensor image)
        {
            using var _ = no_grad();
            return Tokens.MeanPool(target.forward(image));
        }

        protected override LossTerms TrainingStep(Tensor image, StepContext step)
        {
            var masks = masked.Sample(image.shape[0], step.Generator);
            Tensor t;
            if (TargetKind == TargetKind.Ema)
            {
                using (no_grad()) t = Tokens.Gather(TargetNorm.Layer(target.forward(image)), masks.Target);
            }
            else t = Tokens.Gather(TargetNorm.Layer(target.forward(image)), masks.Target);
            var c = context.forward(image, masks.Context);
            var predicted = predictor.forward(c, masks.Context, masks.Target);
            var terms = new LossTerms();
            terms.Add("smooth_l1", Loss.SmoothL1(predicted, t, beta: 1.0), weight: 1.0);
            if (sigreg > 0) terms.Add("sigreg", Regularizers.SigReg(c, 256, step.Generator), weight: sigreg);
            step.BackwardAndStep(terms);
            if (TargetKind == TargetKind.Ema) step.UpdateEma(target, context);
            return terms;
        }
    }
}
