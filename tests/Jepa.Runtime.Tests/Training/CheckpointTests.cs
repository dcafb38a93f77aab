using Jepa.Runtime.Schedules;
using Jepa.Runtime.Training;

namespace Jepa.Runtime.Tests.Training;

[Collection(TrainerCollection.Name)]
public class CheckpointTests
{
    public static TheoryData<OptimizerKind, LrScheduleKind, TargetKind> Setups => new()
    {
        { OptimizerKind.AdamW, LrScheduleKind.WarmupCosine, TargetKind.Ema },
        { OptimizerKind.Sgd, LrScheduleKind.Constant, TargetKind.Ema },
        { OptimizerKind.AdamW, LrScheduleKind.Constant, TargetKind.Shared },
    };

    private static TinyOptions Options(OptimizerKind optimizer, LrScheduleKind schedule, TargetKind target) => TinyOptions.Default with
    {
        Optimizer = optimizer,
        Schedule = schedule,
        Target = target,
        WarmupSteps = schedule == LrScheduleKind.WarmupCosine ? 6 : 0,
        StartLr = 1e-4,
        FinalLr = 1e-5,
        LearningRate = new Ramp(optimizer == OptimizerKind.Sgd ? 0.05 : 1e-2),
        WeightDecay = schedule == LrScheduleKind.WarmupCosine ? new Ramp(0.04, 0.4) : new Ramp(0.05, 0.01),
        EmaMomentum = new Ramp(0.95, 1.0),
        GradClip = 1.0,
        Collapse = new CollapseMonitorOptions(0.01, 3, CollapseAction.Warn, 4),
    };

    /// <summary>
    /// Issue 3's resume test: N steps straight, against K steps + save + load into fresh objects + (N - K) steps, give
    /// bit-identical parameters (context, EMA target, predictor) and optimizer state on CPU. K falls inside an epoch
    /// (100 samples, batch 16: 6 steps per epoch), so the data position, the corruption generator and every schedule
    /// must all be restored.
    /// </summary>
    [Theory]
    [MemberData(nameof(Setups))]
    public void Resume_continues_bit_identically(OptimizerKind optimizer, LrScheduleKind schedule, TargetKind target)
    {
        const int n = 23, k = 9;
        var options = Options(optimizer, schedule, target);
        var data = TensorData.Random(100);
        var folder = TestFolders.Create("resume");

        using var straight = new TinyJepa(options);
        var straightRun = straight.Train(data, new TrainOptions { Steps = n });

        using (var partial = new TinyJepa(options))
        {
            var cancel = new CancellationTokenSource();
            partial.Train(data, new TrainOptions { Steps = n }, new SyncProgress<StepReport>(r => { if (r.Step == k) cancel.Cancel(); }), cancel.Token);
            Assert.Equal(k, partial.StepsTaken);
            partial.Save(Path.Combine(folder, "k.ckpt"));
        }

        using var resumed = new TinyJepa(options);
        resumed.Load(Path.Combine(folder, "k.ckpt"));
        Assert.Equal(k, resumed.StepsTaken);
        var resumedRun = resumed.Train(data, new TrainOptions { Steps = n });

        Assert.Equal(n, resumedRun.Steps);
        ModuleState.AssertIdentical(straight.Context, resumed.Context);
        ModuleState.AssertIdentical(straight.Target, resumed.Target);
        ModuleState.AssertIdentical(straight.Predictor, resumed.Predictor);
        Assert.Equal(OptimizerBytes(straight), OptimizerBytes(resumed));
        Assert.Equal(straightRun.FinalTerms, resumedRun.FinalTerms);
        Assert.Equal(straightRun.CollapseReadings.Select(r => (r.Step, r.Std, r.RankMe)), resumedRun.CollapseReadings.Select(r => (r.Step, r.Std, r.RankMe)));
        // The schedules were fast-forwarded: step k + 1 of the resumed run saw the values of the straight run's step k + 1.
        Assert.Equal(straight.Seen[k], resumed.Seen[0]);
    }

