using System.Globalization;
using Jepa.Runtime.Data;
using Jepa.Runtime.Evaluation;
using Jepa.Runtime.Training;

namespace Jepa.Runner;

/// <summary>One run: data, training, run folder, chart, evaluation.</summary>
internal sealed class RunPipeline(ExperimentDefinition definition, RunSettings settings, TextWriter output, TextWriter error)
{
    public TrainingRun Run()
    {
        var options = definition.Defaults;
        if (settings.Device is { } device) options = options with { Device = device };
        // Before any data is read: a device that is not there fails at once, as the experiment's constructor would.
        Devices.Resolve(options.Device);

        var evaluation = options.Evaluation;
        var folder = PrepareRunFolder();
        using var all = DataFiles.Load(settings.Data, definition.InputShape, evaluation.Any ? evaluation.Names : null);
        var (train, test) = all.HasLabels ? all.Split(evaluation.TestFraction, options.Seed) : (all, null);
        using (test)
        {
            output.WriteLine($"{definition.Name}: {all}");
            output.WriteLine(test is null
                ? $"Training on all {train.Count} samples (no labels: no evaluation)."
                : $"Training on {train.Count} samples; {test.Count} held out for evaluation ({evaluation.TestFraction:P0}, stratified).");
            output.WriteLine($"Run folder: {folder}");

            using var experiment = definition.Create(options);
            var trainOptions = new TrainOptions
            {
                Steps = settings.Steps,
                Epochs = settings.Epochs,
                RunFolder = folder,
                CheckpointEvery = settings.CheckpointEvery,
                ResumeFrom = ResumeCheckpoint(),
                LogEvery = 10,
                Log = message => error.WriteLine($"warning: {message}"),
            };

            var run = ProgressDisplay.Create(output, settings.Plain).Run(progress => experiment.Train(train, trainOptions, progress));

            output.WriteLine($"Trained {run.Steps} steps in {run.Seconds:F1} s ({run.StopReason}); final loss {run.FinalLoss:G4}.");
            output.WriteLine($"Parameters SHA-256: {experiment.ParameterDigest()}");
            var chart = TrainingChart.Write(folder, definition.Name);
            if (chart is not null) output.WriteLine($"Chart: {chart}");
            if (test is not null && evaluation.Any)
            {
                var results = EvaluationSuite.Run(definition, options, experiment, train, test, evaluation);
                EvaluationSuite.Print(results, evaluation, output);
                var path = EvaluationSuite.WriteJson(folder, definition.Name, run, results);
                output.WriteLine($"Evaluation: {path}");
            }

            if (!ReferenceEquals(train, all)) train.Dispose();
            return run;
        }
    }

    private string PrepareRunFolder()
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

        return Path.GetFullPath(folder);
    }

    private string? ResumeCheckpoint()
    {
        if (settings.Resume is not { } resume) return null;
        var path = Directory.Exists(resume) ? Path.Combine(resume, RunFolder.CheckpointFileName) : resume;
        // A missing checkpoint with its previous one beside it (a kill between the two renames of a write) resumes
        // from the previous one, with a warning from the trainer.
        if (!File.Exists(path) && !File.Exists(RunFolder.PreviousCheckpointPath(path)))
            throw new RunException($"There is no checkpoint to resume from at {path}.");
        return path;
    }
}
