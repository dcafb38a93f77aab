using Jepa.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Jepa.Generators.Tests;

public class CustomTypeTests
{
    public const string TinyEncoder = """
        using TorchSharp;
        using static TorchSharp.torch;
        namespace MyApp.Encoders;
        public sealed class Tiny : nn.Module<Tensor, Tensor>
        {
            private readonly TorchSharp.Modules.Linear layer;
            public Tiny(int @out, double scale = 1.0) : base(nameof(Tiny)) { layer = nn.Linear(64, @out); RegisterComponents(); }
            public override Tensor forward(Tensor x) => layer.forward(x.flatten(1));
        }
        public sealed class NotAModule { public NotAModule(int @out) { } }
        """;

    /// <summary>A vector JEPA whose context encoder is <paramref name="encoder"/>.</summary>
    public static string Jepa(string encoder) => $$"""
        experiment Custom {
            input image: float[64];
            corruption noisy = gaussian_noise(std: 0.1);
            encoder context = {{encoder}};
            encoder target = ema(context);
            predictor = mlp(hidden: [64]);
            objective { predict target(image) from context(noisy(image)); loss mse; }
            train { optimizer adamw(lr: 1e-3); batch 32; steps 3; }
        }
        """;

    [Fact]
    public void Existing_module_with_fitting_constructor_compiles()
    {
        var (_, output, diagnostics) = GeneratorHarness.Run("/project/custom.jepa", Jepa("MyApp.Encoders.Tiny(out: 32)"), TinyEncoder);
        Assert.Empty(diagnostics);
        Assert.Empty(GeneratorHarness.CompileDiagnostics(output));
    }

    [Theory]
    [InlineData("MyApp.Encoders.Missing(out: 32)", "JEPA150", "MyApp.Encoders.Missing")]
    [InlineData("MyApp.Encoders.NotAModule(out: 32)", "JEPA151", "MyApp.Encoders.NotAModule")]
    [InlineData("MyApp.Encoders.Tiny(width: 32)", "JEPA152", "MyApp.Encoders.Tiny")]
    [InlineData("MyApp.Encoders.Tiny(out: 32, scale: [1, 2])", "JEPA152", "MyApp.Encoders.Tiny")]
    public void Wrong_type_is_a_jepa_diagnostic_at_the_type_name(string encoder, string id, string typeName)
    {
        var text = Jepa(encoder);
        var (_, _, diagnostics) = GeneratorHarness.Run("/project/custom.jepa", text, TinyEncoder);

        var diagnostic = Assert.Single(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal(id, diagnostic.Id);
        var span = diagnostic.Location.GetLineSpan();
        Assert.Equal("/project/custom.jepa", span.Path);
        Assert.Equal(typeName, text.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));
        Assert.Equal(3, span.StartLinePosition.Line);
    }

    [Fact]
    public void A_remaining_csharp_error_in_user_code_is_reported_in_the_jepa_file()
    {
        // The constructor fits (int -> long), but the user's constructor body is not what the generator checks: a
        // type that becomes obsolete-as-error only shows up when the generated code compiles, through #line.
        const string obsolete = """
            using TorchSharp;
            using static TorchSharp.torch;
            namespace MyApp.Encoders;
            public sealed class Old : nn.Module<Tensor, Tensor>
            {
                [System.Obsolete("use Tiny", error: true)]
                public Old(long @out) : base(nameof(Old)) { RegisterComponents(); }
                public override Tensor forward(Tensor x) => x;
            }
            """;
        var text = Jepa("MyApp.Encoders.Old(out: 32)");
        var (_, output, _) = GeneratorHarness.Run("/project/custom.jepa", text, obsolete);

        var errors = GeneratorHarness.CompileDiagnostics(output).Where(d => d.Id == "CS0619").ToList();
        Assert.NotEmpty(errors); // the context encoder and its EMA copy
        Assert.All(errors, error =>
        {
            var span = error.Location.GetMappedLineSpan();
            Assert.Equal("/project/custom.jepa", span.Path);
            Assert.Equal(3, span.StartLinePosition.Line);
        });
    }
}
