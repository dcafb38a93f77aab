using System.Globalization;
using Jepa.Runtime;
using Jepa.Runtime.Data;
using Jepa.Runtime.Training;

namespace Jepa.Runner;

/// <summary>
/// One run: the run's state on resume, the run folder (owned, checked), data and splits, the memory check,
/// normalisation, <c>run.json</c>, training, chart, evaluation. <paramref name="control"/> follows it: the phase (for
/// what a signal does), the folder (for <c>error.log</c>), the run state (for the stop record).
/// </summary>
internal sealed class RunPipeline(ExperimentDefinition definition, RunSettings given, RunControl control, TextWriter output, TextWriter error)
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
        control.InvocationOptions = InvocationOptions(settings);

        var options = definition.Defaults;
        if (settings.Device is { } device) options = options with { Device = device };
        // Before any data is read: a device that is not there fails at once, as the experiment's constructor would.
        var resolved = Devices.Resolve(options.Device);
        var folder = RunFolders.Prepare(definition.Name, settings, checkpoint, control, output);

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

        // 3. Memory: the compiler's estimate and the data against what is available, before anything is built.
        var memory = MemoryCheck.Run(definition, resolved, new[] { train, test, probe }.OfType<DataSource>().Select(d => d.Samples), output);

        // 4. The normalisation: the run's on resume, else declared, else computed on what the encoder trains on. A
        //    resume without run.json takes the checkpoint's.
        var normalization = state?.Normalization ?? options.Normalization ??
                            (checkpoint is null ? InputNormalization.Compute(data.Train, options.Seed) : null);
        options = options with { Normalization = normalization };
        if (normalization is not null) output.WriteLine($"Normalisation{(state is null ? "" : " (the run's)")}: {normalization}.");
        output.WriteLine($"Run folder: {folder.Path}");
        var checkpointEvery = settings.CheckpointEvery ?? RunSettings.DefaultCheckpointEvery;
        void WriteState(InputNormalization n)
        {
            var effective = options with { Normalization = n };
            if (settings.Steps is not null) effective = effective with { Steps = settings.Steps };
            if (settings.Epochs is not null) effective = effective with { Epochs = settings.Epochs };
            control.WriteState(new RunState(RunState.CurrentFormat, definition.Name, effective.ToJsonObject(), checkpointEvery,
                RecordedSource.Of(train), test is null ? null : RecordedSource.Of(test), probe is null ? null : RecordedSource.Of(probe), n));
        }
        if (normalization is not null) WriteState(normalization);

        // 5. Training.
        using var experiment = Build(options);
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
        if (FaultInjection.Is("background-thread"))
            new Thread(() => throw new InvalidOperationException($"Injected fault ({FaultInjection.Variable}): a background thread failed.")) { IsBackground = true, Name = "injected" }.Start();
        control.TryEnter(RunPhase.Training); // a signal before this point has ended the program already
        var run = ProgressDisplay.Create(output, settings.Plain).Run(display =>
            experiment.Train(data.Train, trainOptions, new Following(display, control), control.StopRequested));
        control.Progress = (run.Steps, run.TotalSteps);
        if (normalization is null) WriteState(experiment.EffectiveOptions.Normalization!);
        // A signal during the last step (or right after it) stops the run before the evaluation, as one before it does.
        var interrupted = !control.TryEnter(RunPhase.Evaluating);
        control.RecordStop(interrupted && control.Signal is { } signal
            ? RunStop.Interrupted(RunControl.Name(signal), "training", (run.Steps, run.TotalSteps), run.Checkpoint, run.CheckpointSeconds)
            : RunStop.Ended(run));

        output.WriteLine($"Trained {run.Steps} steps in {run.Seconds:F1} s ({run.StopReason}); final loss {run.FinalLoss:G4}.");
        if (ProgressDisplay.Online(run.OnlineReadings) is { } online) output.WriteLine(online);
        output.WriteLine($"Parameters SHA-256: {experiment.ParameterDigest()}");
        output.WriteLine(memory.Peak());
        var chart = TrainingChart.Write(folder.Path, definition.Name);
        if (chart is not null) output.WriteLine($"Chart: {chart}");
        if (interrupted || run.StopReason == StopReason.Cancelled)
        {
            var name = control.Signal is { } s ? RunControl.Name(s) : "a cancellation";
            var seconds = run.CheckpointSeconds is { } c ? $" (written in {c.ToString("0.00", CultureInfo.InvariantCulture)} s)" : "";
            error.WriteLine($"Interrupted by {name} at step {run.Steps} of {run.TotalSteps}; checkpoint {run.Checkpoint}{seconds}.");
            error.WriteLine($"Resume with: {control.ResumeCommand(folder.Path)}");
            return run;
        }

        // 6. Evaluation.
        if (data.Probe is not null && data.Test is not null)
        {
            try
            {
                using var probeSamples = data.ProbeDataset();
                using var testSamples = data.TestDataset();
                var results = EvaluationSuite.Run(definition, experiment.EffectiveOptions, experiment, probeSamples, testSamples, evaluation);
                control.Finish();
                EvaluationSuite.Print(results, evaluation, data, output);
                var path = EvaluationSuite.WriteJson(folder.Path, definition.Name, EvaluatedRun.Of(run), results, data);
                output.WriteLine($"Evaluation: {path}");
            }
            catch (Exception e) when (AllocationFailedException.From(e, "evaluation") is { } failed && !ReferenceEquals(failed, e))
            {
                throw failed;
            }
        }
        control.Finish();
        return run;
    }

    /// <summary>The experiment, with an allocation failure while its modules are built said as such.</summary>
    private JepaExperiment Build(ExperimentOptions options)
    {
        try
        {
            return definition.Create(options);
        }
        catch (Exception e) when (AllocationFailedException.From(e, "building modules") is { } failed && !ReferenceEquals(failed, e))
        {
            throw failed;
        }
    }

    /// <summary>The options of this invocation that <c>run.json</c> does not keep, which a resume command repeats.</summary>
    private static List<string> InvocationOptions(RunSettings settings)
    {
        var options = new List<string>();
        if (settings.SkipBadFiles) options.Add("--skip-bad-files");
        if (settings.CacheMemory is { } cache) options.AddRange(["--cache-memory", cache.ToString(CultureInfo.InvariantCulture)]);
        if (settings.DataWorkers is { } workers) options.AddRange(["--data-workers", workers.ToString(CultureInfo.InvariantCulture)]);
        if (settings.Plain) options.Add("--plain");
        return options;
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

    /// <summary>The display's progress, which also keeps the control's step count current (for a failure's record).</summary>
    private sealed class Following(IProgress<StepReport> display, RunControl control) : IProgress<StepReport>
    {
        public void Report(StepReport value)
        {
            control.Progress = (value.Step, value.TotalSteps);
            display.Report(value);
        }
    }
}
