using System.Text.RegularExpressions;
using Jepa.Dsl.Diagnostics;

namespace Jepa.Dsl.Tests.Docs;

/// <summary>docs/diagnostics.md lists every id with its title, and every wrong and right example is what it claims;
/// AnalyzerReleases.Unshipped.md lists every id.</summary>
public class DiagnosticsDocTests
{
    private const string Base = """
        experiment E {
            input image: float[64];
            corruption noisy = gaussian_noise(std: 0.1);
            encoder context = mlp(hidden: [32], out: 16);
            encoder target = ema(context);
            predictor = mlp(hidden: [32]);
            objective { predict target(image) from context(noisy(image)); loss mse; }
            train { optimizer adamw(lr: 1e-3); steps 100; }
        }
        """;

    private sealed record Entry(string Id, string Title, string? Wrong, string? Right);

    private static List<Entry> Entries()
    {
        var text = Repository.Read("docs/diagnostics.md");
        var sections = Regex.Split(text, @"^### ", RegexOptions.Multiline).Skip(1);
        var entries = new List<Entry>();
        foreach (var section in sections)
        {
            var heading = Regex.Match(section, @"^(JEPA\d{3}): (.+)$", RegexOptions.Multiline);
            Assert.True(heading.Success, "a ### heading without an id: " + section.Split('\n')[0]);
            var wrong = Regex.Match(section, @"^Wrong[^\n]*:\n```jepa\n(.*?)```", RegexOptions.Multiline | RegexOptions.Singleline);
            var right = Regex.Match(section, @"^Right[^\n]*:\n```jepa\n(.*?)```", RegexOptions.Multiline | RegexOptions.Singleline);
            entries.Add(new Entry(heading.Groups[1].Value, heading.Groups[2].Value.Trim(),
                wrong.Success ? wrong.Groups[1].Value : null, right.Success ? right.Groups[1].Value : null));
        }

        return entries;
    }

    /// <summary>Applies a snippet to the base experiment: a line replaces the base line that starts the same way
    /// (<c>encoder context</c>, <c>train</c>, ...); other lines are added before the closing brace.</summary>
    private static string Apply(string snippet)
    {
        if (snippet.StartsWith("experiment", StringComparison.Ordinal) || snippet.StartsWith("namespace", StringComparison.Ordinal))
        {
            return snippet;
        }

        var lines = Base.Split('\n').ToList();
        foreach (var line in snippet.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var key = Key(line);
            var index = lines.FindIndex(l => Key(l.Trim()) == key);
            if (index >= 0)
            {
                lines[index] = "    " + line;
            }
            else
            {
                lines.Insert(lines.Count - 1, "    " + line);
            }
        }

        return string.Join("\n", lines);
    }

    private static string Key(string line)
    {
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return words.Length == 0 ? string.Empty : words[0] is "encoder" or "corruption" && words.Length > 1 ? words[0] + " " + words[1] : words[0];
    }

    [Fact]
    public void TheBaseExperimentIsClean() => TestHelpers.CompileClean(Base);

    [Fact]
    public void EveryIdIsDocumentedOnceWithItsTitle()
    {
        var entries = Entries();
        Assert.Equal(DiagnosticDescriptors.All.Select(d => d.Id), entries.Select(e => e.Id));
        foreach (var descriptor in DiagnosticDescriptors.All)
        {
            Assert.Equal(descriptor.Title, entries.Single(e => e.Id == descriptor.Id).Title);
        }
    }

    [Fact]
    public void EveryWrongExampleReportsItsIdAndEveryRightOneHasNoError()
    {
        foreach (var entry in Entries())
        {
            if (entry.Id[4] == '9' || entry.Id.StartsWith("JEPA15", StringComparison.Ordinal))
            {
                Assert.Null(entry.Wrong); // reported by the generator or for internal failures: shown as text
                continue;
            }

            Assert.True(entry.Wrong is not null && entry.Right is not null, entry.Id + " needs a wrong and a right jepa example");
            var wrong = JepaCompiler.Compile("wrong.jepa", Apply(entry.Wrong!));
            Assert.True(wrong.Diagnostics.Any(d => d.Id == entry.Id),
                $"{entry.Id}: the wrong example reports {string.Join(", ", wrong.Diagnostics.Select(d => d.Id))}\n{Apply(entry.Wrong!)}");
            var right = JepaCompiler.Compile("right.jepa", Apply(entry.Right!));
            Assert.False(right.HasErrors || right.Diagnostics.Any(d => d.Id == entry.Id),
                $"{entry.Id}: the right example reports {string.Join("; ", right.Diagnostics.Select(d => d.Format("right.jepa")))}\n{Apply(entry.Right!)}");
        }
    }

    [Fact]
    public void TheReleaseTrackingFileListsEveryId()
    {
        var rows = Repository.Read("src/Jepa.Generators/AnalyzerReleases.Unshipped.md")
            .Split('\n')
            .Select(line => Regex.Match(line, @"^(JEPA\d{3}) \| ([\w.]+) \| (\w+) \| (.+)$"))
            .Where(m => m.Success)
            .Select(m => (Id: m.Groups[1].Value, Category: m.Groups[2].Value, Severity: m.Groups[3].Value, Notes: m.Groups[4].Value))
            .ToList();
        Assert.Equal(DiagnosticDescriptors.All.Select(d => (d.Id, "Jepa." + d.Category, d.DefaultSeverity.ToString(), d.Title)), rows);
    }
}
