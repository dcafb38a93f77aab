using System.Text.Json.Nodes;
using Jepa.Bench.Harness;
using Jepa.Runtime.Training;

namespace Jepa.Bench.Training;

/// <summary>
/// Section 3: the resident set size of this process while the generated experiment trains through <c>Train</c>
/// (10,000 steps; 200 in the smoke mode), read every 100 steps without forcing a collection. Growth is from the end of
/// the warm-up (a tenth of the steps, at least 100) to the last reading, and to the highest one. Target: under 5 %.
/// </summary>
public static class Memory
{
    public const double TargetPercent = 5.0;

    public static JsonObject Run(Settings s, Table table)
    {
        var result = new JsonObject();
        foreach (var model in new[] { "mlp", "vit" })
        {
            var steps = s.Smoke ? 200 : s.MemorySteps;
            var warmup = Math.Max(100, steps / 10);
            const int every = 100;
            using var batch = Batches.For(model);
            using var loop = new TrainLoop(Experiments.Create(model), batch, model);
            var readings = new List<(long Step, double MiB)>();
            var before = Machine.RssMiB();
            var start = DateTime.UtcNow;
            loop.Run(steps, new Sink(r => readings.Add((r.Step, Machine.RssMiB()))), every);
            var seconds = (DateTime.UtcNow - start).TotalSeconds;
            var atWarmup = readings.First(r => r.Step >= warmup).MiB;
            var end = readings[^1].MiB;
            var max = readings.Where(r => r.Step >= warmup).Max(r => r.MiB);
            var growth = 100 * (end - atWarmup) / atWarmup;
            var maxGrowth = 100 * (max - atWarmup) / atWarmup;
            var load = Machine.Load();
            result[model] = new JsonObject
            {
                ["steps"] = steps,
                ["warmup_steps"] = warmup,
                ["rss_before_mib"] = before,
                ["rss_after_warmup_mib"] = atWarmup,
                ["rss_end_mib"] = end,
                ["rss_max_after_warmup_mib"] = max,
                ["growth_percent"] = growth,
                ["max_growth_percent"] = maxGrowth,
                ["target_percent"] = TargetPercent,
                ["met"] = maxGrowth < TargetPercent,
                ["seconds"] = seconds,
                ["readings"] = new JsonArray(readings.Select(r => (JsonNode)new JsonArray(r.Step, Math.Round(r.MiB, 1))).ToArray()),
                ["load"] = load,
            };
            Console.WriteLine($"rss {model}: {atWarmup:F1} MiB at step {warmup}, {end:F1} MiB at step {steps}, at most {max:F1} MiB ({growth:+0.0;-0.0} %, at most {maxGrowth:+0.0;-0.0} %), {seconds:F0} s; {load}");
            table.Add("3 RSS growth", $"{model}, steps {warmup}..{steps}",
                $"{growth:+0.0;-0.0} % at the end, {maxGrowth:+0.0;-0.0} % at most ({atWarmup:F0} -> {end:F0} MiB)", $"< {TargetPercent} %", maxGrowth < TargetPercent, load);
        }
        return result;
    }

    /// <summary>A progress sink called on the training thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class Sink(Action<StepReport> report) : IProgress<StepReport>
    {
        public void Report(StepReport value) => report(value);
    }
}
