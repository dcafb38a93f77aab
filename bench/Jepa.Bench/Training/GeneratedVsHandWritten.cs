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

    /// <summary>
    /// The hand-written vit samples its masks with its own code; from a generator with the same seed it must draw
    /// exactly the runtime's masks, or the two sides would not train on the same token counts. Checked on 50 batches.
    /// </summary>
    public static void CheckSameMasks()
    {
        using var experiment = (BenchVit)Experiments.Create("vit");
        using var g1 = new Generator(7);
        using var g2 = new Generator(7);
        for (var i = 0; i < 50; i++)
        {
            using var scope = NewDisposeScope();
            var runtime = experiment.Masked.Sample(BenchVit.Options.Default.Batch, g1);
            var (context, target) = HandWrittenVitJepa.SampleMasks(BenchVit.Options.Default.Batch, g2);
            if (!runtime.Context.shape.SequenceEqual(context.shape) || !runtime.Target.shape.SequenceEqual(target.shape)
                || !runtime.Context.eq(context).all().item<bool>() || !runtime.Target.eq(target).all().item<bool>())
                throw new InvalidOperationException($"batch {i}: the hand-written mask sampler and the runtime's MultiBlockMask drew different masks from the same seed");
        }
    }

    /// <summary>
    /// The one piece of work the generated step does that the hand-written one does not: the total gradient norm that
    /// every step computes for the metrics and to stop on a non-finite gradient (TrainingOptimizer.ClipGradients without
    /// clipping: one vector_norm per parameter, stacked, and read). Timed here with the same operations on the
    /// experiment's gradients after its last step, median of 200 calls.
    /// </summary>
    private static double GradientNormSeconds(Jepa.Runtime.Training.JepaExperiment experiment)
    {
        var grads = experiment switch
        {
            BenchMlp m => m.ContextEncoder.parameters().Concat(m.Predictor.parameters()),
            BenchVit v => v.ContextEncoder.parameters().Concat(v.Predictor.parameters()),
            _ => throw new ArgumentException("unknown experiment"),
        };
        var g = grads.Select(p => p.grad).Where(t => t is not null).Select(t => t!).ToArray();
        var times = new List<double>();
        var watch = new System.Diagnostics.Stopwatch();
        for (var i = 0; i < 220; i++)
        {
            watch.Restart();
            using (var scope = NewDisposeScope())
            {
                _ = linalg.vector_norm(stack(g.Select(t => linalg.vector_norm(t)).ToArray())).item<float>();
            }
            if (i >= 20) times.Add(watch.Elapsed.TotalSeconds);
        }
        return Stats.Median(times);
    }

    public static JsonObject Run(Settings s, Table table)
    {
        var result = new JsonObject();
        CheckSameMasks();
        foreach (var model in new[] { "mlp", "vit" })
        {
            using var batch = Batches.For(model);
            using var hand = new StepLoop(model == "mlp" ? new HandWrittenMlpJepa(batch, 1) : new HandWrittenVitJepa(batch, 7), "hand-written");
            using var generated = new TrainLoop(Experiments.Create(model), batch, "generated (Train)");
            var plan = s.Plan();
            // For the mlp, a third loop in between (diagnostic): the generated modules in the hand-written loop.
            using var modules = model == "mlp" ? new StepLoop(new GeneratedModulesLoop(batch, 1), "generated modules, hand loop") : null;
            var (t, steps) = Interleaved.Measure(modules is null ? [hand, generated] : [hand, generated, modules], plan);
            var ratio = Interleaved.PairedRatio(t[1], t[0]);
            var load = Machine.Load();
            var entry = new JsonObject
            {
                ["handwritten_seconds_per_step"] = t[0].Median,
                ["generated_train_seconds_per_step"] = t[1].Median,
                ["ratio"] = ratio,
                ["ratio_of_medians"] = t[1].Median / t[0].Median,
                ["ratio_of_minimums"] = t[1].Min / t[0].Min,
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
            if (modules is not null)
            {
                entry["modules_in_hand_loop_seconds_per_step"] = t[2].Median;
                entry["modules_in_hand_loop_over_handwritten"] = Interleaved.PairedRatio(t[2], t[0]);
                entry["modules_in_hand_loop_over_handwritten_cpu"] = Interleaved.PairedCpuRatio(t[2], t[0]);
                entry["train_over_modules_in_hand_loop_cpu"] = Interleaved.PairedCpuRatio(t[1], t[2]);
            }
            var norm = GradientNormSeconds(generated.Experiment);
            entry["gradient_norm_seconds"] = norm;
            entry["gradient_norm_share_of_step"] = norm / t[0].Median;
            if (hand.Inner is HandWrittenVitJepa v)
            {
                entry["mean_context_tokens"] = (double)v.Tokens.Context / v.Tokens.Steps;
                entry["mean_target_tokens"] = (double)v.Tokens.Target / v.Tokens.Steps;
            }
            result[model] = entry;
            table.Add("1 generated / hand-written", model,
                $"{ratio:F3} ({t[1].Median * 1e3:F2} vs {t[0].Median * 1e3:F2} ms/step; cpu time {Interleaved.PairedCpuRatio(t[1], t[0]):F3}; gradient norm {norm * 1e3:F2} ms)", $"<= {Target}", ratio <= Target, load);
        }
        return result;
    }
}
