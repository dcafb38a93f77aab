using Jepa.Runtime.Training;

namespace Jepa.Runtime.Tests.Training;

[Collection(TrainerCollection.Name)]
public class NonFiniteTests
{
    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "+infinity")]
    public void A_non_finite_loss_stops_at_that_step_and_the_last_good_checkpoint_stays_intact(double value, string shown)
    {
        var folder = TestFolders.Create("nonfinite");
        var data = TensorData.Random();
        var checkpoint = Path.Combine(folder, RunFolder.CheckpointFileName);

        // What the first 10 steps of a 30-step run give (the EMA schedule depends on the run length).
        using var reference = new TinyJepa();
        using var cancel = new CancellationTokenSource();
        reference.Train(data, new TrainOptions { Steps = 30 }, new SyncProgress<StepReport>(r => { if (r.Step == 10) cancel.Cancel(); }), cancel.Token);
        Assert.Equal(10, reference.StepsTaken);

        using var e = new TinyJepa { NonFiniteFromStep = 11, NonFiniteValue = value };
        var x = Assert.Throws<NonFiniteLossException>(() => e.Train(data, new TrainOptions { Steps = 30, RunFolder = folder, CheckpointEvery = 10 }));
        Assert.Equal("mse", x.Term);
        Assert.Equal(11, x.Step);
        Assert.Contains("'mse'", x.Message);
        Assert.Contains($"is {shown} at step 11", x.Message);
        Assert.Equal(checkpoint, x.LastCheckpoint);
        Assert.Contains(checkpoint, x.Message);

        // Step 11 changed nothing: the weights are those after step 10.
        Assert.Equal(10, e.StepsTaken);
        ModuleState.AssertIdentical(reference.Context, e.Context);
        ModuleState.AssertIdentical(reference.Target, e.Target);
        ModuleState.AssertIdentical(reference.Predictor, e.Predictor);

        // The checkpoint of step 10 is intact: it loads and holds the step-10 weights.
        using var restored = new TinyJepa();
        restored.Load(checkpoint);
        Assert.Equal(10, restored.StepsTaken);
        ModuleState.AssertIdentical(reference.Context, restored.Context);
        // run.lock stays after the run: deleting it would let two runs lock two files of one name (RunFolderLock).
        Assert.Equal(["checkpoint.ckpt", "metrics.csv", "metrics.jsonl", "options.json", "run.lock"], Directory.GetFiles(folder).Select(Path.GetFileName).Order());

        // The metrics that were written end at step 10.
        var steps = File.ReadAllLines(Path.Combine(folder, "metrics.jsonl"))
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt64()).ToArray();
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), steps);
    }

    [Fact]
    public void A_non_finite_gradient_behind_a_finite_loss_stops_before_the_optimizer_step()
    {
        var data = TensorData.Random();
        using var reference = new TinyJepa();
        using var cancel = new CancellationTokenSource();
        reference.Train(data, new TrainOptions { Steps = 20 }, new SyncProgress<StepReport>(r => { if (r.Step == 4) cancel.Cancel(); }), cancel.Token);

        using var e = new TinyJepa { NonFiniteGradientFromStep = 5 };
        var x = Assert.Throws<NonFiniteLossException>(() => e.Train(data, new TrainOptions { Steps = 20 }));
        Assert.Equal("gradient norm", x.Term);
        Assert.Equal(5, x.Step);
        Assert.True(double.IsNaN(x.Value));
        Assert.Equal(4, e.StepsTaken);
        ModuleState.AssertIdentical(reference.Context, e.Context);
        ModuleState.AssertIdentical(reference.Predictor, e.Predictor);
    }

    [Fact]
    public void A_non_finite_loss_before_any_checkpoint_says_there_is_none()
    {
        using var e = new TinyJepa { NonFiniteFromStep = 1 };
        var x = Assert.Throws<NonFiniteLossException>(() => e.Train(TensorData.Random(), new TrainOptions { Steps = 5 }));
        Assert.Equal(1, x.Step);
        Assert.Null(x.LastCheckpoint);
        Assert.Equal(0, e.StepsTaken);
    }
}
