using System.Text.Json;

namespace Jepa.Cli.Tests;

/// <summary><c>jepa evaluate FILE --checkpoint PATH</c> on a .NET run's checkpoint (a PyTorch program's is tested in
/// tests/Jepa.PyTorch.Tests, ExportedProgramTests).</summary>
public class EvaluateTests
{
    [Fact]
    public void Evaluating_a_runs_checkpoint_gives_the_evaluation_the_run_printed()
    {
        using var folder = new TempFolder();
        var run = Path.Combine(folder.Path, "run");
        var trained = Cli.Run("train", Cli.Example("Digits/digits.jepa"), "--steps", "5", "--out", run, "--plain");
        Assert.True(trained.ExitCode == 0, trained.All);

        var evaluated = Cli.Run("evaluate", Cli.Example("Digits/digits.jepa"), "--checkpoint", run, "--out", Path.Combine(folder.Path, "evaluation"));

        Assert.True(evaluated.ExitCode == 0, evaluated.All);
        Assert.Contains("step 5 of a TorchSharp run", evaluated.Output);
        Assert.Contains(Line(trained.Output, "Parameters SHA-256"), evaluated.Output);       // the weights the run ended with
        using var ran = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "evaluation.json")));
        using var again = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder.Path, "evaluation", "evaluation.json")));
        foreach (var probe in new[] { "linear_probe", "few_shot", "knn", "probe_fit", "test_samples", "train_samples", "steps", "data" })
            Assert.Equal(ran.RootElement.GetProperty(probe).GetRawText(), again.RootElement.GetProperty(probe).GetRawText());
        Assert.Equal(Path.Combine(run, "checkpoint.ckpt"), again.RootElement.GetProperty("checkpoint").GetString());
        // The same table, but for the lines that say where the weights come from.
        Assert.Contains(Table(trained.Output), evaluated.Output);
    }

    [Fact]
    public void A_missing_or_foreign_checkpoint_is_one_clear_error()
    {
        using var folder = new TempFolder();
        var missing = Cli.Run("evaluate", Cli.Example("Digits/digits.jepa"), "--checkpoint", Path.Combine(folder.Path, "nothing.ckpt"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("There is no checkpoint at", missing.Error);

        var foreign = Cli.Run("evaluate", Cli.Example("Digits/digits.jepa"), "--checkpoint", folder.Write("notes.ckpt", new string('x', 200)));
        Assert.Equal(1, foreign.ExitCode);
        Assert.Contains("is not a Jepa checkpoint", foreign.Error);
        Assert.DoesNotContain("   at ", foreign.Error);                                              // no stack trace

        Assert.Equal(2, Cli.Run("evaluate", Cli.Example("Digits/digits.jepa")).ExitCode);          // --checkpoint is required
        Assert.Equal(2, Cli.Run("evaluate", Cli.Example("Digits/digits.jepa"), "--checkpoint", "x", "--steps", "3").ExitCode);   // no training options
    }

    private static string Line(string text, string start) => text.Split('\n').First(l => l.StartsWith(start, StringComparison.Ordinal));

    /// <summary>The evaluation table: from its title to the line after it.</summary>
    private static string Table(string text)
    {
        var start = text.IndexOf("Evaluation on the held-out split", StringComparison.Ordinal);
        var end = text.IndexOf("one test sample is", start, StringComparison.Ordinal);
        return text[start..end];
    }
}
