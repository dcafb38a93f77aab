using System.CommandLine;
using Jepa.Runtime.Data;
using Jepa.Runtime.Native;
using Jepa.Runtime.Training;
using Spectre.Console;

namespace Jepa.Runner;

/// <summary>
/// The program of every example: <c>return ExperimentRunner.Run(args, MyExperiment.Definition);</c>. It parses the
/// command line, loads and checks the data, trains with a live display, writes the run folder (options, metrics,
/// TensorBoard events, checkpoint, <c>training.png</c>, <c>evaluation.json</c>) and prints the evaluation table.
/// User errors (bad options, bad data, unwritable folders) print one message and exit with 1, without a stack trace.
/// </summary>
public static class ExperimentRunner
{
    public static int Run(string[] args, ExperimentDefinition definition, TextWriter? output = null, TextWriter? error = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        var command = CreateCommand(definition, settings => Execute(definition, settings, output, error));
        var parse = command.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var problem in parse.Errors) error.WriteLine($"error: {problem.Message}");
            error.WriteLine("Run with --help to see the options.");
            return 2;
        }

        return parse.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }

    internal static RootCommand CreateCommand(ExperimentDefinition definition, Func<RunSettings, int> action)
    {
        var epochs = new Option<int?>("--epochs") { Description = "Train for N passes over the data (replaces the file's length)." };
        var steps = new Option<long?>("--steps") { Description = "Train for N optimizer steps (replaces the file's length)." };
        var device = new Option<string?>("--device") { Description = "cpu, cuda or auto (default: the file's device)." };
        device.AcceptOnlyFromAmong("cpu", "cuda", "auto");
        var output = new Option<string?>("--out") { Description = "The run folder (default: runs/<experiment>-<time>)." };
        var resume = new Option<string?>("--resume") { Description = "Resume from a run folder (or its checkpoint file)." };
        var data = new Option<string[]>("--data")
        {
            Description = "Data files: a CSV (optionally .gz, label in the last column) or MNIST IDX images and labels files (default: the digits data).",
            AllowMultipleArgumentsPerToken = true,
        };
        var plain = new Option<bool>("--plain") { Description = "Print plain progress lines instead of the live display." };
        var checkpointEvery = new Option<int?>("--checkpoint-every")
        {
            Description = $"Write the run folder's checkpoint every N steps (default {RunSettings.DefaultCheckpointEvery}; 0: only at the end).",
        };
        var command = new RootCommand($"Trains the JEPA experiment {definition.Name} and evaluates its encoder.")
        {
            epochs, steps, device, output, resume, data, plain, checkpointEvery,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(epochs) is not null && result.GetValue(steps) is not null)
                result.AddError("--epochs and --steps cannot be combined: give one run length.");
            if (result.GetValue(epochs) is < 1) result.AddError("--epochs must be at least 1.");
            if (result.GetValue(steps) is < 1) result.AddError("--steps must be at least 1.");
            if (result.GetValue(checkpointEvery) is < 0) result.AddError("--checkpoint-every cannot be negative.");
        });
        command.SetAction(result => action(new RunSettings
        {
            Epochs = result.GetValue(epochs),
            Steps = result.GetValue(steps),
            Device = result.GetValue(device),
            Out = result.GetValue(output),
            Resume = result.GetValue(resume),
            Data = result.GetValue(data) ?? [],
            Plain = result.GetValue(plain),
            CheckpointEvery = result.GetValue(checkpointEvery) ?? RunSettings.DefaultCheckpointEvery,
        }));
        return command;
    }

    /// <summary>Runs with already parsed settings; returns the exit code.</summary>
    public static int Execute(ExperimentDefinition definition, RunSettings settings, TextWriter output, TextWriter error)
    {
        try
        {
            var report = new RunPipeline(definition, settings, output, error).Run();
            return report.StopReason == StopReason.Completed ? 0 : 1;
        }
        catch (Exception exception) when (UserError(exception))
        {
            error.WriteLine($"error: {exception.Message}");
            return 1;
        }
    }

    private static bool UserError(Exception exception) => exception is DataException or CheckpointException or NonFiniteLossException
        or TorchNativeLoadException or RunException or UnauthorizedAccessException or IOException or ArgumentException;
}

/// <summary>A problem with how the run was asked for (message for the user, no stack trace).</summary>
public sealed class RunException(string message, Exception? inner = null) : Exception(message, inner);
