using System.Diagnostics;
using Jepa.Runtime.Masks;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Masks;

/// <summary>Prints the time to sample masks; runs only with JEPA_BENCHMARKS=1 (timings are never asserted).</summary>
public class MaskSamplingBenchmark(ITestOutputHelper output)
{
    [Fact]
    public void Multi_block_sampling_time_per_batch()
    {
        if (Environment.GetEnvironmentVariable("JEPA_BENCHMARKS") != "1") return;
        foreach (var (grid, minKeep) in new[] { ((14, 14), 10), ((4, 4), 4) })
        {
            var sampler = new MultiBlockMask(grid, 4, (0.15, 0.2), (0.85, 1.0), (0.75, 1.5), minKeep);
            var g = new Generator(0, torch.CPU);
            var threads = torch.get_num_threads();
            foreach (var t in new[] { 1, threads }.Distinct())
            {
                torch.set_num_threads(t);
                for (var i = 0; i < 20; i++) { using var warm = NewDisposeScope(); sampler.Sample(256, g); }
                const int runs = 500;
                var watch = Stopwatch.StartNew();
                for (var i = 0; i < runs; i++) { using var scope = NewDisposeScope(); sampler.Sample(256, g); }
                watch.Stop();
                output.WriteLine($"MultiBlockMask {grid.Item1}x{grid.Item2}, batch 256, 4 targets: {watch.Elapsed.TotalMilliseconds / runs:F3} ms per batch ({runs} batches, {t} threads)");
            }
            torch.set_num_threads(threads);

            // What the masks look like: mean counts and how often the fallback lets a target token into the context.
            double nc = 0, nt = 0, overlapping = 0;
            const int batches = 100;
            for (var i = 0; i < batches; i++)
            {
                using var scope = NewDisposeScope();
                var masks = sampler.Sample(256, g);
                nc += masks.Context.shape[1];
                nt += masks.Target.shape[1];
                var n = grid.Item1 * grid.Item2;
                var inContext = zeros(256, n, dtype: ScalarType.Bool).scatter(1, masks.Context, ones(masks.Context.shape, dtype: ScalarType.Bool));
                var inTarget = zeros(256, n, dtype: ScalarType.Bool).scatter(1, masks.Target, ones(masks.Target.shape, dtype: ScalarType.Bool));
                overlapping += inContext.logical_and(inTarget).any(1).sum().item<long>();
            }
            output.WriteLine($"  mean Nc {nc / batches:F1}, mean Nt {nt / batches:F1} of {grid.Item1 * grid.Item2} tokens; samples whose context overlaps a target: {overlapping / (batches * 256.0):P2}");
        }
    }
}
