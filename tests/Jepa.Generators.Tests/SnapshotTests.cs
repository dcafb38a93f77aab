using Jepa.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Jepa.Generators.Tests;

/// <summary>
/// The generated code of every example and what the build reports for every diagnostic scenario, compared with
/// checked-in snapshots (Verify's conventions, see <see cref="Snapshot"/>). An example's snapshots live next to it in
/// <c>examples/NAME/Generated/</c>, so a change to the generator shows up in review as a diff of generated code.
/// </summary>
public class SnapshotTests
{
    public static TheoryData<string> Examples()
    {
        var data = new TheoryData<string>();
        foreach (var folder in Directory.GetDirectories(RepositoryRoot.Combine("examples")).Order(StringComparer.Ordinal))
        {
            if (Directory.GetFiles(folder, "*.jepa").Length > 0) data.Add(Path.GetFileName(folder));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Example_generated_code_matches_its_committed_snapshot(string example)
    {
        var folder = RepositoryRoot.Combine("examples", example);
        var files = Directory.GetFiles(folder, "*.jepa").Order(StringComparer.Ordinal).Select(f => (f, File.ReadAllText(f))).ToList();
        var (result, output, diagnostics) = GeneratorHarness.Run(files, rootNamespace: example, projectDirectory: folder + "/");

        var generated = Path.Combine(folder, "Generated");
        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var source in result.Results.Single().GeneratedSources)
        {
            var verified = Path.Combine(generated, source.HintName.Replace(".g.cs", ".verified.cs", StringComparison.Ordinal));
            expected.Add(verified);
            Snapshot.MatchFile(source.SourceText.ToString(), verified);
        }

        if (diagnostics.Length > 0)
        {
            var verified = Path.Combine(generated, "diagnostics.verified.txt");
            expected.Add(verified);
            Snapshot.MatchFile(string.Join("\n", diagnostics.Select(GeneratorHarness.Format)) + "\n", verified);
        }
        else
        {
            Assert.Empty(GeneratorHarness.CompileDiagnostics(output));
        }

        // A snapshot whose experiment is gone is stale: remove it with the experiment.
        var stale = Directory.Exists(generated)
            ? Directory.GetFiles(generated, "*.verified.*").Where(f => !expected.Contains(f)).ToList()
            : [];
        Assert.True(stale.Count == 0, "stale snapshots: " + string.Join(", ", stale));
    }

    /// <summary>The generated code of the experiments with views and a projector in Sources/every-builtin.jepa (no example
    /// has views yet): LeJEPA's mean-of-global-views target with SIGReg per view, and an EMA target with a predictor
    /// over pairs of views. <see cref="CatalogTrainingTests"/> compiles and trains them.</summary>
    [Theory]
    [InlineData("Views")]
    [InlineData("PixelViews")]
    public void Views_generated_code_matches_its_snapshot(string experiment)
    {
        var text = RepositoryRoot.Read("tests/Jepa.Generators.Tests/Sources/every-builtin.jepa");
        var (result, _, _) = GeneratorHarness.Run("/project/every-builtin.jepa", text);
        var source = result.Results.Single().GeneratedSources.Single(s => s.HintName.EndsWith($".{experiment}.g.cs", StringComparison.Ordinal));
        Snapshot.Match(source.SourceText.ToString(), $"every-builtin.{experiment}", "cs");
    }

    public static TheoryData<string> DiagnosticScenarios()
    {
        var data = new TheoryData<string>();
        foreach (var entry in DiagnosticsDoc.Entries().Where(e => e.Wrong is not null)) data.Add(entry.Id);
        return data;
    }

    /// <summary>Each wrong example of docs/diagnostics.md through the whole generator: what the build prints.</summary>
    [Theory]
    [MemberData(nameof(DiagnosticScenarios))]
    public void Diagnostic_scenario_matches_its_snapshot(string id)
    {
        var entry = DiagnosticsDoc.Entries().Single(e => e.Id == id);
        var text = DiagnosticsDoc.Apply(entry.Wrong!);
        var (result, _, diagnostics) = GeneratorHarness.Run("/project/wrong.jepa", text);

        Assert.Contains(diagnostics, d => d.Id == id);
        var report = new List<string> { "// source", text, "", "// diagnostics" };
        report.AddRange(diagnostics.Select(GeneratorHarness.Format));
        report.Add("");
        report.Add("// generated files");
        report.AddRange(result.Results.Single().GeneratedSources.Select(s => s.HintName));
        Snapshot.Match(string.Join("\n", report) + "\n", id, "txt");
    }
}
