using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Jepa.Runtime.Training;

namespace Jepa.Runner;

/// <summary>What a run is doing, for what a signal does meanwhile (docs/reliability.md, "Stops").</summary>
internal enum RunPhase
{
    /// <summary>Reading and indexing the data, checking memory, building the modules: a signal stops the program at once
    /// (nothing was trained by it).</summary>
    Preparing,

    /// <summary>Training: a signal lets the current step finish, then the trainer writes a checkpoint and stops.</summary>
    Training,

    /// <summary>Training is over and checkpointed; the probes run: a signal stops the program at once.</summary>
    Evaluating,
}

/// <summary>
/// What one invocation of the runner owns while it runs: the stop signals (SIGINT, SIGTERM), the run folder's lock, the
/// run-state file's stop record, and the last line of defence against stack traces (an unexpected exception, on any
/// thread, prints one line and leaves the detail in <c>error.log</c>). docs/reliability.md describes what a user sees.
/// </summary>
internal sealed class RunControl : IDisposable
{
    /// <summary>The file an unexpected exception's detail goes to, in the run folder.</summary>
    public const string ErrorLogName = "error.log";

    private readonly TextWriter output;
    private readonly TextWriter error;
    private readonly IReadOnlyList<string> program;
    private readonly CancellationTokenSource stop = new();
    private readonly List<PosixSignalRegistration> registrations = [];
    private readonly object gate = new();
    private readonly UnhandledExceptionEventHandler unhandled;
    private RunFolderLock? ownership;
    private RunPhase phase = RunPhase.Preparing;
    private bool finished;

    /// <param name="program">The command that starts this experiment's program, without run options
    /// (<c>dotnet /path/Digits.dll</c>, <c>jepa train /path/digits.jepa</c>): the start of the resume command printed
    /// after a stop.</param>
    /// <param name="listen">Whether to take SIGINT, SIGTERM and unhandled exceptions of other threads (the programs do;
    /// tests that run the runner inside their own process do not).</param>
    public RunControl(TextWriter output, TextWriter error, IReadOnlyList<string> program, bool listen)
    {
        this.output = output;
        this.error = error;
        this.program = program;
        unhandled = (_, e) => OnUnhandled(e.ExceptionObject as Exception);
        if (!listen) return;
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
        {
            try
            {
                registrations.Add(PosixSignalRegistration.Create(signal, OnSignal));
            }
            catch (PlatformNotSupportedException)
            {
                // SIGTERM has no equivalent on Windows; Ctrl+C still arrives as SIGINT.
            }
        }
        AppDomain.CurrentDomain.UnhandledException += unhandled;
    }

    /// <summary>Cancelled by the first SIGINT or SIGTERM while training.</summary>
    public CancellationToken StopRequested => stop.Token;

    /// <summary>The first stop signal received, if any.</summary>
    public PosixSignal? Signal { get; private set; }

    /// <summary>The exit code of a stop by <see cref="Signal"/>: 130 for SIGINT, 143 for SIGTERM (128 + the signal's number).</summary>
    public int SignalExitCode => Signal == PosixSignal.SIGTERM ? 143 : 130;

    /// <summary>The run folder, once chosen (where <c>error.log</c> goes).</summary>
    public RunFolder? Folder { get; private set; }

    /// <summary>The run-state file's content as last written; the stop record is added to it.</summary>
    public RunState? State { get; private set; }

    /// <summary>Steps trained when the last stop record or checkpoint was taken, and the run's length (for messages).</summary>
    public (long Step, long Total)? Progress { get; set; }

    /// <summary>The options a resume command repeats (those run.json does not keep: --skip-bad-files, --cache-memory,
    /// --data-workers, --plain).</summary>
    public IReadOnlyList<string> InvocationOptions { get; set; } = [];

    /// <summary>Moves the run to <paramref name="next"/>, unless a stop signal has arrived (false): the caller then stops.</summary>
    public bool TryEnter(RunPhase next)
    {
        lock (gate)
        {
            if (Signal is not null) return false;
            phase = next;
            return true;
        }
    }

    /// <summary>Takes the lock of <paramref name="folder"/> for the rest of the invocation (or throws
    /// <see cref="RunFolderInUseException"/> naming its holder).</summary>
    public void Own(RunFolder folder)
    {
        ownership = RunFolderLock.Acquire(folder.Path);
        Folder = folder;
    }

