using Jepa.Runtime.Training;

namespace Jepa.Runner.Tests;

/// <summary>
/// The memory check at the start of a run: the compiler's estimate (here a hand-written one) and the data against the
/// memory available, or the budget JEPA_MEMORY_BUDGET sets; a run that cannot fit is refused in one message naming the
/// estimate and the largest module, before anything is built.
/// </summary>
[Collection(RunnerCollection.Name)]
public class MemoryCheckTests
{
    private const long MiB = 1024 * 1024;

    private static readonly MemoryEstimate Estimate = new(Batch: 32, Weights: 40 * MiB, EmaCopies: 40 * MiB, Gradients: 40 * MiB, OptimizerState: 80 * MiB,
        Activations: 12 * MiB, Workspace: 40 * MiB, Baseline: 290 * MiB, LargestModule: "context encoder 'context' (mlp, 10,485,760 parameters)", LargestModuleBytes: 172 * MiB);

    private static Workspace.Result Run(string? budget, params string[] args)
    {
        var saved = Environment.GetEnvironmentVariable(MemoryCheck.BudgetVariable);
        Environment.SetEnvironmentVariable(MemoryCheck.BudgetVariable, budget);
        try
        {
            return Workspace.Run(TinyVector.Definition with { Memory = Estimate }, args);
        }
        finally
        {
            Environment.SetEnvironmentVariable(MemoryCheck.BudgetVariable, saved);
        }
    }

    [Fact]
    public void A_run_that_cannot_fit_the_budget_is_refused_naming_the_estimate_and_the_largest_module_before_anything_is_built()
    {
        using var ws = new Workspace();
        var folder = ws.PathOf("run");

        var result = Run("300M", "--steps", "2", "--out", folder);

        Assert.Equal(1, result.ExitCode);
        // 542 MiB of model and baseline, and the embedded digits in memory (1797 x 64 float32 values, 1797 int64 labels).
        Assert.Equal("error: TinyVector needs about 542.5 MiB to train, more than the 300.0 MiB it can have (JEPA_MEMORY_BUDGET=300M): " +
                     "weights 40.0 MiB, EMA copies 40.0 MiB, gradients 40.0 MiB, optimizer state 80.0 MiB, activations at batch 32 12.0 MiB, " +
                     "workspace 40.0 MiB, process baseline 290.0 MiB; data 463.3 KiB. The largest module is the context encoder 'context' " +
                     "(mlp, 10,485,760 parameters), 172.0 MiB. Make the model smaller or the batch lower; if the estimate is wrong for this machine, " +
                     "JEPA_MEMORY_BUDGET=SIZE (or off) overrides the check.\n", result.Error);
        Assert.False(File.Exists(Path.Combine(folder, RunFolder.CheckpointFileName)));
        Assert.False(File.Exists(Path.Combine(folder, RunFolder.StateFileName)));
    }

    [Fact]
    public void A_run_that_fits_says_its_estimate_and_after_training_the_measured_peak()
    {
        using var ws = new Workspace();

        var budget = Run("64G", "--steps", "2", "--out", ws.PathOf("budget"));
        var available = Run(null, "--steps", "2", "--out", ws.PathOf("available"));
        var off = Run("off", "--steps", "2", "--out", ws.PathOf("off"));
        var wrong = Run("lots", "--steps", "2", "--out", ws.PathOf("wrong"));
        var unknown = Workspace.Run("--steps", "2", "--out", ws.PathOf("unknown"));

        Assert.True(budget.ExitCode == 0, budget.All);
        Assert.Contains("Memory: about 542.5 MiB estimated for training (model 252.0 MiB at batch 32, data 463.3 KiB, process 290.0 MiB); 64.00 GiB available (JEPA_MEMORY_BUDGET=64G).", budget.Output);
        Assert.Matches(@"Peak memory: [\d.]+ [MG]iB resident \(estimated 542\.5 MiB, ([+-]\d+|0) %\)\.", budget.Output);
        Assert.True(available.ExitCode == 0, available.All);
        Assert.Matches(@"; [\d.]+ GiB available \((MemAvailable|the cgroup's memory limit)\)\.", available.Output);
        Assert.Contains("not checked (JEPA_MEMORY_BUDGET=off).", off.Output);
        Assert.Equal("error: JEPA_MEMORY_BUDGET takes a size such as 8G or 512M, or off; not 'lots'.\n", wrong.Error);
        Assert.Contains("Memory: not estimated (the compiler does not know the size of a C# encoder).", unknown.Output);
    }

    [Theory]
    [InlineData(110, 100, "+10")]
    [InlineData(97, 100, "-3")]
    [InlineData(2368, 2369, "0")]   // -0.04 %: the custom format "+0;-0" alone wrote "-+0" here (MemoryEstimateTests found it)
    [InlineData(1005, 1000, "+1")]  // +0.5 % rounds away from zero
    public void The_difference_is_a_whole_signed_percent(long measured, long estimated, string expected) =>
        Assert.Equal(expected, MemoryCheck.Percent(measured, estimated));
}
