using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Jepa.EndToEnd.Tests;

/// <summary>
/// An example program run as its own process (<c>dotnet examples/NAME/bin/.../NAME.dll ARGS</c>, not <c>dotnet run</c>,
/// so that killing it kills the program itself), with one torch thread (OMP_NUM_THREADS=1): runs are then
/// bit-reproducible and do not fight other processes for the cores. The example is built once per test run.
/// </summary>
public sealed class ExampleProcess : IDisposable
{
    private static readonly ConcurrentDictionary<string, Lazy<string>> Built = new(StringComparer.Ordinal);
    private readonly Process process;
    private readonly StringBuilder output = new();
    private readonly StringBuilder error = new();
    private readonly List<string> lines = [];

    private ExampleProcess(string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetTempPath(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["OMP_NUM_THREADS"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (lines)
            {
                output.AppendLine(e.Data);
                lines.Add(e.Data);
                Monitor.PulseAll(lines);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (lines) error.AppendLine(e.Data);
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Started = DateTime.UtcNow;
    }

    public DateTime Started { get; }

    public bool HasExited => process.HasExited;

    public string Output { get { lock (lines) return output.ToString(); } }

    public string Error { get { lock (lines) return error.ToString(); } }

    /// <summary>The built example's program (built by this method the first time, with the tests' configuration).</summary>
    public static string Dll(string example)
    {
        return Built.GetOrAdd(example, name => new Lazy<string>(() =>
        {
            var result = Dotnet.Run(Repository.Root, TimeSpan.FromMinutes(10), "build", $"examples/{name}", "-c", Repository.Configuration);
            Assert.True(result.ExitCode == 0, result.All);
            var dll = Path.Combine(Repository.Root, "examples", name, "bin", Repository.Configuration, "net10.0", name + ".dll");
            Assert.True(File.Exists(dll), dll);
            return dll;
        })).Value;
    }

    public static ExampleProcess Start(string example, params string[] args) => new(Dll(example), args, null);

    /// <summary>The example with extra environment variables.</summary>
    public static ExampleProcess Start(string example, IReadOnlyDictionary<string, string> environment, params string[] args) => new(Dll(example), args, environment);

    /// <summary>The <c>jepa</c> command (src/Jepa.Cli, built once per test run).</summary>
    public static ExampleProcess StartCli(IReadOnlyDictionary<string, string>? environment, params string[] args) => new(CliDll(), args, environment);

    /// <summary>The built <c>jepa</c> command.</summary>
    public static string CliDll()
    {
        return Built.GetOrAdd("(jepa)", _ => new Lazy<string>(() =>
        {
            var result = Dotnet.Run(Repository.Root, TimeSpan.FromMinutes(10), "build", "src/Jepa.Cli", "-c", Repository.Configuration);
            Assert.True(result.ExitCode == 0, result.All);
            var dll = Path.Combine(Repository.Root, "src", "Jepa.Cli", "bin", Repository.Configuration, "net10.0", "jepa.dll");
            Assert.True(File.Exists(dll), dll);
            return dll;
        })).Value;
    }

    public int Id => process.Id;

    /// <summary>Sends <paramref name="signal"/> (2: SIGINT, 15: SIGTERM) to the program, as a terminal or a scheduler does.</summary>
    public void Signal(int signal)
    {
        if (Kill(process.Id, signal) != 0) throw new InvalidOperationException($"kill({process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>Runs to the end; returns the exit code and the output.</summary>
    public static ProcessResult Run(string example, TimeSpan timeout, params string[] args) => Run(Start(example, args), timeout);

    /// <summary>Runs a started process to the end; returns the exit code and the output.</summary>
    public static ProcessResult Run(ExampleProcess started, TimeSpan timeout)
    {
        using var p = started;
        if (!p.WaitForExit(timeout))
        {
            p.Kill();
            throw new TimeoutException($"the program did not finish within {timeout}.\n{p.Output}\n{p.Error}");
        }

        return new ProcessResult(p.process.ExitCode, p.Output, p.Error);
    }

    /// <summary>Waits for a line of standard output that matches; returns it, or null if the process ends first or the time is up.</summary>
    public string? WaitForLine(Func<string, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var seen = 0;
        while (true)
        {
            var exited = process.HasExited;
            if (exited) process.WaitForExit(); // drains the output events still in flight
            lock (lines)
            {
                for (; seen < lines.Count; seen++)
                {
                    if (match(lines[seen])) return lines[seen];
                }

                if (exited || DateTime.UtcNow >= deadline) return null;
                Monitor.Wait(lines, TimeSpan.FromMilliseconds(50));
            }
        }
    }

    public bool WaitForExit(TimeSpan timeout)
    {
        if (!process.WaitForExit(timeout)) return false;
        process.WaitForExit(); // drains the output events
        return true;
    }

    public int ExitCode => process.ExitCode;

    /// <summary>SIGKILL (what <see cref="Process.Kill()"/> sends on Unix): no handler, no finally, no flush runs.</summary>
    public void Kill()
    {
        try
        {
            process.Kill();
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        process.WaitForExit();
    }

    public void Dispose()
    {
        if (!process.HasExited) Kill();
        process.Dispose();
    }
}
