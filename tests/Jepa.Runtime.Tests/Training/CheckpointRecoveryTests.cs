using Jepa.Runtime.Training;

namespace Jepa.Runtime.Tests.Training;

/// <summary>
/// What survives a crash in the run folder: the trainer keeps the previous checkpoint (checkpoint.prev.ckpt) when it
/// writes a newer one; resuming from a missing, truncated or damaged checkpoint falls back to it with a warning naming
/// both files, and still ends bit-identical to an uninterrupted run; a damaged file is moved aside so it never becomes
/// the previous one; temporaries of killed writers are deleted; ParameterDigest tells identical weights apart.
/// (The SIGKILL test of a real child process is Jepa.EndToEnd.Tests' CrashSafetyTests.)
/// </summary>
[Collection(TrainerCollection.Name)]
public class CheckpointRecoveryTests
{
    private const int Total = 20;

    /// <summary>A run folder after 12 of 20 steps with a checkpoint every 4: checkpoint.ckpt at 12, the previous at 8.</summary>
    private static (string Folder, string Latest, string Previous) Interrupted(string name)
    {
        var folder = TestFolders.Create(name);
        using var e = new TinyJepa();
        var cancel = new CancellationTokenSource();
        e.Train(TensorData.Random(), new TrainOptions { Steps = Total, RunFolder = folder, CheckpointEvery = 4, Log = _ => { } },
            new SyncProgress<StepReport>(r => { if (r.Step == 12) cancel.Cancel(); }), cancel.Token);
        Assert.Equal(12, e.StepsTaken);
        return (folder, Path.Combine(folder, RunFolder.CheckpointFileName), Path.Combine(folder, RunFolder.PreviousCheckpointFileName));
    }

    private static long StepOf(string checkpoint)
    {
        using var e = new TinyJepa();
        e.Load(checkpoint);
        return e.StepsTaken;
    }

    private static string Straight()
    {
        using var e = new TinyJepa();
        e.Train(TensorData.Random(), new TrainOptions { Steps = Total });
        return e.ParameterDigest();
    }

    private static (string Digest, List<string> Warnings) Resume(string folder, string from)
    {
        var warnings = new List<string>();
        using var e = new TinyJepa();
        var run = e.Train(TensorData.Random(), new TrainOptions { Steps = Total, RunFolder = folder, CheckpointEvery = 4, ResumeFrom = from, Log = warnings.Add });
        Assert.Equal(Total, run.Steps);
        return (e.ParameterDigest(), warnings);
    }

