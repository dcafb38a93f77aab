using System.Collections.Generic;
using System.Linq;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Text;

namespace Jepa.Dsl.Diagnostics;

/// <summary>Collects diagnostics while binding.</summary>
internal sealed class DiagnosticBag
{
    private readonly List<Diagnostic> _diagnostics = new();

    public int ErrorCount { get; private set; }

    public void Report(DiagnosticDescriptor descriptor, SourceSpan span, params object[] args)
    {
        _diagnostics.Add(new Diagnostic(descriptor, span, descriptor.FormatMessage(args)));
        if (descriptor.DefaultSeverity == Severity.Error)
        {
            ErrorCount++;
        }
    }

    public void AddRange(IEnumerable<Diagnostic> diagnostics)
    {
        foreach (var diagnostic in diagnostics)
        {
            _diagnostics.Add(diagnostic);
            if (diagnostic.Severity == Severity.Error)
            {
                ErrorCount++;
            }
        }
    }

    /// <summary>Sorted by start, then id, then message (a stable order for snapshots).</summary>
    public EquatableArray<Diagnostic> ToSortedArray() =>
        _diagnostics
            .OrderBy(d => d.Span.Start)
            .ThenBy(d => d.Id, System.StringComparer.Ordinal)
            .ThenBy(d => d.Message, System.StringComparer.Ordinal)
            .ToEquatableArray();
}
