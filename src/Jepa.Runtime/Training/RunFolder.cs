using System.Text.Json;
using System.Text.Json.Nodes;

namespace Jepa.Runtime.Training;

/// <summary>
/// The folder a run writes (<see cref="TrainOptions.RunFolder"/>): <c>options.json</c>, the metrics files,
/// <c>checkpoint.ckpt</c> and the one before it, <c>checkpoint.prev.ckpt</c>. It owns the rules for those files: a
/// checkpoint never replaces the only complete one (rotation), a resume that cannot load the latest checkpoint falls back
/// to the previous one loudly, and temporary files of killed writers are deleted. One instance serves one call of
/// <see cref="JepaExperiment.Train(ITrainingData, TrainOptions?, IProgress{StepReport}?, CancellationToken)"/>: it
/// remembers which checkpoints that run wrote. See docs/runtime-training.md, "Checkpoints".
/// </summary>
public sealed class RunFolder
{
    /// <summary>The checkpoint file the trainer writes in a run folder.</summary>
    public const string CheckpointFileName = "checkpoint.ckpt";

    /// <summary>
    /// What the trainer renames a run folder's checkpoint to when it writes a newer one, so that one complete
    /// checkpoint survives whatever happens to the newest; resuming falls back to it.
    /// </summary>
    public const string PreviousCheckpointFileName = "checkpoint.prev.ckpt";

    /// <summary>The effective options file the trainer writes in a run folder.</summary>
    public const string OptionsFileName = "options.json";

    /// <summary>
    /// The run-state file: what a run is (its options with every override, its data and their fingerprint, its
    /// normalisation), written by the program that runs it (Jepa.Runner writes and reads it for <c>--resume</c>); issue 15
    /// adds how the run stopped and who holds the folder. The trainer itself does not read it.
    /// </summary>
    public const string StateFileName = "run.json";

    /// <summary>A run folder at <paramref name="path"/> (made absolute; created when the run starts).</summary>
    public RunFolder(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = System.IO.Path.GetFullPath(path);
    }

    /// <summary>The folder's full path.</summary>
    public string Path { get; }

    /// <summary>The latest checkpoint of the run.</summary>
    public string CheckpointPath => System.IO.Path.Combine(Path, CheckpointFileName);

    /// <summary>The run-state file's path.</summary>
    public string StatePath => System.IO.Path.Combine(Path, StateFileName);

