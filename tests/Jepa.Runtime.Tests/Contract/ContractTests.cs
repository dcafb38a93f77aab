using Jepa.Runtime.Tests.Training;
using Jepa.Runtime.Training;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Contract;

/// <summary>
/// The generator's output for the two samples of docs/internals/generated-code-contract.md (the examples' committed
/// snapshots, examples/Digits and examples/TokenJepa, linked into this project) compiles against the runtime and trains.
/// </summary>
[Collection(TrainerCollection.Name)]
public class ContractTests
{
    private static TensorData Random(long count, params long[] shape)
    {
        using var g = new Generator(17);
        return new TensorData(rand([count, .. shape], generator: g).DetachFromDisposeScope());
    }

    [Fact]
    public void Sample_1_vector_jepa_trains_a_few_steps_on_random_data()
    {
        using var e = new Digits.DigitsJepa(Digits.DigitsJepa.Options.Default with { Batch = 32 });
        // docs/models.md: mlp 64 -> 256 -> 256 -> 128 and predictor 128 -> 256 -> 128, sum(prev * h + h) + prev * o + o.
        const long context = 64 * 256 + 256 + 256 * 256 + 256 + 256 * 128 + 128, predictor = 128 * 256 + 256 + 256 * 128 + 128;
        Assert.Equal(context + predictor, e.EnsureOptimizer().Parameters.Sum(p => p.numel()));
        Assert.Equal(context + predictor, Digits.DigitsJepa.ParameterCount);
        var run = e.Train(Random(200, 64), new TrainOptions { Steps = 8 });
        Assert.Equal(8, run.Steps);
        Assert.Equal(StopReason.Completed, run.StopReason);
        Assert.True(double.IsFinite(run.FinalTerms["smooth_l1"]));
        Assert.Equal([0L, 8], run.CollapseReadings.Select(r => r.Step));
        using var z = e.Encode(rand(5, 64));
        Assert.Equal([5L, Digits.DigitsJepa.EmbeddingWidth], z.shape);
    }

    [Fact]
    public void Sample_1_trains_on_the_digits_data_and_evaluates_its_embeddings()
    {
        using var digits = Jepa.Runtime.Data.Datasets.Digits();
        var data = digits.ForExperiment(Digits.DigitsJepa.InputShape, labelsNeededBy: "the evaluation");
        using var e = new Digits.DigitsJepa();
        var folder = TestFolders.Create("digits");
        var losses = new List<double>();
        var run = e.Train(data, new TrainOptions { Steps = 30, RunFolder = folder }, new SyncProgress<StepReport>(r => losses.Add(r.Loss)));
        Assert.Equal(30, run.Steps);
        Assert.True(losses[^1] < 0.9 * losses[0], $"loss {losses[0]} -> {losses[^1]}");
        Assert.True(File.Exists(Path.Combine(folder, "checkpoint.ckpt")));

        // The options' evaluate block is the default; here only the fast kNN probe runs.
        var report = e.Evaluate(data, new Jepa.Runtime.Evaluation.EvaluationOptions { Knn = new(20) });
        Assert.Equal(450, report.TestCount);
        Assert.True(report.Knn > 0.8, $"kNN accuracy {report.Knn}");
        Assert.Null(report.LinearProbe);
        Assert.All(e.ContextEncoder.modules(), m => Assert.True(m.training)); // back in training mode

        // Without an evaluate block an experiment runs every probe with its defaults.
        using var noBlock = new NoEvaluation();
        Assert.Equal("linear_probe, few_shot, knn", noBlock.InitialOptions.Evaluation.Names);
    }

