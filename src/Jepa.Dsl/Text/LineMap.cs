using System;
using System.Collections.Generic;

namespace Jepa.Dsl.Text;

/// <summary>
/// Maps character offsets of a text to 0-based lines and columns. Line breaks are those Roslyn's <c>SourceText</c>
/// recognises (<c>\r\n</c>, <c>\n</c>, <c>\r</c>, U+0085, U+2028, U+2029), so a span located here lands on the same
/// line and column when the generator turns it into a Roslyn location.
/// </summary>
public sealed class LineMap
{
    private readonly int[] _lineStarts;

    public LineMap(string text)
    {
        Text = text ?? throw new ArgumentNullException(nameof(text));
        var starts = new List<int> { 0 };
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\r')
            {
                if (i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }

                starts.Add(i + 1);
            }
            else if (c == '\n' || c == '\u0085' || c == '\u2028' || c == '\u2029')
            {
                starts.Add(i + 1);
            }
        }

        _lineStarts = starts.ToArray();
    }

    public string Text { get; }

    public int LineCount => _lineStarts.Length;

    /// <summary>Offset of the first character of a 0-based line.</summary>
    public int LineStart(int line) => _lineStarts[line];

    /// <summary>The 0-based line that holds <paramref name="offset"/> (an offset may equal the text length).</summary>
    public int LineOf(int offset)
    {
        if (offset < 0 || offset > Text.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset));
        }

        var index = Array.BinarySearch(_lineStarts, offset);
        return index >= 0 ? index : ~index - 1;
    }

    /// <summary>The span from <paramref name="start"/> (inclusive) to <paramref name="end"/> (exclusive).</summary>
    public SourceSpan Span(int start, int end)
    {
        if (end < start)
        {
            throw new ArgumentOutOfRangeException(nameof(end));
        }

        var startLine = LineOf(start);
        var endLine = end == start ? startLine : LineOf(end);
        return new SourceSpan(start, end - start, startLine, start - _lineStarts[startLine], endLine, end - _lineStarts[endLine]);
    }
}
