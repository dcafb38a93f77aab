using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.InteropServices;
using Jepa.Generators;
using Jepa.Runtime.Training;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using TorchSharp;

namespace Jepa.Cli;

/// <summary>
/// What a build does with a <c>.jepa</c> file, in this process: the same <see cref="JepaGenerator"/> run by Roslyn over
/// the file as an additional file, the generated C# compiled against the running framework, TorchSharp and
/// Jepa.Runtime, and the assembly loaded. Diagnostics print as a build prints them.
/// </summary>
internal static class InProcessBuild
{
    /// <summary>The compiled assembly, or null after printing the errors.</summary>
    public static Assembly? Compile(string path, string text, TextWriter error)
    {
        var compilation = CSharpCompilation.Create(
            "jepa-train-" + Guid.NewGuid().ToString("N"),
            syntaxTrees: [],
            references: References(),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: OptimizationLevel.Release,
                nullableContextOptions: NullableContextOptions.Enable));
        var options = new OptionsProvider(new Dictionary<string, string>
        {
            ["build_property.RootNamespace"] = string.Empty,
            ["build_property.ProjectDir"] = Path.GetDirectoryName(path) + Path.DirectorySeparatorChar,
        });
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            [new JepaGenerator().AsSourceGenerator()],
            additionalTexts: [new FileText(path, text)],
            parseOptions: new CSharpParseOptions(LanguageVersion.Latest),
            optionsProvider: options);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var generated, out var generatorDiagnostics);

        var failed = false;
        foreach (var diagnostic in generatorDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning))
        {
            error.WriteLine(diagnostic.ToString());
            failed |= diagnostic.Severity == DiagnosticSeverity.Error;
        }

        if (failed) return null;
        using var image = new MemoryStream();
        var emitted = generated.Emit(image);
        if (!emitted.Success)
        {
            foreach (var diagnostic in emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)) error.WriteLine(diagnostic.ToString());
            return null;
        }

        // The default context: the generated code's TorchSharp and Jepa.Runtime are the ones this process already runs.
        return Assembly.Load(image.ToArray());
    }

    /// <summary>The experiment class's <c>Definition</c>, found by the experiment's name.</summary>
    public static ExperimentDefinition? Definition(Assembly assembly, string experiment)
    {
        foreach (var type in assembly.GetTypes().Where(t => t.Name == experiment))
        {
            var property = type.GetProperty("Definition", BindingFlags.Public | BindingFlags.Static);
            if (property?.GetValue(null) is ExperimentDefinition definition) return definition;
            var field = type.GetField("Definition", BindingFlags.Public | BindingFlags.Static);
            if (field?.GetValue(null) is ExperimentDefinition fromField) return fromField;
        }

        return null;
    }

    /// <summary>The running framework's assemblies, TorchSharp and Jepa.Runtime.</summary>
    private static IEnumerable<MetadataReference> References()
    {
        var framework = RuntimeEnvironment.GetRuntimeDirectory();
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator)
            .Where(p => p.StartsWith(framework, StringComparison.Ordinal) && p.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            .Append(typeof(torch).Assembly.Location)
            .Append(typeof(JepaExperiment).Assembly.Location)
            .Distinct();
        return paths.Select(p => MetadataReference.CreateFromFile(p));
    }

    private sealed class FileText(string path, string text) : AdditionalText
    {
        public override string Path { get; } = path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
    }

    private sealed class OptionsProvider(IReadOnlyDictionary<string, string> values) : AnalyzerConfigOptionsProvider
    {
        public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(values);

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Options.Empty;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => Options.Empty;

        private sealed class Options(IReadOnlyDictionary<string, string> values) : AnalyzerConfigOptions
        {
            public static Options Empty { get; } = new(ImmutableDictionary<string, string>.Empty);

            public override bool TryGetValue(string key, out string value) => values.TryGetValue(key, out value!);
        }
    }
}
