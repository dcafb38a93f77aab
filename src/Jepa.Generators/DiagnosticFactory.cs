using System.Collections.Concurrent;
using Jepa.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Jepa.Generators;

/// <summary>Turns diagnostics carried as data into Roslyn diagnostics located in the <c>.jepa</c> file.</summary>
internal static class DiagnosticFactory
{
    private static readonly ConcurrentDictionary<(string Id, DiagnosticSeverity Severity), DiagnosticDescriptor> Descriptors = new();

    public static Microsoft.CodeAnalysis.Diagnostic Create(DiagnosticInfo info)
    {
        // Every id is documented with a wrong and a right example in docs/diagnostics.md of the repository.
        var descriptor = Descriptors.GetOrAdd((info.Id, info.Severity), key => new DiagnosticDescriptor(
            key.Id, info.Title, "{0}", info.Category, key.Severity, isEnabledByDefault: true));
        var span = info.Span;
        var location = Location.Create(
            span.Path,
            new TextSpan(span.Start, span.Length),
            new LinePositionSpan(new LinePosition(span.StartLine, span.StartColumn), new LinePosition(span.EndLine, span.EndColumn)));
        return Microsoft.CodeAnalysis.Diagnostic.Create(descriptor, location, info.Message);
    }
}
