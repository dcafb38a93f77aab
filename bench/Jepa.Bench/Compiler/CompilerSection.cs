using System.Text.Json.Nodes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Jepa.Bench.Harness;
using Perfolizer.Horology;

namespace Jepa.Bench.CompilerBench;

/// <summary>
/// Section 5 with BenchmarkDotNet, in process (no separate build per benchmark): parse + bind + emit of 1, 10 and 100
/// files; the generator over 100 files cold and its no-op after an unrelated C# edit. Milliseconds, BenchmarkDotNet's median.
/// </summary>
public static class CompilerSection
{
    public static JsonObject Run(Settings s, Table table)
    {
        var job = (s.Smoke
                ? Job.Dry.WithWarmupCount(1).WithIterationCount(3).WithIterationTime(TimeInterval.FromMilliseconds(100))
                : Job.Default.WithWarmupCount(3).WithIterationCount(15).WithIterationTime(TimeInterval.FromMilliseconds(250)))
            .WithToolchain(InProcessEmitToolchain.DontLogOutput)
            .WithId(s.Smoke ? "smoke" : "full");
        var artifacts = Path.Combine(Path.GetTempPath(), "jepa-bench-artifacts");
        var config = ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddLogger(NullLogger.Instance)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumnProvider(BenchmarkDotNet.Columns.DefaultColumnProviders.Instance)
            .WithArtifactsPath(artifacts)
            .WithOptions(ConfigOptions.DisableLogFile | ConfigOptions.JoinSummary);
        var summaries = BenchmarkRunner.Run([typeof(FrontEndBenchmarks), typeof(GeneratorBenchmarks)], config);
        var result = new JsonObject { ["tool"] = $"BenchmarkDotNet {typeof(BenchmarkRunner).Assembly.GetName().Version}, in process, job {job.Id}" };
        var frontEnd = new JsonObject();
        foreach (var summary in summaries)
        foreach (var report in summary.Reports)
        {
            if (report.ResultStatistics is null) throw new InvalidOperationException($"{report.BenchmarkCase.DisplayInfo} produced no result: {string.Join("; ", summary.ValidationErrors.Select(e => e.Message))}");
            var ms = report.ResultStatistics.Median / 1e6;
            var allocated = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase);
            var method = report.BenchmarkCase.Descriptor.WorkloadMethod.Name;
            var load = Machine.Load();
            if (method == nameof(FrontEndBenchmarks.ParseBindEmit))
            {
                var files = (int)report.BenchmarkCase.Parameters["Files"];
                frontEnd[files.ToString(System.Globalization.CultureInfo.InvariantCulture)] = ms;
                table.Add("5 compiler", $"parse+bind+emit, {files} file{(files == 1 ? "" : "s")}", $"{ms:F3} ms ({allocated / 1024.0:F0} KiB allocated)", note: load);
            }
            else
            {
                var key = method == nameof(GeneratorBenchmarks.Cold) ? "generator_cold_100_files" : "generator_incremental_noop_100_files";
                result[key] = ms;
                table.Add("5 compiler", method == nameof(GeneratorBenchmarks.Cold) ? "generator cold, 100 files" : "generator no-op after C# edit, 100 files",
                    $"{ms:F3} ms ({allocated / 1024.0:F0} KiB allocated)", note: load);
            }
        }
        result["parse_bind_emit"] = frontEnd;
        return result;
    }
}
