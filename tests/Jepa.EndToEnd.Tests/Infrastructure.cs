using System.Diagnostics;
using System.Text;

namespace Jepa.EndToEnd.Tests;

/// <summary>Tests that start <c>dotnet</c> share the build outputs of the repository, so they never run in parallel.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DotnetCollection
{
    public const string Name = "dotnet";
}

public static class Repository
{
    public static string Root => RepositoryRoot.Path;

    /// <summary>The configuration the tests were built in; child builds use it too, so they reuse the outputs.</summary>
#if DEBUG
    public const string Configuration = "Debug";
#else
    public const string Configuration = "Release";
#endif
}

/// <summary>A consumer project's files: a tiny <c>.jepa</c> (namespace <c>Consumer</c> from the project's name) and a
/// program that trains it for its 3 steps on random data and prints what it did.</summary>
public static class ConsumerFiles
{
    /// <summary>How a project inside the repository uses Jepa (a project file's body): the runtime and the generator by
    /// project reference, and the targets that add every <c>.jepa</c> file.</summary>
    public static string RepositoryReferences => $"""
        <ItemGroup>
          <ProjectReference Include="{Repository.Root}/src/Jepa.Runtime/Jepa.Runtime.csproj" />
          <ProjectReference Include="{Repository.Root}/src/Jepa.Generators/Jepa.Generators.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
        </ItemGroup>
        <Import Project="{Repository.Root}/build/Jepa.targets" />
        """;

    public const string TinyExperiment = """
        experiment Tiny {
            input image: float[1, 8, 8];
            corruption noisy = gaussian_noise(std: 0.1) then feature_dropout(p: 0.2);
            encoder context = mlp(hidden: [32], out: 16);
            encoder target = ema(context, momentum: 0.99 -> 1.0);
            predictor = mlp(hidden: [32]);
            objective { predict target(image) from context(noisy(image)); loss smooth_l1(target_norm: layer); }
            train { optimizer adamw(lr: 1e-3); batch 8; steps 3; seed 5; }
        }
        """;

    public const string TinyProgram = """
        using Jepa.Runtime.Data;
        using TorchSharp;

        // Trains the generated experiment for its 3 steps on random data and prints what it did.
        using var data = Datasets.FromTensors(torch.rand(64, 1, 8, 8));
        using var experiment = new Consumer.Tiny();
        var run = experiment.Train(data);
        Console.WriteLine($"steps {run.Steps} loss {run.FinalLoss:R} parameters {Consumer.Tiny.ParameterCount} width {Consumer.Tiny.EmbeddingWidth}");
        """;
}

public sealed record ProcessResult(int ExitCode, string Output, string Error)
{
    /// <summary>
    /// Both streams, then the error.log that a failed run names ("The detail is in PATH.") while its folder still exists:
    /// the stack of an unexpected failure (an intermittent native fault) then reaches the test's failure message even
    /// though the run folder is temporary.
    /// </summary>
    public string All => Output + Error + DetailLog();

    private string DetailLog()
    {
        var named = System.Text.RegularExpressions.Regex.Match(Output + Error, @"The detail is in (\S+error\.log)\.");
        return named.Success && File.Exists(named.Groups[1].Value)
            ? $"\n--- {named.Groups[1].Value} ---\n{File.ReadAllText(named.Groups[1].Value)}"
            : string.Empty;
    }
}

public static class Dotnet
{
    /// <summary>Runs <c>dotnet ARGS</c> in <paramref name="directory"/> and returns its exit code and output.</summary>
    public static ProcessResult Run(string directory, TimeSpan timeout, params string[] args) => Run(directory, timeout, null, args);

    /// <summary>Runs <c>dotnet ARGS</c> with extra environment variables (such as a private <c>DOTNET_CLI_HOME</c>).</summary>
    public static ProcessResult Run(string directory, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        var error = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (error) error.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', args)} did not finish within {timeout}.\n{output}\n{error}");
        }
        process.WaitForExit();
        return new ProcessResult(process.ExitCode, output.ToString(), error.ToString());
    }
}

/// <summary>A temporary folder deleted with the test.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder(string prefix = "jepa-e2e")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Write(string relative, string text)
    {
        var full = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text);
        return full;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
