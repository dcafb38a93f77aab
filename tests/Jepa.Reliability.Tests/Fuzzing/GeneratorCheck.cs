using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Jepa.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace Jepa.Reliability.Tests.Fuzzing;

/// <summary>One <c>.jepa</c> file as the build hands it to the generator: a path and the bytes on disk.</summary>
public sealed record JepaFile(string Path, byte[] Bytes)
{
    public static JepaFile FromText(string path, string text) => new(path, Encoding.UTF8.GetBytes(text));

    public override string ToString()
    {
        // What a failing case prints: the text as the generator sees it, with control characters visible.
        var text = ByteAdditionalText.Decode(Bytes).ToString();
        var visible = new StringBuilder();
        foreach (var c in text)
        {
            visible.Append(c is '\n' or '\t' || !char.IsControl(c) && c is not ('\u2028' or '\u2029' or '\u0085' or '\uFEFF')
                ? c.ToString()
                : $"\\u{(int)c:X4}");
        }

        return $"--- {Path} ({Bytes.Length} bytes) ---\n{visible}\n--- end ---";
    }
}

/// <summary>An additional file read from bytes the way the compiler reads one from disk (UTF-8, with a fallback
/// encoding for bytes that are not UTF-8; a byte-order mark is honoured).</summary>
public sealed class ByteAdditionalText(string path, byte[] bytes) : AdditionalText
{
    private readonly SourceText text = Decode(bytes);

    public override string Path { get; } = path;

    public override SourceText GetText(CancellationToken cancellationToken = default) => text;

    public static SourceText Decode(byte[] bytes)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        return SourceText.From(stream, encoding: null, throwIfBinaryDetected: false);
    }
}

/// <summary>
/// Runs the whole generator (the Roslyn driver over <see cref="Jepa.Generators.JepaGenerator"/>) on a set of
/// <c>.jepa</c> files and checks what must hold for any input: no exception escapes the generator (the driver turns
/// one into warning CS8785 and drops every generated file), no internal JEPA9xx diagnostic, every diagnostic lies
/// inside its file with the line and column Roslyn computes for its offset, and the generated code compiles against
/// the runtime without an error or a warning whenever the generator reported no error. Counts what it saw.
/// </summary>
public sealed class GeneratorCheck
{
    /// <summary>The custom-encoder diagnostics: the generated code names a C# type the compilation lacks or cannot
    /// use, so the C# compiler's own error on that type name follows the located JEPA error.</summary>
    private static readonly HashSet<string> CustomTypeIds = ["JEPA150", "JEPA151", "JEPA152"];

    /// <summary>A C# encoder the fuzzed files may name (<c>Fuzz.Encoders.Tiny</c>), with parameters whose names meet
    /// the generated option properties (<c>scale</c>, <c>steps</c>, <c>batch</c>, ...).</summary>
    public const string CustomEncoder = """
        namespace Fuzz.Encoders;
        // global:: everywhere: a fuzzed experiment may be called System or TorchSharp in a namespace around this one.
        public sealed class Tiny : global::TorchSharp.torch.nn.Module<global::TorchSharp.torch.Tensor, global::TorchSharp.torch.Tensor>
        {
            public Tiny(int @out, double scale = 1, int steps = 0, int batch = 0, int seed = 0, double weight = 0, double std = 0,
                int a_b = 0, int aB = 0, bool flag = false, global::System.Collections.Generic.IReadOnlyList<int>? hidden = null) : base("tiny") { }
            public override global::TorchSharp.torch.Tensor forward(global::TorchSharp.torch.Tensor x) => x;
        }
        """;

    private static readonly CSharpCompilation BaseCompilation = GeneratorHarness.CreateCompilation(CustomEncoder);

    /// <summary>The compilation the fuzzed files are generated into (the runtime, TorchSharp and the C# encoder).</summary>
    public static Compilation Compilation => BaseCompilation;

    /// <summary>A new driver without files, tracking steps.</summary>
    public static GeneratorDriver Driver() => GeneratorHarness.CreateDriver([], trackSteps: true);

    /// <summary>Verdicts of compiling generated code already seen (many inputs generate the same code).</summary>
    private readonly ConcurrentDictionary<string, string> compiled = new(StringComparer.Ordinal);

    public long Cases { get; private set; }

    /// <summary>Inputs without a JEPA error: their generated code was compiled.</summary>
    public long ErrorFree { get; private set; }

    /// <summary>Inputs with at least one generated file.</summary>
    public long Generating { get; private set; }

    /// <summary>Distinct generated outputs compiled.</summary>
    public int DistinctCompiled => compiled.Count;

