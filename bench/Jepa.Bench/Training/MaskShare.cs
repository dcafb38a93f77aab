using System.Text.Json.Nodes;
using Jepa.Bench.Harness;
using Jepa.Runtime.Masks;
using static TorchSharp.torch;

namespace Jepa.Bench.Training;

/// <summary>
/// Section 6: the data path of the token JEPA. Time to sample one batch of multi-block masks (the experiment's own
/// <see cref="MultiBlockMask"/>, a generator of its own, batch 128 on the 4x4 grid) over the time of a whole training
/// step through <c>Train</c> (which samples its masks too), interleaved. Target: under 10 %.
/// </summary>
public static class MaskShare
{
    public const double Target = 0.10;

    public static JsonObject Run(Settings s, Table table)
    {
        using var batch = Batches.For("vit");
        var experiment = (BenchVit)Experiments.Create("vit");
        using var train = new TrainLoop(experiment, batch, "train step");
        using var masks = new MaskLoop(experiment.Masked, batch.shape[0]);
        var plan = s.Plan();
        var (t, steps) = Interleaved.Measure([train, masks], plan);
        var share = Interleaved.PairedRatio(t[1], t[0]);
        var load = Machine.Load();
        table.Add("6 mask share", "vit, block_mask on 4x4, B 128", $"{100 * share:F1} % ({t[1].Median * 1e3:F3} of {t[0].Median * 1e3:F2} ms/step)", $"< {100 * Target:F0} %", share < Target, load);
        return new JsonObject
        {
            ["vit"] = new JsonObject
            {
                ["mask_seconds_per_batch"] = t[1].Median,
                ["step_seconds"] = t[0].Median,
                ["share"] = share,
                ["target"] = Target,
                ["met"] = share < Target,
                ["sampler"] = experiment.Masked.ToString(),
                ["batch"] = batch.shape[0],
                ["reps"] = plan.Reps,
                ["steps_per_rep"] = steps,
                ["load"] = load,
            },
        };
    }

    private sealed class MaskLoop(MultiBlockMask sampler, long batch) : ITimedLoop
    {
        private readonly Generator generator = new(123);

        public string Name => "mask sampling";

        public void Run(int steps)
        {
            for (var i = 0; i < steps; i++)
            {
                using var scope = NewDisposeScope();
                sampler.Sample(batch, generator);
            }
        }

        public void Dispose() => generator.Dispose();
    }
}
