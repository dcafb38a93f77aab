using System.Globalization;
using System.Text.Json;
using Jepa.Runtime.Data;
using Jepa.Runtime.Evaluation;
using Jepa.Runtime.Training;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Training;

/// <summary>The online evaluation (<see cref="OnlineEvaluationOptions"/>): when it runs, what it logs, what it leaves alone.</summary>
[Collection(TrainerCollection.Name)]
public class OnlineEvaluationTests
{
    private static readonly TinyOptions Online = TinyOptions.Default with
    {
        Evaluation = new EvaluationOptions { Online = new OnlineEvaluationOptions(Every: 5, Samples: 80) },
    };

    /// <summary>200 labelled samples of 8 features: 4 classes, each a Gaussian blob around its own centre.</summary>
    private static JepaDataset Labelled(long seed = 5)
    {
        var generator = new Generator((ulong)seed);
        var labels = arange(200, dtype: ScalarType.Int64) % 4;
        var centres = randn([4, 8], generator: generator) * 2;
        return new JepaDataset(centres[labels] + randn([200, 8], generator: generator), labels);
    }

    [Fact]
    public void Readings_at_step_0_every_N_and_the_last_step_go_to_every_metrics_file_and_leave_training_unchanged()
    {
        var folder = TestFolders.Create("online");
        using var data = Labelled();
        using var plain = new TinyJepa(TinyOptions.Default);
        plain.Train(data, new TrainOptions { Steps = 12 });
        using var e = new TinyJepa(Online);
        var reports = new List<StepReport>();
        var run = e.Train(data, new TrainOptions { Steps = 12, RunFolder = folder }, new SyncProgress<StepReport>(reports.Add));

        // Evaluating draws nothing from the run's generator and restores train mode: the parameters are the same.
        Assert.Equal(plain.ParameterDigest(), e.ParameterDigest());

        Assert.Equal([0L, 5, 10, 12], run.OnlineReadings.Select(r => r.Step));
        Assert.All(run.OnlineReadings, r =>
        {
            Assert.InRange(r.LinearProbe, 0.0, 1.0);
            Assert.InRange(r.Knn, 0.0, 1.0);
            Assert.True(r.Seconds > 0);
        });
        // Four separated blobs: both probes are far above chance (25 %) on the held-out quarter of the subset.
        Assert.True(run.LastOnline!.LinearProbe > 0.6, $"linear {run.LastOnline.LinearProbe}");
        Assert.True(run.LastOnline.Knn > 0.6, $"kNN {run.LastOnline.Knn}");
        Assert.True(run.Seconds >= run.OnlineReadings.Sum(r => r.Seconds));
        Assert.Equal(run.OnlineReadings.Sum(r => r.Seconds), reports[^1].OnlineSeconds, 1e-9);
        Assert.Equal(run.LastOnline, reports[^1].Online);

        var rows = File.ReadAllLines(Path.Combine(folder, MetricsWriter.JsonFile)).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        var online = rows.Where(r => r.TryGetProperty("online_linear_probe", out _)).ToArray();
        Assert.Equal([0L, 5, 10, 12], online.Select(r => r.GetProperty("step").GetInt64()));
        Assert.Equal(run.OnlineReadings.Select(r => r.LinearProbe), online.Select(r => r.GetProperty("online_linear_probe").GetDouble()));
        Assert.Equal(run.OnlineReadings.Select(r => r.Knn), online.Select(r => r.GetProperty("online_knn").GetDouble()));
        Assert.Equal(run.OnlineReadings.Select(r => r.Seconds), online.Select(r => r.GetProperty("online_seconds").GetDouble()));

        var csv = File.ReadAllLines(Path.Combine(folder, MetricsWriter.CsvFile));
        var header = csv[0].Split(',');
        var column = Array.IndexOf(header, "online_linear_probe");
        Assert.True(column > 0, csv[0]);
        var knnColumn = Array.IndexOf(header, "online_knn");
        var csvOnline = csv.Skip(1).Select(l => l.Split(',')).Where(c => c[column].Length > 0).ToArray();
        Assert.Equal(["0", "5", "10", "12"], csvOnline.Select(c => c[0]));
        Assert.Equal(run.OnlineReadings.Select(r => r.Knn), csvOnline.Select(c => double.Parse(c[knnColumn], CultureInfo.InvariantCulture)));

        var events = TensorBoardEvents.Read(Path.Combine(folder, MetricsWriter.TensorBoardFolder));
        Assert.Equal([0L, 5, 10, 12], events.Where(v => v.Tag == "online/linear_probe").Select(v => v.Step));
        Assert.Equal(run.OnlineReadings.Select(r => (float)r.Knn), events.Where(v => v.Tag == "online/knn").Select(v => v.Value));
        Assert.Contains(events, v => v.Tag == "online/seconds");
    }

