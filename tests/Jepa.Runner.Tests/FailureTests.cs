using System.Text.Json.Nodes;
using Jepa.Runtime.Training;
using static TorchSharp.torch;

namespace Jepa.Runner.Tests;

/// <summary>
/// Failures while training end in one line, never a stack trace: an unexpected exception's detail goes to error.log in
/// the run folder (the line names it); an allocation that fails names its size and the phase. run.json records both.
/// </summary>
[Collection(RunnerCollection.Name)]
public class FailureTests
{
    private static JsonObject Stop(string folder) => JsonNode.Parse(File.ReadAllText(Path.Combine(folder, RunFolder.StateFileName)))!["stop"]!.AsObject();

    [Fact]
    public void An_unexpected_exception_prints_one_line_and_writes_its_detail_to_error_log()
    {
        using var ws = new Workspace();
        var folder = ws.PathOf("run");
        var definition = TinyVector.Failing(step =>
        {
            if (step == 3) throw new InvalidOperationException("the step broke\nwith a second line");
        });

        var result = Workspace.Run(definition, "--steps", "5", "--out", folder);

        var log = Path.Combine(folder, "error.log");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: unexpected failure (InvalidOperationException): the step broke. The detail is in {log}.\n", result.Error);
        Assert.DoesNotContain("   at ", result.Output, StringComparison.Ordinal);
        var detail = File.ReadAllText(log);
        Assert.Contains("System.InvalidOperationException: the step broke\nwith a second line", detail);
        Assert.Contains("TinyVector.TrainingStep", detail);
        Assert.Contains("where: the run's main thread", detail);
        var stop = Stop(folder);
        Assert.Equal("failed", stop["reason"]!.GetValue<string>());
        Assert.Equal(log, stop["error_log"]!.GetValue<string>());
        Assert.Equal("unexpected failure (InvalidOperationException): the step broke.", stop["message"]!.GetValue<string>());
    }

    [Fact]
    public void An_allocation_that_fails_in_a_training_step_is_one_message_with_its_size_and_the_step()
    {
        using var ws = new Workspace();
        var folder = ws.PathOf("run");
        // 1 TiB: more than this machine's memory and swap, so the allocator refuses it at once (nothing is touched).
        var definition = TinyVector.Failing(step =>
        {
            if (step == 2) empty([1L << 38], ScalarType.Float32).Dispose();
        });

        var result = Workspace.Run(definition, "--steps", "4", "--out", folder);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: Out of memory (training step 2): an allocation of 1.00 TiB (1,099,511,627,776 bytes) failed.\n", result.Error);
        Assert.Equal("failed", Stop(folder)["reason"]!.GetValue<string>());
        Assert.False(File.Exists(Path.Combine(folder, "error.log")), "an allocation failure is not an unexpected error");
    }
}
