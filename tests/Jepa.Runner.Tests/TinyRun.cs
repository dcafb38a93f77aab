using System.Globalization;
using Jepa.Runtime.Data;
using Jepa.Runtime.Evaluation;
using Jepa.Runtime.Schedules;
using Jepa.Runtime.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runner.Tests;

/// <summary>Runs change torch's global generator and compare digests: one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunnerCollection
{
    public const string Name = "Runner (serial)";
}

/// <summary>
/// A small vector JEPA for the runner (input [64] like the digits; an MLP, an EMA target, noise on the context view),
/// with only the kNN probe so that a run's evaluation takes a moment.
/// </summary>
public sealed class TinyVector : JepaExperiment
{
    public sealed record Options : ExperimentOptions;

    public static Options Defaults { get; } = new()
    {
        Batch = 32,
        Steps = 6,
        Seed = 4,
        LearningRate = new Ramp(1e-2),
        EmaMomentum = new Ramp(0.99, 1.0),
        Collapse = null,
        Evaluation = new EvaluationOptions { Knn = new KnnOptions(5) },
    };

    public static ExperimentDefinition Definition { get; } = new("TinyVector", [64], Defaults, o => new TinyVector((Options)o));

    private readonly nn.Module<Tensor, Tensor> context;
    private readonly nn.Module<Tensor, Tensor> target;
    private readonly nn.Module<Tensor, Tensor> predictor;

    public TinyVector(Options options) : base("TinyVector", options)
    {
        using var init = InitializationScope();
        context = Mlp();
        target = Ema.CopyOf(context, Mlp);
        predictor = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 8));
        Register(context, target, TargetKind.Ema, predictor);
    }

    private static nn.Module<Tensor, Tensor> Mlp() => nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 8));

    public override Tensor Corrupt(Tensor image, Generator generator) => image + randn(image.shape, generator: generator) * 0.1;

    public override Tensor Encode(Tensor image)
    {
        using var _ = no_grad();
        return target.forward(image);
    }

    /// <summary>Called at the start of each training step with its 1-based number (tests make steps fail with it).</summary>
    public Action<long>? Fault { get; init; }

    /// <summary>This definition, with <paramref name="fault"/> called at the start of each training step.</summary>
    public static ExperimentDefinition Failing(Action<long> fault) => Definition with { Create = o => new TinyVector((Options)o) { Fault = fault } };

    protected override LossTerms TrainingStep(Tensor batch, StepContext step)
    {
        Fault?.Invoke(step.Step);
        Tensor goal;
        using (no_grad()) goal = target.forward(batch);
        var terms = new LossTerms();
        terms.Add("mse", nn.functional.mse_loss(predictor.forward(context.forward(Corrupt(batch, step.Generator))), goal), weight: 1.0);
        step.BackwardAndStep(terms);
        step.UpdateEma(target, context);
        return terms;
    }
}

/// <summary>A temporary folder with data files, and runs of <see cref="TinyVector"/> through the runner.</summary>
public sealed class Workspace : IDisposable
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "jepa-runner-" + Guid.NewGuid().ToString("N"));

    public Workspace() => Directory.CreateDirectory(Root);

    public string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>A CSV of <paramref name="rows"/> samples of 64 values in [0, 16] and a label 0..<paramref name="classes"/>-1 last (the digits' layout).</summary>
    public string Csv(string relative, int rows, int classes = 4, int seed = 1)
    {
        var random = new Random(seed);
        var path = PathOf(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllLines(path, Enumerable.Range(0, rows).Select(i =>
            string.Join(",", Enumerable.Range(0, 64).Select(_ => random.Next(0, 17).ToString(CultureInfo.InvariantCulture))) + "," + (i % classes).ToString(CultureInfo.InvariantCulture)));
        return path;
    }

    /// <summary>An MNIST-style IDX images file (no labels) of <paramref name="count"/> 8x8 images.</summary>
    public string IdxImages(string relative, int count, int seed = 2)
    {
        var random = new Random(seed);
        var path = PathOf(relative);
        var bytes = new List<byte> { 0, 0, 8, 3 };
        foreach (var n in new[] { count, 8, 8 }) bytes.AddRange(BitConverter.GetBytes(n).Reverse());
        for (var i = 0; i < count * 64; i++) bytes.Add((byte)random.Next(0, 256));
        File.WriteAllBytes(path, [.. bytes]);
        return path;
    }

    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public string All => Output + Error;

        public string Digest => Output.Split('\n').Single(l => l.StartsWith("Parameters SHA-256: ", StringComparison.Ordinal))["Parameters SHA-256: ".Length..].Trim();
    }

    /// <summary>The runner on <see cref="TinyVector"/> with these arguments (and --plain).</summary>
    public static Result Run(params string[] args) => Run(TinyVector.Definition, args);

    /// <summary>The runner on <paramref name="definition"/> with these arguments (and --plain).</summary>
    public static Result Run(ExperimentDefinition definition, params string[] args)
    {
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        var exit = ExperimentRunner.Run([.. args, "--plain"], definition, output, error);
        return new Result(exit, output.ToString(), error.ToString());
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

internal static class Data
{
    /// <summary>A labelled data set of <paramref name="count"/> samples of [64], labels cycling through <paramref name="classes"/>.</summary>
    public static JepaDataset Labelled(long count, int classes, string source = "labelled", long seed = 3)
    {
        using var g = new Generator(unchecked((ulong)seed));
        return new JepaDataset(rand([count, 64], generator: g), arange(count) % classes, source);
    }

    public static DataSource Source(JepaDataset samples, JepaDataset? test = null, IReadOnlyList<string>? classNames = null) =>
        new(samples.Source, [], new LoadedData(classNames is null ? samples : samples.WithClassNames(classNames), test, "", [], "in memory"));
}
