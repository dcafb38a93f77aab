using Jepa.Dsl;

namespace Jepa.Cli.Tests;

public class FormatTests
{
    private static string Format(string text)
    {
        using var folder = new TempFolder();
        var file = folder.Write("f.jepa", text);
        var result = Cli.Run("fmt", "--stdout", file);
        Assert.True(result.ExitCode == 0, result.All);
        return result.Output;
    }

    private static List<string> Comments(string text)
    {
        var tree = JepaCompiler.Compile("f.jepa", text).Syntax;
        return tree.Comments.Select(c => tree.TextOf(c).TrimEnd()).ToList();
    }

    [Theory]
    [MemberData(nameof(Cli.AllExamples), MemberType = typeof(Cli))]
    public void Formatting_an_example_is_idempotent_keeps_every_comment_and_compiles_to_the_same_model(string example)
    {
        var original = File.ReadAllText(Cli.Example(example));

        var once = Format(original);
        var twice = Format(once);

        Assert.Equal(once, twice);
        Assert.Equal(Comments(original), Comments(once));
        // Only layout changed: the bound model (spans aside) and the diagnostics (ids and messages) are the same.
        var before = JepaCompiler.Compile("f.jepa", original);
        var after = JepaCompiler.Compile("f.jepa", once);
        Assert.Equal(before.Diagnostics.Select(d => d.Id + d.Message), after.Diagnostics.Select(d => d.Id + d.Message));
        Assert.Equal(before.Bound.Experiments.Select(e => e.Cost?.ToString()), after.Bound.Experiments.Select(e => e.Cost?.ToString()));
        Assert.Equal(before.Bound.Experiments.Select(e => string.Join("|", e.Pipeline?.Stages.Select(s => s.ToString()) ?? [])),
            after.Bound.Experiments.Select(e => string.Join("|", e.Pipeline?.Stages.Select(s => s.ToString()) ?? [])));
    }

    [Fact]
    public void Template_starter_file_is_in_canonical_form_and_checks_clean()
    {
        var file = RepositoryRoot.Combine("templates", "jepa", "experiment.jepa");

        var format = Cli.Run("fmt", "--check", file);
        var check = Cli.Run("check", file);

        Assert.True(format.ExitCode == 0, format.All);
        Assert.True(check.ExitCode == 0, check.All);
        Assert.Contains("1 file, 1 experiment: 0 errors, 0 warnings", check.Output);
    }

    [Fact]
    public void Check_lists_an_unformatted_file_and_fmt_rewrites_it_in_place()
    {
        using var folder = new TempFolder();
        var file = folder.Write("digits.jepa", File.ReadAllText(Cli.Example("Digits/digits.jepa")));

        var check = Cli.Run("fmt", "--check", file);
        Assert.Equal(1, check.ExitCode);
        Assert.Contains($"{file}: not formatted", check.Output);

        var rewrite = Cli.Run("fmt", file);
        Assert.True(rewrite.ExitCode == 0, rewrite.All);
        Assert.Contains($"formatted {file}", rewrite.Output);

        var again = Cli.Run("fmt", "--check", file);
        Assert.True(again.ExitCode == 0, again.All);
        Assert.Equal(string.Empty, again.Output);
    }

    [Fact]
    public void File_with_a_syntax_error_is_reported_and_left_alone()
    {
        using var folder = new TempFolder();
        const string broken = "experiment E {\n    input image float[64];\n}\n";
        var file = folder.Write("broken.jepa", broken);

        var result = Cli.Run("fmt", file);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{file}(2,", result.Error);
        Assert.Contains("error JEPA0", result.Error);
        Assert.Equal(broken, File.ReadAllText(file));
    }
}
