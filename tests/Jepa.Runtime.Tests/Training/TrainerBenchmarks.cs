using System.Diagnostics;
using Jepa.Runtime.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Training;

/// <summary>
/// Prints the trainer's speed and memory; runs only with JEPA_BENCHMARKS=1 (timings are never asserted):
/// <c>JEPA_BENCHMARKS=1 dotnet test tests/Jepa.Runtime.Tests -c Release --filter TrainerBenchmarks --logger "console;verbosity=detailed"</c>.
/// </summary>
[Collection(TrainerCollection.Name)]
public class TrainerBenchmarks(ITestOutputHelper output)
{
    private static bool Enabled => Environment.GetEnvironmentVariable("JEPA_BENCHMARKS") == "1";

    private static ITrainingData DigitsData()
    {
        var digits = Jepa.Runtime.Data.Datasets.Digits();
        return new TensorData(digits.Features);
    }

    private static string Load() =>
        File.Exists("/proc/loadavg") ? $"load average {string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3))}" : "";

    [Fact]
    public void Sample_1_milliseconds_per_step_at_batch_256()
    {
        if (!Enabled) return;
        var data = DigitsData();
        foreach (var (folder, logEvery) in new[] { (false, 1), (true, 1), (true, 100), (true, 1) })
        {
            using var e = new Digits.DigitsJepa(Digits.DigitsJepa.Options.Default);
            var run0 = new TrainOptions { RunFolder = folder ? TestFolders.Create("bench") : null, LogEvery = logEvery, Log = _ => { } };
            var warm = e.Train(data, run0 with { Steps = 30 });
            const int steps = 500;
            var watch = Stopwatch.StartNew();
            var run = e.Train(data, run0 with { Steps = 30 + steps });
            watch.Stop();
            output.WriteLine($"DigitsJepa (sample 1), batch 256, {torch.get_num_threads()} threads, {(folder ? $"run folder, metrics every {logEvery} step(s)" : "no run folder")}: " +
                             $"{watch.Elapsed.TotalMilliseconds / steps:F2} ms per step over {steps} steps after {warm.Steps} warm-up steps " +
                             $"(includes the collapse monitor every 100 steps{(folder ? " and the final checkpoint" : "")}); loss {run.FinalLoss:G4}; {Load()}");
        }
    }

    /// <summary>
    /// The trainer against a bare TorchSharp loop doing the same work (sample 1's modules, corruption, loss, AdamW,
    /// EMA update; no schedules, checks, metrics or monitor), interleaved so that machine load hits both alike.
    /// </summary>
    [Fact]
    public void Trainer_overhead_against_a_bare_loop()
    {
        if (!Enabled) return;
        var data = DigitsData();
        using var e = new Digits.DigitsJepa(Digits.DigitsJepa.Options.Default with { Collapse = null });
        using var bare = new Digits.DigitsJepa(Digits.DigitsJepa.Options.Default with { Collapse = null });
        var parameters = bare.ContextEncoder.parameters().Concat(bare.Predictor.parameters()).ToArray();
        using var adamw = torch.optim.AdamW(parameters, lr: 1e-3, weight_decay: 0.05);
        using var g = new Generator(1);
        const int rounds = 4, steps = 150;
        double trainerMs = 0, bareMs = 0;
        long done = 0;
        e.Train(data, new TrainOptions { Steps = 20, Log = _ => { } });
        done = 20;
        for (var round = 0; round < rounds; round++)
        {
            var watch = Stopwatch.StartNew();
            e.Train(data, new TrainOptions { Steps = done + steps, Log = _ => { } });
            trainerMs += watch.Elapsed.TotalMilliseconds;
            done += steps;

            watch.Restart();
            var taken = 0;
            foreach (var batch in Enumerable.Range(0, 100).SelectMany(epoch => data.Batches(256, round, epoch)).Take(steps))
            {
                using var scope = NewDisposeScope();
                scope.Attach(batch);
                Tensor target;
                using (no_grad()) target = Jepa.Runtime.Losses.TargetNorm.Layer(bare.TargetEncoder.forward(batch));
                var predicted = bare.Predictor.forward(bare.ContextEncoder.forward(bare.Noisy.Apply(batch, g)));
                var loss = Jepa.Runtime.Losses.Loss.SmoothL1(predicted, target);
                adamw.zero_grad();
                loss.backward();
                adamw.step();
                using (no_grad())
                {
                    foreach (var (t, o) in bare.TargetEncoder.parameters().Zip(bare.ContextEncoder.parameters()))
                        t.mul_(0.996).add_(o, alpha: 0.004);
                }
                _ = loss.item<float>();
                taken++;
            }
            bareMs += watch.Elapsed.TotalMilliseconds;
            Assert.Equal(steps, taken);
        }
        output.WriteLine($"Sample 1 at batch 256, {rounds} interleaved rounds of {steps} steps, {torch.get_num_threads()} threads: " +
                         $"trainer {trainerMs / (rounds * steps):F2} ms per step, bare loop {bareMs / (rounds * steps):F2} ms per step " +
                         $"(overhead {100 * (trainerMs - bareMs) / bareMs:F0} %); {Load()}");
    }

