using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using Jepa.Dsl;
using Jepa.Dsl.Binding;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Diagnostics;
using Jepa.Dsl.Emit;
using Jepa.Dsl.Text;
using Jepa.Generators.Model;
using Microsoft.CodeAnalysis;
using DiagnosticDescriptor = Jepa.Dsl.Diagnostics.DiagnosticDescriptor;
using Diagnostic = Jepa.Dsl.Diagnostics.Diagnostic;

namespace Jepa.Generators;

/// <summary>Compiles one <c>.jepa</c> file into plain data: diagnostics, the spec of each experiment to generate and the
/// C# types to check; prints a spec's source. Never throws (but for cancellation): a failure becomes a located JEPA9xx
/// diagnostic.</summary>
internal static class FileCompiler
{
    /// <summary>
    /// A test seam, null outside tests: called in the current async flow with a stage's name and the <c>.jepa</c> path
    /// (<c>compile</c> at the start of <see cref="Compile"/>, <c>emit</c> for each experiment's spec, <c>print</c> for
    /// each source printed, <c>custom-types</c> for each C# type checked). A test makes it throw to check that a failure
    /// inside the generator becomes a located JEPA9xx instead of escaping.
    /// </summary>
    internal static readonly AsyncLocal<Action<string, string>?> FaultInjection = new();

    public static JepaFileResult Compile(JepaInput input, GeneratorOptions options, CancellationToken cancellationToken)
    {
        try
        {
            FaultInjection.Value?.Invoke("compile", input.Path);
            var compilation = JepaCompiler.Compile(input.Path, input.Text, cancellationToken);
            var diagnostics = compilation.Diagnostics.Select(d => ToInfo(d, input.Path)).ToList();
            var specs = new List<SpecInfo>();
            var classes = new List<SourceClass>();
            var hintPrefix = HintPrefix(input.Path, options.ProjectDirectory);
            foreach (var experiment in compilation.Bound.Experiments.Where(CSharpEmitter.CanEmit))
            {
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    FaultInjection.Value?.Invoke("emit", input.Path);
                    var spec = CSharpEmitter.Spec(compilation, experiment, options.RootNamespace);
                    var info = new SpecInfo(CSharpEmitter.HintName(spec, hintPrefix), CSharpEmitter.ClassName(spec), spec);
                    specs.Add(info);
                    classes.Add(new SourceClass(info.ClassName, info.HintName, ToSpan(experiment.NameSpan, input.Path)));
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    diagnostics.Add(Internal(DiagnosticDescriptors.EmitterInternalError, input.Path, experiment.NameSpan, exception));
                }
            }

            var customTypes = compilation.Bound.Experiments
                .Where(CSharpEmitter.CanEmit)
                .SelectMany(e => e.Encoders)
                .Where(e => e.Kind == EncoderKind.Custom && e.Custom is not null)
                .Select(e => new CustomTypeInfo(
                    e.Custom!.TypeName,
                    e.Name,
                    e.Custom.Arguments.Select(a => new ArgumentInfo(a.Name, ArgumentKinds.Of(a.Value))).ToEquatableArray(),
                    ToSpan(e.Custom.TypeNameSpan, input.Path)));
            return new JepaFileResult(input.Path, diagnostics.ToEquatableArray(), specs.ToEquatableArray(), classes.ToEquatableArray(), customTypes.ToEquatableArray());
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            var start = new SourceSpan(0, 0, 0, 0, 0, 0);
            return new JepaFileResult(
                input.Path,
                EquatableArray.Create(Internal(DiagnosticDescriptors.GeneratorInternalError, input.Path, start, exception)),
                EquatableArray<SpecInfo>.Empty,
                EquatableArray<SourceClass>.Empty,
                EquatableArray<CustomTypeInfo>.Empty);
        }
    }

    /// <summary>The C# source of a spec, or a JEPA902 at its experiment's name when printing fails.</summary>
    public static (string? Text, DiagnosticInfo? Error) Print(string path, SpecInfo info)
    {
        try
        {
            FaultInjection.Value?.Invoke("print", path);
            return (CSharpEmitter.Print(info.Spec), null);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The spec holds lines and columns, not offsets: the location has the line span only.
            var at = info.Spec.Position;
            var span = new SourceSpan(0, 0, at.Line - 1, at.Column - 1, at.Line - 1, at.Column - 1 + info.Spec.Name.Length);
            return (null, Internal(DiagnosticDescriptors.EmitterInternalError, path, span, exception));
        }
    }

    /// <summary>A unique, stable prefix for the generated files of <paramref name="path"/>: its path relative to the
    /// project without the extension, separators turned into dots (<c>experiments/digits.jepa</c> -> <c>experiments.digits</c>).</summary>
    internal static string HintPrefix(string path, string projectDirectory)
    {
        var normalized = path.Replace('\\', '/');
        var root = projectDirectory.Replace('\\', '/');
        if (root.Length > 0 && !root.EndsWith("/", StringComparison.Ordinal)) root += "/";
        var relative = root.Length > 0 && normalized.StartsWith(root, StringComparison.Ordinal)
            ? normalized.Substring(root.Length)
            : normalized.Substring(normalized.LastIndexOf('/') + 1);
        var dot = relative.LastIndexOf('.');
        if (dot > relative.LastIndexOf('/')) relative = relative.Substring(0, dot);
        var builder = new StringBuilder(relative.Length);
        foreach (var c in relative)
        {
            builder.Append(c == '/' ? '.' : char.IsLetterOrDigit(c) || c is '_' or '-' ? c : '_');
        }

        return builder.Length == 0 ? "jepa" : builder.ToString();
    }

    internal static DiagnosticInfo ToInfo(Diagnostic diagnostic, string path) => new(
        diagnostic.Id,
        diagnostic.Descriptor.Title,
        diagnostic.Message,
        ToSeverity(diagnostic.Severity),
        diagnostic.Descriptor.Category,
        ToSpan(diagnostic.Span, path));

    internal static SpanInfo ToSpan(SourceSpan span, string path) =>
        new(path, span.Start, span.Length, span.StartLine, span.StartColumn, span.EndLine, span.EndColumn);

    private static DiagnosticSeverity ToSeverity(Severity severity) => severity switch
    {
        Severity.Error => DiagnosticSeverity.Error,
        Severity.Warning => DiagnosticSeverity.Warning,
        _ => DiagnosticSeverity.Info,
    };

    private static DiagnosticInfo Internal(DiagnosticDescriptor descriptor, string path, SourceSpan span, Exception exception) =>
        ToInfo(new Diagnostic(descriptor, span, descriptor.FormatMessage($"{exception.GetType().Name}: {exception.Message}")), path);
}
