using System;
using System.Collections.Generic;
using Jepa.Dsl.Text;
using Sprache;

namespace Jepa.Dsl.Parsing;

/// <summary>What every parser of one file shares: the text and its line map.</summary>
internal sealed class ParseContext
{
    public ParseContext(string text)
    {
        Text = text;
        Lines = new LineMap(text);
    }

    public string Text { get; }

    public LineMap Lines { get; }

    /// <summary>How many lists and argument lists the parser is inside (bounded, so deep nesting cannot overflow the
    /// stack of the compiler's host).</summary>
    public int Depth { get; set; }

    /// <summary>Starts of number literals too large for a double (a set: backtracking may parse one twice).</summary>
    public HashSet<int> OutOfRangeNumbers { get; } = new();
}

/// <summary>
/// Sprache input over a <see cref="ParseContext"/>. Lighter than Sprache's own <c>Input</c> (which allocates a memo
/// dictionary at every position and tracks lines itself): lines and columns come from the shared line map.
/// </summary>
internal sealed class SourceInput : IInput
{
    private IDictionary<object, object>? _memos;

    public SourceInput(ParseContext context, int position)
    {
        Context = context;
        Position = position;
    }

    public ParseContext Context { get; }

    public string Text => Context.Text;

    public string Source => Context.Text;

    public char Current => Context.Text[Position];

    public bool AtEnd => Position >= Context.Text.Length;

    public int Position { get; }

    public int Line => Context.Lines.LineOf(Position) + 1;

    public int Column => Position - Context.Lines.LineStart(Context.Lines.LineOf(Position)) + 1;

    public IDictionary<object, object> Memos => _memos ??= new Dictionary<object, object>();

    public IInput Advance()
    {
        if (AtEnd)
        {
            throw new InvalidOperationException("The input is already at the end of the source.");
        }

        return new SourceInput(Context, Position + 1);
    }

    /// <summary>The input at <paramref name="end"/> after the trivia that follows it.</summary>
    public SourceInput After(int end) => new(Context, Lexer.SkipTrivia(Context.Text, end));

    public SourceSpan Span(int start, int end) => Context.Lines.Span(start, end);

    public bool Equals(IInput? other) => other is not null && ReferenceEquals(other.Source, Source) && other.Position == Position;

    public override bool Equals(object? obj) => obj is IInput other && Equals(other);

    public override int GetHashCode() => Position;

    public override string ToString() => $"offset {Position}";
}
