using Jepa.Generators;
using Jepa.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Jepa.Reliability.Tests.Fuzzing;

/// <summary>
/// Found by <see cref="GeneratorFuzzTests.Projects_of_several_files_through_the_generator"/>: distinct <c>.jepa</c> files
/// whose generated file names coincided (ignoring case) made Roslyn throw from <c>AddSource</c>, so the build warned
/// CS8785 and generated nothing at all. Now the later names get <c>.2</c>, <c>.3</c>, ...
/// </summary>
public class HintNameTests
{
    private static string Named(params string[] names) => string.Join("\n", names.Select(DiagnosticsDoc.BaseNamed));

    /// <summary>The same experiment in two namespaces: two C# classes, one generated file name.</summary>
    [Theory]
    [InlineData("/project/a b.jepa", "/project/a_b.jepa", "a_b.E.g.cs")]
    [InlineData("/project/x.y.jepa", "/project/x_y.jepa", "x_y.E.g.cs")]
    [InlineData("/project/A.jepa", "/project/a.jepa", "A.E.g.cs")]
    public void Files_whose_generated_names_collide_all_generate(string first, string second, string firstHint)
    {
        var (result, output, diagnostics) = GeneratorHarness.Run([(first, "namespace One;\n" + Named("E")), (second, "namespace Two;\n" + Named("E"))]);

        Assert.Empty(diagnostics);
        Assert.Null(result.Results.Single().Exception);
        var names = result.Results.Single().GeneratedSources.Select(s => s.HintName).ToList();
        Assert.Equal(2, names.Count);
        Assert.Contains(firstHint, names);
        Assert.Contains(names, n => n.EndsWith(".E.2.g.cs", StringComparison.Ordinal));
        Assert.Empty(GeneratorHarness.CompileDiagnostics(output));
    }

    [Fact]
    public void Experiments_of_one_file_that_differ_only_in_case_both_generate()
    {
        var (result, output, diagnostics) = GeneratorHarness.Run("/project/m.jepa", Named("Model", "model"));

        Assert.Empty(diagnostics);
        Assert.Equal(["m.Model.g.cs", "m.model.2.g.cs"], result.Results.Single().GeneratedSources.Select(s => s.HintName).Order(StringComparer.Ordinal));
        Assert.Empty(GeneratorHarness.CompileDiagnostics(output));
    }

    [Fact]
    public void Without_collisions_editing_one_file_leaves_the_other_files_output_cached()
    {
        var first = new InMemoryAdditionalText("/project/a.jepa", Named("A"));
        var second = new InMemoryAdditionalText("/project/b.jepa", Named("B"));
        var compilation = GeneratorHarness.CreateCompilation();
        var driver = GeneratorHarness.CreateDriver([first, second]).RunGenerators(compilation);

        driver = driver.ReplaceAdditionalText(second, new InMemoryAdditionalText("/project/b.jepa", Named("B").Replace("steps 100", "steps 200", StringComparison.Ordinal)))
            .RunGenerators(compilation);
        var run = driver.GetRunResult().Results.Single();

        var renames = run.TrackedSteps[JepaGenerator.TrackingNames.ProjectNames].SelectMany(s => s.Outputs).ToList();
        Assert.All(renames, o => Assert.Contains(o.Reason, new[] { IncrementalStepRunReason.Unchanged, IncrementalStepRunReason.Cached }));
        var outputs = run.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
        Assert.Contains(IncrementalStepRunReason.Cached, outputs);
        Assert.Contains(IncrementalStepRunReason.Modified, outputs);
    }
}
