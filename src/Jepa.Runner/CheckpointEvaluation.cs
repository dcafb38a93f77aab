using Jepa.Runtime.Data;
using Jepa.Runtime.Interop;
using Jepa.Runtime.Training;

namespace Jepa.Runner;

/// <summary>
/// <c>jepa evaluate FILE.jepa --checkpoint PATH</c>: the weights of a checkpoint, TorchSharp's (<c>checkpoint.ckpt</c> of
/// a .NET run) or PyTorch's (<c>checkpoint.pt</c> of an exported program, possibly trained with torchrun), loaded into
/// the generated experiment and evaluated as a run evaluates: the same data options and splits (<see cref="RunData"/>:
/// the digits' held-out 25 % are the samples the PyTorch program held out too), the probes of the file
/// (<see cref="EvaluationSuite"/>: trained, random init, raw input), the same table and <c>evaluation.json</c>. Without
/// data options a .NET run's folder supplies its own (<c>run.json</c>).
/// </summary>
public static class CheckpointEvaluation
{
    /// <summary>Evaluates; returns the exit code (1 with one message for a user error, as a run).</summary>
    public static int Execute(ExperimentDefinition definition, string checkpoint, RunSettings settings, TextWriter output, TextWriter error)
    {
        try
        {
            Run(definition, checkpoint, settings, output);
            return 0;
        }
        catch (Exception exception) when (ExperimentRunner.UserError(exception))
        {
            return ExperimentRunner.Report(exception, error);
        }
    }

    /// <summary>The kinds of checkpoint this reads, told apart by their first bytes.</summary>
    private enum Format
    {
        TorchSharp,
        PyTorch,
    }

    private static void Run(ExperimentDefinition definition, string checkpoint, RunSettings settings, TextWriter output)
    {
        var path = Path.GetFullPath(Directory.Exists(checkpoint) ? FindIn(checkpoint) : checkpoint);
        var format = FormatOf(path);

        // The options of the file; either checkpoint brings the input normalisation its run trained with when it loads.
        var options = definition.Defaults;
        if (settings.Device is { } device) options = options with { Device = device };
        Devices.Resolve(options.Device);

        // The weights.
        using var experiment = definition.Create(options);
        EvaluatedRun run;
        if (format == Format.PyTorch)
        {
            var info = PyTorchCheckpoint.Load(experiment, path);
            output.WriteLine($"Loaded {path}: step {info.Step} of a PyTorch run on {info.WorldSize} process{(info.WorldSize == 1 ? "" : "es")}.");
            run = new EvaluatedRun(info.Step, info.Seconds, info.Readings is { Count: > 0 } r ? r[^1] : null, info.Alarms, null, path);
        }
        else
        {
            experiment.Load(path);
            output.WriteLine($"Loaded {path}: step {experiment.StepsTaken} of a TorchSharp run.");
            run = new EvaluatedRun(experiment.StepsTaken, null, null, 0, null, path);
        }

        // The data and its splits, as a run plans them; without data options, those of a .NET run's run.json beside it
        // (a PyTorch run's run.json records only how it stopped).
        if (format == Format.TorchSharp && settings.Data.Count == 0 && settings.TestData.Count == 0 && settings.ProbeData.Count == 0
            && RunState.Read(new RunFolder(Path.GetDirectoryName(path)!), definition.Name) is { } state)
        {
            settings = settings with { Data = state.Train.Paths, TestData = state.Test?.Paths ?? [], ProbeData = state.Probe?.Paths ?? [] };
            output.WriteLine($"Data: the run's ({RunFolder.StateFileName}): {state.Train.Description}.");
        }

        DataSource Load(IReadOnlyList<string> paths) => DataFiles.Load(paths, definition.InputShape, settings, output.WriteLine);
        using var train = Load(settings.Data);
        using var test = settings.TestData.Count > 0 ? Load(settings.TestData) : null;
        using var probe = settings.ProbeData.Count > 0 ? Load(settings.ProbeData) : null;
        var evaluation = options.Evaluation;
        if (!evaluation.Any) throw new RunException($"{definition.Name}'s evaluate block is empty: there is nothing to evaluate.");
        using var data = RunData.Plan(train, test, probe, evaluation, options.Seed);
        output.WriteLine($"{definition.Name}: {train.Samples}");
        output.WriteLine(data.Summary);
        if (data.Probe is null || data.Test is null) throw new RunException("The data has no labels: the probes need labelled samples (give them with --probe-data and --test-data).");

        if (experiment.EffectiveOptions.Normalization is { IsIdentity: false } normalization) output.WriteLine($"Normalisation (the checkpoint's): {normalization}.");
        output.WriteLine($"Parameters SHA-256: {experiment.ParameterDigest()}");

        // The evaluation.
        using var probeSamples = data.ProbeDataset();
        using var testSamples = data.TestDataset();
        var results = EvaluationSuite.Run(definition, experiment.EffectiveOptions, experiment, probeSamples, testSamples, evaluation);
        EvaluationSuite.Print(results, evaluation, data, output);
        var folder = settings.Out ?? Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(folder);
        output.WriteLine($"Evaluation: {EvaluationSuite.WriteJson(folder, definition.Name, run, results, data)}");
    }

    /// <summary>The checkpoint of a run folder: TorchSharp's, else PyTorch's.</summary>
    private static string FindIn(string folder)
    {
        foreach (var name in new[] { RunFolder.CheckpointFileName, PyTorchCheckpoint.FileName })
        {
            var candidate = Path.Combine(folder, name);
            if (File.Exists(candidate)) return candidate;
        }

        throw new RunException($"{folder} holds neither {RunFolder.CheckpointFileName} (a .NET run) nor {PyTorchCheckpoint.FileName} (a PyTorch program's run).");
    }

    private static Format FormatOf(string path)
    {
        if (!File.Exists(path)) throw new RunException($"There is no checkpoint at {path}.");
        Span<byte> head = stackalloc byte[8];
        using (var file = File.OpenRead(path))
        {
            head = head[..file.Read(head)];
        }

        // PyTorch's files are zip archives; anything else is read as a TorchSharp checkpoint, which says what it is not.
        return head.Length >= 4 && head[0] == (byte)'P' && head[1] == (byte)'K' && head[2] == 3 && head[3] == 4 ? Format.PyTorch : Format.TorchSharp;
    }
}
