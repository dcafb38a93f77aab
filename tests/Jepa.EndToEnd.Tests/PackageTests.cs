using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Jepa.EndToEnd.Tests;

/// <summary>
/// The Jepa package as a user gets it: <c>dotnet pack src/Jepa</c> into a local folder feed, under a version no other
/// run uses (so neither the NuGet cache nor an earlier pack can stand in for this one); removed from the cache after.
/// </summary>
public sealed class LocalPackageFeed : IDisposable
{
    private readonly TempFolder _folder = new("jepa-feed");

    public LocalPackageFeed()
    {
        Version = $"{RepositoryVersion.Value}-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Guid.NewGuid().ToString("N")[..8]}";
        Pack = Dotnet.Run(Repository.Root, TimeSpan.FromMinutes(5),
            "pack", "src/Jepa/Jepa.csproj", "-c", Repository.Configuration, "-o", _folder.Path, $"-p:JepaPackageVersion={Version}");
    }

    public string Version { get; }

    public string Path => _folder.Path;

    public ProcessResult Pack { get; }

    public string Package => System.IO.Path.Combine(Path, $"Jepa.{Version}.nupkg");

    /// <summary>A nuget.config that adds this feed to the machine's sources.</summary>
    public string NuGetConfig => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <configuration>
          <packageSources>
            <add key="jepa-test-feed" value="{Path}" />
          </packageSources>
        </configuration>
        """;

    public void Dispose()
    {
        _folder.Dispose();
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                    ?? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var extracted = System.IO.Path.Combine(cache, "jepa", Version.ToLowerInvariant());
        try { if (Directory.Exists(extracted)) Directory.Delete(extracted, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>The version in Directory.Build.props: the package's default version and the template's default.</summary>
public static class RepositoryVersion
{
    public static string Value { get; } = Regex.Match(RepositoryRoot.Read("Directory.Build.props"), "<Version>([^<]+)</Version>").Groups[1].Value;
}

[Collection(DotnetCollection.Name)]
public class PackageTests(LocalPackageFeed feed) : IClassFixture<LocalPackageFeed>
{
    private static readonly TimeSpan BuildAndRun = TimeSpan.FromMinutes(10);

    [Fact]
    public void Package_holds_the_runtime_the_runner_the_generator_with_its_dependencies_and_the_transitive_targets()
    {
        Assert.True(feed.Pack.ExitCode == 0, feed.Pack.All);
        using var package = ZipFile.OpenRead(feed.Package);
        var entries = package.Entries.Select(e => e.FullName).ToHashSet();
        foreach (var expected in new[]
                 {
                     "lib/net10.0/Jepa.Runtime.dll", "lib/net10.0/Jepa.Runner.dll",
                     "analyzers/dotnet/cs/Jepa.Generators.dll", "analyzers/dotnet/cs/Jepa.Dsl.dll", "analyzers/dotnet/cs/Sprache.dll",
                     "buildTransitive/Jepa.targets", "buildTransitive/Jepa.Items.targets", "buildTransitive/Jepa.Native.targets",
                 })
        {
            Assert.True(entries.Contains(expected), $"{expected} missing from the package: {string.Join(", ", entries.Order())}");
        }

        Assert.DoesNotContain("lib/net10.0/Jepa.dll", entries);
        Assert.DoesNotContain(entries, e => e.StartsWith("lib/netstandard2.0", StringComparison.Ordinal));

        using var nuspec = package.GetEntry("Jepa.nuspec")!.Open();
        var document = XDocument.Load(nuspec);
        var dependencies = document.Descendants().Where(e => e.Name.LocalName == "dependency")
            .ToDictionary(e => (string)e.Attribute("id")!, e => (string)e.Attribute("version")!);
        Assert.Equal("0.107.0", dependencies["TorchSharp"]);
        Assert.Equal("0.107.0", dependencies["TorchSharp-cpu"]);
        Assert.Contains("Spectre.Console", dependencies.Keys);
        Assert.Contains("ScottPlot", dependencies.Keys);
        Assert.Contains("System.CommandLine", dependencies.Keys);
        Assert.DoesNotContain(dependencies.Keys, id => id.StartsWith("Jepa", StringComparison.Ordinal) || id is "Sprache" or "Microsoft.CodeAnalysis.CSharp");
    }

    [Fact]
    public void Fresh_project_with_the_package_builds_its_jepa_file_and_trains_three_steps()
    {
        Assert.True(feed.Pack.ExitCode == 0, feed.Pack.All);
        using var folder = new TempFolder("jepa-package");
        folder.Write("nuget.config", feed.NuGetConfig);
        folder.Write("Consumer.csproj", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <CreateHardLinksForCopyLocalIfPossible>true</CreateHardLinksForCopyLocalIfPossible>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Jepa" Version="{feed.Version}" />
              </ItemGroup>
            </Project>
            """);
        // No item line for the .jepa file: the package's buildTransitive targets pick up every *.jepa, in sub-folders too.
        folder.Write("experiments/tiny.jepa", ConsumerFiles.TinyExperiment);
        folder.Write("Program.cs", ConsumerFiles.TinyProgram);

        var result = Dotnet.Run(folder.Path, BuildAndRun, "run", "-c", "Release");

        Assert.True(result.ExitCode == 0, result.All);
        Assert.Matches(@"steps 3 loss [0-9.eE+-]+ parameters \d+", result.Output);
        Assert.True(File.Exists(Path.Combine(folder.Path, "obj", "project.assets.json")));
        Assert.Contains($"\"Jepa/{feed.Version}\"", File.ReadAllText(Path.Combine(folder.Path, "obj", "project.assets.json")));
    }

    [Fact]
    public void Template_installed_from_the_repository_makes_a_project_that_trains_and_evaluates()
    {
        Assert.True(feed.Pack.ExitCode == 0, feed.Pack.All);
        using var home = new TempFolder("jepa-cli-home");
        using var folder = new TempFolder("jepa-template");
        // dotnet new keeps installed templates under DOTNET_CLI_HOME: a private one leaves the machine's list alone.
        var cliHome = new Dictionary<string, string> { ["DOTNET_CLI_HOME"] = home.Path };
        var install = Dotnet.Run(folder.Path, TimeSpan.FromMinutes(2), cliHome, "new", "install", Path.Combine(Repository.Root, "templates", "jepa"));
        Assert.True(install.ExitCode == 0, install.All);

        var project = Path.Combine(folder.Path, "MyExperiment");
        var create = Dotnet.Run(folder.Path, TimeSpan.FromMinutes(2), cliHome,
            "new", "jepa", "-n", "MyExperiment", "-o", project, "--jepa-version", feed.Version);
        Assert.True(create.ExitCode == 0, create.All);
        Assert.True(File.Exists(Path.Combine(project, "MyExperiment.csproj")), create.All);
        Assert.True(File.Exists(Path.Combine(project, "experiment.jepa")), create.All);
        Assert.Contains($"Version=\"{feed.Version}\"", File.ReadAllText(Path.Combine(project, "MyExperiment.csproj")));

        File.WriteAllText(Path.Combine(folder.Path, "nuget.config"), feed.NuGetConfig);
        var run = Path.Combine(folder.Path, "run");
        var result = Dotnet.Run(project, BuildAndRun, "run", "-c", "Release", "--", "--steps", "3", "--out", run, "--plain");

        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("StarterJepa: digits (embedded)", result.Output);
        Assert.Contains("Trained 3 steps", result.Output);
        Assert.Contains("Evaluation on the held-out split", result.Output);
        Assert.True(File.Exists(Path.Combine(run, "evaluation.json")), result.All);
        Assert.True(File.Exists(Path.Combine(run, "checkpoint.ckpt")), result.All);
    }
}

/// <summary>Checks that need no child process.</summary>
public class TemplateTests
{
    [Fact]
    public void Template_references_the_repository_version_of_the_package_by_default()
    {
        var template = RepositoryRoot.Read("templates/jepa/.template.config/template.json");
        var defaultVersion = Regex.Match(template, "\"JepaVersion\"\\s*:\\s*\\{[^}]*\"defaultValue\"\\s*:\\s*\"([^\"]+)\"").Groups[1].Value;
        Assert.Equal(RepositoryVersion.Value, defaultVersion);
        Assert.Contains("Version=\"JEPA_PACKAGE_VERSION\"", RepositoryRoot.Read("templates/jepa/MyExperiment.csproj"));
    }
}
