using System.Text.RegularExpressions;

namespace Jepa.Cli.Tests;

public class CheckTests
{
    [Theory]
    [MemberData(nameof(Cli.GoodExamples), MemberType = typeof(Cli))]
    public void Every_example_checks_clean_with_a_summary(string example)
    {
        var result = Cli.Run("check", Cli.Example(example));

        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("1 file, 1 experiment: 0 errors, 0 warnings", result.Output);
        Assert.DoesNotContain(": error JEPA", result.Output);
        Assert.Contains("parameters:", result.Output);
        Assert.Matches(@"FLOPs per training step: [0-9.]+ [MG]FLOP \([0-9,]+\) at batch \d+", result.Output);
        Assert.Contains("context encoder: ", result.Output);
        Assert.Contains("loss: ", result.Output);
    }

    [Fact]
    public void Folder_of_examples_checks_every_file_and_fails_only_for_the_collapse_example()
    {
        var result = Cli.Run("check", RepositoryRoot.Combine("examples"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("7 files, 7 experiments: 1 error, 0 warnings", result.Output);
    }

    [Fact]
    public void Collapse_example_prints_the_collapse_diagnostic_in_the_compilers_format_and_exits_with_1()
    {
        var file = Cli.Example("Collapse/collapse.jepa");

        var result = Cli.Run("check", file);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith($"{file}(12,14): error JEPA301: this objective collapses: the invariance loss mse", result.Output);
        Assert.Contains("1 file, 1 experiment: 1 error, 0 warnings", result.Output);
        Assert.DoesNotContain("parameters:", result.Output); // no summary for an experiment with errors
    }

    [Fact]
    public void Digits_summary_counts_parameters_and_flops_as_docs_models_defines_them()
    {
        var result = Cli.Run("check", Cli.Example("Digits/digits.jepa"));

        // mlp 64 -> 256 -> 256 -> 128: (64*256 + 256) + (256*256 + 256) + (256*128 + 128) = 115,328; predictor 128 -> 256 -> 128 = 65,920.
        Assert.Matches(new Regex(@"^  context +context +115,328 +229,376 +trained$", RegexOptions.Multiline), result.Output);
        Assert.Matches(new Regex(@"^  target +target +115,328 +229,376 +EMA copy of 'context', not trained$", RegexOptions.Multiline), result.Output);
        Assert.Matches(new Regex(@"^  predictor +65,920 +131,072 +trained$", RegexOptions.Multiline), result.Output);
        Assert.Contains("parameters: 181,248 trainable, 296,576 in all", result.Output);
        // B (229,376 + 131,072 + 229,376) + 2 B (229,376 + 131,072) at B = 256.
        Assert.Contains($"FLOPs per training step: 335.54 MFLOP ({(256L * (229_376 + 131_072 + 229_376)) + (2L * 256 * (229_376 + 131_072)):N0}) at batch 256", result.Output);
        Assert.Contains("    context encoder: [64] -> [128] (encoder context = mlp(hidden: [256, 256], out: 128, act: relu))", result.Output);
    }

    [Fact]
    public void Warnings_are_printed_and_do_not_fail_the_check()
    {
        using var folder = new TempFolder();
        var file = folder.Write("unused.jepa", """
            experiment E {
                input image: float[64];
                corruption noisy = gaussian_noise(std: 0.1);
                corruption unused = feature_dropout(p: 0.1);
                encoder context = mlp(hidden: [32], out: 16);
                encoder target = ema(context);
                predictor = mlp(hidden: [32]);
                objective { predict target(image) from context(noisy(image)); loss mse; }
                train { optimizer adamw(lr: 1e-3); steps 100; }
            }
            """);

        var result = Cli.Run("check", file);

        Assert.True(result.ExitCode == 0, result.All);
        Assert.Matches($@"{Regex.Escape(file)}\(4,\d+\): warning JEPA\d{{3}}: ", result.Output);
        Assert.Contains("0 errors, 1 warning", result.Output);
    }

    [Fact]
    public void Missing_file_is_an_error()
    {
        var result = Cli.Run("check", "/no/such/file.jepa");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("error: /no/such/file.jepa does not exist", result.Error);
    }

    [Fact]
    public void Unknown_command_is_a_usage_error()
    {
        var result = Cli.Run("compile", "x.jepa");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("error:", result.Error);
    }
}