    [Fact]
    public void The_subset_is_fixed_by_the_seed_so_two_runs_read_the_same_and_a_resumed_run_keeps_its_readings()
    {
        using var data = Labelled();
        using var a = new TinyJepa(Online);
        var first = a.Train(data, new TrainOptions { Steps = 10 });
        using var b = new TinyJepa(Online);
        var second = b.Train(data, new TrainOptions { Steps = 10 });
        Assert.Equal(first.OnlineReadings.Select(r => (r.Step, r.LinearProbe, r.Knn)), second.OnlineReadings.Select(r => (r.Step, r.LinearProbe, r.Knn)));

        var folder = TestFolders.Create("online-resume");
        using (var c = new TinyJepa(Online)) c.Train(data, new TrainOptions { Steps = 7, RunFolder = folder });
        using var d = new TinyJepa(Online);
        var resumed = d.Train(data, new TrainOptions { Steps = 10, RunFolder = folder, ResumeFrom = Path.Combine(folder, "checkpoint.ckpt") });
        // Step 7 ended the first part (its last step); the resumed run goes on at 10 and keeps the earlier readings.
        Assert.Equal([0L, 5, 7, 10], resumed.OnlineReadings.Select(r => r.Step));
        Assert.Equal(first.OnlineReadings.Where(r => r.Step != 7).Select(r => (r.Step, r.LinearProbe, r.Knn)),
            resumed.OnlineReadings.Where(r => r.Step != 7).Select(r => (r.Step, r.LinearProbe, r.Knn)));
    }

    [Fact]
    public void The_probe_data_is_used_when_given_and_unlabelled_training_data_without_it_skips_with_a_warning()
    {
        using var labelled = Labelled();
        var warnings = new List<string>();
        using var a = new TinyJepa(Online);
        var skipped = a.Train(TensorData.Random(), new TrainOptions { Steps = 6, Log = warnings.Add });
        Assert.Empty(skipped.OnlineReadings);
        Assert.Contains(warnings, w => w.Contains("online evaluation needs labelled samples", StringComparison.Ordinal));

        using var b = new TinyJepa(Online);
        var run = b.Train(TensorData.Random(), new TrainOptions { Steps = 6, OnlineData = labelled });
        Assert.Equal([0L, 5, 6], run.OnlineReadings.Select(r => r.Step));
    }

    [Fact]
    public void The_subset_is_stratified_and_split_into_a_part_to_fit_and_a_part_to_score()
    {
        using var data = Labelled();
        using var e = new TinyJepa(Online);
        using var online = OnlineEvaluation.Create(e, Online.Evaluation!, data, seed: 3);
        // 80 of 200 samples in 4 equal classes: 20 each, then a quarter of each held out.
        Assert.Equal((60, 20), online.Counts);
        Assert.Equal([15L, 15, 15, 15], online.FitLabels().bincount(null).data<long>().ToArray());
        Assert.Equal([5L, 5, 5, 5], online.HeldOutLabels().bincount(null).data<long>().ToArray());
        Assert.True(online.IsDue(0, 12) && online.IsDue(5, 12) && online.IsDue(12, 12) && !online.IsDue(6, 12));
        Assert.Equal(3, online.DueAfter(0, 12));   // 5, 10, 12
        Assert.Equal(1, online.DueAfter(10, 12));  // 12
        Assert.Equal(0, online.DueAfter(12, 12));
    }

    [Fact]
    public void Options_out_of_range_are_refused()
    {
        var bad = TinyOptions.Default with { Evaluation = new EvaluationOptions { Online = new OnlineEvaluationOptions(Every: 0, Samples: 10) } };
        var error = Assert.ThrowsAny<Exception>(() => new TinyJepa(bad).Train(TensorData.Random(), new TrainOptions { Steps = 2 }));
        Assert.Contains("Evaluation.Online needs Every >= 1 and Samples >= 20", error.Message);
    }
}
