namespace Jepa.Cli.Tests;

public class GraphTests
{
    [Fact]
    public void Digits_as_mermaid()
    {
        var result = Cli.Run("graph", Cli.Example("Digits/digits.jepa"));

        Assert.True(result.ExitCode == 0, result.All);
        Assert.Equal("""
            flowchart LR
                %% DigitsJepa
                input[/"image: float[64]"/]
                encoder_target["encoder target = ema(context, momentum: 0.996 -> 1.0)"]
                corruption_noisy{{"corruption noisy = feature_dropout(p: 0.3) then gaussian_noise(std: 0.1)"}}
                encoder_context["encoder context = mlp(hidden: [256, 256], out: 128, act: relu)"]
                loss(["loss smooth_l1(target_norm: layer)"])
                predictor["predictor = mlp(hidden: [256], out: 128, act: relu)"]
                input -->|"[64]"| encoder_target
                input -->|"[64]"| corruption_noisy
                corruption_noisy -->|"[64]"| encoder_context
                encoder_context -->|"[128]"| predictor
                predictor -->|"[128]"| loss
                encoder_target -->|"[128], no gradient"| loss
                encoder_context -.->|"EMA of the weights"| encoder_target

            """.ReplaceLineEndings("\n"), result.Output);
    }

    [Fact]
    public void Digits_as_dot()
    {
        var result = Cli.Run("graph", Cli.Example("Digits/digits.jepa"), "--format", "dot");

        Assert.True(result.ExitCode == 0, result.All);
        Assert.StartsWith("digraph \"DigitsJepa\" {\n    rankdir=LR;\n", result.Output);
        Assert.Contains("    encoder_context [label=\"encoder context = mlp(hidden: [256, 256], out: 128, act: relu)\", shape=box];\n", result.Output);
        Assert.Contains("    corruption_noisy -> encoder_context [label=\"[64]\"];\n", result.Output);
        Assert.Contains("    encoder_context -> encoder_target [label=\"EMA of the weights\", style=dashed];\n", result.Output);
        Assert.EndsWith("}\n", result.Output);
    }

    [Fact]
    public void Token_jepa_edges_carry_the_masked_token_shapes()
    {
        var result = Cli.Run("graph", Cli.Example("TokenJepa/token.jepa"));

        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("encoder_context -->|\"[Nc, 64]\"| predictor", result.Output);
        Assert.Contains("predictor -->|\"[Nt, 64]\"| loss", result.Output);
        Assert.Contains("encoder_target -->|\"[Nt, 64], no gradient\"| loss", result.Output);
    }

    [Fact]
    public void VicReg_draws_the_regularizer_on_both_branches_and_the_shared_weights()
    {
        var result = Cli.Run("graph", Cli.Example("VicReg/vicreg.jepa"));

        Assert.Contains("regularizer1([\"regularize vicreg(variance: 25, covariance: 1)\"])", result.Output);
        Assert.Contains("encoder_context -->|\"[128]\"| regularizer1", result.Output);
        Assert.Contains("encoder_target -->|\"[128]\"| regularizer1", result.Output);
        Assert.Contains("encoder_context -.->|\"same weights\"| encoder_target", result.Output);
    }

    [Fact]
    public void Experiment_with_errors_is_not_drawn()
    {
        var result = Cli.Run("graph", Cli.Example("Collapse/collapse.jepa"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("error JEPA301", result.Error);
        Assert.Equal(string.Empty, result.Output);
    }

    [Fact]
    public void Unknown_format_is_a_usage_error()
    {
        var result = Cli.Run("graph", Cli.Example("Digits/digits.jepa"), "--format", "svg");

        Assert.Equal(2, result.ExitCode);
    }
}
