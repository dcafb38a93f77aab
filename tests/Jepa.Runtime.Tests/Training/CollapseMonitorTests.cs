using Jepa.Runtime.Training;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Training;

public class CollapseMetricsTests
{
    [Fact]
    public void Std_of_normalised_embeddings_by_hand()
    {
        // Rows (3, 4) and (0, 2) normalise to (0.6, 0.8) and (0, 1); the unbiased std of two values a, b is |a - b| / sqrt(2).
        using var z = tensor(new float[] { 3, 4, 0, 2 }).reshape(2, 2);
        var expected = (0.6 / Math.Sqrt(2) + 0.2 / Math.Sqrt(2)) / 2;
        Assert.Equal(expected, CollapseMetrics.EmbeddingStd(z), 1e-7);

        // The same direction at every length: collapsed, std 0, although the raw values differ.
        using var collapsed = tensor(new float[] { 1, 2, 2, 4, 5, 10 }).reshape(3, 2);
        Assert.Equal(0, CollapseMetrics.EmbeddingStd(collapsed), 1e-7);
    }

    [Fact]
    public void Std_is_not_centred_first()
    {
        // A large shared offset makes every normalised embedding nearly the same: the std must fall (centring would hide it).
        using var g = new Generator(5);
        using var spread = randn([256, 16], generator: g);
        using var shifted = spread * 0.01 + 10;
        Assert.InRange(CollapseMetrics.EmbeddingStd(spread), 0.2, 0.3);  // about 1/sqrt(16) for isotropic data
        Assert.True(CollapseMetrics.EmbeddingStd(shifted) < 0.005);
    }

    [Fact]
    public void RankMe_by_hand()
    {
        // diag(3, 1): singular values 3 and 1, p = (0.75, 0.25) + 1e-7.
        using var z = tensor(new float[] { 3, 0, 0, 1 }).reshape(2, 2);
        double p1 = 0.75 + 1e-7, p2 = 0.25 + 1e-7;
        Assert.Equal(Math.Exp(-(p1 * Math.Log(p1) + p2 * Math.Log(p2))), CollapseMetrics.RankMe(z), 1e-9);

        // Rank one: 1; an orthogonal 8x8 (all singular values equal): 8.
        using var rankOne = tensor(new float[] { 1, 2, 3, 2, 4, 6, -1, -2, -3 }).reshape(3, 3);
        Assert.Equal(1.0, CollapseMetrics.RankMe(rankOne), 1e-5);
        using var eye8 = eye(8);
        Assert.Equal(8.0, CollapseMetrics.RankMe(eye8), 1e-4);
    }

    [Fact]
    public void Raw_digits_pixels_read_as_calibration_md_says()
    {
        // calibration.md, "raw pixels": std of L2-normalised embeddings 0.059, RankMe 29 (on all 1,797 digits, pixels / 16).
        using var digits = Jepa.Runtime.Data.Datasets.Digits();
        Assert.Equal(0.059, CollapseMetrics.EmbeddingStd(digits.Features), 0.0005);
        Assert.InRange(CollapseMetrics.RankMe(digits.Features), 29.0, 30.0);
    }

    [Fact]
    public void Token_embeddings_are_flattened()
    {
        using var g = new Generator(1);
        using var tokens = randn([4, 5, 3], generator: g);
        using var flat = tokens.reshape(20, 3);
        Assert.Equal(CollapseMetrics.EmbeddingStd(flat), CollapseMetrics.EmbeddingStd(tokens));
        Assert.Equal(CollapseMetrics.RankMe(flat), CollapseMetrics.RankMe(tokens));
    }
}

[Collection(TrainerCollection.Name)]
public class CollapseMonitorTests
{
    [Fact]
    public void Stop_action_ends_the_run_at_the_first_alarm_and_writes_a_checkpoint()
    {
        // No embedding has a std of 1 (about 1/sqrt(d) at best): the first reading after step 0 raises the alarm.
        var folder = TestFolders.Create("collapse-stop");
        var messages = new List<string>();
        using var e = new TinyJepa(TinyOptions.Default with { Collapse = new CollapseMonitorOptions(1.0, 1, CollapseAction.Stop, 4) });
        var run = e.Train(TensorData.Random(), new TrainOptions { Steps = 20, RunFolder = folder, Log = messages.Add });
        Assert.Equal(StopReason.Collapse, run.StopReason);
        Assert.Equal(4, run.Steps);
        var alarm = Assert.Single(run.CollapseAlarms);
        Assert.Equal(4, alarm.Step);
        Assert.Equal(CollapseAction.Stop, alarm.Action);
        Assert.Contains("representation collapse at step 4", alarm.Message);
        Assert.Contains("below 1", alarm.Message);
        Assert.Contains("training stops", alarm.Message);
        Assert.Equal([alarm.Message], messages);
        Assert.Equal([0L, 4], run.CollapseReadings.Select(r => r.Step)); // step 0 is a baseline and never alarms

        using var restored = new TinyJepa(TinyOptions.Default with { Collapse = new CollapseMonitorOptions(1.0, 1, CollapseAction.Stop, 4) });
        restored.Load(run.Checkpoint!);
        Assert.Equal(4, restored.StepsTaken);
    }

    [Fact]
    public void Warn_action_reports_every_alarm_and_trains_on()
    {
        var messages = new List<string>();
        var alarms = new List<CollapseAlarm>();
        using var e = new TinyJepa(TinyOptions.Default with { Collapse = new CollapseMonitorOptions(0.0, 1e9, CollapseAction.Warn, 5) });
        var run = e.Train(TensorData.Random(), new TrainOptions { Steps = 12, Log = messages.Add },
            new SyncProgress<StepReport>(r => { if (r.Alarm is not null) alarms.Add(r.Alarm); }));
        Assert.Equal(StopReason.Completed, run.StopReason);
        Assert.Equal(12, run.Steps);
        Assert.Equal([5L, 10, 12], run.CollapseAlarms.Select(a => a.Step));
        Assert.Equal(run.CollapseAlarms, alarms);
        Assert.All(messages, m => Assert.Contains("effective rank (RankMe)", m));
        Assert.All(messages, m => Assert.Contains("training goes on", m));
        Assert.Equal(3, messages.Count);
    }

    [Fact]
    public void Healthy_embeddings_raise_no_alarm_and_readings_match_the_metrics()
    {
        using var e = new TinyJepa(TinyOptions.Default with { Collapse = new CollapseMonitorOptions(0.01, 1.5, CollapseAction.Stop, 5) });
        var data = TensorData.Random();
        var run = e.Train(data, new TrainOptions { Steps = 10, MonitorSamples = 64 });
        Assert.Empty(run.CollapseAlarms);
        Assert.Equal([0L, 5, 10], run.CollapseReadings.Select(r => r.Step));

        // The last reading is the metrics of Encode on the fixed monitoring batch (64 samples from the data), normalised.
        var batch = data.Batches(64, e.InitialOptions.Seed ^ CollapseMonitor.MonitorSeed, 0).First();
        e.Context.eval();
        var z = e.Encode(batch);
        Assert.Equal(CollapseMetrics.EmbeddingStd(z), run.LastCollapse!.Std);
        Assert.Equal(CollapseMetrics.RankMe(z), run.LastCollapse.RankMe);
    }
}