    [Fact]
    public void Resume_from_a_run_folder_checkpoint_through_TrainOptions()
    {
        var data = TensorData.Random(100);
        var options = Options(OptimizerKind.AdamW, LrScheduleKind.WarmupCosine, TargetKind.Ema);
        var folder = TestFolders.Create("resume-folder");
        using var straight = new TinyJepa(options);
        straight.Train(data, new TrainOptions { Steps = 20 });

        using (var first = new TinyJepa(options))
            first.Train(data, new TrainOptions { Steps = 12, RunFolder = folder }); // the schedules follow a 12-step run here...
        using var second = new TinyJepa(options);
        var run = second.Train(data, new TrainOptions { Steps = 20, RunFolder = folder, ResumeFrom = Path.Combine(folder, RunFolder.CheckpointFileName) });
        Assert.Equal(20, run.Steps);
        Assert.Equal(12, second.Seen[0].Step - 1);
        // ...so the weights differ from the straight 20-step run (the schedules depend on the run length), but the
        // resumed steps use the 20-step schedules from step 13 on.
        Assert.Equal(straight.Seen[12].Lr, second.Seen[0].Lr);
    }

    [Fact]
    public void Save_is_atomic_and_leaves_no_temporary_files()
    {
        var folder = TestFolders.Create("atomic");
        var path = Path.Combine(folder, "x.ckpt");
        using var e = new TinyJepa();
        e.Train(TensorData.Random(), new TrainOptions { Steps = 3 });
        e.Save(path);
        var first = File.ReadAllBytes(path);
        e.Train(TensorData.Random(), new TrainOptions { Steps = 5 });
        e.Save(path);
        Assert.NotEqual(first, File.ReadAllBytes(path));
        Assert.Equal(["x.ckpt"], Directory.GetFiles(folder).Select(Path.GetFileName));
    }

    [Fact]
    public void The_same_experiment_compiled_in_another_namespace_loads_and_another_type_name_does_not()
    {
        // A run of examples/Digits writes Digits.DigitsJepa+Options; `jepa evaluate` compiles the same file as DigitsJepa.
        Assert.Equal("DigitsJepa+Options", Checkpoint.WithoutNamespace("Digits.DigitsJepa+Options"));
        Assert.Equal("DigitsJepa+Options", Checkpoint.WithoutNamespace("DigitsJepa+Options"));
        Assert.Equal("TinyOptions", Checkpoint.WithoutNamespace("Jepa.Runtime.Tests.Training.TinyOptions"));

        var (e, path, bytes) = Saved("namespace");
        e.Dispose();
        var own = typeof(TinyOptions).FullName!;
        File.WriteAllBytes(path, WithOptionsType(bytes, own, "MyProject.Experiments.TinyOptions"));
        using (var moved = new TinyJepa())
        {
            moved.Load(path);
            Assert.Equal(4, moved.StepsTaken);
        }

        File.WriteAllBytes(path, WithOptionsType(bytes, own, "Jepa.Runtime.Tests.Training.OtherOptions"));
        Assert.Contains($"its options are a Jepa.Runtime.Tests.Training.OtherOptions, not a {own}", LoadFails(path).Problem);
    }

    /// <summary>The checkpoint with its meta section's options type replaced, its payload length and SHA-256 rewritten.</summary>
    private static byte[] WithOptionsType(byte[] checkpoint, string from, string to)
    {
        static byte[] Prefixed(string s)
        {
            using var m = new MemoryStream();
            using (var w = new BinaryWriter(m)) w.Write(s);
            return m.ToArray();
        }

        var payload = checkpoint.AsSpan(20, checkpoint.Length - 20 - 32).ToArray();
        var old = Prefixed(from);
        var at = payload.AsSpan().IndexOf(old);
        Assert.True(at >= 0, "the options type is in the meta section");
        var patched = payload[..at].Concat(Prefixed(to)).Concat(payload[(at + old.Length)..]).ToArray();
        return checkpoint[..12]
            .Concat(BitConverter.GetBytes((long)patched.Length))
            .Concat(patched)
            .Concat(System.Security.Cryptography.SHA256.HashData(patched))
            .ToArray();
    }

    private static (TinyJepa Experiment, string Path, byte[] Bytes) Saved(string name)
    {
        var folder = TestFolders.Create(name);
        var path = Path.Combine(folder, "c.ckpt");
        var e = new TinyJepa();
        e.Train(TensorData.Random(), new TrainOptions { Steps = 4 });
        e.Save(path);
        return (e, path, File.ReadAllBytes(path));
    }

