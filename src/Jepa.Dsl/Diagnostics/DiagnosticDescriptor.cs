using System;
using System.Globalization;

namespace Jepa.Dsl.Diagnostics;

/// <summary>One entry of the diagnostics catalog: a stable id, a title and a message format.</summary>
public sealed class DiagnosticDescriptor : IEquatable<DiagnosticDescriptor>
{
    public DiagnosticDescriptor(string id, string title, string messageFormat, Severity defaultSeverity, string category)
    {
        Id = id;
        Title = title;
        MessageFormat = messageFormat;
        DefaultSeverity = defaultSeverity;
        Category = category;
    }

    /// <summary>The stable id, <c>JEPA</c> and three digits.</summary>
    public string Id { get; }

    public string Title { get; }

    /// <summary>A <see cref="string.Format(IFormatProvider, string, object[])"/> format.</summary>
    public string MessageFormat { get; }

    public Severity DefaultSeverity { get; }

    /// <summary>Syntax, Names, Parameters, Shapes, Training, Collapse or Internal.</summary>
    public string Category { get; }

    /// <summary>The message for the given arguments, formatted with the invariant culture.</summary>
    public string FormatMessage(params object[] args) => string.Format(CultureInfo.InvariantCulture, MessageFormat, args);

    public bool Equals(DiagnosticDescriptor? other) =>
        other is not null && Id == other.Id && Title == other.Title && MessageFormat == other.MessageFormat
        && DefaultSeverity == other.DefaultSeverity && Category == other.Category;

    public override bool Equals(object? obj) => Equals(obj as DiagnosticDescriptor);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Id);

    public override string ToString() => Id;
}
