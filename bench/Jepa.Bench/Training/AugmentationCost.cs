using System.Diagnostics;
using System.Text.Json.Nodes;
using Jepa.Bench.Harness;
using Jepa.Runtime.Masks;
using static TorchSharp.torch;

namespace Jepa.Bench.Training;

/// <summary>
/// Section 7: what each image link costs per batch of 256, on 1x28x28 and 3x32x32 images uniform in [0, 1]: every link
/// with its default arguments and p = 1 (the cost when it applies; a link with p &lt; 1 computes the whole batch and
/// selects, so it costs the same, except <c>solarize</c> and <c>random_erasing</c>, which are cheap either way). The
/// links take turns (repetition r starts with link r), each repetition running one link long enough for a quarter of
/// the plan's seconds per repetition; the median over repetitions. Reported, no target.
/// </summary>
public static class AugmentationCost
{
    public const int Batch = 256;

    private static IEnumerable<(string Name, ICorruption Link)> Links(int channels, int size)
    {
        yield return ("random_resized_crop", new RandomResizedCrop());
        yield return ($"random_resized_crop to {size / 2}x{size / 2}", new RandomResizedCrop(size: (size / 2, size / 2)));
        yield return ("random_crop (old)", new RandomCrop(0.08, 1.0));
        yield return (channels == 3 ? "color_jitter" : "color_jitter (brightness, contrast)",
                      channels == 3 ? new ColorJitter(p: 1) : new ColorJitter(saturation: 0, hue: 0, p: 1));
        if (channels == 3)
        {
            yield return ("color_jitter: brightness only", new ColorJitter(0.4, 0, 0, 0, p: 1));
            yield return ("color_jitter: contrast only", new ColorJitter(0, 0.4, 0, 0, p: 1));
            yield return ("color_jitter: saturation only", new ColorJitter(0, 0, 0.2, 0, p: 1));
            yield return ("color_jitter: hue only", new ColorJitter(0, 0, 0, 0.1, p: 1));
            yield return ("grayscale", new Grayscale(1));
        }
        yield return ("gaussian_blur (k 13)", new GaussianBlur(p: 1));
        yield return ("random_rotation", new RandomRotation(15));
        yield return ("solarize", new Solarize(p: 1));
        yield return ("random_erasing", new RandomErasing(p: 1));
        yield return ($"block_mask on {size / 4}x{size / 4} pixel cells", new PixelMask(new MultiBlockMask((4, 4)), size / 4));
    }

    public static JsonObject Run(Settings s, Table table)
    {
        var plan = s.Plan();
        var report = new JsonObject();
        foreach (var (channels, size) in new[] { (1, 28), (3, 32) })
        {
            using var g = new Generator(5);
            using var images = rand([Batch, channels, size, size], generator: g);
            var links = Links(channels, size).ToArray();
            var seconds = Measure(links.Select(l => (Action)(() => l.Link.Apply(images, g))).ToArray(), plan);
            var load = Machine.Load();
            var shape = new JsonObject();
            for (var i = 0; i < links.Length; i++)
            {
                var median = Stats.Median(seconds[i]);
                table.Add("7 augmentation", $"{links[i].Name}, B {Batch} x {channels}x{size}x{size}", $"{median * 1e3:F3} ms/batch", note: load);
                shape[links[i].Name] = new JsonObject
                {
                    ["link"] = links[i].Link.ToString(),
                    ["seconds_per_batch"] = median,
                    ["repetitions"] = Json.Array(seconds[i]),
                    ["load"] = load,
                };
            }
            report[$"{Batch}x{channels}x{size}x{size}"] = shape;
        }
        return report;
    }

    /// <summary>Seconds per call of each action, per repetition: warm-up, a probe to size the calls of each, then interleaved repetitions.</summary>
    private static List<double>[] Measure(Action[] actions, Plan plan)
    {
        var calls = new int[actions.Length];
        for (var i = 0; i < actions.Length; i++)
        {
            Run(actions[i], Math.Max(plan.Warmup / 2, 2));
            var probe = Stopwatch.StartNew();
            Run(actions[i], 3);
            calls[i] = (int)Math.Clamp(Math.Round(plan.SecondsPerRep / 4 / (probe.Elapsed.TotalSeconds / 3)), 1, 10_000);
        }
        var seconds = actions.Select(_ => new List<double>()).ToArray();
        for (var r = 0; r < plan.Reps; r++)
        {
            for (var k = 0; k < actions.Length; k++)
            {
                var i = (r + k) % actions.Length;
                var watch = Stopwatch.StartNew();
                Run(actions[i], calls[i]);
                seconds[i].Add(watch.Elapsed.TotalSeconds / calls[i]);
            }
        }
        return seconds;
    }

    private static void Run(Action action, int calls)
    {
        for (var c = 0; c < calls; c++)
        {
            using var scope = NewDisposeScope();
            action();
        }
    }
}