    /// <summary>The run-state file's content, or null when the folder has none. Throws <see cref="InvalidDataException"/>
    /// naming the file when it is not a JSON object.</summary>
    public JsonObject? ReadState()
    {
        if (!File.Exists(StatePath)) return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(StatePath)) as JsonObject ?? throw new JsonException("not a JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The run-state file '{StatePath}' cannot be read: {e.Message}", e);
        }
    }

    /// <summary>Writes the run-state file atomically (creating the folder).</summary>
    public void WriteState(JsonObject state)
    {
        ArgumentNullException.ThrowIfNull(state);
        Directory.CreateDirectory(Path);
        WriteAtomically(StatePath, state.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>
    /// Whether the folder holds a run: a run-state file, a checkpoint, options or metrics (a folder with only its lock
    /// file, <see cref="RunFolderLock"/>, or files of its user does not).
    /// </summary>
    public bool HoldsRun => new[] { StateFileName, CheckpointFileName, PreviousCheckpointFileName, OptionsFileName, MetricsWriter.JsonFile }
        .Any(f => File.Exists(System.IO.Path.Combine(Path, f)));

    /// <summary>
    /// Deletes the run the folder holds (to replace it): the run-state file, options, checkpoints (the previous and a
    /// damaged one too), metrics, TensorBoard events and <paramref name="otherFiles"/> (what the program adds: a chart,
    /// an evaluation); the folder's other files are left alone.
    /// </summary>
    public void DeleteRun(IEnumerable<string> otherFiles)
    {
        ArgumentNullException.ThrowIfNull(otherFiles);
        string[] files = [StateFileName, OptionsFileName, CheckpointFileName, PreviousCheckpointFileName, CheckpointFileName + ".damaged",
            MetricsWriter.JsonFile, MetricsWriter.CsvFile, .. otherFiles];
        foreach (var file in files) File.Delete(System.IO.Path.Combine(Path, file));
        var board = System.IO.Path.Combine(Path, MetricsWriter.TensorBoardFolder);
        if (Directory.Exists(board)) Directory.Delete(board, recursive: true);
    }

    /// <summary>Whether the folder's checkpoint belongs to this run, so a newer one keeps it as the previous one.</summary>
    private bool keepPrevious;

    /// <summary>The step of the latest checkpoint this run wrote (-1: none yet).</summary>
    private long lastSavedStep = -1;

    /// <summary>The previous checkpoint kept beside <paramref name="checkpoint"/>: <c>NAME.prev.EXT</c>
    /// (<c>checkpoint.prev.ckpt</c> beside <c>checkpoint.ckpt</c>).</summary>
    public static string PreviousCheckpointPath(string checkpoint)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpoint);
        var full = System.IO.Path.GetFullPath(checkpoint);
        return System.IO.Path.Combine(System.IO.Path.GetDirectoryName(full)!, System.IO.Path.GetFileNameWithoutExtension(full) + ".prev" + System.IO.Path.GetExtension(full));
    }

    /// <summary>
    /// Before the first write of a run: the folder's checkpoint is kept as the previous one when a newer replaces it only
    /// if it belongs to this run (resumed from it, or from its previous one: <paramref name="resumedFrom"/>); a fresh
    /// run in a used folder does not keep another run's file. Deletes the temporary files of killed writers.
    /// </summary>
    internal void Adopt(string? resumedFrom)
    {
        keepPrevious = resumedFrom == CheckpointPath || resumedFrom == PreviousCheckpointPath(CheckpointPath);
        Checkpoint.DeleteAbandonedTemporaries(Path, CheckpointFileName);
    }

    /// <summary>Creates the folder and writes <c>options.json</c> (the effective options).</summary>
    internal void WriteOptions(ExperimentOptions options)
    {
        Directory.CreateDirectory(Path);
        WriteAtomically(System.IO.Path.Combine(Path, OptionsFileName), options.ToJson());
    }

    /// <summary>
    /// Writes the run's checkpoint: the latest one becomes the previous one (if it is this run's), the new one the latest.
    /// A second write at the same step (a run cancelled right after a periodic checkpoint) replaces the latest
    /// checkpoint and leaves the previous one, of an earlier step, in place. Returns the path written.
    /// </summary>
    internal string SaveCheckpoint(JepaExperiment experiment)
    {
        var previous = PreviousCheckpointPath(CheckpointPath);
        if (!keepPrevious && File.Exists(previous)) File.Delete(previous); // another run's
        var step = experiment.StepsTaken;
        var rotate = keepPrevious && lastSavedStep != step;
        Checkpoint.Write(CheckpointPath, experiment, rotate ? previous : null);
        keepPrevious = true;
        lastSavedStep = step;
        return CheckpointPath;
    }

    /// <summary>
    /// Loads the checkpoint to resume from into <paramref name="experiment"/>. When it cannot be loaded (missing,
    /// truncated, damaged) and the previous checkpoint beside it (<see cref="PreviousCheckpointPath"/>) can, resumes from
    /// that one and says so through <paramref name="log"/>; a damaged checkpoint of <paramref name="folder"/> is renamed
    /// <c>*.damaged</c> so that it never becomes the previous checkpoint. Returns the full path of the file loaded.
    /// </summary>
    internal static string Resume(JepaExperiment experiment, string path, RunFolder? folder, Action<string> log)
    {
        var full = System.IO.Path.GetFullPath(path);
        try
        {
            experiment.Load(full);
            return full;
        }
        catch (CheckpointException damaged)
        {
            var previous = PreviousCheckpointPath(full);
            if (!File.Exists(previous)) throw;
            try
            {
                experiment.Load(previous);
            }
            catch (CheckpointException also)
            {
                throw new CheckpointException(full, $"{damaged.Problem} The previous checkpoint '{previous}' cannot be loaded either: {also.Problem}", damaged);
            }

            var aside = string.Empty;
            if (folder is not null && full == folder.CheckpointPath && File.Exists(full))
            {
                File.Move(full, full + ".damaged", overwrite: true);
                aside = $" The damaged file is kept as '{full}.damaged'.";
            }
            log($"Checkpoint '{full}' cannot be loaded: {damaged.Problem} Resumed from the previous checkpoint '{previous}' (step {experiment.StepsTaken}) instead.{aside}");
            return previous;
        }
    }

    /// <summary>Writes <paramref name="text"/> to a temporary file beside <paramref name="path"/>, then renames it over it.</summary>
    internal static void WriteAtomically(string path, string text)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }
}