    private static CheckpointException LoadFails(string path, TinyOptions? options = null)
    {
        using var fresh = new TinyJepa(options);
        var before = ModuleState.Snapshot(fresh.Context);
        var x = Assert.Throws<CheckpointException>(() => fresh.Load(path));
        Assert.Equal(Path.GetFullPath(path), x.Path);
        Assert.Contains(Path.GetFullPath(path), x.Message);
        // A refused checkpoint changes nothing.
        var after = ModuleState.Snapshot(fresh.Context);
        Assert.All(before.Keys, key => Assert.Equal(before[key], after[key]));
        Assert.Equal(0, fresh.StepsTaken);
        return x;
    }

    [Fact]
    public void A_truncated_checkpoint_is_refused()
    {
        var (e, path, bytes) = Saved("truncated");
        e.Dispose();
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        Assert.Contains("truncated", LoadFails(path).Problem);
        File.WriteAllBytes(path, bytes[..10]);
        Assert.Contains("truncated", LoadFails(path).Problem);
        File.WriteAllBytes(path, bytes[..^1]);
        Assert.Contains("truncated", LoadFails(path).Problem);
    }

    [Fact]
    public void An_altered_checkpoint_is_refused_by_its_checksum()
    {
        var (e, path, bytes) = Saved("altered");
        e.Dispose();
        foreach (var at in new[] { 20, bytes.Length / 2, bytes.Length - 33, bytes.Length - 1 })
        {
            var altered = (byte[])bytes.Clone();
            altered[at] ^= 0x01;
            File.WriteAllBytes(path, altered);
            Assert.Contains("checksum mismatch", LoadFails(path).Problem);
        }
        File.WriteAllBytes(path, [.. bytes, 0]);
        Assert.Contains("unexpected bytes after its checksum", LoadFails(path).Problem);
    }

    [Fact]
    public void Bad_magic_and_unknown_versions_are_refused()
    {
        var (e, path, bytes) = Saved("magic");
        e.Dispose();
        var badMagic = (byte[])bytes.Clone();
        badMagic[0] = (byte)'X';
        File.WriteAllBytes(path, badMagic);
        Assert.Contains("not a Jepa checkpoint", LoadFails(path).Problem);

        var badVersion = (byte[])bytes.Clone();
        badVersion[8] = 9;
        File.WriteAllBytes(path, badVersion);
        Assert.Contains("format version 9; this runtime reads version 1", LoadFails(path).Problem);

        Assert.Contains("does not exist", LoadFails(Path.Combine(Path.GetDirectoryName(path)!, "missing.ckpt")).Problem);
    }

    [Fact]
    public void A_checkpoint_of_a_different_experiment_is_refused()
    {
        var (e, path, _) = Saved("foreign");
        e.Dispose();
        var wider = LoadFails(path, TinyOptions.Default with { Hidden = 32 });
        Assert.Contains("options of a different experiment", wider.Problem);
        Assert.Contains("Hidden: 16 in the checkpoint, 32 here", wider.Problem);

        var target = LoadFails(path, TinyOptions.Default with { Target = TargetKind.Shared });
        Assert.Contains("Target: \"Ema\" in the checkpoint, \"Shared\" here", target.Problem);

        // The run length, device and monitor may differ: a resume with more steps is the point.
        using var longer = new TinyJepa(TinyOptions.Default with { Steps = 100, Collapse = new CollapseMonitorOptions(0.1, 2, CollapseAction.Stop, 7) });
        longer.Load(path);
        Assert.Equal(4, longer.StepsTaken);

        using var other = new OtherJepa();
        var x = Assert.Throws<CheckpointException>(() => other.Load(path));
        Assert.Contains("holds experiment 'TinyJepa', not 'OtherJepa'", x.Problem);
    }

    private static byte[] OptimizerBytes(TinyJepa e)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) e.EnsureOptimizer().Save(w);
        return stream.ToArray();
    }

    private sealed class OtherJepa : JepaExperiment
    {
        public OtherJepa() : base("OtherJepa", TinyOptions.Default)
        {
            using var init = InitializationScope();
            var m = new TinyMlp(8, 16, 4);
            Register(m, m, TargetKind.Shared, new TinyMlp(4, 16, 4));
        }

        public override TorchSharp.torch.Tensor Corrupt(TorchSharp.torch.Tensor image, TorchSharp.torch.Generator generator) => image;
        public override TorchSharp.torch.Tensor Encode(TorchSharp.torch.Tensor image) => image;
        protected override LossTerms TrainingStep(TorchSharp.torch.Tensor batch, StepContext step) => throw new NotSupportedException();
    }
}
