using System.Text.Json.Nodes;
using Jepa.Bench.Harness;
using Jepa.Bench.HandWritten;
using static TorchSharp.torch;

namespace Jepa.Bench.Training;

/// <summary>
/// Section 1: seconds per training step of the generated experiment (through <c>Train</c>, what users run) and of the
/// same model written by hand in plain TorchSharp, interleaved, on the same batch in memory, same corruption, same
/// optimizer. Target: generated at most 1.05 times hand-written.
/// </summary>
public static class GeneratedVsHandWritten
{
    public const double Target = 1.05;

    public static JsonObject Run(Settings s, Table table)
    {
        var result = new JsonObject();
        foreach (var model in new[] { "mlp", "vit" })
        {
            using var batch = Batches.For(model);
            using var hand = new StepLoop(model == "mlp" ? new HandWrittenMlpJepa(batch, 1) : new HandWrittenVitJepa(batch, 7), "hand-written");
            using var generated = new TrainLoop(Experiments.Create(model), batch, "generated (Train)");
            var plan = s.Plan();
            var (t, steps) = Interleaved.Measure([hand, generated], plan);
            var ratio = Interleaved.PairedRatio(t[1], t[0]);
            var load = Machine.Load();
            var entry = new JsonObject
            {
                ["handwritten_seconds_per_step"] = t[0].Median,
                ["generated_train_seconds_per_step"] = t[1].Median,
                ["ratio"] = ratio,
                ["ratio_of_medians"] = t[1].Median / t[0].Median,
                ["cpu_ratio"] = Interleaved.PairedCpuRatio(t[1], t[0]),
                ["handwritten_cpu_seconds_per_step"] = t[0].CpuMedian,
                ["generated_cpu_seconds_per_step"] = t[1].CpuMedian,
                ["target"] = Target,
                ["met"] = ratio <= Target,
                ["warmup_steps"] = plan.Warmup,
                ["reps"] = plan.Reps,
                ["steps_per_rep"] = steps,
                ["handwritten_reps"] = Json.Array(t[0].SecondsPerStep),
                ["generated_reps"] = Json.Array(t[1].SecondsPerStep),
                ["load"] = load,
            };
            if (hand.Inner is HandWrittenVitJepa v)
            {
                entry["mean_context_tokens"] = (double)v.Tokens.Context / v.Tokens.Steps;
                entry["mean_target_tokens"] = (double)v.Tokens.Target / v.Tokens.Steps;
            }
            result[model] = entry;
            table.Add("1 generated / hand-written", model,
                $"{ratio:F3} ({t[1].Median * 1e3:F2} vs {t[0].Median * 1e3:F2} ms/step; cpu time {Interleaved.PairedCpuRatio(t[1], t[0]):F3})", $"<= {Target}", ratio <= Target, load);
        }
        return result;
    }
}
