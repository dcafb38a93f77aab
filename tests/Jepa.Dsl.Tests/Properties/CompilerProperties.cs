using CsCheck;
using Jepa.Dsl.Binding;
using Jepa.Dsl.Text;

namespace Jepa.Dsl.Tests.Properties;

/// <summary>
/// Random grammar-shaped files and mutated example files: compiling never throws, never fails internally, is
/// deterministic, every diagnostic span lies inside the file with lines and columns consistent with the text, and
/// an error-free file has the complete bound model the emitter needs. 500 cases per property by default; set
/// JEPA_FUZZ_ITERATIONS (for example 10000) for a long run.
/// </summary>
public class CompilerProperties
{
    private static readonly long Iterations =
        long.TryParse(Environment.GetEnvironmentVariable("JEPA_FUZZ_ITERATIONS"), out var n) && n > 0 ? n : 500;

    [Fact]
    public void GrammarShapedFilesCompileSafely() =>
        JepaGenerators.File.Sample(CheckInvariants, iter: Iterations, threads: 1);

    [Fact]
    public void MutatedExamplesCompileSafely() =>
        JepaGenerators.MutatedExample(Examples.All.ToList()).Sample(CheckInvariants, iter: Iterations, threads: 1);

    [Fact]
    public void TheGeneratorsReachDeepIntoTheBinder()
    {
        // Guard against generators that only ever produce syntax errors: the mutated examples must often get as far
        // as shape inference, and the grammar-shaped files must reach many binder diagnostics.
        var deep = 0;
        var binderIds = new HashSet<string>();
        JepaGenerators.MutatedExample(Examples.All.ToList()).Sample(text =>
        {
            var compilation = JepaCompiler.Compile("m.jepa", text);
            deep += compilation.Bound.Experiments.Any(e => e.Pipeline is not null) ? 1 : 0;
        }, iter: 200, threads: 1, seed: "0000000000001");
        JepaGenerators.File.Sample(text =>
        {
            foreach (var d in JepaCompiler.Compile("g.jepa", text).Diagnostics.Where(d => d.Id[4] != '0'))
            {
                binderIds.Add(d.Id);
            }
        }, iter: 300, threads: 1, seed: "0000000000001");
        Assert.True(deep >= 50, $"only {deep} of 200 mutated examples reached shape inference");
        Assert.True(binderIds.Count >= 15, "binder diagnostics reached: " + string.Join(", ", binderIds.OrderBy(i => i)));
    }

    private static void CheckInvariants(string text)
    {
        var compilation = JepaCompiler.Compile("fuzz.jepa", text);
        var lines = new LineMap(text);
        foreach (var diagnostic in compilation.Diagnostics)
        {
            Assert.False(diagnostic.Id.StartsWith("JEPA9", StringComparison.Ordinal), diagnostic.Format("fuzz.jepa") + "\n--- input ---\n" + text);
            var span = diagnostic.Span;
            Assert.True(span.Start >= 0 && span.Length >= 0 && span.End <= text.Length, $"{diagnostic} lies outside the file");
            Assert.Equal(lines.Span(span.Start, span.End), span);
        }

        foreach (var node in compilation.Syntax.Nodes())
        {
            Assert.True(node.Span.Start >= 0 && node.Span.End <= text.Length);
            Assert.Equal(lines.Span(node.Span.Start, node.Span.End), node.Span);
        }

        var again = JepaCompiler.Compile("fuzz.jepa", text);
        Assert.Equal(compilation.Diagnostics, again.Diagnostics);
        Assert.Equal(compilation.Bound, again.Bound);

        foreach (var experiment in compilation.Bound.Experiments.Where(e => !e.HasErrors))
        {
            // An experiment without errors has no error diagnostic inside it.
            var inside = compilation.Diagnostics.Where(d => d.Severity == Jepa.Dsl.Diagnostics.Severity.Error && experiment.Span.Contains(d.Span));
            Assert.Empty(inside);
        }

        if (!compilation.HasErrors)
        {
            foreach (var experiment in compilation.Bound.Experiments)
            {
                Assert.False(experiment.HasErrors);
                Assert.NotNull(experiment.Input);
                Assert.NotNull(experiment.Train);
                Assert.NotEqual(TargetKind.Error, experiment.Objective!.TargetKind);
                Assert.NotNull(experiment.Objective.Loss!.Builtin);
                Assert.False(experiment.Predictor.IsError);
                Assert.NotNull(experiment.Pipeline);
                Assert.NotNull(experiment.Cost);
                Assert.True(experiment.Train!.Epochs.HasValue ^ experiment.Train.Steps.HasValue);
            }
        }
    }
}
