using Jepa.Dsl.Text;

namespace Jepa.Dsl.Diagnostics;

/// <summary>A located diagnostic. Plain data: it travels through the generator's pipeline and becomes a Roslyn
/// diagnostic at the end.</summary>
public sealed record Diagnostic(DiagnosticDescriptor Descriptor, SourceSpan Span, string Message)
{
    public string Id => Descriptor.Id;

    public Severity Severity => Descriptor.DefaultSeverity;

    /// <summary>The compiler's format: <c>path(line,col): error JEPA101: message</c> with 1-based line and column.</summary>
    public string Format(string path) =>
        $"{path}({Span.StartLine + 1},{Span.StartColumn + 1}): {SeverityText(Severity)} {Id}: {Message}";

    public override string ToString() => Format("<file>");

    private static string SeverityText(Severity severity) => severity switch
    {
        Severity.Error => "error",
        Severity.Warning => "warning",
        _ => "info",
    };
}
