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
            // An unknown option and the value after it are two parse errors; the user needs one line about the option.
            var unmatched = parse.UnmatchedTokens;
            if (unmatched.Count > 0)
            {
                var first = unmatched[0];
                error.WriteLine(first.StartsWith('-')
                    ? $"error: unknown option '{first}'{Suggest(first, command)}"
                    : $"error: unexpected argument '{first}' (every value follows its option, e.g. --steps 100).");
            }

            foreach (var problem in parse.Errors.Where(e => !unmatched.Any(t => e.Message.Contains($"'{t}'", StringComparison.Ordinal))))
                error.WriteLine($"error: {problem.Message}");
            error.WriteLine("Run with --help to see the options.");
            return 2;
        }

        return parse.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }

    internal static RootCommand CreateCommand(ExperimentDefinition definition, Func<RunSettings, int> action)
    {
        var options = new RunOptions();
        var command = new RootCommand($"Trains the JEPA experiment {definition.Name} and evaluates its encoder.");
        options.AddTo(command);
        command.SetAction(result => action(options.Read(result)));
        return command;
    }

    /// <summary>"; did you mean '--steps'?" for the long option closest to <paramref name="token"/> (at most 2 edits
    /// away), else ".".</summary>
    private static string Suggest(string token, RootCommand command)
    {
        var best = command.Options.SelectMany(o => o.Aliases.Prepend(o.Name))
            .Select(name => (Name: name, Distance: Jepa.Dsl.Text.EditDistance.Between(token, name)))
            .Where(c => c.Distance <= 2 && c.Name.StartsWith("--", StringComparison.Ordinal))
            .OrderBy(c => c.Distance).ThenBy(c => c.Name, StringComparer.Ordinal)
            .FirstOrDefault();
        return best.Name is null ? "." : $"; did you mean '{best.Name}'?";
    }

    /// <summary>
    /// Runs with already parsed settings; returns the exit code: 0 when the run completed, 1 when it failed (one
    /// <c>error:</c> line, never a stack trace: an unexpected exception's detail goes to <c>error.log</c>) or the
    /// collapse monitor stopped it, 130 or 143 when SIGINT or SIGTERM stopped it (docs/reliability.md, "Stops").
    /// <paramref name="program"/> is the command that starts this experiment's program without run options, for the
    /// resume command printed after a stop (default: this process's, <c>dotnet PATH.dll</c> or the program's path).
    /// <paramref name="listen"/> takes the stop signals and unhandled exceptions of other threads (a program does; a
    /// test running the runner in its own process may not).
    /// </summary>
    public static int Execute(ExperimentDefinition definition, RunSettings settings, TextWriter output, TextWriter error,
        IReadOnlyList<string>? program = null, bool listen = true)
    {
        using var control = new RunControl(output, error, program ?? ThisProgram(), listen);
        try
        {
            var report = new RunPipeline(definition, settings, control, output, error).Run();
            if (control.Signal is not null) return control.SignalExitCode;
            return report.StopReason == StopReason.Completed ? 0 : 1;
        }
        catch (Exception exception) when (UserError(exception))
        {
            var code = Report(exception, error, out var message);
            control.TryRecordStop(RunStop.Failed(control.Progress, message, null));
            return code;
        }
        catch (Exception exception)
        {
            return control.Fail(exception, "the run's main thread");
        }
    }

    /// <summary>The command that started this program, as a user would type it again: <c>dotnet PATH.dll</c> for a
    /// program run by the dotnet host (<c>dotnet run</c> does that too), else the program's own path.</summary>
    public static IReadOnlyList<string> ThisProgram()
    {
        var host = Environment.ProcessPath;
        var entry = Environment.GetCommandLineArgs().FirstOrDefault() ?? "program";
        return host is not null && Path.GetFileNameWithoutExtension(host) == "dotnet"
            ? ["dotnet", Path.GetFullPath(entry)]
            : [host ?? entry];
    }

    /// <summary>Prints a user error in one line, without a stack trace; returns the exit code 1.</summary>
    internal static int Report(Exception exception, TextWriter error) => Report(exception, error, out _);

    /// <summary>Prints a user error in one line, without a stack trace, and gives the line's message; returns 1.</summary>
    internal static int Report(Exception exception, TextWriter error, out string message)
    {
        // An ArgumentException's message ends in " (Parameter 'name')", which says nothing to the user.
        message = exception is ArgumentException { ParamName: { } name } argument
            ? argument.Message.Replace($" (Parameter '{name}')", string.Empty, StringComparison.Ordinal)
            : exception.Message;
        error.WriteLine($"error: {message}");
        return 1;
    }

    /// <summary>Failures caused by what the user asked for (options, data, files, devices), not by a bug.</summary>
    internal static bool UserError(Exception exception) => exception is DataException or CheckpointException or NonFiniteLossException or DeviceUnavailableException
        or TorchNativeLoadException or RunException or AllocationFailedException or UnauthorizedAccessException or IOException or ArgumentException;
}

