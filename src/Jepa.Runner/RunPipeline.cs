using System.Globalization;
using Jepa.Runtime.Data;
using Jepa.Runtime.Training;

namespace Jepa.Runner;

/// <summary>
/// One run: the run's state on resume, data and splits, normalisation, <c>run.json</c>, training, chart, evaluation.
/// </summary>
internal sealed class RunPipeline(ExperimentDefinition definition, RunSettings given, TextWriter output, TextWriter error)
{
    public TrainingRun Run()
    {
        // 1. On resume: the checkpoint, and the run's state, which supplies what the command line leaves out.
        var checkpoint = ResumeCheckpoint();
        var state = checkpoint is null ? null : RunState.Read(new RunFolder(Path.GetDirectoryName(checkpoint)!), definition.Name);
        if (checkpoint is not null && state is null)
            output.WriteLine($"Note: {Path.GetDirectoryName(checkpoint)} has no {RunFolder.StateFileName} (a run of an earlier version, or a checkpoint on its own): " +
                             "the run length and data are this command line's, unchecked.");
        var settings = state?.Restore(given, message => error.WriteLine($"warning: {message}")) ?? given;

        var options = definition.Defaults;
        if (settings.Device is { } device) options = options with { Device = device };
        // Before any data is read: a device that is not there fails at once, as the experiment's constructor would.
        Devices.Resolve(options.Device);
        var folder = PrepareRunFolder(settings);

        // 2. The data: each option loaded, checked against the run's on resume, split.
        DataSource Load(IReadOnlyList<string> paths) => DataFiles.Load(paths, definition.InputShape, settings, output.WriteLine);
        using var train = Load(settings.Data);
        using var test = settings.TestData.Count > 0 ? Load(settings.TestData) : null;
        using var probe = settings.ProbeData.Count > 0 ? Load(settings.ProbeData) : null;
        if (state is not null)
        {
            foreach (var moved in new[] { RunState.CheckData(state.Train, train, "--data"), RunState.CheckData(state.Test, test, "--test-data"), RunState.CheckData(state.Probe, probe, "--probe-data") })
                if (moved is not null) output.WriteLine(moved);
        }
        var evaluation = options.Evaluation;
        using var data = RunData.Plan(train, test, probe, evaluation, options.Seed);
        output.WriteLine($"{definition.Name}: {train.Samples}");
        if (train.Samples is StreamingDataset streaming)
            output.WriteLine($"Data: {train.Loaded.Layout}, {train.Loaded.Files.Count} files; {streaming.Memory}; {streaming.Workers} worker{(streaming.Workers == 1 ? "" : "s")}.");
        output.WriteLine(data.Summary);

        // 3. The normalisation: the run's on resume, else declared, else computed on what the encoder trains on. A
        //    resume without run.json takes the checkpoint's.
        var normalization = state?.Normalization ?? options.Normalization ??
                            (checkpoint is null ? InputNormalization.Compute(data.Train, options.Seed) : null);
        options = options with { Normalization = normalization };
        if (normalization is not null) output.WriteLine($"Normalisation{(state is null ? "" : " (the run's)")}: {normalization}.");
        output.WriteLine($"Run folder: {folder.Path}");
        var checkpointEvery = settings.CheckpointEvery ?? RunSettings.DefaultCheckpointEvery;
        RunState WriteState(InputNormalization n)
        {
            var effective = options with { Normalization = n };
            if (settings.Steps is not null) effective = effective with { Steps = settings.Steps };
            if (settings.Epochs is not null) effective = effective with { Epochs = settings.Epochs };
            var record = new RunState(RunState.CurrentFormat, definition.Name, effective.ToJsonObject(), checkpointEvery,
                RecordedSource.Of(train), test is null ? null : RecordedSource.Of(test), probe is null ? null : RecordedSource.Of(probe), n);
            folder.WriteState(record.ToJson());
            return record;
        }
        if (normalization is not null) WriteState(normalization);

        // 4. Training.
        using var experiment = definition.Create(options);
        var trainOptions = new TrainOptions
        {
            Steps = settings.Steps,
            Epochs = settings.Epochs,
            RunFolder = folder.Path,
            CheckpointEvery = checkpointEvery,
            ResumeFrom = checkpoint,
            LogEvery = 10,
            Log = message => error.WriteLine($"warning: {message}"),
            OnlineData = data.Probe, // never the test split; null: the training data when labelled
        };
        var run = ProgressDisplay.Create(output, settings.Plain).Run(progress => experiment.Train(data.Train, trainOptions, progress));
        if (normalization is null) WriteState(experiment.EffectiveOptions.Normalization!);

        output.WriteLine($"Trained {run.Steps} steps in {run.Seconds:F1} s ({run.StopReason}); final loss {run.FinalLoss:G4}.");
        if (ProgressDisplay.Online(run.OnlineReadings) is { } online) output.WriteLine(online);
        output.WriteLine($"Parameters SHA-256: {experiment.ParameterDigest()}");
        var chart = TrainingChart.Write(folder.Path, definition.Name);
        if (chart is not null) output.WriteLine($"Chart: {chart}");

        // 5. Evaluation.
        if (data.Probe is not null && data.Test is not null)
        {
            using var probeSamples = data.ProbeDataset();
            using var testSamples = data.TestDataset();
            var results = EvaluationSuite.Run(definition, experiment.EffectiveOptions, experiment, probeSamples, testSamples, evaluation);
            EvaluationSuite.Print(results, evaluation, data, output);
            var path = EvaluationSuite.WriteJson(folder.Path, definition.Name, run, results, data);
            output.WriteLine($"Evaluation: {path}");
        }
        return run;
    }

    private RunFolder PrepareRunFolder(RunSettings settings)
    {
        var folder = settings.Out
                     ?? (settings.Resume is { } resume ? (Directory.Exists(resume) ? resume : Path.GetDirectoryName(Path.GetFullPath(resume))!) : null)
                     ?? Path.Combine("runs", $"{definition.Name}-{DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}");
        try
        {
            Directory.CreateDirectory(folder);
            var probe = Path.Combine(folder, ".write-test");
            File.WriteAllText(probe, string.Empty);
            File.Delete(probe);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new RunException($"The run folder {folder} cannot be written: {exception.Message}", exception);
        }

        return new RunFolder(folder);
    }

    /// <summary>The checkpoint of <c>--resume</c> (full path), or null without it.</summary>
    private string? ResumeCheckpoint()
    {
        if (given.Resume is not { } resume) return null;
        var path = Path.GetFullPath(Directory.Exists(resume) ? Path.Combine(resume, RunFolder.CheckpointFileName) : resume);
        // A missing checkpoint with its previous one beside it (a kill between the two renames of a write) resumes
        // from the previous one, with a warning from the trainer.
        if (!File.Exists(path) && !File.Exists(RunFolder.PreviousCheckpointPath(path)))
            throw new RunException($"There is no checkpoint to resume from at {path}.");
        return path;
    }
}
