using Jepa.Dsl.Binding;

namespace Jepa.Dsl.Tests;

internal static class TestHelpers
{
    public static JepaCompilation Compile(string text, string path = "test.jepa") => JepaCompiler.Compile(path, text);

    /// <summary>Compiles and asserts there is no diagnostic at all.</summary>
    public static BoundFile CompileClean(string text)
    {
        var compilation = Compile(text);
        Assert.True(compilation.Diagnostics.Count == 0,
            "unexpected diagnostics:\n" + string.Join("\n", compilation.Diagnostics.Select(d => d.Format("test.jepa"))));
        return compilation.Bound;
    }

    public static BoundExperiment Single(string text) => Assert.Single(CompileClean(text).Experiments);

    /// <summary>A minimal valid experiment around <paramref name="body"/> statements (replace parts with
    /// <see cref="Experiment(string, string, string, string, string, string, string)"/>).</summary>
    public static string Experiment(
        string input = "input image: float[64];",
        string corruptions = "corruption noisy = gaussian_noise(std: 0.1);",
        string encoders = "encoder context = mlp(hidden: [32], out: 16);\n    encoder target = ema(context);",
        string predictor = "predictor = mlp(hidden: [32]);",
        string objective = "objective { predict target(image) from context(noisy(image)); loss mse; }",
        string train = "train { optimizer adamw(lr: 1e-3); steps 100; }",
        string extra = "") =>
        $"experiment E {{\n    {input}\n    {corruptions}\n    {encoders}\n    {predictor}\n    {objective}\n    {train}\n    {extra}\n}}\n";
}
