using CsCheck;
using Jepa.Dsl;
using Jepa.Dsl.Catalog;
using Jepa.Dsl.Tests.Properties;

namespace Jepa.Reliability.Tests.Fuzzing;

/// <summary>The fuzzers' names are checked against the catalog: between them they reach every built-in, so one added
/// to the catalog is fuzzed from then on.</summary>
public class CatalogCoverageTests
{
    private static HashSet<Builtin> Reached(Gen<string> files, int count)
    {
        var reached = new HashSet<Builtin>();
        foreach (var text in Cases(files, count))
        {
            reached.UnionWith(JepaCompiler.Compile("/project/fuzz.jepa", text).Bound.Experiments.SelectMany(e => e.Builtins()));
        }

        return reached;
    }

    /// <summary>The same <paramref name="count"/> cases on every run.</summary>
    private static IEnumerable<string> Cases(Gen<string> files, int count)
    {
        var pcg = new PCG(1, 1);
        for (var i = 0; i < count; i++) yield return files.Generate(pcg, null, out _);
    }

    [Fact]
    public void Valid_shaped_files_reach_every_builtin()
    {
        var reached = Reached(ValidShapedFiles.File, 400);
        var missed = Builtins.All.Where(b => !reached.Contains(b)).Select(b => b.ToString()).ToList();
        Assert.True(missed.Count == 0, "never generated: " + string.Join(", ", missed));
    }

    [Fact]
    public void Grammar_shaped_files_name_every_builtin_and_parameter()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var text in Cases(JepaGenerators.File, 2000))
        {
            names.UnionWith(text.Split([' ', '(', ')', ',', ':', ';', '{', '}', '\n', '[', ']', '*'], StringSplitOptions.RemoveEmptyEntries));
        }

        var expected = Builtins.All.Select(b => b.Name).Concat(Builtins.All.SelectMany(b => b.Parameters.Select(p => p.Name))).Distinct();
        var missed = expected.Where(n => !names.Contains(n)).ToList();
        Assert.True(missed.Count == 0, "never generated: " + string.Join(", ", missed));
    }
}