    [Fact]
    public void The_run_folder_keeps_the_previous_checkpoint_and_no_temporary_file()
    {
        var (folder, latest, previous) = Interrupted("keep-previous");

        Assert.Equal(12, StepOf(latest));
        Assert.Equal(8, StepOf(previous));
        Assert.Equal(
            [RunFolder.CheckpointFileName, RunFolder.PreviousCheckpointFileName],
            Directory.GetFiles(folder, "*ckpt*").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(previous, RunFolder.PreviousCheckpointPath(latest));
    }

    [Fact]
    public void Resuming_from_a_truncated_checkpoint_falls_back_to_the_previous_one_and_ends_identical()
    {
        var (folder, latest, previous) = Interrupted("truncated-latest");
        var bytes = File.ReadAllBytes(latest);
        File.WriteAllBytes(latest, bytes[..(bytes.Length / 3)]);

        var (digest, warnings) = Resume(folder, latest);

        var warning = Assert.Single(warnings);
        Assert.Contains($"Checkpoint '{latest}' cannot be loaded: the file is truncated", warning);
        Assert.Contains($"Resumed from the previous checkpoint '{previous}' (step 8) instead.", warning);
        Assert.Contains($"The damaged file is kept as '{latest}.damaged'.", warning);
        Assert.Equal(bytes[..(bytes.Length / 3)], File.ReadAllBytes(latest + ".damaged"));
        Assert.Equal(Straight(), digest);
        // The damaged file never became the previous checkpoint: both are good ones of this run.
        Assert.Equal(Total, StepOf(latest));
        Assert.Equal(16, StepOf(previous));
    }

    [Fact]
    public void Resuming_from_an_altered_checkpoint_falls_back_and_names_the_checksum()
    {
        var (folder, latest, _) = Interrupted("altered-latest");
        var bytes = File.ReadAllBytes(latest);
        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(latest, bytes);

        var (digest, warnings) = Resume(folder, latest);

        Assert.Contains("checksum mismatch", Assert.Single(warnings));
        Assert.Equal(Straight(), digest);
    }

    [Fact]
    public void A_kill_between_the_two_renames_leaves_the_previous_checkpoint_which_resumes()
    {
        var (folder, latest, previous) = Interrupted("missing-latest");
        File.Delete(latest);

        var (digest, warnings) = Resume(folder, latest);

        Assert.Contains("the file does not exist", Assert.Single(warnings));
        Assert.Contains(previous, warnings[0]);
        Assert.Equal(Straight(), digest);
    }

    [Fact]
    public void When_both_checkpoints_are_damaged_the_error_names_both_and_nothing_is_loaded()
    {
        var (folder, latest, previous) = Interrupted("both-damaged");
        File.WriteAllBytes(latest, File.ReadAllBytes(latest)[..100]);
        File.WriteAllBytes(previous, "not a checkpoint at all: a text file long enough to have a header and a checksum"u8.ToArray());

        using var e = new TinyJepa();
        var before = e.ParameterDigest();
        var x = Assert.Throws<CheckpointException>(() =>
            e.Train(TensorData.Random(), new TrainOptions { Steps = Total, RunFolder = folder, ResumeFrom = latest, Log = _ => { } }));

        Assert.Equal(latest, x.Path);
        Assert.Contains("the file is truncated", x.Message);
        Assert.True(x.Message.Contains($"The previous checkpoint '{previous}' cannot be loaded either: it is not a Jepa checkpoint", StringComparison.Ordinal), x.Message);
        Assert.Equal(0, e.StepsTaken);
        Assert.Equal(before, e.ParameterDigest());
        Assert.True(File.Exists(latest)); // nothing was moved aside: there was nothing to resume from
    }

    [Fact]
    public void A_fresh_run_in_a_used_folder_does_not_keep_the_other_runs_checkpoint_as_its_previous()
    {
        var (folder, _, previous) = Interrupted("fresh-in-used");

        using var e = new TinyJepa(TinyOptions.Default with { Seed = 4 });
        e.Train(TensorData.Random(), new TrainOptions { Steps = 6, RunFolder = folder, CheckpointEvery = 0 });

        Assert.False(File.Exists(previous));
    }

    [Fact]
    public void Temporaries_left_by_killed_writers_are_deleted_and_a_live_writers_are_kept()
    {
        var folder = TestFolders.Create("abandoned");
        using var exited = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("true") { UseShellExecute = false })!;
        exited.WaitForExit();
        var dead = Path.Combine(folder, $".{RunFolder.CheckpointFileName}.{exited.Id}.{Guid.NewGuid():N}.tmp");
        var live = Path.Combine(folder, $".{RunFolder.CheckpointFileName}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        var unrelated = Path.Combine(folder, ".other.ckpt.1.x.tmp");
        foreach (var file in new[] { dead, live, unrelated }) File.WriteAllText(file, "partial");

        using var e = new TinyJepa();
        e.Train(TensorData.Random(), new TrainOptions { Steps = 2, RunFolder = folder });

        Assert.False(File.Exists(dead));
        Assert.True(File.Exists(live));
        Assert.True(File.Exists(unrelated));
    }

    [Fact]
    public void The_parameter_digest_follows_the_weights()
    {
        using var a = new TinyJepa();
        using var b = new TinyJepa();
        using var other = new TinyJepa(TinyOptions.Default with { Seed = 4 });
        Assert.Matches("^[0-9a-f]{64}$", a.ParameterDigest());
        Assert.Equal(a.ParameterDigest(), b.ParameterDigest());
        Assert.NotEqual(a.ParameterDigest(), other.ParameterDigest());
        b.Train(TensorData.Random(), new TrainOptions { Steps = 1 });
        Assert.NotEqual(a.ParameterDigest(), b.ParameterDigest());
    }
}