    /// <summary>Writes the run-state file (and remembers it for the stop record).</summary>
    public void WriteState(RunState state)
    {
        lock (gate)
        {
            Folder!.WriteState(state.ToJson());
            State = state;
        }
    }

    /// <summary><see cref="RecordStop"/> on a path that is already failing: a record that cannot be written is left out.</summary>
    public void TryRecordStop(RunStop record)
    {
        try
        {
            RecordStop(record);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The error line already says what happened; run.json keeps its last content.
        }
    }

    /// <summary>Adds <paramref name="record"/> to the run-state file, if the run has one yet.</summary>
    public void RecordStop(RunStop record)
    {
        lock (gate)
        {
            if (State is null || Folder is null) return;
            State = State with { Stop = record };
            Folder.WriteState(State.ToJson());
        }
    }

    /// <summary>The command that resumes the run of this folder: the program, <c>--resume DIR</c>, and the options
    /// that run.json does not keep.</summary>
    public string ResumeCommand(string folder) => Shell([.. program, "--resume", folder, .. InvocationOptions]);

    /// <summary>
    /// An unexpected exception: its whole detail to <c>error.log</c> (in the run folder, or the temporary folder before
    /// there is one), one line to standard error naming the file, and a stop record <c>failed</c>. Returns the exit code, 1.
    /// </summary>
    public int Fail(Exception exception, string where)
    {
        string log;
        try
        {
            log = WriteErrorLog(exception, where);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {Describe(exception)} (its detail could not be written to a log: {e.Message})");
            return 1;
        }
        error.WriteLine($"error: {Describe(exception)} The detail is in {log}.");
        TryRecordStop(RunStop.Failed(Progress, Describe(exception), log));
        return 1;
    }

    /// <summary>An exception in one line: what kind, and its message's first line.</summary>
    public static string Describe(Exception exception)
    {
        var message = exception.Message.Split('\n', 2)[0].Trim();
        var text = $"unexpected failure ({exception.GetType().Name}): {message}";
        return text.EndsWith('.') ? text : text + ".";
    }

