using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Jepa.Dsl.Diagnostics;
using Jepa.Dsl.Syntax;
using Jepa.Dsl.Text;

namespace Jepa.Dsl.Formatting;

/// <summary>
/// The canonical form of a <c>.jepa</c> file, written from its syntax tree; every comment is kept.
/// <list type="bullet">
/// <item>Four spaces per level; one space around <c>=</c>, <c>-&gt;</c> and <c>*</c>, after <c>:</c> and <c>,</c>; none inside
/// brackets or around <c>..</c>; numbers as written.</item>
/// <item>Statements that shared a line stay on one line (<c>batch 256; steps 6000;</c>); others get a line each. A block
/// written on one line without comments stays on one line (<c>train { ... }</c>); otherwise one statement per line.</item>
/// <item>Runs of blank lines become one blank line; none after an opening or before a closing brace; always one
/// between top-level declarations.</item>
/// <item>A comment after code on its line stays there, two spaces after the code; a comment on its own line stays on
/// its own line, indented to its block. A statement with a comment inside it is kept as written (re-indented).</item>
/// </list>
/// Formatting is idempotent, and a check after each format makes sure only white space changed outside comments.
/// A language service beside the parser: the <c>jepa fmt</c> command and any editor integration call it.
/// </summary>
public sealed class JepaFormatter
{
    private const string Indent = "    ";

    private readonly string _text;
    private readonly IReadOnlyList<SourceSpan> _comments;
    private readonly List<string> _lines = [];

    private JepaFormatter(JepaSyntaxTree tree)
    {
        _text = tree.Text;
        _comments = tree.Comments.OrderBy(c => c.Start).ToList();
    }

    /// <summary>The formatted text; null when the file has syntax errors (a partial tree would drop text). Throws
    /// <see cref="InvalidOperationException"/> when the result would differ from the input in more than white space
    /// (a formatter bug: the file is then left as it is).</summary>
    public static string? Format(JepaSyntaxTree tree)
    {
        if (tree.Diagnostics.Any(d => d.Severity == Severity.Error)) return null;
        var formatter = new JepaFormatter(tree);
        var items = new List<SyntaxNode>();
        if (tree.Namespace is not null) items.Add(tree.Namespace);
        items.AddRange(tree.Experiments);
        formatter.Sequence(items.OrderBy(i => i.Span.Start).ToList(), string.Empty, 0, tree.Text.Length, headerLine: null, topLevel: true);
        var newline = NewLine(tree.Text);
        var result = formatter._lines.Count == 0 ? string.Empty : string.Join(newline, formatter._lines) + newline;
        if (!SameCode(tree.Text, result))
        {
            throw new InvalidOperationException("the formatter would change more than white space; the file was left as it is");
        }

        return result;
    }

    private static string NewLine(string text)
    {
        var lf = text.IndexOf('\n');
        return lf > 0 && text[lf - 1] == '\r' ? "\r\n" : "\n";
    }

    /// <summary>
    /// Writes <paramref name="items"/> and the comments between <paramref name="start"/> and <paramref name="end"/> that
    /// no item contains. <paramref name="headerLine"/> is the source line of the opening brace when a header line has
    /// just been written (a comment on that line stays after the brace).
    /// </summary>
    private void Sequence(IReadOnlyList<SyntaxNode> items, string indent, int start, int end, int? headerLine, bool topLevel)
    {
        var elements = new List<(SourceSpan Span, SyntaxNode? Item)>();
        elements.AddRange(items.Select(i => (i.Span, (SyntaxNode?)i)));
        elements.AddRange(_comments
            .Where(c => c.Start >= start && c.End <= end && !items.Any(i => i.Span.Contains(c)))
            .Select(c => (c, (SyntaxNode?)null)));
        elements.Sort((a, b) => a.Span.Start.CompareTo(b.Span.Start));

        var previousEndLine = headerLine ?? -1;
        var lineOpen = headerLine is not null; // the last line may take a comment after its code
        var joinable = false;                 // the last line may take another one-line statement
        var first = true;
        var previousWasItem = false;
        foreach (var (span, item) in elements)
        {
            var sameLine = !first || headerLine is not null ? span.StartLine == previousEndLine : false;
            var blank = !first && (span.StartLine - previousEndLine >= 2 || (topLevel && previousWasItem));
            if (item is null)
            {
                var comment = Lines(_text.Substring(span.Start, span.Length));
                if (sameLine && lineOpen)
                {
                    _lines[_lines.Count - 1] += "  " + comment[0].TrimEnd();
                }
                else
                {
                    if (blank) _lines.Add(string.Empty);
                    _lines.Add(indent + comment[0].TrimEnd());
                }

                for (var i = 1; i < comment.Count; i++) _lines.Add(comment[i].TrimEnd());
                lineOpen = false;
                joinable = false;
                previousWasItem = false;
            }
            else
            {
                var rendered = Render(item, indent);
                if (sameLine && joinable && rendered.Count == 1)
                {
                    _lines[_lines.Count - 1] += " " + rendered[0].TrimStart();
                }
                else
                {
                    if (blank) _lines.Add(string.Empty);
                    _lines.AddRange(rendered);
                }

                lineOpen = true;
                joinable = rendered.Count == 1;
                previousWasItem = true;
            }

            previousEndLine = span.EndLine;
            first = false;
        }
    }

