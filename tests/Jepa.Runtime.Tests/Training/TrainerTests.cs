using Jepa.Runtime.Schedules;
using Jepa.Runtime.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Training;

[Collection(TrainerCollection.Name)]
public class TrainerTests
{
    private static TrainingRun Train(TinyJepa e, ITrainingData data, long steps, TrainOptions? run = null) =>
        e.Train(data, (run ?? new TrainOptions()) with { Steps = steps });

    [Fact]
    public void Same_seed_gives_bit_identical_weights_and_another_seed_does_not()
    {
        var data = TensorData.Random();
        using var a = new TinyJepa();
        using var b = new TinyJepa();
        using var c = new TinyJepa(TinyOptions.Default with { Seed = 4 });
        Train(a, data, 20);
        Train(b, data, 20);
        Train(c, data, 20);
        ModuleState.AssertIdentical(a.Context, b.Context);
        ModuleState.AssertIdentical(a.Target, b.Target);
        ModuleState.AssertIdentical(a.Predictor, b.Predictor);
        Assert.NotEqual(ModuleState.Snapshot(a.Context)["first.weight"], ModuleState.Snapshot(c.Context)["first.weight"]);
    }

    [Fact]
    public void Initialization_scope_restores_the_global_generator()
    {
        torch.random.manual_seed(123);
        using var expected = torch.rand(3);
        torch.random.manual_seed(123);
        using (new TinyJepa()) { }
        using var actual = torch.rand(3);
        Assert.Equal(expected.data<float>().ToArray(), actual.data<float>().ToArray());
    }

    [Fact]
    public void Ema_target_starts_as_a_copy_without_gradients_and_follows_the_formula()
    {
        using var e = new TinyJepa(TinyOptions.Default with { EmaMomentum = new Ramp(0.9) });
        ModuleState.AssertIdentical(e.Context, e.Target);
        Assert.All(e.Target.parameters(), p => Assert.False(p.requires_grad));
        Assert.All(e.Context.parameters(), p => Assert.True(p.requires_grad));

        var before = ModuleState.Snapshot(e.Target);
        Train(e, TensorData.Random(), 1);
        var online = ModuleState.Snapshot(e.Context);
        var after = ModuleState.Snapshot(e.Target);
        foreach (var key in before.Keys)
        {
            for (var i = 0; i < before[key].Length; i++)
            {
                var expected = 0.9f * before[key][i] + 0.1f * online[key][i];
                Assert.Equal(expected, after[key][i], 1e-6f);
            }
        }
        Assert.NotEqual(before["first.weight"], after["first.weight"]);
    }

