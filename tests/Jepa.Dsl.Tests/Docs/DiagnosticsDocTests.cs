using System.Text.RegularExpressions;
using Jepa.Dsl.Diagnostics;

namespace Jepa.Dsl.Tests.Docs;

/// <summary>docs/diagnostics.md lists every id with its title, and every wrong and right example is what it claims;
/// AnalyzerReleases.Unshipped.md lists every id.</summary>
public class DiagnosticsDocTests
{
    [Fact]
    public void TheBaseExperimentIsClean() => TestHelpers.CompileClean(DiagnosticsDoc.Base);

    [Fact]
    public void EveryIdIsDocumentedOnceWithItsTitle()
    {
        var entries = DiagnosticsDoc.Entries();
        Assert.Equal(DiagnosticDescriptors.All.Select(d => d.Id), entries.Select(e => e.Id));
        foreach (var descriptor in DiagnosticDescriptors.All)
        {
            Assert.Equal(descriptor.Title, entries.Single(e => e.Id == descriptor.Id).Title);
        }
    }

    [Fact]
    public void EveryWrongExampleReportsItsIdAndEveryRightOneHasNoError()
    {
        foreach (var entry in DiagnosticsDoc.Entries())
        {
            if (entry.Id[4] == '9' || entry.Id.StartsWith("JEPA15", StringComparison.Ordinal))
            {
                Assert.Null(entry.Wrong); // reported by the generator or for internal failures: shown as text
                continue;
            }

            Assert.True(entry.Wrong is not null && entry.Right is not null, entry.Id + " needs a wrong and a right jepa example");
            var wrong = JepaCompiler.Compile("wrong.jepa", DiagnosticsDoc.Apply(entry.Wrong!));
            Assert.True(wrong.Diagnostics.Any(d => d.Id == entry.Id),
                $"{entry.Id}: the wrong example reports {string.Join(", ", wrong.Diagnostics.Select(d => d.Id))}\n{DiagnosticsDoc.Apply(entry.Wrong!)}");
            var right = JepaCompiler.Compile("right.jepa", DiagnosticsDoc.Apply(entry.Right!));
            Assert.False(right.HasErrors || right.Diagnostics.Any(d => d.Id == entry.Id),
                $"{entry.Id}: the right example reports {string.Join("; ", right.Diagnostics.Select(d => d.Format("right.jepa")))}\n{DiagnosticsDoc.Apply(entry.Right!)}");
        }
    }

    [Fact]
    public void TheReleaseTrackingFileListsEveryId()
    {
        var rows = RepositoryRoot.Read("src/Jepa.Generators/AnalyzerReleases.Unshipped.md")
            .Split('\n')
            .Select(line => Regex.Match(line, @"^(JEPA\d{3}) \| ([\w.]+) \| (\w+) \| (.+)$"))
            .Where(m => m.Success)
            .Select(m => (Id: m.Groups[1].Value, Category: m.Groups[2].Value, Severity: m.Groups[3].Value, Notes: m.Groups[4].Value))
            .ToList();
        Assert.Equal(DiagnosticDescriptors.All.Select(d => (d.Id, "Jepa." + d.Category, d.DefaultSeverity.ToString(), d.Title)), rows);
    }
}
