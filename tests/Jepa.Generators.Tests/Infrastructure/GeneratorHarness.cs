using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace Jepa.Generators.Tests.Infrastructure;

/// <summary>Runs <see cref="JepaGenerator"/> in memory over <c>.jepa</c> texts and C# sources.</summary>
public static class GeneratorHarness
{
    public const string ProjectDirectory = "/project/";

    /// <summary>The framework reference assemblies plus TorchSharp and Jepa.Runtime, so generated code can compile.</summary>
    public static IReadOnlyList<MetadataReference> References { get; } = LoadReferences();

    public static CSharpCompilation CreateCompilation(params string[] sources) => CSharpCompilation.Create(
        "Consumer",
        sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, new CSharpParseOptions(LanguageVersion.Latest), path: $"Source{i}.cs")),
        References,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver CreateDriver(
        IEnumerable<AdditionalText> jepaFiles, string rootNamespace = "Consumer", bool trackSteps = true, string projectDirectory = ProjectDirectory)
        => CSharpGeneratorDriver.Create(
            [new JepaGenerator().AsSourceGenerator()],
            jepaFiles,
            new CSharpParseOptions(LanguageVersion.Latest),
            new TestOptionsProvider(rootNamespace, projectDirectory),
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    /// <summary>Runs the generator once; returns the run result and the compilation with the generated sources added.</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output, ImmutableArray<Diagnostic> Diagnostics) Run(
        IEnumerable<(string Path, string Text)> jepaFiles, string csharp = "", string rootNamespace = "Consumer", string projectDirectory = ProjectDirectory)
    {
        var driver = CreateDriver(jepaFiles.Select(f => (AdditionalText)new InMemoryAdditionalText(f.Path, f.Text)), rootNamespace, projectDirectory: projectDirectory);
        driver = driver.RunGeneratorsAndUpdateCompilation(CreateCompilation(csharp), out var output, out var diagnostics);
        return (driver.GetRunResult(), output, diagnostics);
    }

    public static (GeneratorDriverRunResult Result, Compilation Output, ImmutableArray<Diagnostic> Diagnostics) Run(string path, string text, string csharp = "")
        => Run([(path, text)], csharp);

    /// <summary>A diagnostic as the build prints it, with the file name only: <c>file.jepa(7,5): error JEPA301: ...</c>.</summary>
    public static string Format(Diagnostic diagnostic)
    {
        var span = diagnostic.Location.GetMappedLineSpan();
        var file = Path.GetFileName(span.Path);
        var severity = diagnostic.Severity.ToString().ToLowerInvariant();
        return $"{file}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1}): {severity} {diagnostic.Id}: {diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
    }

    /// <summary>Errors and warnings of compiling <paramref name="output"/> (the user's code plus the generated code).</summary>
    public static ImmutableArray<Diagnostic> CompileDiagnostics(Compilation output)
        => output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToImmutableArray();

    private static IReadOnlyList<MetadataReference> LoadReferences()
    {
        var trusted = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var paths = trusted.Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal)
                                       || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll" or "TorchSharp.dll" or "Jepa.Runtime.dll")
                           .ToList();
        var runtime = Path.Combine(AppContext.BaseDirectory, "Jepa.Runtime.dll");
        if (!paths.Any(p => p.EndsWith("Jepa.Runtime.dll", StringComparison.Ordinal)) && File.Exists(runtime)) paths.Add(runtime);
        var torch = Path.Combine(AppContext.BaseDirectory, "TorchSharp.dll");
        if (!paths.Any(p => p.EndsWith("TorchSharp.dll", StringComparison.Ordinal)) && File.Exists(torch)) paths.Add(torch);
        return paths.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList();
    }

    private sealed class TestOptionsProvider(string rootNamespace, string projectDirectory) : AnalyzerConfigOptionsProvider
    {
        private readonly Options global = new(new Dictionary<string, string>
        {
            ["build_property.RootNamespace"] = rootNamespace,
            ["build_property.ProjectDir"] = projectDirectory,
        });

        public override AnalyzerConfigOptions GlobalOptions => global;
        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Options.Empty;
        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => Options.Empty;

        private sealed class Options(Dictionary<string, string> values) : AnalyzerConfigOptions
        {
            public static readonly Options Empty = new([]);
            public override bool TryGetValue(string key, [NotNullWhen(true)] out string? value) => values.TryGetValue(key, out value);
        }
    }
}

/// <summary>An additional file held in memory.</summary>
public sealed class InMemoryAdditionalText(string path, string text) : AdditionalText
{
    private readonly SourceText source = SourceText.From(text);
    public override string Path { get; } = path;
    public override SourceText GetText(CancellationToken cancellationToken = default) => source;
}