/// <summary>
/// The options of a run (<c>--epochs</c>, <c>--steps</c>, <c>--device</c>, <c>--out</c>, <c>--resume</c>, <c>--overwrite</c>, <c>--data</c>,
/// <c>--test-data</c>, <c>--probe-data</c>, <c>--skip-bad-files</c>, <c>--cache-memory</c>, <c>--data-workers</c>, <c>--plain</c>,
/// <c>--checkpoint-every</c>) and their checks: the command line of every example, and of <c>jepa train</c>, which adds
/// them to its own command so both parse the same way.
/// </summary>
public sealed class RunOptions
{
    private readonly Option<int?> _epochs = WholeNumber<int>("--epochs", "Train for N passes over the data (replaces the file's length; with --resume, more than the run's extends it).");
    private readonly Option<long?> _steps = WholeNumber<long>("--steps", "Train for N optimizer steps (replaces the file's length; with --resume, more than the run's extends it).");
    private readonly Option<string?> _device = new("--device") { Description = "cpu, cuda or auto (default: the file's device)." };
    private readonly Option<string?> _output = new("--out")
    {
        Description = "The run folder (default: runs/<experiment>-<time>); one that holds a run needs --resume (continue it) or --overwrite (replace it).",
    };
    private readonly Option<string?> _resume = new("--resume")
    {
        Description = "Resume from a run folder (or its checkpoint file) with the run's own options and data, from its run.json; " +
                      "an option given again must have the same value.",
    };

    private readonly Option<string[]> _data = DataOption("--data",
        "What the encoder trains on: a folder (images in class folders or flat, train/ and test/ splits, or MNIST-style IDX files) " +
        "or files (a CSV with the label last, .npy, .npz, IDX); labels optional; docs/data.md (default: the digits data).");

    private readonly Option<string[]> _testData = DataOption("--test-data",
        "Labelled samples the evaluation reports on (default: the data's own test split, else 25 % held out, stratified).");

    private readonly Option<string[]> _probeData = DataOption("--probe-data",
        "Labelled samples the probes fit on (default: the training data, when it has labels).");

    private readonly Option<bool> _skipBadFiles = new("--skip-bad-files") { Description = "Leave out images that cannot be decoded (counted in a note) instead of stopping." };
    private readonly Option<long?> _cacheMemory = new("--cache-memory")
    {
        Description = "Memory for decoded samples, as bytes (512M, 2G; 0: none); beyond it images are decoded again every epoch (default: a quarter of the memory).",
        CustomParser = result =>
        {
            var text = string.Join(" ", result.Tokens.Select(t => t.Value));
            if (DataFiles.ParseSize(text) is { } bytes) return bytes;
            result.AddError($"--cache-memory takes a size such as 512M, 2G or 0, not '{text}'.");
            return null;
        },
    };

