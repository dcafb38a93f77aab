using Jepa.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Jepa.Generators.Tests;

public class GeneratorTests
{
    [Theory]
    [InlineData("vector", Samples.Vector)]
    [InlineData("token", Samples.Token)]
    public void Error_free_file_generates_code_that_compiles_without_warnings(string name, string text)
    {
        var (result, output, diagnostics) = GeneratorHarness.Run($"/project/{name}.jepa", text);

        Assert.Empty(diagnostics);
        var generated = Assert.Single(Assert.Single(result.Results).GeneratedSources);
        Assert.EndsWith(".g.cs", generated.HintName);
        Assert.Empty(GeneratorHarness.CompileDiagnostics(output));
    }

    [Fact]
    public void Diagnostics_are_located_in_the_jepa_file()
    {
        var (result, _, diagnostics) = GeneratorHarness.Run("/project/collapse.jepa", Samples.Collapse);

        var error = Assert.Single(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        var span = error.Location.GetLineSpan();
        Assert.Equal("/project/collapse.jepa", span.Path);
        Assert.StartsWith("JEPA3", error.Id);
        Assert.Equal(5, span.StartLinePosition.Line); // the objective's line (0-based)
        Assert.Empty(Assert.Single(result.Results).GeneratedSources);
    }

    [Fact]
    public void An_experiment_declared_in_two_files_is_JEPA153_at_the_later_name_not_a_CS_error()
    {
        // Same experiment in the same namespace in two files: the first path (ordinal) keeps its class.
        var copy = Samples.Vector.Replace("seed 1;", "seed 2;", StringComparison.Ordinal);
        var (result, output, diagnostics) = GeneratorHarness.Run(
            [("/project/b/digits.jepa", copy), ("/project/a/digits.jepa", Samples.Vector)], projectDirectory: "/project/");

        var error = Assert.Single(diagnostics);
        Assert.Equal("JEPA153", error.Id);
        Assert.Equal(DiagnosticSeverity.Error, error.Severity);
        var span = error.Location.GetLineSpan();
        Assert.Equal("/project/b/digits.jepa", span.Path);
        var start = copy.IndexOf("DigitsJepa", StringComparison.Ordinal);
        Assert.Equal((start, "DigitsJepa".Length), (error.Location.SourceSpan.Start, error.Location.SourceSpan.Length));
        Assert.Equal((1, 11), (span.StartLinePosition.Line, span.StartLinePosition.Character));
        Assert.Equal(
            "experiment 'DigitsJepa' is already declared in /project/a/digits.jepa(2,12); both would generate the class Digits.DigitsJepa; " +
            "rename one of them, or put one file in another namespace",
            error.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        var generated = Assert.Single(Assert.Single(result.Results).GeneratedSources);
        Assert.Equal("a.digits.DigitsJepa.g.cs", generated.HintName);
        Assert.Empty(GeneratorHarness.CompileDiagnostics(output));

        // In another namespace the same name is another class: both files generate.
        var elsewhere = copy.Replace("namespace Digits;", "namespace Other;", StringComparison.Ordinal);
        var (both, _, none) = GeneratorHarness.Run(
            [("/project/b/digits.jepa", elsewhere), ("/project/a/digits.jepa", Samples.Vector)], projectDirectory: "/project/");
        Assert.Empty(none);
        Assert.Equal(2, Assert.Single(both.Results).GeneratedSources.Length);
    }

    [Fact]
    public void Generated_code_is_byte_identical_across_runs_and_folders()
    {
        string Generate(string folder)
        {
            var (result, _, _) = GeneratorHarness.Run([($"{folder}digits.jepa", Samples.Vector)], projectDirectory: folder);
            var source = Assert.Single(Assert.Single(result.Results).GeneratedSources);
            Assert.Equal("digits.DigitsJepa.g.cs", source.HintName);
            return source.SourceText.ToString();
        }

        var first = Generate("/home/alice/project/");
        Assert.Equal(first, Generate("/home/alice/project/"));
        Assert.Equal(first, Generate("/build/agent/7/src/"));
        Assert.DoesNotContain("\r", first);
    }
}
