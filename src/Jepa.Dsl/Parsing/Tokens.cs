using System.Globalization;
using System.Linq;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Syntax;
using Jepa.Dsl.Text;
using Sprache;

namespace Jepa.Dsl.Parsing;

/// <summary>
/// The token parsers. Each one starts at a token (never at trivia), consumes the token and the trivia after it, and on
/// failure consumes nothing and names what it expected, so a failure points at the offending token.
/// </summary>
internal static class Tokens
{
    private static readonly string[] AName = { "a name" };
    private static readonly string[] ANumber = { "a number" };

    /// <summary>A name: <c>[A-Za-z_][A-Za-z0-9_]*</c>.</summary>
    public static readonly Parser<IdentifierSyntax> Identifier = input =>
    {
        var source = (SourceInput)input;
        var start = source.Position;
        var end = Lexer.ScanIdentifier(source.Text, start);
        return end == start
            ? Fail<IdentifierSyntax>(source, AName)
            : Result.Success(new IdentifierSyntax(source.Text.Substring(start, end - start), source.Span(start, end)), source.After(end));
    };

    /// <summary>A dotted name without spaces: <c>mlp</c>, <c>My.Encoders.Tiny</c>.</summary>
    public static readonly Parser<QualifiedNameSyntax> QualifiedName = input =>
    {
        var source = (SourceInput)input;
        var text = source.Text;
        var start = source.Position;
        var end = Lexer.ScanIdentifier(text, start);
        if (end == start)
        {
            return Fail<QualifiedNameSyntax>(source, AName);
        }

        var parts = new System.Collections.Generic.List<IdentifierSyntax> { new(text.Substring(start, end - start), source.Span(start, end)) };
        while (end + 1 < text.Length && text[end] == '.' && Lexer.IsIdentifierStart(text[end + 1]))
        {
            var partStart = end + 1;
            end = Lexer.ScanIdentifier(text, partStart);
            parts.Add(new IdentifierSyntax(text.Substring(partStart, end - partStart), source.Span(partStart, end)));
        }

        return Result.Success(new QualifiedNameSyntax(parts.ToEquatableArray(), source.Span(start, end)), source.After(end));
    };

    /// <summary>A number literal. A literal too large for a double keeps an infinite value and is reported once the
    /// file is parsed (JEPA005), so backtracking cannot report it twice.</summary>
    public static readonly Parser<NumberSyntax> Number = input =>
    {
        var source = (SourceInput)input;
        var start = source.Position;
        var end = Lexer.ScanNumber(source.Text, start);
        if (end == start)
        {
            return Fail<NumberSyntax>(source, ANumber);
        }

        var text = source.Text.Substring(start, end - start);
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            value = text.StartsWith("-", System.StringComparison.Ordinal) ? double.NegativeInfinity : double.PositiveInfinity;
        }

        if (double.IsInfinity(value))
        {
            source.Context.OutOfRangeNumbers.Add(start);
        }

        return Result.Success(new NumberSyntax(text, value, source.Span(start, end)), source.After(end));
    };

    /// <summary>The keyword <paramref name="word"/> (an identifier with exactly that text).</summary>
    public static Parser<IdentifierSyntax> Keyword(string word)
    {
        var expectation = new[] { $"'{word}'" };
        return input =>
        {
            var source = (SourceInput)input;
            var start = source.Position;
            var end = Lexer.ScanIdentifier(source.Text, start);
            return end - start == word.Length && string.CompareOrdinal(source.Text, start, word, 0, word.Length) == 0
                ? Result.Success(new IdentifierSyntax(word, source.Span(start, end)), source.After(end))
                : Fail<IdentifierSyntax>(source, expectation);
        };
    }

    /// <summary>The punctuation <paramref name="symbol"/>; yields its span.</summary>
    public static Parser<SourceSpan> Symbol(string symbol)
    {
        var expectation = new[] { $"'{symbol}'" };
        return input =>
        {
            var source = (SourceInput)input;
            var start = source.Position;
            return start + symbol.Length <= source.Text.Length && string.CompareOrdinal(source.Text, start, symbol, 0, symbol.Length) == 0
                ? Result.Success(source.Span(start, start + symbol.Length), source.After(start + symbol.Length))
                : Fail<SourceSpan>(source, expectation);
        };
    }

    /// <summary>A failure at <paramref name="input"/> that expected <paramref name="expectations"/>. The message is a
    /// constant: the driver builds the user's message from the position and the expectations, and backtracking makes
    /// many failures that nobody reads.</summary>
    public static IResult<T> Fail<T>(IInput input, params string[] expectations) =>
        Result.Failure<T>(input, "syntax error", expectations);

    /// <summary>
    /// <c>open (item (, item)*)? close</c>. Unlike Sprache's <c>DelimitedBy</c> it reports "expected ',' or ')'" at a
    /// token that neither continues nor closes the list.
    /// </summary>
    public static Parser<(EquatableArray<T> Items, SourceSpan Open, SourceSpan Close)> Delimited<T>(
        string open, Parser<T> item, string close)
    {
        var openParser = Symbol(open);
        var closeParser = Symbol(close);
        var comma = Symbol(",");
        return input =>
        {
            var opened = openParser(input);
            if (!opened.WasSuccessful)
            {
                return Result.Failure<(EquatableArray<T>, SourceSpan, SourceSpan)>(opened.Remainder, opened.Message, opened.Expectations);
            }

            var rest = opened.Remainder;
            var items = new System.Collections.Generic.List<T>();
            var closed = closeParser(rest);
            if (closed.WasSuccessful)
            {
                return Result.Success((items.ToEquatableArray(), opened.Value, closed.Value), closed.Remainder);
            }

            while (true)
            {
                var next = item(rest);
                if (!next.WasSuccessful)
                {
                    var expectations = items.Count == 0 && next.Remainder.Equals(rest)
                        ? next.Expectations.Concat(new[] { $"'{close}'" })
                        : next.Expectations;
                    return Result.Failure<(EquatableArray<T>, SourceSpan, SourceSpan)>(next.Remainder, next.Message, expectations);
                }

                items.Add(next.Value);
                rest = next.Remainder;
                var separator = comma(rest);
                if (separator.WasSuccessful)
                {
                    rest = separator.Remainder;
                    continue;
                }

                closed = closeParser(rest);
                if (closed.WasSuccessful)
                {
                    return Result.Success((items.ToEquatableArray(), opened.Value, closed.Value), closed.Remainder);
                }

                return Fail<(EquatableArray<T>, SourceSpan, SourceSpan)>(rest, "','", $"'{close}'");
            }
        };
    }
}