    /// <summary>The lines of one item; the first starts with <paramref name="indent"/>.</summary>
    private List<string> Render(SyntaxNode item, string indent)
    {
        switch (item)
        {
            case ExperimentSyntax experiment:
                return Container($"experiment {experiment.Name.Text} {{", experiment.Name.Span.End, experiment.Span, experiment.Statements, indent);
            case BlockSyntax block when block.Span.StartLine == block.Span.EndLine && !HasComment(block.Span):
                return block.Statements.Count == 0
                    ? [$"{indent}{block.Keyword.Text} {{ }}"]
                    : [$"{indent}{block.Keyword.Text} {{ {string.Join(" ", block.Statements.Select(Statement))} }}"];
            case BlockSyntax block:
                return Container($"{block.Keyword.Text} {{", block.Keyword.Span.End, block.Span, block.Statements, indent);
            default:
                if (HasComment(item.Span) || item is ErrorStatementSyntax)
                {
                    var verbatim = Lines(_text.Substring(item.Span.Start, item.Span.Length));
                    verbatim[0] = indent + verbatim[0].TrimEnd();
                    return verbatim;
                }

                return [indent + Statement(item)];
        }
    }

    /// <summary><c>HEADER {</c>, the statements one level deeper, <c>}</c>.</summary>
    private List<string> Container(string header, int afterHeader, SourceSpan span, IReadOnlyList<StatementSyntax> statements, string indent)
    {
        var outer = _lines.Count;
        var brace = _text.IndexOf('{', afterHeader);
        var braceLine = brace >= 0 && brace < span.End ? LineOf(brace, span) : span.StartLine;
        _lines.Add(indent + header);
        Sequence(statements.Cast<SyntaxNode>().ToList(), indent + Indent, afterHeader, span.End - 1, braceLine, topLevel: false);
        _lines.Add(indent + "}");
        var written = _lines.GetRange(outer, _lines.Count - outer);
        _lines.RemoveRange(outer, _lines.Count - outer);
        return written;
    }

    /// <summary>The 0-based line of an offset inside <paramref name="within"/>.</summary>
    private int LineOf(int offset, SourceSpan within)
    {
        var line = within.StartLine;
        for (var i = within.Start; i < offset; i++)
        {
            var c = _text[i];
            if (c == '\r' && i + 1 < _text.Length && _text[i + 1] == '\n') continue;
            if (c is '\n' or '\r' or '\u0085' or '\u2028' or '\u2029') line++;
        }

        return line;
    }

    private bool HasComment(SourceSpan span) => _comments.Any(c => span.Contains(c));

    /// <summary>A statement on one line in canonical spacing.</summary>
    private static string Statement(SyntaxNode statement) => statement switch
    {
        NamespaceSyntax n => $"namespace {n.Name.Text};",
        InputStatementSyntax s => $"input {s.Name.Text}: {s.ElementType.Text}[{string.Join(", ", s.Dimensions.Select(d => d.Text))}];",
        CorruptionStatementSyntax s => $"corruption {s.Name.Text} = {string.Join(" then ", s.Links.Select(l => l.ToString()))};",
        EncoderStatementSyntax s => $"encoder {s.Name.Text} = {s.Value};",
        PredictorStatementSyntax s => $"predictor = {s.Value};",
        PredictStatementSyntax s => $"predict {s.Target} from {s.Context};",
        LossStatementSyntax s => $"loss {s.Term};",
        RegularizeStatementSyntax s => $"regularize {string.Join(", ", s.Terms.Select(t => t.ToString()))};",
        SettingStatementSyntax s => $"{s.Keyword.Text} {s.Value};",
        CallStatementSyntax s => $"{s.Call};",
        BlockSyntax b => b.Statements.Count == 0 ? $"{b.Keyword.Text} {{ }}" : $"{b.Keyword.Text} {{ {string.Join(" ", b.Statements.Select(Statement))} }}",
        _ => throw new InvalidOperationException($"no canonical form for {statement.GetType().Name}"),
    };

    private static List<string> Lines(string text) => text.Split(["\r\n", "\n", "\r", "\u0085", "\u2028", "\u2029"], StringSplitOptions.None).ToList();

    /// <summary>True when both texts have the same comments (trailing white space of their lines aside) and the same
    /// characters outside comments once white space is removed.</summary>
    internal static bool SameCode(string before, string after)
    {
        var (codeBefore, commentsBefore) = Split(before);
        var (codeAfter, commentsAfter) = Split(after);
        return codeBefore == codeAfter && commentsBefore.SequenceEqual(commentsAfter);
    }

    private static (string Code, List<string> Comments) Split(string text)
    {
        var parsed = JepaCompiler.Compile(string.Empty, text).Syntax;
        var code = new StringBuilder();
        var comments = new List<string>();
        var position = 0;
        foreach (var comment in parsed.Comments.OrderBy(c => c.Start))
        {
            AppendCode(code, text, position, comment.Start);
            comments.Add(string.Join("\n", Lines(text.Substring(comment.Start, comment.Length)).Select(l => l.TrimEnd())));
            position = comment.End;
        }

        AppendCode(code, text, position, text.Length);
        return (code.ToString(), comments);
    }

    private static void AppendCode(StringBuilder code, string text, int start, int end)
    {
        for (var i = start; i < end; i++)
        {
            if (!char.IsWhiteSpace(text[i]) && text[i] != '\uFEFF') code.Append(text[i]);
        }
    }
}
