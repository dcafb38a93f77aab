using System.Text.Json.Nodes;
using Jepa.Runtime.Training;

namespace Jepa.Runner.Tests;

/// <summary>
/// A run folder has one owner and holds one run: a folder locked by another run is refused naming the holder; a folder
/// that holds a run is continued with --resume or replaced with --overwrite, never written over; run.json records how
/// each invocation ended.
/// </summary>
[Collection(RunnerCollection.Name)]
public class RunFolderRulesTests
{
    private static JsonObject Stop(string folder) => JsonNode.Parse(File.ReadAllText(Path.Combine(folder, RunFolder.StateFileName)))!["stop"]!.AsObject();

    [Fact]
    public void Out_on_a_finished_run_is_refused_and_changes_nothing_unless_resume_or_overwrite_is_given()
    {
        using var ws = new Workspace();
        var folder = ws.PathOf("run");
        var first = Workspace.Run("--steps", "4", "--out", folder);
        Assert.True(first.ExitCode == 0, first.All);
        var checkpoint = File.ReadAllBytes(Path.Combine(folder, RunFolder.CheckpointFileName));
        var state = File.ReadAllText(Path.Combine(folder, RunFolder.StateFileName));

        var again = Workspace.Run("--steps", "3", "--out", folder);

        Assert.Equal(1, again.ExitCode);
        Assert.Matches($"^error: {folder} already holds a run \\(TinyVector, completed at step 4 of 4 on [0-9T:.-]+Z\\)\\. " +
                       $"Give --resume {folder} to continue it, or --overwrite to replace it \\(or another --out\\)\\.\n$", again.Error);
        Assert.Equal(checkpoint, File.ReadAllBytes(Path.Combine(folder, RunFolder.CheckpointFileName)));
        Assert.Equal(state, File.ReadAllText(Path.Combine(folder, RunFolder.StateFileName)));

        var both = Workspace.Run("--resume", folder, "--overwrite");
        Assert.Equal(1, both.ExitCode);
        Assert.Equal($"error: --overwrite would delete the run in {folder} that --resume continues: give --resume to continue it, or --overwrite (without --resume) to replace it.\n", both.Error);

        File.WriteAllText(Path.Combine(folder, "notes.txt"), "mine");
        var replaced = Workspace.Run("--steps", "3", "--out", folder, "--overwrite");
        Assert.True(replaced.ExitCode == 0, replaced.All);
        Assert.Contains($"Replacing the run in {folder} (--overwrite).", replaced.Output);
        Assert.Equal(3, Stop(folder)["step"]!.GetValue<long>());
        Assert.False(File.Exists(Path.Combine(folder, RunFolder.PreviousCheckpointFileName)), "a checkpoint of the replaced run was kept");
        Assert.Equal("mine", File.ReadAllText(Path.Combine(folder, "notes.txt")));

        var continued = Workspace.Run("--resume", folder, "--steps", "5");
        Assert.True(continued.ExitCode == 0, continued.All);
        Assert.Equal(5, Stop(folder)["step"]!.GetValue<long>());
    }

    [Fact]
    public void A_folder_another_run_holds_is_refused_naming_the_holder_and_is_free_again_once_released()
    {
        using var ws = new Workspace();
        var folder = ws.PathOf("run");
        using (var held = RunFolderLock.Acquire(folder))
        {
            var refused = Workspace.Run("--steps", "2", "--out", folder);

            Assert.Equal(1, refused.ExitCode);
            Assert.StartsWith($"error: The run folder {folder} is in use by process {Environment.ProcessId} on host {Environment.MachineName}, started ", refused.Error);
            Assert.EndsWith("one run at a time writes a folder. Wait for that run to end (or stop it), or give another --out.\n", refused.Error);
            Assert.False(File.Exists(Path.Combine(folder, RunFolder.StateFileName)));
            Assert.Throws<RunFolderInUseException>(() => RunFolderLock.Acquire(folder));
        }

        Assert.False(File.Exists(Path.Combine(folder, RunFolderLock.HolderFileName)));
        var run = Workspace.Run("--steps", "2", "--out", folder);
        Assert.True(run.ExitCode == 0, run.All);
        // Released when the run ended.
        RunFolderLock.Acquire(folder).Dispose();
    }

    [Fact]
    public void Run_json_records_a_completed_run_with_its_step_time_and_checkpoint()
    {
        using var ws = new Workspace();
        var folder = ws.PathOf("run");
        var run = Workspace.Run("--steps", "4", "--out", folder);
        Assert.True(run.ExitCode == 0, run.All);

        var stop = Stop(folder);
        Assert.Equal("completed", stop["reason"]!.GetValue<string>());
        Assert.Equal(4, stop["step"]!.GetValue<long>());
        Assert.Equal(4, stop["total_steps"]!.GetValue<long>());
        Assert.Equal("training", stop["phase"]!.GetValue<string>());
        Assert.Equal(Path.Combine(folder, RunFolder.CheckpointFileName), stop["checkpoint"]!.GetValue<string>());
        Assert.InRange(stop["checkpoint_seconds"]!.GetValue<double>(), 0, 30);
        Assert.True(DateTime.UtcNow - DateTime.Parse(stop["time"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AdjustToUniversal) < TimeSpan.FromMinutes(5));
        Assert.Null(stop["signal"]);
    }
}
