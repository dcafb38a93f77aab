using Jepa.Dsl.Collections;
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

/// <summary>One generated C# file: the class of one experiment, with the experiment's name in the <c>.jepa</c> file.</summary>
internal sealed record SourceInfo(string HintName, string Text, string ClassName, SpanInfo NameSpan);

/// <summary>A named argument of a custom C# encoder in a <c>.jepa</c> file, with the kind of its value.</summary>
internal sealed record ArgumentInfo(string Name, string Kind);

/// <summary>A custom C# module named in a <c>.jepa</c> file, to be checked against the compilation.</summary>
internal sealed record CustomTypeInfo(string TypeName, string Encoder, EquatableArray<ArgumentInfo> Arguments, SpanInfo Span);

/// <summary>What the compiler made of one <c>.jepa</c> file.</summary>
internal sealed record JepaFileResult(
    string Path,
    EquatableArray<DiagnosticInfo> Diagnostics,
    EquatableArray<SourceInfo> Sources,
    EquatableArray<CustomTypeInfo> CustomTypes);

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
