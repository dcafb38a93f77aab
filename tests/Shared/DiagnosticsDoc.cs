using System.Text.RegularExpressions;

namespace Jepa.Tests.Shared;

/// <summary>
/// The wrong and right examples of docs/diagnostics.md, as whole files: each snippet applied to the base experiment.
/// The Dsl tests check that each wrong example reports its id; the generator tests snapshot what the build reports.
/// </summary>
internal static class DiagnosticsDoc
{
    public const string Base = """
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

    /// <summary>The base experiment under another name: a small error-free file for tests that need several.</summary>
    public static string BaseNamed(string name) => Base.Replace("experiment E {", $"experiment {name} {{", StringComparison.Ordinal);

    public sealed record Entry(string Id, string Title, string? Wrong, string? Right);

    /// <summary>Every <c>### JEPAnnn: title</c> section, in the order of the document.</summary>
    public static List<Entry> Entries()
    {
        var text = RepositoryRoot.Read("docs/diagnostics.md");
        var sections = Regex.Split(text, @"^### ", RegexOptions.Multiline).Skip(1);
        var entries = new List<Entry>();
        foreach (var section in sections)
        {
            var heading = Regex.Match(section, @"^(JEPA\d{3}): (.+)$", RegexOptions.Multiline);
            if (!heading.Success) throw new InvalidOperationException("a ### heading without an id: " + section.Split('\n')[0]);
            var wrong = Regex.Match(section, @"^Wrong[^\n]*:\n```jepa\n(.*?)```", RegexOptions.Multiline | RegexOptions.Singleline);
            var right = Regex.Match(section, @"^Right[^\n]*:\n```jepa\n(.*?)```", RegexOptions.Multiline | RegexOptions.Singleline);
            entries.Add(new Entry(heading.Groups[1].Value, heading.Groups[2].Value.Trim(),
                wrong.Success ? wrong.Groups[1].Value : null, right.Success ? right.Groups[1].Value : null));
        }

        return entries;
    }

    /// <summary>Applies a snippet to the base experiment: a line replaces the base line that starts the same way
    /// (<c>encoder context</c>, <c>train</c>, ...); other lines are added before the closing brace. A snippet that
    /// starts with <c>experiment</c> or <c>namespace</c> is a whole file.</summary>
    public static string Apply(string snippet)
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
}
