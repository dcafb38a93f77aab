using System.Reflection;
using System.Runtime.Loader;
using Jepa.Dsl;
using Jepa.Dsl.Catalog;
using Jepa.Generators.Tests.Infrastructure;
using Jepa.Runtime.Data;
using Jepa.Runtime.Training;
using TorchSharp;

namespace Jepa.Generators.Tests;

/// <summary>
/// The catalog end to end: Sources/every-builtin.jepa uses every built-in, generates code that compiles without a
/// warning, and each of its experiments trains one step on random data through the runtime.
/// </summary>
public class CatalogTrainingTests
{
    private static readonly string File = RepositoryRoot.Read("tests/Jepa.Generators.Tests/Sources/every-builtin.jepa");

    [Fact]
    public void The_file_uses_every_builtin_of_the_catalog()
    {
        var compilation = JepaCompiler.Compile("every-builtin.jepa", File);

        var used = compilation.Bound.Experiments.SelectMany(e => e.Builtins()).ToHashSet();
        var unused = Builtins.All.Where(b => !used.Contains(b)).Select(b => b.ToString()).ToList();
        Assert.True(unused.Count == 0, "every-builtin.jepa does not use: " + string.Join(", ", unused));
    }

    [Fact]
    public void Every_experiment_compiles_and_trains_one_step()
    {
        var (result, output, diagnostics) = GeneratorHarness.Run("/project/every-builtin.jepa", File);
        Assert.Empty(diagnostics);
        Assert.Equal(5, Assert.Single(result.Results).GeneratedSources.Length);
        Assert.Empty(GeneratorHarness.CompileDiagnostics(output));

        using var image = new MemoryStream();
        var emitted = output.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        image.Position = 0;
        var assembly = new AssemblyLoadContext("every-builtin").LoadFromStream(image);
        var definitions = assembly.GetTypes()
            .Where(t => typeof(JepaExperiment).IsAssignableFrom(t))
            .Select(t => (ExperimentDefinition)t.GetProperty("Definition", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!)
            .OrderBy(d => d.Name, StringComparer.Ordinal)
            .ToList();
        Assert.Equal(["Contrastive", "Flattened", "Masked", "RandomTokens", "Vectors"], definitions.Select(d => d.Name));

        foreach (var definition in definitions)
        {
            // The file's device is in the options (cuda included); the step runs on the processor without a GPU.
            var options = definition.Defaults with { Device = torch.cuda.is_available() ? definition.Defaults.Device : "cpu" };
            var samples = definition.Defaults.Batch * 2;
            using var data = Datasets.FromTensors(torch.rand([samples, .. definition.InputShape], generator: new torch.Generator(seed: 3)));
            using var experiment = definition.Create(options);
            var run = experiment.Train(data);

            Assert.Equal((1L, StopReason.Completed), (run.Steps, run.StopReason));
            Assert.True(double.IsFinite(run.FinalLoss), $"{definition.Name}: loss {run.FinalLoss}");
        }

        Assert.Equal("cuda", definitions.Single(d => d.Name == "Contrastive").Defaults.Device);
        Assert.Equal("auto", definitions.Single(d => d.Name == "RandomTokens").Defaults.Device);
    }
}
