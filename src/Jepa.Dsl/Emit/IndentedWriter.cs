using System;
using System.Text;

namespace Jepa.Dsl.Emit;

/// <summary>A text writer that indents lines by block depth and always writes LF line ends (diff-friendly output).</summary>
internal sealed class IndentedWriter
{
    private const string Indent = "    ";
    private readonly StringBuilder _text = new();
    private int _depth;

    /// <summary>The column where the next line's text starts (its indentation).</summary>
    public int Column => _depth * Indent.Length;

    /// <summary>Writes one line at the current depth; an empty line has no trailing spaces.</summary>
    public IndentedWriter Line(string line = "")
    {
        if (line.Length > 0)
        {
            for (var i = 0; i < _depth; i++)
            {
                _text.Append(Indent);
            }

            _text.Append(line);
        }

        _text.Append('\n');
        return this;
    }

    /// <summary>Writes a line without indentation (preprocessor directives).</summary>
    public IndentedWriter Directive(string line)
    {
        _text.Append(line).Append('\n');
        return this;
    }

    /// <summary>Writes <paramref name="header"/>, an opening brace, and returns a scope that closes the block.</summary>
    public BlockScope Block(string header, string close = "}")
    {
        Line(header);
        Line("{");
        _depth++;
        return new BlockScope(this, close);
    }

    /// <summary>Indents the following lines one level until disposed (continuation lines).</summary>
    public BlockScope Indented()
    {
        _depth++;
        return new BlockScope(this, null);
    }

    public override string ToString() => _text.ToString();

    internal readonly struct BlockScope : IDisposable
    {
        private readonly IndentedWriter _writer;
        private readonly string? _close;

        public BlockScope(IndentedWriter writer, string? close)
        {
            _writer = writer;
            _close = close;
        }

        public void Dispose()
        {
            _writer._depth--;
            if (_close is not null)
            {
                _writer.Line(_close);
            }
        }
    }
}
