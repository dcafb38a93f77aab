using System.Globalization;
using Jepa.Dsl.Binding;
using Jepa.Dsl.Cost;
using Jepa.Dsl.Diagnostics;

namespace Jepa.Cli;

/// <summary><c>jepa check FILES</c>: the compiler's diagnostics, in the build's format, and a summary per experiment.</summary>
internal static class CheckCommand
{
    public static int Execute(IReadOnlyList<string> paths, TextWriter output, TextWriter error)
    {
        var files = JepaFiles.Expand(paths, error, out var allFound);
        int errors = 0, warnings = 0, experiments = 0, unreadable = 0;
        foreach (var file in files)
        {
            var compilation = JepaFiles.Compile(file, error);
            if (compilation is null)
            {
                unreadable++;
                continue;
            }

            foreach (var diagnostic in compilation.Diagnostics)
            {
                output.WriteLine(diagnostic.Format(file));
                if (diagnostic.Severity == Severity.Error) errors++;
                else if (diagnostic.Severity == Severity.Warning) warnings++;
            }

            foreach (var experiment in compilation.Bound.Experiments)
            {
                experiments++;
                if (!experiment.HasErrors) WriteSummary(file, experiment, output);
            }
        }

        output.WriteLine($"{Count(files.Count, "file")}, {Count(experiments, "experiment")}: {Count(errors, "error")}, {Count(warnings, "warning")}");
        return errors > 0 || unreadable > 0 || !allFound ? 1 : 0;
    }

    /// <summary>Parameters per module, FLOPs per training step (docs/models.md) and the shapes through the graph.</summary>
    internal static void WriteSummary(string file, BoundExperiment experiment, TextWriter output)
    {
        output.WriteLine();
        output.WriteLine($"{experiment.Name}  {file}{experiment.NameSpan.ToDisplayPosition()}");
        if (experiment.Cost is { } cost)
        {
            var rows = cost.Modules.Select(m => new[]
            {
                m.Role, m.Encoder ?? "", Number(m.Parameters), Number(m.ForwardFlops), m.Note,
            }).ToList();
            var header = new[] { "module", "encoder", "parameters", "FLOPs/sample", "note" };
            var widths = Enumerable.Range(0, header.Length).Select(i => rows.Select(r => r[i].Length).Append(header[i].Length).Max()).ToArray();
            output.WriteLine("  " + Row(header, widths));
            foreach (var row in rows) output.WriteLine("  " + Row(row, widths));
            output.WriteLine($"  parameters: {Number(cost.TrainableParameters)} trainable, {Number(cost.TotalParameters)} in all");
            output.WriteLine($"  FLOPs per training step: {Flops(cost.FlopsPerStep)} at batch {cost.Batch}");
            output.WriteLine(cost.Memory is { } memory
                ? $"  memory for training: about {MemoryModel.Format(memory.Total)} at batch {memory.Batch} ({memory.Parts()}; largest: {memory.LargestModule}, {MemoryModel.Format(memory.LargestModuleBytes)})"
                : "  memory for training: not estimated (a C# encoder's size is unknown)");
        }

        if (experiment.Pipeline is { } pipeline)
        {
            output.WriteLine($"  shapes ({Mode(pipeline.Mode)}; without the batch dimension):");
            foreach (var stage in pipeline.Stages) output.WriteLine($"    {stage}");
        }
    }

    private static string Row(string[] cells, int[] widths) =>
        string.Join("  ", cells.Select((cell, i) => i is 2 or 3 ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i]))).TrimEnd();

    private static string Mode(RepresentationMode mode) => mode switch
    {
        RepresentationMode.Vector => "one vector per sample",
        RepresentationMode.Tokens => "tokens",
        _ => "masked tokens: Nc context and Nt target tokens",
    };

    private static string Number(long? value) => value?.ToString("N0", CultureInfo.InvariantCulture) ?? "?";

    private static string Flops(long? value) => value switch
    {
        null => "? (a C# encoder's cost is unknown)",
        >= 1_000_000_000 => $"{(value.Value / 1e9).ToString("0.##", CultureInfo.InvariantCulture)} GFLOP ({Number(value)})",
        >= 1_000_000 => $"{(value.Value / 1e6).ToString("0.##", CultureInfo.InvariantCulture)} MFLOP ({Number(value)})",
        _ => Number(value),
    };

    private static string Count(int n, string noun) => $"{n} {noun}{(n == 1 ? "" : "s")}";
}
