using System.Text.Json.Nodes;
using Jepa.Runtime.Training;
using static TorchSharp.torch;

namespace Jepa.Bench.Harness;

/// <summary>How long each part runs: the smoke mode (CI, about 30 s) or the full one.</summary>
public sealed record Settings(bool Smoke)
{
    /// <summary>Training steps of the memory benchmark in the full mode.</summary>
    public int MemorySteps { get; init; } = 10_000;

    /// <summary>How a training-step comparison runs: smoke 5 warm-up steps and 5 repetitions of about 0.15 s; full 30
    /// warm-up steps and 9 repetitions of about 2 s per loop.</summary>
    public Plan Plan() => Smoke ? new Plan(5, 0.15, 5) : new Plan(30, 2.0, 9);
}

/// <summary>
/// The benchmark models by name: mlp (Models/mlp.jepa) and vit (Models/vit.jepa), without the collapse monitor that
/// every experiment gets by default (a no-grad forward of 1,024 samples and an SVD every 100 steps), which the
/// hand-written and PyTorch peers do not have; for the same reason without input normalisation (by default two
/// element-wise operations on each batch, after a pass over the data to compute it).
/// </summary>
public static class Experiments
{
    public static JepaExperiment Create(string model) => model switch
    {
        "mlp" => new BenchMlp(BenchMlp.Options.Default with { Collapse = null, Normalization = InputNormalization.None }),
        "vit" => new BenchVit(BenchVit.Options.Default with { Collapse = null, Normalization = InputNormalization.None }),
        _ => throw new ArgumentException($"unknown model {model}"),
    };
}

/// <summary>One fixed batch per model, uniform in [0, 1), created from a fixed seed.</summary>
public static class Batches
{
    public static Tensor For(string model)
    {
        using var g = new Generator(42);
        return model switch
        {
            "mlp" => rand([BenchMlp.Options.Default.Batch, 64], generator: g),
            "vit" => rand([BenchVit.Options.Default.Batch, 1, 8, 8], generator: g),
            _ => throw new ArgumentException($"unknown model {model}"),
        };
    }
}

public static class Json
{
    public static JsonArray Array(IEnumerable<double> values) => new(values.Select(v => (JsonNode)v).ToArray());
}

/// <summary>The summary table printed at the end.</summary>
public sealed class Table
{
    private readonly List<(string Section, string Item, string Value, string Target, bool? Met, string Note)> rows = [];

    public void Add(string section, string item, string value, string target = "", bool? met = null, string note = "") =>
        rows.Add((section, item, value, target, met, note));

    public void Print(TextWriter w)
    {
        var header = ("benchmark", "item", "measured", "target", "", "machine");
        var all = new[] { header }.Concat(rows.Select(r => (r.Section, r.Item, r.Value, r.Target, r.Met switch { true => "ok", false => "MISSED", null => "" }, r.Note))).ToList();
        int a = all.Max(r => r.Item1.Length), b = all.Max(r => r.Item2.Length), c = all.Max(r => r.Item3.Length), d = all.Max(r => r.Item4.Length), e = all.Max(r => r.Item5.Length);
        foreach (var r in all)
            w.WriteLine($"{r.Item1.PadRight(a)} | {r.Item2.PadRight(b)} | {r.Item3.PadRight(c)} | {r.Item4.PadRight(d)} | {r.Item5.PadRight(e)} | {r.Item6}");
    }
}
