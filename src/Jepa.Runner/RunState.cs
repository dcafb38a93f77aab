using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Jepa.Runtime.Training;

namespace Jepa.Runner;

/// <summary>A data option of a run as <c>run.json</c> keeps it: how messages named it, its full paths, its fingerprint.</summary>
internal sealed record RecordedSource(string Description, IReadOnlyList<string> Paths, DataFingerprint Fingerprint)
{
    public static RecordedSource Of(DataSource source) => new(source.Description, source.Paths, source.Fingerprint);
}

/// <summary>
/// The run-state file <c>run.json</c> (<see cref="RunFolder.StateFileName"/>): what a run is, so that <c>--resume DIR</c>
/// restores all of it. <see cref="Options"/> are the effective options (the file's values with every override, the
/// normalisation included); <see cref="CheckpointEvery"/> the checkpoint interval; <see cref="Train"/>,
/// <see cref="Test"/> and <see cref="Probe"/> the data of <c>--data</c>, <c>--test-data</c> and <c>--probe-data</c>
/// (null where not given) with their fingerprints; <see cref="Stop"/> how the latest invocation ended (null while it
/// runs, and in files of earlier versions). docs/runtime-training.md, "The run folder", shows one.
/// </summary>
internal sealed record RunState(
    int Format,
    string Experiment,
    JsonObject Options,
    int CheckpointEvery,
    RecordedSource Train,
    RecordedSource? Test,
    RecordedSource? Probe,
    InputNormalization Normalization,
    RunStop? Stop = null)
{
    public const int CurrentFormat = 1;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public JsonObject ToJson() => JsonSerializer.SerializeToNode(this, Json)!.AsObject();

    /// <summary>The run-state of <paramref name="folder"/>, or null when it has none; a run of another experiment than
    /// <paramref name="experiment"/> is a <see cref="RunException"/>.</summary>
    public static RunState? Read(RunFolder folder, string experiment)
    {
        if (folder.ReadState() is not { } json) return null;
        RunState? state;
        try
        {
            state = json.Deserialize<RunState>(Json);
        }
        catch (JsonException e)
        {
            throw new RunException($"The run-state file {folder.StatePath} cannot be read: {e.Message}", e);
        }
        if (state is null || state.Format != CurrentFormat || state.Options is null || state.Train is null || state.Normalization is null)
            throw new RunException($"The run-state file {folder.StatePath} is not one this version writes (format {CurrentFormat}).");
        if (state.Experiment != experiment)
            throw new RunException($"{folder.Path} holds a run of the experiment {state.Experiment}, not {experiment}.");
        return state;
    }

    /// <summary>The run length the run was started (or last extended) with: steps, or epochs.</summary>
    [JsonIgnore]
    public (long? Steps, int? Epochs) Length => (Options["Steps"]?.GetValue<long>(), Options["Epochs"]?.GetValue<int>());

    /// <summary>The device option of the run.</summary>
    [JsonIgnore]
    public string Device => Options["Device"]?.GetValue<string>() ?? "cpu";

    /// <summary>
    /// The settings of a resume: what the command line leaves out comes from the run; what it gives must agree with the
    /// run: the same value is fine; more <c>--steps</c> (or <c>--epochs</c>) extends the run, with a warning through
    /// <paramref name="warn"/>; any other different run length or device is a <see cref="RunException"/>. Data paths
    /// that differ are kept here and checked by fingerprint once loaded (<see cref="CheckData"/>).
    /// <c>--checkpoint-every</c> and <c>--plain</c> say how this invocation runs, not what the run learns: they may
    /// differ (an absent <c>--checkpoint-every</c> is the run's).
    /// </summary>
    public RunSettings Restore(RunSettings given, Action<string> warn)
    {
        var (steps, epochs) = Length;
        if (given.Steps is { } s)
        {
            if (steps is not { } run)
                throw new RunException($"The run is {epochs} epochs long; --steps {s} would change how its length is counted. Give --epochs N, more than {epochs}, to extend it.");
            if (s < run) throw new RunException($"The run is {run} steps long; --steps {s} would shorten it. A resumed run keeps its length, or extends it with more --steps.");
            if (s > run) warn(Extension($"--steps {s}", $"{run} steps"));
        }
        if (given.Epochs is { } e)
        {
            if (epochs is not { } run)
                throw new RunException($"The run is {steps} steps long; --epochs {e} would change how its length is counted. Give --steps N, more than {steps}, to extend it.");
            if (e < run) throw new RunException($"The run is {run} epochs long; --epochs {e} would shorten it. A resumed run keeps its length, or extends it with more --epochs.");
            if (e > run) warn(Extension($"--epochs {e}", $"{run} epochs"));
        }
        if (given.Device is { } device && device != Device)
            throw new RunException($"The run trains on device '{Device}'; --device {device} would switch it. A resumed run keeps its device: start a new run (--out) to train elsewhere.");

        return given with
        {
            Steps = given.Steps ?? (given.Epochs is null ? steps : null),
            Epochs = given.Epochs ?? (given.Steps is null ? epochs : null),
            Device = Device,
            CheckpointEvery = given.CheckpointEvery ?? CheckpointEvery,
            Data = Keep(given.Data, Train, "--data"),
            TestData = Keep(given.TestData, Test, "--test-data"),
            ProbeData = Keep(given.ProbeData, Probe, "--probe-data"),
        };
    }

    private static string Extension(string option, string length) =>
        $"{option} extends the run from {length}. Schedules stretched over the run's length (learning rate, weight decay, EMA momentum) " +
        $"change from the resumed step on, so the result is not that of a run started with {option}.";

    /// <summary>The paths of a data option on resume: the given ones (checked once loaded), else the run's, which must still be there.</summary>
    private static IReadOnlyList<string> Keep(IReadOnlyList<string> given, RecordedSource? recorded, string option)
    {
        if (given.Count > 0)
        {
            if (recorded is null)
                throw new RunException($"The run was started without {option}; {option} {string.Join(" ", given)} would change the data it trains and evaluates on. Start a new run (--out) for other data.");
            return given;
        }
        if (recorded is null) return given;
        var missing = recorded.Paths.Where(p => !File.Exists(p) && !Directory.Exists(p)).ToList();
        if (missing.Count > 0)
            throw new RunException($"The run's data {string.Join(", ", missing)} is not there any more ({option} of the run). If it moved, give its new place with {option} NEWPATH: it is checked against the run's files, sizes and sample counts.");
        return recorded.Paths;
    }

    /// <summary>
    /// Checks a loaded data option against the run's: the same fingerprint (relative paths, sizes, sample counts), else
    /// a <see cref="RunException"/> that names what changed. Returns a note when the data moved (other paths), else null.
    /// </summary>
    public static string? CheckData(RecordedSource? recorded, DataSource? loaded, string option)
    {
        if (recorded is null || loaded is null) return null;
        var changes = recorded.Fingerprint.Changes(loaded.Fingerprint);
        if (changes.Count > 0)
            throw new RunException($"{option} {loaded.Description} is not the data the run trained on ({recorded.Description}): {string.Join("; ", changes)}. " +
                                   "A resumed run trains on the data it started with: start a new run (--out) for other data.");
        return recorded.Paths.SequenceEqual(loaded.Paths, StringComparer.Ordinal)
            ? null
            : $"The data of {option} moved: {recorded.Description} is now {loaded.Description} (the same files, sizes and sample counts).";
    }
}
