using System.Text.Json;

namespace Jepa.EndToEnd.Tests;

/// <summary>Every example runs end to end for a few steps and writes its run folder; the collapse example does not build.</summary>
[Collection(DotnetCollection.Name)]
public class ExampleTests
{
    public static TheoryData<string> Examples() => ["Digits", "TokenJepa", "VicReg", "Contrastive", "SimSiam"];

    [Theory]
    [MemberData(nameof(Examples))]
    public void Example_trains_briefly_and_writes_its_run_folder(string example)
    {
        using var folder = new TempFolder();
        var run = Path.Combine(folder.Path, "run");

        var result = Dotnet.Run(Repository.Root, TimeSpan.FromMinutes(5),
            "run", "--project", $"examples/{example}", "-c", Repository.Configuration, "--", "--steps", "5", "--out", run, "--plain");

        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("Evaluation on the held-out split", result.Output);
        foreach (var file in new[] { "options.json", "metrics.jsonl", "metrics.csv", "checkpoint.ckpt", "training.png", "evaluation.json" })
        {
            Assert.True(File.Exists(Path.Combine(run, file)), $"{file} missing in the run folder\n{result.All}");
        }

        Assert.NotEmpty(Directory.GetFiles(Path.Combine(run, "tensorboard"), "events.out.tfevents*", SearchOption.AllDirectories));
        using var evaluation = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "evaluation.json")));
        var root = evaluation.RootElement;
        Assert.Equal(5, root.GetProperty("steps").GetInt64());
        Assert.True(root.GetProperty("seconds").GetDouble() > 0);
        foreach (var probe in new[] { "linear_probe", "few_shot", "knn" })
        {
            foreach (var representation in new[] { "jepa", "random_init", "raw_input" })
            {
                var accuracy = root.GetProperty(probe).GetProperty(representation).GetDouble();
                Assert.InRange(accuracy, 0.0, 1.0);
            }
        }

        var collapse = root.GetProperty("collapse");
        Assert.Equal(JsonValueKind.Number, collapse.GetProperty("alarms").ValueKind);
        Assert.True(collapse.TryGetProperty("final_std", out _) && collapse.TryGetProperty("final_rank", out _));
    }

    /// <summary>The image recipe trains on data/mnist10k by default, which travels with the program, and reports on that
    /// set's own 2,004 test images.</summary>
    [Fact]
    public void Mnist_example_trains_on_its_bundled_data_and_reports_on_its_test_split()
    {
        using var folder = new TempFolder();
        var run = Path.Combine(folder.Path, "run");

        var result = Dotnet.Run(Repository.Root, TimeSpan.FromMinutes(10),
            "run", "--project", "examples/Mnist", "-c", Repository.Configuration, "--", "--steps", "3", "--out", run, "--plain");

        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("its own test split", result.Output);
        using var evaluation = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "evaluation.json")));
        var root = evaluation.RootElement;
        Assert.Equal(7996, root.GetProperty("train_samples").GetInt32());
        Assert.Equal(2004, root.GetProperty("test_samples").GetInt32());
        Assert.InRange(root.GetProperty("linear_probe").GetProperty("jepa").GetDouble(), 0.0, 1.0);
    }

    [Fact]
    public void Collapse_example_fails_to_build_with_the_collapse_diagnostic_at_its_loss()
    {
        var result = Dotnet.Run(Repository.Root, TimeSpan.FromMinutes(5), "build", "examples/Collapse", "-c", Repository.Configuration);

        Assert.NotEqual(0, result.ExitCode);
        var jepa = Path.Combine(Repository.Root, "examples", "Collapse", "collapse.jepa");
        Assert.Contains($"{jepa}(12,14): error JEPA301: this objective collapses", result.Output);
    }
}
