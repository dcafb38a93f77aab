using Jepa.Dsl.Collections;
using Jepa.Dsl.Spec;
using Microsoft.CodeAnalysis;

namespace Jepa.Generators.Model;

// Every model that flows through the incremental pipeline is a sealed record of plain values (strings, numbers,
// enums, EquatableArray): no ISymbol, Compilation, SyntaxNode or Location, so that caching compares by value and no
// compilation is kept alive. Locations are rebuilt from these values at the very end.

/// <summary>The generator's view of the project: values read from MSBuild through the analyzer config.</summary>
internal sealed record GeneratorOptions(string RootNamespace, string ProjectDirectory);

/// <summary>One <c>.jepa</c> file as read from the additional files.</summary>
internal sealed record JepaInput(string Path, string Text);

/// <summary>A span in a <c>.jepa</c> file, 0-based lines and columns.</summary>
internal sealed record SpanInfo(string Path, int Start, int Length, int StartLine, int StartColumn, int EndLine, int EndColumn);

/// <summary>A diagnostic as data; it becomes a Roslyn diagnostic located in the <c>.jepa</c> file when reported.</summary>
internal sealed record DiagnosticInfo(string Id, string Title, string Message, DiagnosticSeverity Severity, string Category, SpanInfo Span);

/// <summary>One experiment to generate: its spec, and the file and class it becomes.</summary>
internal sealed record SpecInfo(string HintName, string ClassName, ExperimentSpec Spec);

/// <summary>A named argument of a custom C# encoder in a <c>.jepa</c> file, with the kind of its value.</summary>
internal sealed record ArgumentInfo(string Name, string Kind);

/// <summary>A custom C# module named in a <c>.jepa</c> file, to be checked against the compilation.</summary>
internal sealed record CustomTypeInfo(string TypeName, string Encoder, EquatableArray<ArgumentInfo> Arguments, SpanInfo Span);

/// <summary>What the compiler made of one <c>.jepa</c> file: its diagnostics, the spec of each experiment to
/// generate, where each such experiment is named, and the C# types to check.</summary>
internal sealed record JepaFileResult(
    string Path,
    EquatableArray<DiagnosticInfo> Diagnostics,
    EquatableArray<SpecInfo> Specs,
    EquatableArray<SourceClass> Classes,
    EquatableArray<CustomTypeInfo> CustomTypes);

/// <summary>The specs of one file: all that its generated sources depend on. It holds no span, so an edit that moves
/// no statement (a comment's text, white space inside a line) leaves it equal and the sources cached.</summary>
internal sealed record FileSpecs(string Path, EquatableArray<SpecInfo> Specs);

/// <summary>The diagnostics of one file, reported apart from its sources.</summary>
internal sealed record FileDiagnostics(string Path, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>The generated files and classes of one <c>.jepa</c> file, to find file names that collide and experiments
/// declared in more than one file across the project.</summary>
internal sealed record FileClasses(string Path, EquatableArray<SourceClass> Classes);

/// <summary>The full name of a generated class and where its experiment is named.</summary>
internal sealed record SourceClass(string ClassName, string HintName, SpanInfo NameSpan);

/// <summary>A generated file not added because an earlier file (ordinal order of path) generates a class of the same
/// full name; <see cref="Diagnostic"/> is reported at the experiment's name instead.</summary>
internal sealed record DuplicateClass(string Path, string HintName, DiagnosticInfo Diagnostic);

/// <summary>A generated file of <see cref="Path"/> that is added under another name, so that names stay unique.</summary>
internal sealed record HintRename(string Path, string HintName, string NewHintName);

/// <summary>What the project's files need from each other: renamed generated files and duplicate classes (both usually
/// empty, so this stays cached while one file is edited).</summary>
internal sealed record ProjectNames(EquatableArray<HintRename> Renames, EquatableArray<DuplicateClass> Duplicates);
