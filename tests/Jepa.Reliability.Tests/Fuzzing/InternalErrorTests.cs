using Jepa.Generators;
using Jepa.Generators.Tests.Infrastructure;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace Jepa.Reliability.Tests.Fuzzing;

/// <summary>
/// A failure inside the generator (injected through <see cref="FileCompiler.FaultInjection"/>, which only the current
/// async flow sees) becomes a located JEPA9xx error in the <c>.jepa</c> file that caused it: the driver never sees an
/// exception (no CS8785, which would drop every generated file), and the project's other files still generate.
/// </summary>
public class InternalErrorTests
{
    private static readonly string Good = DiagnosticsDoc.BaseNamed("Good");

    private static (ImmutableArray<Diagnostic> Diagnostics, GeneratorRunResult Result) RunFailing(string stage, string failingPath, params (string Path, string Text)[] files)
    {
        FileCompiler.FaultInjection.Value = (current, path) =>
        {
            if (current == stage && path == failingPath) throw new InvalidOperationException($"injected failure in {stage}");
        };
        try
        {
            var driver = GeneratorHarness.CreateDriver(files.Select(f => (AdditionalText)new InMemoryAdditionalText(f.Path, f.Text)));
            driver = driver.RunGeneratorsAndUpdateCompilation(GeneratorHarness.CreateCompilation(CustomEncoder), out _, out var diagnostics);
            return (diagnostics, driver.GetRunResult().Results.Single());
        }
        finally
        {
            FileCompiler.FaultInjection.Value = null;
        }
    }

    private const string CustomEncoder = """
        namespace MyApp;
        public sealed class Tiny : TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>
        {
            public Tiny(int @out) : base("tiny") { }
            public override TorchSharp.torch.Tensor forward(TorchSharp.torch.Tensor x) => x;
        }
        """;

    [Fact]
    public void A_failure_while_compiling_a_file_is_a_JEPA901_at_its_start_and_other_files_still_generate()
    {
        var (diagnostics, result) = RunFailing("compile", "/project/bad.jepa", ("/project/bad.jepa", Good.Replace("Good", "Bad")), ("/project/good.jepa", Good));

        Assert.Null(result.Exception);
        Assert.DoesNotContain(diagnostics, d => d.Id == "CS8785");
        var error = Assert.Single(diagnostics);
        Assert.Equal("JEPA901", error.Id);
        Assert.Equal(DiagnosticSeverity.Error, error.Severity);
        Assert.Equal("bad.jepa(1,1): error JEPA901: internal error in the Jepa generator: InvalidOperationException: injected failure in compile", GeneratorHarness.Format(error));
        Assert.Equal("/project/bad.jepa", error.Location.GetLineSpan().Path);
        Assert.Equal(["good.Good.g.cs"], result.GeneratedSources.Select(s => s.HintName));
    }

    [Fact]
    public void A_failure_while_emitting_an_experiment_is_a_JEPA902_at_its_name()
    {
        var (diagnostics, result) = RunFailing("emit", "/project/bad.jepa", ("/project/bad.jepa", Good));

        Assert.Null(result.Exception);
        var error = Assert.Single(diagnostics);
        Assert.Equal("bad.jepa(1,12): error JEPA902: internal error in the Jepa emitter: InvalidOperationException: injected failure in emit", GeneratorHarness.Format(error));
        Assert.Empty(result.GeneratedSources);
    }

    [Fact]
    public void A_failure_while_printing_a_spec_is_a_JEPA902_at_the_experiments_name_and_other_files_still_generate()
    {
        var (diagnostics, result) = RunFailing("print", "/project/bad.jepa", ("/project/bad.jepa", Good.Replace("Good", "Bad")), ("/project/good.jepa", Good));

        Assert.Null(result.Exception);
        Assert.DoesNotContain(diagnostics, d => d.Id == "CS8785");
        var error = Assert.Single(diagnostics);
        Assert.Equal("bad.jepa(1,12): error JEPA902: internal error in the Jepa emitter: InvalidOperationException: injected failure in print", GeneratorHarness.Format(error));
        Assert.Equal("/project/bad.jepa", error.Location.GetLineSpan().Path);
        Assert.Equal(["good.Good.g.cs"], result.GeneratedSources.Select(s => s.HintName));
    }

    [Fact]
    public void A_failure_while_checking_a_CSharp_encoder_is_a_JEPA901_at_its_type_name()
    {
        var text = Good.Replace("encoder context = mlp(hidden: [32], out: 16);", "encoder context = MyApp.Tiny(out: 16);");
        var (diagnostics, result) = RunFailing("custom-types", "/project/custom.jepa", ("/project/custom.jepa", text));

        Assert.Null(result.Exception);
        var error = Assert.Single(diagnostics);
        Assert.Equal("custom.jepa(4,23): error JEPA901: internal error in the Jepa generator: InvalidOperationException: injected failure in custom-types", GeneratorHarness.Format(error));
        Assert.Single(result.GeneratedSources);
    }

    [Fact]
    public void Without_an_injected_failure_the_same_files_report_nothing()
    {
        var driver = GeneratorHarness.CreateDriver([new InMemoryAdditionalText("/project/good.jepa", Good)]);
        driver.RunGeneratorsAndUpdateCompilation(GeneratorHarness.CreateCompilation(), out _, out var diagnostics);
        Assert.Empty(diagnostics);
    }
}
