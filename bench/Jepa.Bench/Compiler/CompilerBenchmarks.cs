using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using Jepa.Bench.Compiler;
using Jepa.Dsl;
using Jepa.Dsl.Emit;
using Jepa.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Jepa.Bench.CompilerBench;

/// <summary>The inputs: <c>n</c> distinct files of one experiment each, the four kinds of LargeFile in turn (about 20 lines each).</summary>
public static class CompilerInputs
{
    public static (string Path, string Text)[] Files(int n) =>
        Enumerable.Range(0, n).Select(i => ($"/project/models/bench{i}.jepa", LargeFile.Experiment(i))).ToArray();
}

/// <summary>The front end and the C# emitter, as the generator runs them per file: parse, bind, check, emit.</summary>
[MemoryDiagnoser]
public class FrontEndBenchmarks
{
    private static readonly EmitOptions Options = new(RootNamespace: "Bench");
    private (string Path, string Text)[] files = [];

    [Params(1, 10, 100)]
    public int Files { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        files = CompilerInputs.Files(Files);
        foreach (var (path, text) in files)
        {
            var c = JepaCompiler.Compile(path, text);
            if (c.HasErrors || CSharpEmitter.Emit(c, Options).Count != 1)
                throw new InvalidOperationException($"{path} does not compile to one class: {string.Join("; ", c.Diagnostics.Select(d => d.Format(path)))}");
        }
    }

    [Benchmark(Description = "parse + bind + emit")]
    public int ParseBindEmit()
    {
        var chars = 0;
        foreach (var (path, text) in files)
        {
            var compilation = JepaCompiler.Compile(path, text);
            foreach (var source in CSharpEmitter.Emit(compilation, Options)) chars += source.Text.Length;
        }
        return chars;
    }
}

/// <summary>
/// The Roslyn incremental generator over 100 <c>.jepa</c> files (CSharpGeneratorDriver, as the build runs it): a cold
/// run (a new driver: every file parsed, bound and emitted, every source added), and the run after an unrelated C#
/// edit, which must find every step cached (checked in the setup).
/// </summary>
[MemoryDiagnoser]
public class GeneratorBenchmarks
{
    public const int FileCount = 100;
    private ImmutableArray<AdditionalText> texts;
    private CSharpCompilation compilation = null!;
    private CSharpCompilation edited = null!;
    private GeneratorDriver warm = null!;

    [GlobalSetup]
    public void Setup()
    {
        texts = [.. CompilerInputs.Files(FileCount).Select(f => (AdditionalText)new InMemoryAdditionalText(f.Path, f.Text))];
        compilation = CSharpCompilation.Create("Bench", [CSharpSyntaxTree.ParseText("namespace Bench; public class First { }")],
            [MetadataReference.CreateFromFile(typeof(object).Assembly.Location)], new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace Bench; public class Second { }"));
        warm = Driver().RunGenerators(compilation);
        var first = warm.GetRunResult();
        if (first.GeneratedTrees.Length != FileCount || first.Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error))
            throw new InvalidOperationException($"the generator made {first.GeneratedTrees.Length} sources from {FileCount} files: {string.Join("; ", first.Diagnostics)}");
        var again = warm.RunGenerators(edited).GetRunResult().Results.Single();
        var notCached = again.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).Count(o => o.Reason != IncrementalStepRunReason.Cached);
        if (notCached != 0) throw new InvalidOperationException($"after an unrelated C# edit {notCached} generator outputs were not cached");
    }

    [Benchmark(Description = "generator, cold, 100 files")]
    public GeneratorDriver Cold() => Driver().RunGenerators(compilation);

    [Benchmark(Description = "generator, no-op after a C# edit, 100 files")]
    public GeneratorDriver IncrementalNoOp() => warm.RunGenerators(edited);

    /// <summary>The generator tests' in-memory driver (steps tracked), with the project's root namespace Bench.</summary>
    private GeneratorDriver Driver() => GeneratorHarness.CreateDriver(texts, "Bench");
}
