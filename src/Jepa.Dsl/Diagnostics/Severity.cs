namespace Jepa.Dsl.Diagnostics;

/// <summary>How serious a diagnostic is; maps one-to-one onto Roslyn's <c>DiagnosticSeverity</c>.</summary>
public enum Severity
{
    Error,
    Warning,
    Info,
}
