namespace Jepa.Cli.Tests;

/// <summary><c>jepa export FILE --target pytorch</c>: the committed programs, <c>--check</c>, and what it refuses.</summary>
public class ExportTests
{
    [Theory]
    [MemberData(nameof(Cli.GoodExamples), MemberType = typeof(Cli))]
    public void Export_writes_the_committed_program_of_each_example(string example)
    {
        using var folder = new TempFolder();
        var result = Cli.Run("export", Cli.Example(example), "--target", "pytorch", "-o", folder.Path);

        Assert.True(result.ExitCode == 0, result.All);
        var committed = Path.Combine(Path.GetDirectoryName(Cli.Example(example))!, "pytorch");
        var written = Directory.GetFiles(folder.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(Directory.GetFiles(committed, "train_*.py").Select(Path.GetFileName).Order(StringComparer.Ordinal), written);
        foreach (var file in written)
            Assert.Equal(File.ReadAllText(Path.Combine(committed, file!)).Replace("\r\n", "\n"), File.ReadAllText(Path.Combine(folder.Path, file!)));
        Assert.Contains($"Wrote {Path.Combine(folder.Path, written[0]!)}", result.Output);
    }

    [Fact]
    public void Check_passes_on_the_committed_programs_and_fails_on_a_stale_one()
    {
        var current = Cli.Run("export", Cli.Example("Digits/digits.jepa"), "--target", "pytorch", "--check");
        Assert.True(current.ExitCode == 0, current.All);
        Assert.Contains("are current", current.Output);

        using var folder = new TempFolder();
        folder.Write("train_digits_jepa.py", "# an old program\n");
        var stale = Cli.Run("export", Cli.Example("Digits/digits.jepa"), "--target", "pytorch", "-o", folder.Path, "--check");
        Assert.Equal(1, stale.ExitCode);
        Assert.Contains("train_digits_jepa.py: differs from what DigitsJepa exports", stale.Error);
        Assert.Equal("# an old program\n", File.ReadAllText(Path.Combine(folder.Path, "train_digits_jepa.py")));   // --check writes nothing
    }

    [Fact]
    public void An_experiment_the_target_cannot_print_is_JEPA154_and_the_others_are_written()
    {
        using var folder = new TempFolder();
        var file = folder.Write("two.jepa", DiagnosticsDoc.BaseNamed("Plain") + "\n" + DiagnosticsDoc.BaseNamed("Custom")
            .Replace("encoder context = mlp(hidden: [32], out: 16);", "encoder context = My.Encoders.Tiny(out: 16);", StringComparison.Ordinal));

        var result = Cli.Run("export", file, "--target", "pytorch", "-o", Path.Combine(folder.Path, "out"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{file}(13,5): error JEPA154: 'encoder context = My.Encoders.Tiny(out: 16)' names the C# type My.Encoders.Tiny", result.Error);
        Assert.Contains("1 experiment of", result.Error);
        Assert.Equal(["train_plain.py"], Directory.GetFiles(Path.Combine(folder.Path, "out")).Select(Path.GetFileName));
    }

    [Fact]
    public void A_file_with_errors_exports_nothing()
    {
        using var folder = new TempFolder();
        var result = Cli.Run("export", Cli.Example("Collapse/collapse.jepa"), "--target", "pytorch", "-o", folder.Path);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("error JEPA301", result.Error);
        Assert.Empty(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void The_target_is_named_and_checked()
    {
        Assert.Equal(2, Cli.Run("export", Cli.Example("Digits/digits.jepa")).ExitCode);
        var unknown = Cli.Run("export", Cli.Example("Digits/digits.jepa"), "--target", "jax");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("pytorch", unknown.Error);
    }
}