    private readonly Option<int?> _dataWorkers = WholeNumber<int>("--data-workers", "Threads that read and decode the data (default: one fewer than the cores, 1 to 8).");

    private readonly Option<bool> _overwrite = new("--overwrite") { Description = "Replace the run that the --out folder holds (its run files are deleted first)." };

    private readonly Option<bool> _plain = new("--plain") { Description = "Print plain progress lines instead of the live display." };
    private readonly Option<int?> _checkpointEvery = WholeNumber<int>("--checkpoint-every",
        $"Write the run folder's checkpoint every N steps (default {RunSettings.DefaultCheckpointEvery}, or the resumed run's; 0: only at the end).");

    public RunOptions()
    {
        _device.AcceptOnlyFromAmong("cpu", "cuda", "auto");
    }

    /// <summary>Adds the options and their checks to <paramref name="command"/>; without <paramref name="training"/>
    /// only those that say what to evaluate on (the data options and <c>--device</c>), for <c>jepa evaluate</c>.</summary>
    public void AddTo(Command command, bool training = true)
    {
        var options = training
            ? new Option[] { _epochs, _steps, _device, _output, _resume, _overwrite, _data, _testData, _probeData, _skipBadFiles, _cacheMemory, _dataWorkers, _plain, _checkpointEvery }
            : new Option[] { _device, _data, _testData, _probeData, _skipBadFiles, _cacheMemory, _dataWorkers };
        foreach (var option in options)
            command.Options.Add(option);
        command.Validators.Add(result =>
        {
            // A value that is not a whole number is already an error of its option, and reading it throws.
            T? Value<T>(Option<T?> option) where T : struct
            {
                try
                {
                    return result.GetValue(option);
                }
                catch (InvalidOperationException)
                {
                    return null;
                }
            }

            if (Value(_epochs) is not null && Value(_steps) is not null)
                result.AddError("--epochs and --steps cannot be combined: give one run length.");
            if (Value(_epochs) is < 1) result.AddError("--epochs must be at least 1.");
            if (Value(_steps) is < 1) result.AddError("--steps must be at least 1.");
            if (Value(_checkpointEvery) is < 0) result.AddError("--checkpoint-every cannot be negative.");
            if (Value(_dataWorkers) is < 1) result.AddError("--data-workers must be at least 1.");
        });
    }

    /// <summary>The settings a parsed command line asks for.</summary>
    public RunSettings Read(ParseResult result) => new()
    {
        Epochs = result.GetValue(_epochs),
        Steps = result.GetValue(_steps),
        Device = result.GetValue(_device),
        Out = result.GetValue(_output),
        Resume = result.GetValue(_resume),
        Overwrite = result.GetValue(_overwrite),
        Data = result.GetValue(_data) ?? [],
        SkipBadFiles = result.GetValue(_skipBadFiles),
        CacheMemory = result.GetValue(_cacheMemory),
        DataWorkers = result.GetValue(_dataWorkers),
        TestData = result.GetValue(_testData) ?? [],
        ProbeData = result.GetValue(_probeData) ?? [],
        Plain = result.GetValue(_plain),
        CheckpointEvery = result.GetValue(_checkpointEvery),
    };

    private static Option<string[]> DataOption(string name, string description) => new(name)
    {
        Description = description,
        AllowMultipleArgumentsPerToken = true,
    };

    private static Option<T?> WholeNumber<T>(string name, string description) where T : struct, System.Numerics.IBinaryInteger<T> => new(name)
    {
        Description = description,
        CustomParser = result =>
        {
            var text = string.Join(" ", result.Tokens.Select(t => t.Value));
            if (T.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value)) return value;
            result.AddError($"{name} takes a whole number, not '{text}'.");
            return null;
        },
    };
}

/// <summary>A problem with how the run was asked for (message for the user, no stack trace).</summary>
public sealed class RunException(string message, Exception? inner = null) : Exception(message, inner);