    private string WriteErrorLog(Exception exception, string where)
    {
        var folder = Folder?.Path ?? Path.GetTempPath();
        var name = Folder is null ? $"jepa-error-{Environment.ProcessId}.log" : ErrorLogName;
        var path = Path.Combine(folder, name);
        var text = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"time: {DateTimeOffset.Now:yyyy-MM-dd HH:mm:ss zzz}")
            .AppendLine(CultureInfo.InvariantCulture, $"command: {Shell(Environment.GetCommandLineArgs())}")
            .AppendLine(CultureInfo.InvariantCulture, $"process: {Environment.ProcessId} on {Environment.MachineName}, .NET {Environment.Version}, {RuntimeInformation.OSDescription}")
            .AppendLine(CultureInfo.InvariantCulture, $"where: {where}")
            .AppendLine(CultureInfo.InvariantCulture, $"progress: {(Progress is { } p ? $"step {p.Step} of {p.Total}" : "before training")}")
            .AppendLine()
            .AppendLine(exception.ToString());
        File.AppendAllText(path, text + "\n");
        return path;
    }

    /// <summary>The first SIGINT or SIGTERM stops the run where it can stop cleanly; a second SIGINT aborts at once.</summary>
    private void OnSignal(PosixSignalContext context)
    {
        lock (gate)
        {
            if (finished)
            {
                context.Cancel = true;
                return;
            }
            if (Signal is not null)
            {
                if (context.Signal == PosixSignal.SIGINT)
                {
                    // The default action ends the process by SIGINT (exit status 130). Every file of the run folder is
                    // written atomically, so it holds the last complete checkpoint and run-state file.
                    error.WriteLine("Aborted at once (a second SIGINT): the run folder keeps its last complete checkpoint.");
                    error.Flush();
                    context.Cancel = false;
                    return;
                }
                context.Cancel = true; // a repeated SIGTERM: the stop is already under way
                return;
            }

            Signal = context.Signal;
            context.Cancel = true;
            var name = Name(context.Signal);
            if (phase == RunPhase.Training)
            {
                error.WriteLine($"{name}: stopping after the current step with a checkpoint{(context.Signal == PosixSignal.SIGINT ? " (Ctrl+C again aborts at once)" : "")}.");
                stop.Cancel();
                return;
            }

            // Nothing to finish: stop now.
            StopAt(phase, name);
        }
    }

    /// <summary>A stop while preparing or evaluating: say where, record it, end the process.</summary>
    private void StopAt(RunPhase at, string name)
    {
        string message;
        if (at == RunPhase.Evaluating && Folder is not null && Progress is { } p)
        {
            RecordStop(RunStop.Interrupted(name, "evaluation", p, checkpoint: Folder.CheckpointPath, checkpointSeconds: null));
            message = $"Interrupted by {name} during the evaluation; training had ended at step {p.Step} of {p.Total}, checkpoint {Folder.CheckpointPath}.\n" +
                      $"Evaluate again with: {ResumeCommand(Folder.Path)}";
        }
        else
        {
            var resumable = Folder is not null && File.Exists(Folder.CheckpointPath);
            message = $"Interrupted by {name} before training started: nothing was trained by this command." +
                      (resumable ? $"\nResume with: {ResumeCommand(Folder!.Path)}" : "");
        }
        error.WriteLine(message);
        finished = true;
        ExitNow(SignalExitCode);
    }

    /// <summary>
    /// Ends the process at once, from a thread other than the run's: the output flushed, the holder file deleted (the OS
    /// releases the lock), and no exit handlers or static destructors (<c>_exit</c>): <see cref="Environment.Exit"/>
    /// would tear libtorch down under the run's thread, which then fails in an operator of its own.
    /// </summary>
    private void ExitNow(int code)
    {
        output.Flush();
        error.Flush();
        if (Folder is not null)
        {
            try { File.Delete(Path.Combine(Folder.Path, RunFolderLock.HolderFileName)); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        if (!OperatingSystem.IsWindows()) ImmediateExit(code);
        Environment.Exit(code);
    }

    [DllImport("libc", EntryPoint = "_exit")]
    private static extern void ImmediateExit(int status);

    /// <summary>An exception no thread caught (the runner's own thread catches its own): one line, error.log, exit 1.</summary>
    private void OnUnhandled(Exception? exception)
    {
        lock (gate)
        {
            finished = true;
            Fail(exception ?? new InvalidOperationException("An unknown error object was thrown."), $"thread '{Thread.CurrentThread.Name ?? Environment.CurrentManagedThreadId.ToString(CultureInfo.InvariantCulture)}'");
            ExitNow(1);
        }
    }

    /// <summary>No more signal stops (the run is over and its files are written).</summary>
    public void Finish()
    {
        lock (gate) finished = true;
    }

    public void Dispose()
    {
        foreach (var r in registrations) r.Dispose();
        AppDomain.CurrentDomain.UnhandledException -= unhandled;
        ownership?.Dispose();
        stop.Dispose();
    }

    public static string Name(PosixSignal signal) => signal == PosixSignal.SIGTERM ? "SIGTERM" : signal == PosixSignal.SIGINT ? "SIGINT" : signal.ToString();

    /// <summary>Words joined for a POSIX shell: each quoted with single quotes where it holds anything but
    /// letters, digits and <c>-_./=:,+@%</c>.</summary>
    public static string Shell(IEnumerable<string> words) => string.Join(" ", words.Select(Quote));

    private static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c))
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}

/// <summary>
/// How a run's latest invocation ended, as <c>run.json</c> keeps it: <c>completed</c>, <c>collapse</c> (the monitor
/// stopped it), <c>interrupted</c> (a signal: which, and in which phase) or <c>failed</c> (an error: its line, and
/// the log with the detail); the step reached of the run's length, the time, and the checkpoint with how long its
/// write took.
/// </summary>
internal sealed record RunStop(
    string Reason,
    long Step,
    long TotalSteps,
    string Time,
    string? Signal = null,
    string? Phase = null,
    string? Checkpoint = null,
    double? CheckpointSeconds = null,
    string? Message = null,
    string? ErrorLog = null)
{
    private static string Now => DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static RunStop Ended(TrainingRun run) =>
        new(run.StopReason switch { StopReason.Collapse => "collapse", StopReason.Cancelled => "interrupted", _ => "completed" },
            run.Steps, run.TotalSteps, Now, Phase: "training", Checkpoint: run.Checkpoint, CheckpointSeconds: run.CheckpointSeconds);

    public static RunStop Interrupted(string signal, string phase, (long Step, long Total) progress, string? checkpoint, double? checkpointSeconds) =>
        new("interrupted", progress.Step, progress.Total, Now, signal, phase, checkpoint, checkpointSeconds);

    public static RunStop Failed((long Step, long Total)? progress, string message, string? errorLog) =>
        new("failed", progress?.Step ?? 0, progress?.Total ?? 0, Now, Message: message, ErrorLog: errorLog);
}
