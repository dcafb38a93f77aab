using System.Text.Json;
using Jepa.Runner;

namespace Jepa.Cli.Tests;

/// <summary><c>jepa train</c> compiles the .jepa in-process; the digits example is the same experiment built by MSBuild.</summary>
public class TrainTests
{
    [Fact]
    public void Train_on_the_digits_file_writes_the_same_run_folder_and_evaluation_as_the_example()
    {
        using var folder = new TempFolder();
        var cliRun = Path.Combine(folder.Path, "cli");
        var exampleRun = Path.Combine(folder.Path, "example");

        var cli = Cli.Run("train", Cli.Example("Digits/digits.jepa"), "--steps", "5", "--out", cliRun, "--plain");
        var output = new StringWriter();
        var error = new StringWriter();
        var example = ExperimentRunner.Execute(Digits.DigitsJepa.Definition, new RunSettings { Steps = 5, Out = exampleRun, Plain = true }, output, error);

        Assert.True(cli.ExitCode == 0, cli.All);
        Assert.True(example == 0, output + error.ToString());
        Assert.Contains("Evaluation on the held-out split", cli.Output);
        Assert.Equal(Files(exampleRun), Files(cliRun));
        Assert.Equal(Keys(Path.Combine(exampleRun, "evaluation.json")), Keys(Path.Combine(cliRun, "evaluation.json")));
        using var evaluation = JsonDocument.Parse(File.ReadAllText(Path.Combine(cliRun, "evaluation.json")));
        Assert.Equal(5, evaluation.RootElement.GetProperty("steps").GetInt64());
        Assert.Equal("DigitsJepa", evaluation.RootElement.GetProperty("experiment").GetString());
        // The same options (every value of the file) and, from the same seed, the same losses: the same experiment.
        Assert.Equal(File.ReadAllText(Path.Combine(exampleRun, "options.json")), File.ReadAllText(Path.Combine(cliRun, "options.json")));
        Assert.Equal(Losses(exampleRun), Losses(cliRun));
    }

    [Fact]
    public void Train_on_the_collapse_file_stops_at_the_compilers_error()
    {
        var file = Cli.Example("Collapse/collapse.jepa");

        var result = Cli.Run("train", file, "--steps", "1");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{file}(12,14): error JEPA301: this objective collapses", result.Error);
    }

    [Fact]
    public void Run_options_are_checked_as_the_examples_check_them()
    {
        var result = Cli.Run("train", Cli.Example("Digits/digits.jepa"), "--steps", "5", "--epochs", "1");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--epochs and --steps cannot be combined", result.Error);
    }

    private static List<string> Files(string run) =>
        Directory.EnumerateFiles(run).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList()!;

    private static List<string> Keys(string json)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        var keys = new List<string>();
        Walk(document.RootElement, "", keys);
        return keys;
    }

    private static void Walk(JsonElement element, string prefix, List<string> keys)
    {
        if (element.ValueKind != JsonValueKind.Object) return;
        foreach (var property in element.EnumerateObject())
        {
            keys.Add(prefix + property.Name);
            Walk(property.Value, prefix + property.Name + ".", keys);
        }
    }

    private static List<string> Losses(string run) =>
        File.ReadLines(Path.Combine(run, "metrics.jsonl"))
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Where(e => e.TryGetProperty("loss", out _))
            .Select(e => e.GetProperty("loss").GetRawText())
            .ToList();
}
