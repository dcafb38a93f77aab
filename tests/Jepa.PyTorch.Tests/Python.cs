using System.Diagnostics;
using System.Text;

namespace Jepa.PyTorch.Tests;

/// <summary>The tests of the PyTorch target share one collection: they run processes that use both cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PyTorchCollection
{
    public const string Name = "PyTorch";
}

/// <summary>
/// The Python that runs the PyTorch programs: <c>/usr/bin/python3</c> (Debian's, with python3-torch), or the one
/// <c>JEPA_PYTHON</c> names. Without torch, pytest, numpy or Pillow (image folders) the tests that need it report
/// Skipped with the reason and the install command, never silently.
/// </summary>
internal static class Python
{
    public const string InstallCommand = "sudo apt-get install -y --no-install-recommends python3-torch python3-pytest python3-numpy python3-pil libopenblas0";

    public static string Executable { get; } = Environment.GetEnvironmentVariable("JEPA_PYTHON") is { Length: > 0 } p ? p : "/usr/bin/python3";

    private static readonly Lazy<string?> Missing = new(Probe);

    /// <summary>The torch version, or a skip when PyTorch cannot be used.</summary>
    public static void RequireTorch() => Skip.If(Missing.Value is not null, Missing.Value);

    private static string? Probe()
    {
        if (!File.Exists(Executable)) return $"{Executable} does not exist, so the PyTorch tests cannot run. Install PyTorch with: {InstallCommand}";
        var (code, output) = Run(["-c", "import torch, numpy, pytest, PIL; print(torch.__version__)"], TimeSpan.FromMinutes(2));
        return code == 0 ? null : $"PyTorch, numpy, pytest or Pillow is missing for {Executable} ({LastLine(output)}). Install them with: {InstallCommand}";
    }

    /// <summary>Runs Python in the repository root with one thread per process and the runtime package on the path.</summary>
    public static (int ExitCode, string Output) Run(IReadOnlyList<string> arguments, TimeSpan timeout, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(Executable)
        {
            WorkingDirectory = workingDirectory ?? RepositoryRoot.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        start.Environment["PYTHONPATH"] = RepositoryRoot.Combine("python");
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        start.Environment["OMP_NUM_THREADS"] = "1";
        start.Environment["OPENBLAS_NUM_THREADS"] = "1";
        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            lock (output) return (-1, $"{output}\n(killed after {timeout.TotalSeconds:F0} s)");
        }
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }

    private static string LastLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "no output";
}