    [Fact]
    public void Sample_2_token_jepa_trains_a_few_steps_on_random_data()
    {
        using var e = new global::TokenJepa.TokenJepa(global::TokenJepa.TokenJepa.Options.Default with { Batch = 16 });
        var run = e.Train(Random(64, 1, 8, 8), new TrainOptions { Epochs = 2 });
        Assert.Equal(8, run.Steps); // 64 / 16 = 4 steps per epoch
        Assert.True(double.IsFinite(run.FinalTerms["smooth_l1"]));
        using var z = e.Encode(rand(3, 1, 8, 8));
        Assert.Equal([3L, global::TokenJepa.TokenJepa.EmbeddingWidth], z.shape);
    }

    /// <summary>
    /// Generated code normalises each encoder input after the corruptions (issue 13); before, the runtime normalised the
    /// batch at its boundary. Where the corruptions do not read values (TokenJepa: a token mask) the two are the same
    /// training, bit for bit: a declared normalisation on the data as loaded against none on the data normalised first.
    /// Where they do (Digits: noise and feature dropout, now in pixel units) the runs differ.
    /// </summary>
    [Fact]
    public void Normalising_each_view_in_the_step_equals_normalising_the_batch_first_unless_a_corruption_reads_values()
    {
        var normalization = new InputNormalization([0.3], [0.2]);
        using var g = new Generator(19);
        using var x = rand([128, 1, 8, 8], generator: g);
        var token = global::TokenJepa.TokenJepa.Options.Default with { Batch = 32, Steps = 6, Collapse = null };
        using var inStep = new global::TokenJepa.TokenJepa(token with { Normalization = normalization });
        using var first = new global::TokenJepa.TokenJepa(token with { Normalization = InputNormalization.None });
        inStep.Train(new TensorData(x.clone()));
        first.Train(new TensorData(inStep.Normalize(x).detach().clone()));
        Assert.Equal(first.ParameterDigest(), inStep.ParameterDigest());

        using var v = rand([128, 64], generator: g);
        var digits = Digits.DigitsJepa.Options.Default with { Batch = 32, Steps = 6, Collapse = null };
        using var digitsInStep = new Digits.DigitsJepa(digits with { Normalization = normalization });
        using var digitsFirst = new Digits.DigitsJepa(digits with { Normalization = InputNormalization.None });
        digitsInStep.Train(new TensorData(v.clone()));
        digitsFirst.Train(new TensorData(digitsInStep.Normalize(v).detach().clone()));
        Assert.NotEqual(digitsFirst.ParameterDigest(), digitsInStep.ParameterDigest());
    }

    [Fact]
    public void Samples_resume_bit_identically()
    {
        var data = Random(128, 1, 8, 8);
        var options = global::TokenJepa.TokenJepa.Options.Default with { Batch = 32, Steps = 10 };
        using var straight = new global::TokenJepa.TokenJepa(options);
        straight.Train(data);
        var path = Path.Combine(TestFolders.Create("token-resume"), "c.ckpt");
        using (var first = new global::TokenJepa.TokenJepa(options))
        {
            using var cancel = new CancellationTokenSource();
            first.Train(data, null, new SyncProgress<StepReport>(r => { if (r.Step == 6) cancel.Cancel(); }), cancel.Token);
            first.Save(path);
        }
        using var resumed = new global::TokenJepa.TokenJepa(options);
        resumed.Load(path);
        resumed.Train(data);
        ModuleState.AssertIdentical(straight.ContextEncoder, resumed.ContextEncoder);
        ModuleState.AssertIdentical(straight.TargetEncoder, resumed.TargetEncoder);
        ModuleState.AssertIdentical(straight.Predictor, resumed.Predictor);
    }

    internal sealed class NoEvaluation : JepaExperiment
    {
        public NoEvaluation() : base("NoEvaluation", TinyOptions.Default)
        {
            using var init = InitializationScope();
            var m = new TinyMlp(64, 8, 4);
            Register(m, m, TargetKind.Shared, new TinyMlp(4, 8, 4));
        }

        public override Tensor Corrupt(Tensor image, Generator generator) => image;
        public override Tensor Encode(Tensor image) => image;
        protected override LossTerms TrainingStep(Tensor batch, StepContext step) => throw new NotSupportedException();
    }
}