    [Fact]
    public void Schedules_reach_every_step_with_the_values_of_the_schedule()
    {
        var options = TinyOptions.Default with
        {
            Schedule = LrScheduleKind.WarmupCosine, WarmupSteps = 5, StartLr = 1e-4, FinalLr = 1e-5,
            WeightDecay = new Ramp(0.04, 0.4), EmaMomentum = new Ramp(0.99, 1.0),
        };
        using var e = new TinyJepa(options);
        var reports = new List<StepReport>();
        e.Train(TensorData.Random(), new TrainOptions { Steps = 20 }, new SyncProgress<StepReport>(reports.Add));
        var s = new TrainingSchedule(LrScheduleKind.WarmupCosine, new Ramp(1e-2), 1e-4, 1e-5, 5, new Ramp(0.04, 0.4), new Ramp(0.99, 1.0), 20);
        Assert.Equal(20, e.Seen.Count);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(i + 1, e.Seen[i].Step);
            Assert.Equal(s.LearningRateAt(i), e.Seen[i].Lr);
            Assert.Equal(s.WeightDecayAt(i), e.Seen[i].Wd);
            Assert.Equal(s.EmaMomentumAt(i), e.Seen[i].Momentum);
            Assert.Equal(s.LearningRateAt(i), reports[i].LearningRate);
            Assert.Equal(i + 1, reports[i].Step);
            Assert.Equal(20, reports[i].TotalSteps);
            Assert.True(reports[i].GradientNorm > 0);
        }
    }

    [Fact]
    public void Weight_decay_skips_biases_and_one_dimensional_parameters()
    {
        using var e = new TinyJepa(TinyOptions.Default with { LayerNorm = true, LearningRate = new Ramp(0.1), WeightDecay = new Ramp(0.5) });
        var optimizer = e.EnsureOptimizer();
        Assert.Equal(
            ["context.first.weight", "context.second.weight", "predictor.first.weight", "predictor.second.weight"],
            optimizer.DecayingNames.Order(StringComparer.Ordinal));

        // With a loss that does not depend on the weights every gradient is 0, so AdamW's only change is the decoupled
        // decay p <- p * (1 - lr * wd) on the decaying group; biases and the layer norm stay as they were.
        e.ZeroLoss = true;
        var before = ModuleState.Snapshot(e.Context);
        Train(e, TensorData.Random(), 1);
        var after = ModuleState.Snapshot(e.Context);
        foreach (var key in before.Keys)
        {
            var decays = key.EndsWith("weight", StringComparison.Ordinal) && !key.StartsWith("act.", StringComparison.Ordinal);
            for (var i = 0; i < before[key].Length; i++)
                Assert.Equal(decays ? before[key][i] * (1 - 0.1f * 0.5f) : before[key][i], after[key][i], 1e-7f);
        }
    }

    [Fact]
    public void Gradient_clipping_caps_the_total_norm_and_reports_the_norm_before_it()
    {
        using var e = new TinyJepa();
        var optimizer = e.EnsureOptimizer();
        var ps = optimizer.Parameters;
        using (no_grad())
        {
            var i = 0;
            foreach (var p in ps)
            {
                p.grad = torch.full_like(p, i++ % 2 == 0 ? 1.0 : -2.0);
            }
        }
        var expected = Math.Sqrt(ps.Select((p, i) => p.numel() * (i % 2 == 0 ? 1.0 : 4.0)).Sum());
        Assert.Equal(expected, optimizer.ClipGradients(null), 1e-4);
        Assert.Equal(expected, optimizer.ClipGradients(0.5), 1e-4);
        Assert.Equal(0.5, optimizer.ClipGradients(null), 1e-5);
    }

    [Fact]
    public void Sgd_and_adamw_both_train_and_lower_the_loss()
    {
        foreach (var kind in new[] { OptimizerKind.AdamW, OptimizerKind.Sgd })
        {
            using var e = new TinyJepa(TinyOptions.Default with { Optimizer = kind, LearningRate = new Ramp(kind == OptimizerKind.Sgd ? 0.1 : 1e-2) });
            var reports = new List<StepReport>();
            e.Train(TensorData.Random(200), new TrainOptions { Steps = 60 }, new SyncProgress<StepReport>(reports.Add));
            var first = reports.Take(5).Average(r => r.Terms["mse"]);
            var last = reports.TakeLast(5).Average(r => r.Terms["mse"]);
            Assert.True(last < first, $"{kind}: loss {first} -> {last}");
        }
    }

    [Fact]
    public void A_step_that_skips_backward_or_the_ema_update_is_an_error()
    {
        using (var e = new TinyJepa { SkipBackward = true })
        {
            var x = Assert.Throws<InvalidOperationException>(() => Train(e, TensorData.Random(), 2));
            Assert.Contains("BackwardAndStep", x.Message);
        }
        using (var e = new TinyJepa { SkipEma = true })
        {
            var x = Assert.Throws<InvalidOperationException>(() => Train(e, TensorData.Random(), 2));
            Assert.Contains("UpdateEma", x.Message);
        }
    }

    [Fact]
    public void Stop_gradient_and_shared_targets_train_the_context_encoder_only_once()
    {
        foreach (var kind in new[] { TargetKind.StopGradient, TargetKind.Shared })
        {
            using var e = new TinyJepa(TinyOptions.Default with { Target = kind });
            Assert.Same(e.Context, e.Target);
            Assert.Equal(8, e.EnsureOptimizer().Parameters.Count); // 2 linears in context + 2 in predictor, weight and bias each
            var run = Train(e, TensorData.Random(), 5);
            Assert.Equal(5, run.Steps);
            Assert.All(e.Seen, s => Assert.Null(s.Momentum));
        }
    }

    [Fact]
    public void Epochs_set_the_run_length_and_every_epoch_gets_its_own_order()
    {
        var data = TensorData.Random(100);
        using var e = new TinyJepa(TinyOptions.Default with { Steps = null, Epochs = 3 });
        var run = e.Train(data);
        Assert.Equal(18, run.Steps); // 100 / 16 = 6 full batches per epoch
        Assert.Equal(18, run.TotalSteps);
        Assert.Equal(4, data.Enumerations); // one per epoch (no collapse monitor), one to compute the normalisation
    }

    [Fact]
    public void Bad_options_and_too_little_data_are_refused_before_training()
    {
        using var e = new TinyJepa(TinyOptions.Default with { Batch = 0, Steps = null, Schedule = LrScheduleKind.Constant, WarmupSteps = 3 });
        var x = Assert.Throws<ArgumentException>(() => e.Train(TensorData.Random()));
        Assert.Contains("Batch must be at least 1", x.Message);
        Assert.Contains("Set Steps or Epochs", x.Message);
        Assert.Contains("Warm-up needs Schedule = WarmupCosine", x.Message);

        using var f = new TinyJepa(TinyOptions.Default with { Batch = 64 });
        var y = Assert.Throws<ArgumentException>(() => f.Train(TensorData.Random(50)));
        Assert.Contains("50 samples, fewer than one batch of 64", y.Message);
    }

    [Fact]
    public void Device_auto_is_cpu_here_and_cuda_fails_with_a_clear_message()
    {
        using var e = new TinyJepa(TinyOptions.Default with { Device = "auto" });
        Assert.Equal(DeviceType.CPU, e.Device.type);
        var x = Assert.Throws<DeviceUnavailableException>(() => new TinyJepa(TinyOptions.Default with { Device = "cuda" }));
        Assert.StartsWith("Device 'cuda' was asked for, but CUDA is not available here: ", x.Message);
        Assert.Contains("JepaTorchBackend=cuda-linux", x.Message);
        // The runner resolves the device with the same call before it reads any data: one message everywhere.
        Assert.Equal(x.Message, Assert.Throws<DeviceUnavailableException>(() => Devices.Resolve("cuda:1")).Message.Replace("'cuda:1'", "'cuda'"));
        var y = Assert.Throws<ArgumentException>(() => new TinyJepa(TinyOptions.Default with { Device = "tpu" }));
        Assert.Contains("cpu, cuda, cuda:N or auto", y.Message);
    }

    [Fact]
    public void Steps_leave_no_live_tensors_behind()
    {
        // Every tensor a step creates on this thread is disposed with the step's scope (not by the finalizer): the count
        // of live tensors is the same after 20 and after 80 steps, with metrics, the collapse monitor and checkpoints on.
        var data = TensorData.Random();
        var folder = TestFolders.Create("live");
        using var e = new TinyJepa(TinyOptions.Default with { Collapse = new CollapseMonitorOptions(0.0, 0, CollapseAction.Warn, 10) });
        var run = new TrainOptions { RunFolder = folder, CheckpointEvery = 10 };
        e.Train(data, run with { Steps = 20 });
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        e.Train(data, run with { Steps = 80 });
        var after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.Equal(before, after);
    }

    [Fact]
    public void Cancellation_stops_after_a_full_step_and_the_run_can_continue_exactly()
    {
        var data = TensorData.Random();
        using var straight = new TinyJepa();
        Train(straight, data, 15);

        using var cancelled = new TinyJepa();
        using var cts = new CancellationTokenSource();
        var run = cancelled.Train(data, new TrainOptions { Steps = 15 }, new SyncProgress<StepReport>(r =>
        {
            if (r.Step == 7) cts.Cancel();
        }), cts.Token);
        Assert.Equal(StopReason.Cancelled, run.StopReason);
        Assert.Equal(7, run.Steps);
        var rest = Train(cancelled, data, 15);
        Assert.Equal(StopReason.Completed, rest.StopReason);
        ModuleState.AssertIdentical(straight.Context, cancelled.Context);
        ModuleState.AssertIdentical(straight.Target, cancelled.Target);
    }
}

/// <summary>An IProgress that reports on the calling thread (System.Progress posts to the thread pool).</summary>
public sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
