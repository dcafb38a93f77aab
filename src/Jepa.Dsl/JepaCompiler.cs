using System;
using System.Linq;
using System.Threading;
using Jepa.Dsl.Binding;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Diagnostics;
using Jepa.Dsl.Parsing;
using Jepa.Dsl.Syntax;
using Jepa.Dsl.Text;

namespace Jepa.Dsl;

/// <summary>The front end in one call: parse, bind, check and summarise a <c>.jepa</c> file.</summary>
public static class JepaCompiler
{
    /// <summary>
    /// Compiles <paramref name="text"/> (the contents of <paramref name="path"/>). Never throws for any input: a failure
    /// of the compiler itself becomes a JEPA903 diagnostic. Only cancellation throws.
    /// </summary>
    public static JepaCompilation Compile(string path, string text, CancellationToken cancellationToken = default)
    {
        path ??= string.Empty;
        text ??= string.Empty;
        JepaSyntaxTree tree;
        try
        {
            tree = JepaParser.Parse(text, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            var empty = new JepaSyntaxTree(text, null, default, default, default);
            return new JepaCompilation(path, text, empty, new BoundFile(path, null, default), InternalError(text, exception));
        }

        BoundFile bound;
        EquatableArray<Diagnostic> bindingDiagnostics;
        try
        {
            bound = Binder.Bind(tree, path, out bindingDiagnostics, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            return new JepaCompilation(path, text, tree, new BoundFile(path, tree.Namespace?.Name.Text, default),
                tree.Diagnostics.Concat(InternalError(text, exception)).ToEquatableArray());
        }

        var diagnostics = tree.Diagnostics.Concat(bindingDiagnostics)
            .OrderBy(d => d.Span.Start)
            .ThenBy(d => d.Id, StringComparer.Ordinal)
            .ThenBy(d => d.Message, StringComparer.Ordinal)
            .ToEquatableArray();
        return new JepaCompilation(path, text, tree, bound, diagnostics);
    }

    private static EquatableArray<Diagnostic> InternalError(string text, Exception exception)
    {
        var descriptor = DiagnosticDescriptors.CompilerInternalError;
        var span = new LineMap(text).Span(0, 0);
        return EquatableArray.Create(new Diagnostic(descriptor, span, descriptor.FormatMessage($"{exception.GetType().Name}: {exception.Message}")));
    }
}

/// <summary>The result of compiling one file: its syntax tree, its bound model and every diagnostic.</summary>
public sealed class JepaCompilation
{
    internal JepaCompilation(string path, string text, JepaSyntaxTree syntax, BoundFile bound, EquatableArray<Diagnostic> diagnostics)
    {
        Path = path;
        Text = text;
        Syntax = syntax;
        Bound = bound;
        Diagnostics = diagnostics;
        HasErrors = diagnostics.Any(d => d.Severity == Severity.Error);
    }

    public string Path { get; }

    public string Text { get; }

    public JepaSyntaxTree Syntax { get; }

    /// <summary>The bound model: value-equal records without references to the syntax tree.</summary>
    public BoundFile Bound { get; }

    /// <summary>Syntax and binding diagnostics, sorted by start, then id. The runtime type is
    /// <see cref="EquatableArray{T}"/> (value equality).</summary>
    public System.Collections.Generic.IReadOnlyList<Diagnostic> Diagnostics { get; }

    public bool HasErrors { get; }
}
