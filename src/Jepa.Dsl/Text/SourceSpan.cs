namespace Jepa.Dsl.Text;

/// <summary>
/// A region of a <c>.jepa</c> file: character offset and length, and 0-based start and end line and column (like
/// Roslyn's <c>LinePosition</c>; columns count UTF-16 code units from the start of the line).
/// </summary>
public readonly record struct SourceSpan(int Start, int Length, int StartLine, int StartColumn, int EndLine, int EndColumn)
{
    /// <summary>The offset just after the span.</summary>
    public int End => Start + Length;

    /// <summary>The smallest span that covers both <paramref name="first"/> and <paramref name="last"/>.</summary>
    public static SourceSpan Cover(SourceSpan first, SourceSpan last)
    {
        var start = first.Start <= last.Start ? first : last;
        var end = first.End >= last.End ? first : last;
        return new SourceSpan(start.Start, end.End - start.Start, start.StartLine, start.StartColumn, end.EndLine, end.EndColumn);
    }

    /// <summary>True when <paramref name="other"/> lies within this span.</summary>
    public bool Contains(SourceSpan other) => other.Start >= Start && other.End <= End;

    /// <summary>"(line,col)" with 1-based numbers, as compilers print it.</summary>
    public string ToDisplayPosition() => $"({StartLine + 1},{StartColumn + 1})";

    public override string ToString() => $"[{Start}..{End}) {ToDisplayPosition()}";
}
