using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Jepa.Runtime.Training;

namespace Jepa.Runner;

/// <summary>
/// The run folder of an invocation: chosen (<c>--out</c>, else the resumed run's folder, else a new
/// <c>runs/&lt;experiment&gt;-&lt;time&gt;</c>), owned (its lock, <see cref="RunFolderLock"/>, refuses a folder another
/// run is writing) and checked: a folder that already holds a run is only continued with <c>--resume</c> or replaced
/// with <c>--overwrite</c>, never written over silently.
/// </summary>
internal static class RunFolders
{
    /// <summary>Chooses, owns and checks the folder; <paramref name="checkpoint"/> is the resumed checkpoint, if any.</summary>
    public static RunFolder Prepare(string experiment, RunSettings settings, string? checkpoint, RunControl control, TextWriter output)
    {
        var resumed = checkpoint is null ? null : Path.GetDirectoryName(checkpoint)!;
        var path = Path.GetFullPath(settings.Out ?? resumed ?? NewFolder(experiment));
        var continues = resumed is not null && string.Equals(path, Path.GetFullPath(resumed), StringComparison.Ordinal);
        if (settings.Overwrite && continues)
            throw new RunException($"--overwrite would delete the run in {path} that --resume continues: give --resume to continue it, or --overwrite (without --resume) to replace it.");

        var folder = new RunFolder(path);
        try
        {
            control.Own(folder);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException and not RunFolderInUseException)
        {
            throw new RunException($"The run folder {path} cannot be written: {e.Message}", e);
        }

        if (!continues && folder.HoldsRun)
        {
            if (!settings.Overwrite)
                throw new RunException($"{path} already holds a run ({Describe(folder)}). Give --resume {RunControl.Shell([path])} to continue it, " +
                                       "or --overwrite to replace it (or another --out).");
            folder.DeleteRun([TrainingChart.FileName, EvaluationSuite.FileName, RunControl.ErrorLogName]);
            output.WriteLine($"Replacing the run in {path} (--overwrite).");
        }
        return folder;
    }

    /// <summary><c>runs/NAME-TIME</c>, with <c>-2</c>, <c>-3</c>... when a run started in the same second took it.</summary>
    private static string NewFolder(string experiment)
    {
        var stem = Path.Combine("runs", $"{experiment}-{DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}");
        var candidate = stem;
        for (var n = 2; Directory.Exists(candidate); n++) candidate = $"{stem}-{n}";
        return candidate;
    }

    /// <summary>The run a folder holds, in words, from its run-state file: the experiment and how it last stopped.</summary>
    private static string Describe(RunFolder folder)
    {
        JsonObject? state;
        try
        {
            state = folder.ReadState();
        }
        catch (InvalidDataException)
        {
            return $"its {RunFolder.StateFileName} cannot be read";
        }
        if (state is null) return $"a checkpoint or metrics without {RunFolder.StateFileName}";
        var experiment = state["experiment"]?.GetValue<string>() ?? "an unknown experiment";
        if (state["stop"] is not JsonObject stop) return $"{experiment}, with no end recorded: it was killed, or is still being started";
        try
        {
            var reason = stop["reason"]?.GetValue<string>() ?? "stopped";
            var step = stop["step"]?.GetValue<long>();
            var total = stop["total_steps"]?.GetValue<long>();
            var time = stop["time"]?.GetValue<string>();
            var at = step is null ? "" : $" at step {step} of {total}";
            return $"{experiment}, {reason}{at}{(time is null ? "" : $" on {time}")}";
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or JsonException)
        {
            return experiment;
        }
    }
}
