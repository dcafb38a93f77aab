using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Jepa.Runtime.Schedules;
using Jepa.Runtime.Training;

namespace Jepa.Runtime.Tests.Training;

[Collection(TrainerCollection.Name)]
public class MetricsTests
{
    private static readonly TinyOptions Monitored = TinyOptions.Default with
    {
        Schedule = LrScheduleKind.WarmupCosine,
        WarmupSteps = 4,
        WeightDecay = new Ramp(0.04, 0.4),
        Collapse = new CollapseMonitorOptions(MinStd: 0.001, MinRank: 1.01, CollapseAction.Warn, Every: 5),
    };

    [Fact]
    public void Run_folder_holds_options_metrics_and_tensorboard_files_that_read_back()
    {
        var folder = TestFolders.Create("metrics");
        using var e = new TinyJepa(Monitored);
        var reports = new List<StepReport>();
        var run = e.Train(TensorData.Random(), new TrainOptions { Steps = 12, RunFolder = folder }, new SyncProgress<StepReport>(reports.Add));
        Assert.Equal(folder, run.RunFolder);
        Assert.Equal(Path.Combine(folder, "checkpoint.ckpt"), run.Checkpoint);

        // options.json: the effective options, with the derived record's properties and the run length override.
        var options = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "options.json")))!.AsObject();
        Assert.Equal(12, options["Steps"]!.GetValue<long>());
        Assert.Equal(16, options["Hidden"]!.GetValue<int>());
        Assert.Equal("WarmupCosine", options["Schedule"]!.GetValue<string>());
        Assert.Equal("Ema", options["Target"]!.GetValue<string>());
        Assert.Equal(0.4, options["WeightDecay"]!["End"]!.GetValue<double>());
        Assert.Equal([0.9, 0.999], options["Betas"]!.AsArray().Select(n => n!.GetValue<double>()));
        Assert.Equal("Warn", options["Collapse"]!["Action"]!.GetValue<string>());

        // metrics.jsonl: the baseline reading (step 0), then one row per step; collapse readings at 5, 10 and the end.
        var rows = File.ReadAllLines(Path.Combine(folder, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(Enumerable.Range(0, 13).Select(i => (long)i), rows.Select(r => r.GetProperty("step").GetInt64()));
        Assert.False(rows[0].TryGetProperty("loss", out _));
        Assert.True(rows[0].GetProperty("embedding_std").GetDouble() > 0);
        Assert.Equal([0L, 5, 10, 12], rows.Where(r => r.TryGetProperty("rankme", out _)).Select(r => r.GetProperty("step").GetInt64()));
        for (var i = 1; i <= 12; i++)
        {
            var row = rows[i];
            var report = reports[i - 1];
            Assert.Equal(report.Loss, row.GetProperty("loss").GetDouble());
            Assert.Equal(report.Terms["mse"], row.GetProperty("terms").GetProperty("mse").GetDouble());
            Assert.Equal(report.Terms["l2"], row.GetProperty("terms").GetProperty("l2").GetDouble());
            Assert.Equal(report.Terms["mse"] + 0.01 * report.Terms["l2"], report.Loss, 1e-12);
            Assert.Equal(report.LearningRate, row.GetProperty("lr").GetDouble());
            Assert.Equal(report.WeightDecay, row.GetProperty("weight_decay").GetDouble());
            Assert.Equal(report.EmaMomentum, row.GetProperty("ema_momentum").GetDouble());
            Assert.Equal(report.GradientNorm, row.GetProperty("grad_norm").GetDouble());
            Assert.True(row.GetProperty("seconds").GetDouble() > 0);
            Assert.True(row.TryGetProperty("steps_per_s", out _));
        }
        Assert.Equal(run.FinalLoss, rows[^1].GetProperty("loss").GetDouble());
        Assert.Equal(run.LastCollapse!.Std, rows[^1].GetProperty("embedding_std").GetDouble());

        // metrics.csv: the same rows, with a header naming the terms.
        var csv = File.ReadAllLines(Path.Combine(folder, "metrics.csv"));
        Assert.Equal("step,epoch,loss,loss/mse,loss/l2,lr,weight_decay,ema_momentum,grad_norm,steps_per_s,seconds,embedding_std,rankme,online_linear_probe,online_knn,online_seconds", csv[0]);
        Assert.Equal(14, csv.Length);
        var header = csv[0].Split(',');
        for (var i = 1; i <= 13; i++)
        {
            var cells = csv[i].Split(',');
            Assert.Equal(header.Length, cells.Length);
            Assert.Equal(i - 1, long.Parse(cells[0], CultureInfo.InvariantCulture));
            if (i == 1) continue;
            Assert.Equal(rows[i - 1].GetProperty("loss").GetDouble(), double.Parse(cells[2], CultureInfo.InvariantCulture));
            Assert.Equal(rows[i - 1].GetProperty("lr").GetDouble(), double.Parse(cells[5], CultureInfo.InvariantCulture));
        }
        Assert.Equal("", csv[2].Split(',')[Array.IndexOf(header, "rankme")]); // no collapse reading at step 1

        // TensorBoard: the event file(s) written by TorchSharp's SummaryWriter hold the same scalars.
        var events = TensorBoardEvents.Read(Path.Combine(folder, "tensorboard"));
        Assert.Equal(Enumerable.Range(1, 12).Select(i => (long)i), events.Where(v => v.Tag == "loss/total").Select(v => v.Step));
        Assert.Equal(rows.Skip(1).Select(r => (float)r.GetProperty("loss").GetDouble()), events.Where(v => v.Tag == "loss/total").Select(v => v.Value));
        Assert.Equal(rows.Skip(1).Select(r => (float)r.GetProperty("terms").GetProperty("mse").GetDouble()), events.Where(v => v.Tag == "loss/mse").Select(v => v.Value));
        Assert.Equal([0L, 5, 10, 12], events.Where(v => v.Tag == "collapse/rankme").Select(v => v.Step));
        foreach (var tag in new[] { "train/lr", "train/weight_decay", "train/ema_momentum", "train/grad_norm", "train/steps_per_s", "collapse/embedding_std", "loss/l2" })
            Assert.Contains(events, v => v.Tag == tag);
    }

    [Fact]
    public void A_resumed_run_drops_the_rows_of_the_interrupted_one_after_the_checkpoint()
    {
        var folder = TestFolders.Create("metrics-resume");
        var data = TensorData.Random();
        var saved = Path.Combine(TestFolders.Create("saved"), "at5.ckpt");
        // The report of step 6 comes after the checkpoint of step 5 was written: keep a copy, as a crash would have.
        using (var first = new TinyJepa(Monitored))
        {
            first.Train(data, new TrainOptions { Steps = 20, RunFolder = folder, CheckpointEvery = 5 },
                new SyncProgress<StepReport>(r => { if (r.Step == 6) File.Copy(Path.Combine(folder, "checkpoint.ckpt"), saved, overwrite: true); }));
        }
        // The interrupted run went on to 20; resume from step 5 in the same folder.
        using var second = new TinyJepa(Monitored);
        var run = second.Train(data, new TrainOptions { Steps = 20, RunFolder = folder, ResumeFrom = saved });
        Assert.Equal(20, run.Steps);

        var steps = File.ReadAllLines(Path.Combine(folder, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt64());
        Assert.Equal(Enumerable.Range(0, 21).Select(i => (long)i), steps);
        var csv = File.ReadAllLines(Path.Combine(folder, "metrics.csv"));
        Assert.Single(csv, l => l.StartsWith("step,", StringComparison.Ordinal));
        Assert.Equal(Enumerable.Range(0, 21).Select(i => i.ToString(CultureInfo.InvariantCulture)), csv.Skip(1).Select(l => l.Split(',')[0]));
    }

    [Fact]
    public void Log_every_thins_the_rows_but_keeps_collapse_readings_and_the_last_step()
    {
        var folder = TestFolders.Create("metrics-thin");
        using var e = new TinyJepa(Monitored);
        var reports = new List<StepReport>();
        e.Train(TensorData.Random(), new TrainOptions { Steps = 12, RunFolder = folder, LogEvery = 4 }, new SyncProgress<StepReport>(reports.Add));
        var steps = File.ReadAllLines(Path.Combine(folder, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt64());
        Assert.Equal([0L, 4, 5, 8, 10, 12], steps);
        Assert.Equal([4L, 5, 8, 10, 12], reports.Select(r => r.Step));
        Assert.True(reports[^1].StepsPerSecond > 0);
        Assert.Equal(TimeSpan.Zero, reports[^1].Remaining);
    }
}

/// <summary>Reads TensorBoard event files: records of (uint64 length, uint32 crc, Event protobuf, uint32 crc).</summary>
internal static class TensorBoardEvents
{
    public static List<(string Tag, long Step, float Value)> Read(string folder)
    {
        var result = new List<(string, long, float)>();
        var files = Directory.GetFiles(folder, "events.out.tfevents.*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            using var r = new BinaryReader(File.OpenRead(file));
            while (r.BaseStream.Position < r.BaseStream.Length)
            {
                var length = r.ReadUInt64();
                r.ReadUInt32();
                var data = r.ReadBytes(checked((int)length));
                r.ReadUInt32();
                var ev = Tensorboard.Event.Parser.ParseFrom(data);
                if (ev.Summary is null) continue;
                foreach (var v in ev.Summary.Value) result.Add((v.Tag, ev.Step, v.SimpleValue));
            }
        }
        return result;
    }
}
