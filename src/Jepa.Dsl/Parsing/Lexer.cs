using System.Collections.Generic;

namespace Jepa.Dsl.Parsing;

/// <summary>
/// Character-level scanning shared by the Sprache token parsers and the error-recovery driver: trivia (white space and
/// comments), identifiers, numbers, and "the token at this offset" for error messages. The language has no string
/// literals, so every <c>//</c> or <c>/*</c> starts a comment.
/// </summary>
internal static class Lexer
{
    public static bool IsIdentifierStart(char c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';

    public static bool IsIdentifierPart(char c) => IsIdentifierStart(c) || IsDigit(c);

    public static bool IsDigit(char c) => c >= '0' && c <= '9';

    private static bool IsWhiteSpace(char c) => char.IsWhiteSpace(c) || c == '\uFEFF';

    /// <summary>The offset after any white space and comments starting at <paramref name="position"/>.</summary>
    public static int SkipTrivia(string text, int position)
    {
        var i = position;
        while (i < text.Length)
        {
            var c = text[i];
            if (IsWhiteSpace(c))
            {
                i++;
            }
            else if (c == '/' && i + 1 < text.Length && text[i + 1] == '/')
            {
                i = EndOfLineComment(text, i);
            }
            else if (c == '/' && i + 1 < text.Length && text[i + 1] == '*')
            {
                i = EndOfBlockComment(text, i, out _);
            }
            else
            {
                break;
            }
        }

        return i;
    }

    /// <summary>Every comment as (start, end), and the starts of block comments that are never closed.</summary>
    public static List<(int Start, int End)> ScanComments(string text, List<int> unterminated)
    {
        var comments = new List<(int, int)>();
        var i = 0;
        while (i < text.Length - 1)
        {
            if (text[i] == '/' && text[i + 1] == '/')
            {
                var end = EndOfLineComment(text, i);
                comments.Add((i, end));
                i = end;
            }
            else if (text[i] == '/' && text[i + 1] == '*')
            {
                var end = EndOfBlockComment(text, i, out var closed);
                if (!closed)
                {
                    unterminated.Add(i);
                }

                comments.Add((i, end));
                i = end;
            }
            else
            {
                i++;
            }
        }

        return comments;
    }

    private static int EndOfLineComment(string text, int start)
    {
        var i = start + 2;
        while (i < text.Length && text[i] != '\n' && text[i] != '\r' && text[i] != '\u0085' && text[i] != '\u2028' && text[i] != '\u2029')
        {
            i++;
        }

        return i;
    }

    private static int EndOfBlockComment(string text, int start, out bool closed)
    {
        var close = text.IndexOf("*/", start + 2, System.StringComparison.Ordinal);
        closed = close >= 0;
        return closed ? close + 2 : text.Length;
    }

    /// <summary>The end of an identifier starting at <paramref name="position"/>, or <paramref name="position"/>.</summary>
    public static int ScanIdentifier(string text, int position)
    {
        if (position >= text.Length || !IsIdentifierStart(text[position]))
        {
            return position;
        }

        var i = position + 1;
        while (i < text.Length && IsIdentifierPart(text[i]))
        {
            i++;
        }

        return i;
    }

    /// <summary>The end of a number (<c>-?d+(.d+)?([eE][+-]?d+)?</c>) at <paramref name="position"/>, or
    /// <paramref name="position"/>. A '.' is part of the number only before a digit, so <c>0.1..0.2</c> is a range.</summary>
    public static int ScanNumber(string text, int position)
    {
        var i = position;
        if (i < text.Length && text[i] == '-')
        {
            i++;
        }

        if (i >= text.Length || !IsDigit(text[i]))
        {
            return position;
        }

        while (i < text.Length && IsDigit(text[i]))
        {
            i++;
        }

        if (i + 1 < text.Length && text[i] == '.' && IsDigit(text[i + 1]))
        {
            i += 2;
            while (i < text.Length && IsDigit(text[i]))
            {
                i++;
            }
        }

        if (i < text.Length && (text[i] == 'e' || text[i] == 'E'))
        {
            var j = i + 1;
            if (j < text.Length && (text[j] == '+' || text[j] == '-'))
            {
                j++;
            }

            if (j < text.Length && IsDigit(text[j]))
            {
                while (j < text.Length && IsDigit(text[j]))
                {
                    j++;
                }

                i = j;
            }
        }

        return i;
    }

    /// <summary>The end of the token at <paramref name="position"/> (which must not be trivia): a name, a number, a
    /// two-character operator, or one character.</summary>
    public static int TokenEnd(string text, int position)
    {
        if (position >= text.Length)
        {
            return position;
        }

        var identifierEnd = ScanIdentifier(text, position);
        if (identifierEnd > position)
        {
            return identifierEnd;
        }

        var numberEnd = ScanNumber(text, position);
        if (numberEnd > position)
        {
            return numberEnd;
        }

        if (position + 1 < text.Length)
        {
            var pair = text.Substring(position, 2);
            if (pair == ".." || pair == "->")
            {
                return position + 2;
            }

            if (char.IsHighSurrogate(text[position]) && char.IsLowSurrogate(text[position + 1]))
            {
                return position + 2;
            }
        }

        return position + 1;
    }

    /// <summary>How an error message names the token at <paramref name="position"/>.</summary>
    public static string Describe(string text, int position)
    {
        if (position >= text.Length)
        {
            return "end of file";
        }

        var end = TokenEnd(text, position);
        var token = text.Substring(position, end - position);
        return token.Length == 1 && char.IsControl(token[0]) ? $"character U+{(int)token[0]:X4}" : $"'{token}'";
    }

    /// <summary>True when only spaces and tabs stand between the start of the line and <paramref name="position"/>.</summary>
    public static bool IsFirstOnLine(string text, int position)
    {
        for (var i = position - 1; i >= 0; i--)
        {
            var c = text[i];
            if (c == '\n' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029')
            {
                return true;
            }

            if (!IsWhiteSpace(c))
            {
                return false;
            }
        }

        return true;
    }
}
