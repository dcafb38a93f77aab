using System.Reflection;
using System.Text.RegularExpressions;
using Jepa.Dsl.Diagnostics;
using Jepa.Dsl.Text;

namespace Jepa.Dsl.Tests.Diagnostics;

public class DiagnosticTests
{
    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var (id, source, message) in DiagnosticCases.All)
        {
            data.Add(id, source, message);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ReportsExactlyOneDiagnosticAtTheMarkedSpan(string id, string marked, string message)
    {
        var (text, start, length) = Markup.Parse(marked);
        var compilation = JepaCompiler.Compile("case.jepa", text);
        var diagnostic = Assert.Single(compilation.Diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal((start, length), (diagnostic.Span.Start, diagnostic.Span.Length));
        Assert.Equal(new LineMap(text).Span(start, start + length), diagnostic.Span);
        Assert.Contains(message, diagnostic.Message, StringComparison.Ordinal);
        Assert.Equal(diagnostic.Severity == Severity.Error, compilation.HasErrors);
    }

    [Fact]
    public void EveryDescriptorHasATest()
    {
        var tested = DiagnosticCases.All.Select(c => c.Id).Concat(DiagnosticCases.TextOnly).ToHashSet();
        var untested = DiagnosticDescriptors.All.Select(d => d.Id).Where(id => !tested.Contains(id)).ToList();
        Assert.Empty(untested);
    }

    [Fact]
    public void TheCatalogIsWellFormed()
    {
        var fields = typeof(DiagnosticDescriptors).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
            .ToList();
        Assert.Equal(fields.Select(f => f.Id).OrderBy(i => i), DiagnosticDescriptors.All.Select(d => d.Id).OrderBy(i => i));
        Assert.Equal(DiagnosticDescriptors.All.Count, DiagnosticDescriptors.All.Select(d => d.Id).Distinct().Count());
        Assert.Equal(DiagnosticDescriptors.All.Select(d => d.Id).OrderBy(i => i, StringComparer.Ordinal), DiagnosticDescriptors.All.Select(d => d.Id));
        foreach (var descriptor in DiagnosticDescriptors.All)
        {
            Assert.Matches(new Regex("^JEPA[0-9]{3}$"), descriptor.Id);
            var range = descriptor.Id[4];
            var expected = range switch
            {
                '0' => new[] { "Syntax" },
                '1' => new[] { "Names", "Parameters" },
                '2' => new[] { "Shapes" },
                '3' => new[] { "Training", "Collapse" },
                _ => new[] { "Internal" },
            };
            Assert.Contains(descriptor.Category, expected);
            Assert.False(string.IsNullOrWhiteSpace(descriptor.Title));
            Assert.DoesNotContain(descriptor.MessageFormat, new[] { '\n', '\r' });
        }
    }

    [Fact]
    public void GeneratorAndInternalMessagesReadWell()
    {
        Assert.Equal(
            "the C# type 'My.Encoders.Tiny' named by encoder 'context' does not exist; check its namespace and that the project references its assembly",
            DiagnosticDescriptors.CustomEncoderTypeNotFound.FormatMessage("My.Encoders.Tiny", "context"));
        Assert.Equal(
            "the C# type 'My.Encoders.Tiny' named by encoder 'context' must derive from TorchSharp.Modules.Module<Tensor, Tensor> (torch.nn.Module<Tensor, Tensor>): an encoder maps a tensor to a tensor",
            DiagnosticDescriptors.CustomEncoderWrongBase.FormatMessage("My.Encoders.Tiny", "context"));
        Assert.Equal(
            "the C# type 'My.Encoders.Tiny' has no public constructor that accepts (out: 32, depth: 2); add one, or change the arguments of encoder 'context'",
            DiagnosticDescriptors.CustomEncoderNoConstructor.FormatMessage("My.Encoders.Tiny", "(out: 32, depth: 2)", "context"));
        Assert.Equal("internal error in the Jepa generator: boom", DiagnosticDescriptors.GeneratorInternalError.FormatMessage("boom"));
        Assert.Equal("internal error in the Jepa emitter: boom", DiagnosticDescriptors.EmitterInternalError.FormatMessage("boom"));
        Assert.Equal("internal error in the Jepa compiler: boom", DiagnosticDescriptors.CompilerInternalError.FormatMessage("boom"));
        foreach (var id in DiagnosticCases.TextOnly)
        {
            Assert.Equal(Severity.Error, DiagnosticDescriptors.All.Single(d => d.Id == id).DefaultSeverity);
        }
    }

    [Fact]
    public void FormatMatchesTheCompilerFormat()
    {
        var compilation = JepaCompiler.Compile("models/digits.jepa", "experiment E {\n  encodr x = mlp(out: 1);\n}");
        var diagnostic = Assert.Single(compilation.Diagnostics);
        Assert.Equal(
            "models/digits.jepa(2,3): error JEPA002: 'encodr' is not a statement of an experiment; did you mean 'encoder'? expected input, corruption, views, encoder, projector, predictor, objective, train, evaluate, monitor or '}'",
            diagnostic.Format("models/digits.jepa"));
        var warning = new Diagnostic(DiagnosticDescriptors.UnusedEncoder, new SourceSpan(0, 1, 4, 0, 4, 1), "m");
        Assert.Equal("f.jepa(5,1): warning JEPA307: m", warning.Format("f.jepa"));
    }

    [Fact]
    public void DiagnosticsAreSortedByStartThenId()
    {
        var text = TestHelpers.Experiment(
            corruptions: "corruption noisy = gaussian_noise(std: -1);\n    corruption spare = feature_dropout(p: 0.1);",
            train: "train { optimizer adamw(lr: 1e-3); steps 100; device gpu; }");
        var diagnostics = JepaCompiler.Compile("f.jepa", text).Diagnostics;
        Assert.Equal(new[] { "JEPA105", "JEPA306", "JEPA118" }, diagnostics.Select(d => d.Id).ToArray());
        Assert.True(diagnostics.Zip(diagnostics.Skip(1), (a, b) => a.Span.Start <= b.Span.Start).All(x => x));
    }
}