    /// <summary>What one metrics row costs: JSON lines and CSV (buffered) against TorchSharp's SummaryWriter (which opens, appends to and closes its file for every scalar).</summary>
    [Fact]
    public void Metrics_row_cost()
    {
        if (!Enabled) return;
        var folder = TestFolders.Create("bench-metrics");
        var terms = new Dictionary<string, double> { ["smooth_l1"] = 0.01 };
        using (var w = new MetricsWriter(folder, 0))
        {
            for (var i = 1; i <= 20; i++) w.Write(new MetricsRow(i, 0, i, terms, 0.01, 1e-3, 0.05, 0.996, 1.0, 100));
            const int rows = 500;
            var watch = Stopwatch.StartNew();
            for (var i = 21; i < 21 + rows; i++) w.Write(new MetricsRow(i, 0, i, terms, 0.01, 1e-3, 0.05, 0.996, 1.0, 100));
            output.WriteLine($"metrics row (jsonl + csv + 8 TensorBoard scalars): {watch.Elapsed.TotalMilliseconds / rows:F3} ms; {Load()}");
        }
        var tb = torch.utils.tensorboard.SummaryWriter(Path.Combine(folder, "tb-only"));
        var t = Stopwatch.StartNew();
        for (var i = 0; i < 1000; i++) tb.add_scalar("x", i, i);
        output.WriteLine($"SummaryWriter.add_scalar alone: {t.Elapsed.TotalMilliseconds / 1000:F3} ms per scalar");
    }

    [Fact]
    public void Memory_stays_flat_over_thousands_of_steps()
    {
        if (!Enabled) return;
        var data = DigitsData();
        using var e = new Digits.DigitsJepa(Digits.DigitsJepa.Options.Default);
        var folder = TestFolders.Create("bench-memory");
        e.Train(data, new TrainOptions { Steps = 200, RunFolder = folder, Log = _ => { } });
        var rss = new List<(long Step, double MiB)> { (200, Rss()) };
        for (var steps = 1200; steps <= 5200; steps += 1000)
        {
            e.Train(data, new TrainOptions { Steps = steps, RunFolder = folder, CheckpointEvery = 500, Log = _ => { } });
            rss.Add((steps, Rss()));
        }
        output.WriteLine("RSS after step: " + string.Join(", ", rss.Select(r => $"{r.Step}: {r.MiB:F0} MiB")));
        output.WriteLine($"Growth from step 200 to {rss[^1].Step}: {rss[^1].MiB - rss[0].MiB:F1} MiB; {Load()}");
    }

    private static double Rss()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var p = Process.GetCurrentProcess();
        p.Refresh();
        return p.WorkingSet64 / (1024.0 * 1024.0);
    }
}