    public SortedDictionary<string, long> DiagnosticIds { get; } = new(StringComparer.Ordinal);

    /// <summary>Checks one run over <paramref name="files"/>; returns the generated file names. A run with
    /// <paramref name="count"/> false (a comparison run) is checked but not counted.</summary>
    public IReadOnlyList<string> Check(JepaFile[] files, bool compile = true, bool count = true)
    {
        if (count) Cases++;
        var additional = files.Select(f => new ByteAdditionalText(f.Path, f.Bytes)).ToList();
        var texts = additional.ToDictionary(a => a.Path, a => a.GetText());
        string Describe() => string.Join("\n", files.Select(f => f.ToString()));

        var driver = GeneratorHarness.CreateDriver(additional, trackSteps: false);
        driver = driver.RunGeneratorsAndUpdateCompilation(BaseCompilation, out var output, out var diagnostics);
        var result = driver.GetRunResult().Results.Single();

        // 1. Nothing escapes: the driver reports a generator's exception as CS8785 and keeps none of its output.
        Assert.True(result.Exception is null, $"the generator threw {result.Exception}\n{Describe()}");
        Assert.DoesNotContain(diagnostics, d => d.Id == "CS8785");

        foreach (var diagnostic in diagnostics)
        {
            if (count) DiagnosticIds[diagnostic.Id] = DiagnosticIds.GetValueOrDefault(diagnostic.Id) + 1;

            // 2. No internal error: each one is a bug of the compiler, the emitter or the generator.
            Assert.False(diagnostic.Id.StartsWith("JEPA9", StringComparison.Ordinal), $"{GeneratorHarness.Format(diagnostic)}\n{Describe()}");

            // 3. Inside its file, at the line and column Roslyn computes for the offsets (what an IDE underlines).
            Assert.True(diagnostic.Location.Kind == LocationKind.ExternalFile, $"{diagnostic} is not located in a .jepa file\n{Describe()}");
            var lineSpan = diagnostic.Location.GetLineSpan();
            Assert.True(texts.TryGetValue(lineSpan.Path, out var text), $"{diagnostic} is located in {lineSpan.Path}, not an input file\n{Describe()}");
            var span = diagnostic.Location.SourceSpan;
            Assert.True(span.Start >= 0 && span.End <= text!.Length, $"{diagnostic} at {span} lies outside the file of {text!.Length} characters\n{Describe()}");
            Assert.True(text.Lines.GetLinePositionSpan(span) == lineSpan.Span,
                $"{diagnostic} at {span} says {lineSpan.Span}, Roslyn puts that span at {text.Lines.GetLinePositionSpan(span)}\n{Describe()}");
        }

        var generated = result.GeneratedSources;
        var errors = diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (count && generated.Length > 0) Generating++;
        if (count && errors.Count == 0) ErrorFree++;

        // 4. The generated code compiles without an error or a warning: always when the generator reported no error;
        // with errors, except where the error is a custom C# encoder type that the compilation lacks or cannot use.
        var names = generated.Select(g => g.HintName).ToList();
        if (!compile || generated.Length == 0) return names;
        if (errors.Count > 0 && errors.Any(e => CustomTypeIds.Contains(e.Id))) return names;
        var key = Hash(generated);
        var verdict = compiled.GetOrAdd(key, _ => Compile(output));
        Assert.True(verdict.Length == 0, $"the generated code does not compile cleanly:\n{verdict}\n{Describe()}");
        return names;
    }

    /// <summary>The compiler's errors and warnings, each with the generated line it points at.</summary>
    private static string Compile(Compilation output)
    {
        var problems = GeneratorHarness.CompileDiagnostics(output);
        return string.Join("\n", problems.Select(p =>
        {
            var line = p.Location.SourceTree is { } tree ? tree.GetText().Lines[p.Location.GetLineSpan().StartLinePosition.Line].ToString().Trim() : "";
            return $"{p}\n    > {line}";
        }));
    }

    private static string Hash(ImmutableArray<GeneratedSourceResult> sources)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var source in sources)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(source.HintName + "\0" + source.SourceText + "\0"));
        }

        return Convert.ToHexString(sha.GetHashAndReset());
    }

    /// <summary>A one-line account of the run, for the test output and docs/reliability.md.</summary>
    public string Summary(string property) =>
        $"{property}: {Cases} cases, {ErrorFree} without a JEPA error, {Generating} generating code, {DistinctCompiled} distinct outputs compiled; " +
        $"ids seen: {string.Join(", ", DiagnosticIds.Select(p => $"{p.Key}×{p.Value}"))}";
}
