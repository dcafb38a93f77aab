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
