using Jepa.Generators.Tests.Infrastructure;

namespace Jepa.Reliability.Tests.Fuzzing;

/// <summary>
/// Found by <see cref="GeneratorFuzzTests.Valid_shaped_files_through_the_generator"/>: names that are valid in a
/// <c>.jepa</c> file but made generated code that did not compile. Each file here must generate code that compiles
/// without an error or a warning.
/// </summary>
public class EmitterNameTests
{
    private static string File(string input = "image", string context = "context", string view = "noisy", string ns = "", string name = "E",
        string? targetView = null, string encoder = "mlp(hidden: [32], out: 16)", string corruption = "gaussian_noise(std: 0.1)") => $$"""
        {{(ns.Length > 0 ? $"namespace {ns};" : "")}}
        experiment {{name}} {
            input {{input}}: float[1, 8, 8];
            corruption {{view}} = {{corruption}};
            {{(targetView is null ? "" : $"corruption {targetView} = gaussian_noise(std: 0.05);")}}
            encoder {{context}} = {{encoder}};
            encoder target = ema({{context}});
            {{(corruption.Contains("block_mask", StringComparison.Ordinal) ? "predictor = transformer(dim: 8, depth: 1, heads: 2);" : "predictor = mlp(hidden: [32]);")}}
            objective { predict target({{(targetView is null ? input : $"{targetView}({input})")}}) from {{context}}({{view}}({{input}})); loss mse; }
            train { optimizer adamw(lr: 1e-3); steps 100; }
        }
        """;

    public static TheoryData<string, string> Files() => new()
    {
        { "a keyword as the namespace and the experiment", File(ns: "e.class", name: "event") },
        { "a corruption named _ (member and local were both _)", File(view: "_") },
        { "a corruption named _1 (its member was 1)", File(view: "_1") },
        { "an input xY and a corruption x_y (both xY in the training step)", File(input: "xY", view: "x_y") },
        { "an input named after a member (Predictor)", File(input: "Predictor") },
        { "a corruption Target (local target)", File(view: "Target") },
        { "the same corruption on both sides (two draws, two locals)", File(targetView: "noisy").Replace("corruption noisy = gaussian_noise(std: 0.05);", "", StringComparison.Ordinal) },
        { "corruptions x (with a token mask: X and XMask) and x_mask", File(view: "x", targetView: "x_mask", encoder: "vit(patch: 2, dim: 16, depth: 1, heads: 2)", corruption: "gaussian_noise(std: 0.1) then block_mask") },
        { "corruptions x_y and xY on the two sides", File(view: "x_y", targetView: "xY") },
    };

    private const string CustomEncoder = """
        namespace MyApp;
        public sealed class Tiny : TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>
        {
            public Tiny(int @out, double scale = 1, int steps = 0) : base("tiny") { }
            public override TorchSharp.torch.Tensor forward(TorchSharp.torch.Tensor x) => x;
        }
        """;

    /// <summary>
    /// An option property whose name another owner already had: the encoder <c>loss</c>'s argument <c>scale</c> and the
    /// loss's weight both wanted <c>LossScale</c>, an encoder <c>warmup</c>'s <c>steps</c> wanted the base option
    /// <c>WarmupSteps</c>. The code compiled, but read the other property: the loss was weighted by the encoder's
    /// argument. Each value must be read from its own property.
    /// </summary>
    [Theory]
    [InlineData("loss", "scale: 2.5", "LossEncoderScale", "2.5", "scale")]
    [InlineData("warmup", "steps: 7", "WarmupStepsValue", "7", "steps")]
    public void An_option_whose_name_was_taken_is_read_from_its_own_property(string encoder, string argument, string property, string value, string parameter)
    {
        var text = $$"""
            experiment E {
                input image: float[64];
                encoder {{encoder}} = MyApp.Tiny(out: 16, {{argument}});
                encoder target = ema({{encoder}});
                predictor = mlp(hidden: [16]);
                objective { predict target(image) from {{encoder}}(image); loss mse * 3; }
                train { optimizer adamw(lr: 1e-3); steps 100; }
            }
            """;
        var (result, output, diagnostics) = GeneratorHarness.Run([("/project/taken.jepa", text)], CustomEncoder);

        Assert.Empty(diagnostics);
        Assert.Empty(GeneratorHarness.CompileDiagnostics(output));
        var code = result.Results.Single().GeneratedSources.Single().SourceText.ToString();
        Assert.Contains($" {property} {{ get; init; }} = {value};", code, StringComparison.Ordinal);
        Assert.Contains($"{parameter}: Settings.{property}", code, StringComparison.Ordinal);
        Assert.Contains("public double LossScale { get; init; } = 3.0;", code, StringComparison.Ordinal);
        Assert.Contains("weight: Settings.LossScale)", code, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Generated_code_compiles(string what, string text)
    {
        var (result, output, diagnostics) = GeneratorHarness.Run("/project/names.jepa", text);

        Assert.True(diagnostics.IsEmpty, what + ": " + string.Join("\n", diagnostics.Select(GeneratorHarness.Format)));
        Assert.Single(result.Results.Single().GeneratedSources);
        var problems = GeneratorHarness.CompileDiagnostics(output);
        Assert.True(problems.IsEmpty, what + ":\n" + string.Join("\n", problems));
    }
}
