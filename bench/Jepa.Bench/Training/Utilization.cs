using System.Diagnostics;
using System.Text.Json.Nodes;
using Jepa.Bench.Harness;
using Jepa.Runtime.Training;
using static TorchSharp.torch;

namespace Jepa.Bench.Training;

/// <summary>
/// Section 4: achieved FLOP/s of the training step (the generated <c>FlopsPerStep</c> constant, the compiler's cost
/// summary: matrix products and convolutions, forward and backward; docs/models.md) over the machine's float32 matmul
/// peak (the best of several 2048 x 2048 <c>torch.mm</c> in TorchSharp, same threads), for three widths of each model.
/// </summary>
public static class Utilization
{
    private sealed record Model(string Name, Func<JepaExperiment> Create, long[] InputShape, int Batch, long FlopsPerStep);

    private static IEnumerable<Model> Models()
    {
        yield return new("mlp small (64-256-256-128, B 256)", () => Experiments.Create("mlp"), BenchMlp.InputShape.ToArray(), BenchMlp.Options.Default.Batch, BenchMlp.FlopsPerStep);
        yield return new("mlp medium (256-1024-1024-256, B 256)", () => new UtilMlpMedium(UtilMlpMedium.Options.Default with { Collapse = null, Normalization = InputNormalization.None }), UtilMlpMedium.InputShape.ToArray(), UtilMlpMedium.Options.Default.Batch, UtilMlpMedium.FlopsPerStep);
        yield return new("mlp large (1024-4096-4096-1024, B 256)", () => new UtilMlpLarge(UtilMlpLarge.Options.Default with { Collapse = null, Normalization = InputNormalization.None }), UtilMlpLarge.InputShape.ToArray(), UtilMlpLarge.Options.Default.Batch, UtilMlpLarge.FlopsPerStep);
        yield return new("vit small (8x8, 16 tokens, D 64, B 128)", () => Experiments.Create("vit"), BenchVit.InputShape.ToArray(), BenchVit.Options.Default.Batch, BenchVit.FlopsPerStep);
        yield return new("vit medium (16x16, 64 tokens, D 128, B 64)", () => new UtilVitMedium(UtilVitMedium.Options.Default with { Collapse = null, Normalization = InputNormalization.None }), UtilVitMedium.InputShape.ToArray(), UtilVitMedium.Options.Default.Batch, UtilVitMedium.FlopsPerStep);
        yield return new("vit large (32x32, 64 tokens, D 256, B 32)", () => new UtilVitLarge(UtilVitLarge.Options.Default with { Collapse = null, Normalization = InputNormalization.None }), UtilVitLarge.InputShape.ToArray(), UtilVitLarge.Options.Default.Batch, UtilVitLarge.FlopsPerStep);
    }

    public static JsonObject Run(Settings s, Table table)
    {
        var (peak, size) = MatmulPeak(s.Smoke ? 3 : 10);
        var load = Machine.Load();
        table.Add("4 FLOP/s", $"float32 matmul peak ({size}x{size} mm)", $"{peak / 1e9:F1} GFLOP/s", note: load);
        var result = new JsonObject
        {
            ["peak_flops_per_second"] = peak,
            ["peak_matmul_size"] = size,
            ["threads"] = get_num_threads(),
        };
        var models = new JsonObject();
        foreach (var m in Models())
        {
            using var batch = rand([m.Batch, .. m.InputShape], generator: new Generator(42));
            using var loop = new TrainLoop(m.Create(), batch, m.Name);
            var seconds = SecondsPerStep(loop, s);
            var achieved = m.FlopsPerStep / seconds;
            load = Machine.Load();
            models[m.Name] = new JsonObject
            {
                ["flops_per_step"] = m.FlopsPerStep,
                ["seconds_per_step"] = seconds,
                ["achieved_flops_per_second"] = achieved,
                ["utilization"] = achieved / peak,
                ["load"] = load,
            };
            table.Add("4 FLOP/s", m.Name, $"{100 * achieved / peak:F1} % of peak ({achieved / 1e9:F1} GFLOP/s, {seconds * 1e3:F1} ms/step, {m.FlopsPerStep / 1e9:F2} GFLOP/step)", note: load);
        }
        result["models"] = models;
        return result;
    }

    /// <summary>The median seconds per step over 5 repetitions of about 2 s each (smoke: 2 of about 0.1 s), after warm-up.</summary>
    private static double SecondsPerStep(TrainLoop loop, Settings s)
    {
        loop.Run(s.Smoke ? 1 : 5);
        var watch = Stopwatch.StartNew();
        loop.Run(1);
        var one = watch.Elapsed.TotalSeconds;
        var steps = (int)Math.Clamp(Math.Round((s.Smoke ? 0.1 : 2.0) / one), 1, 500);
        var times = new List<double>();
        for (var r = 0; r < (s.Smoke ? 2 : 5); r++)
        {
            watch.Restart();
            loop.Run(steps);
            times.Add(watch.Elapsed.TotalSeconds / steps);
        }
        return Stats.Median(times);
    }

    /// <summary>The best FLOP/s of <c>torch.mm</c> on two 2048 x 2048 float32 matrices (2 n^3 FLOPs) over <paramref name="runs"/> runs after two warm-up runs.</summary>
    public static (double FlopsPerSecond, int Size) MatmulPeak(int runs)
    {
        const int n = 2048;
        using var g = new Generator(1);
        using var a = randn([n, n], generator: g);
        using var b = randn([n, n], generator: g);
        var best = 0.0;
        var watch = new Stopwatch();
        for (var i = 0; i < runs + 2; i++)
        {
            using var scope = NewDisposeScope();
            watch.Restart();
            var c = mm(a, b);
            _ = c[0, 0].item<float>();
            var seconds = watch.Elapsed.TotalSeconds;
            if (i >= 2) best = Math.Max(best, 2.0 * n * n * n / seconds);
        }
        return (best, n);
    }
}
