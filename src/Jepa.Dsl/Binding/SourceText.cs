using System.Collections.Generic;
using System.Text;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Text;

namespace Jepa.Dsl.Binding;

/// <summary>A statement's source on one line, for comments in generated code: comments dropped, white space runs
/// collapsed to one space, no space just inside brackets, no trailing semicolon.</summary>
internal static class SourceText
{
    public static string OneLine(string text, SourceSpan span, EquatableArray<SourceSpan> comments)
    {
        var builder = new StringBuilder(span.Length);
        var pendingSpace = false;
        var commentIndex = 0;
        for (var i = span.Start; i < span.End; i++)
        {
            while (commentIndex < comments.Count && comments[commentIndex].End <= i)
            {
                commentIndex++;
            }

            if (commentIndex < comments.Count && comments[commentIndex].Start <= i)
            {
                i = comments[commentIndex].End - 1;
                pendingSpace = true;
                continue;
            }

            var c = text[i];
            if (char.IsWhiteSpace(c) || c == '\uFEFF')
            {
                pendingSpace = true;
                continue;
            }

            if (pendingSpace && builder.Length > 0 && !IsOpening(builder[builder.Length - 1]) && !IsClosing(c))
            {
                builder.Append(' ');
            }

            pendingSpace = false;
            builder.Append(c);
        }

        var result = builder.ToString();
        return result.EndsWith(";", System.StringComparison.Ordinal) ? result.Substring(0, result.Length - 1).TrimEnd() : result;
    }

    private static bool IsOpening(char c) => c is '(' or '[';

    private static bool IsClosing(char c) => c is ')' or ']' or ',' or ';';

    /// <summary>"a -> b -> a".</summary>
    public static string Path(IEnumerable<string> names) => string.Join(" -> ", names);
}
