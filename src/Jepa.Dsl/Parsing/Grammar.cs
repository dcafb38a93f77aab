using System.Linq;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Syntax;
using Jepa.Dsl.Text;
using Sprache;
using static Jepa.Dsl.Parsing.Tokens;

namespace Jepa.Dsl.Parsing;

/// <summary>
/// The grammar of values and statements, in Sprache. Statement parsers start at their keyword and end after their
/// <c>;</c>; block bodies and error recovery are in <see cref="JepaParser"/>.
/// <code>
/// value      := number ('..' number | '->' number)? | '[' (value (',' value)*)? ']' | qname ('(' args? ')')?
/// args       := arg (',' arg)*          arg := name ':' value | value
/// term       := value ('*' number)?
/// </code>
/// </summary>
internal static class Grammar
{
    private static readonly Parser<SourceSpan> Semicolon = Symbol(";");

    // ---- values ----------------------------------------------------------------------------------------------------

    private static readonly Parser<NumberSyntax> RangeTail = from dots in Symbol("..") from high in Number select high;

    private static readonly Parser<NumberSyntax> ScheduleTail = from arrow in Symbol("->") from end in Number select end;

    /// <summary><c>a..b</c>, <c>a -> b</c> or a plain number. The tail is chosen by peeking at the next token, so a
    /// plain number costs no failed attempts.</summary>
    private static readonly Parser<ExpressionSyntax> NumberValue = input =>
    {
        var low = Number(input);
        if (!low.WasSuccessful)
        {
            return Result.Failure<ExpressionSyntax>(low.Remainder, low.Message, low.Expectations);
        }

        var rest = (SourceInput)low.Remainder;
        var isRange = NextIs(rest, "..");
        if (!isRange && !NextIs(rest, "->"))
        {
            return Result.Success<ExpressionSyntax>(low.Value, rest);
        }

        var tail = (isRange ? RangeTail : ScheduleTail)(rest);
        if (!tail.WasSuccessful)
        {
            return Result.Failure<ExpressionSyntax>(tail.Remainder, tail.Message, tail.Expectations);
        }

        var span = SourceSpan.Cover(low.Value.Span, tail.Value.Span);
        return Result.Success(isRange ? new RangeSyntax(low.Value, tail.Value, span) : (ExpressionSyntax)new ScheduleSyntax(low.Value, tail.Value, span), tail.Remainder);
    };

    /// <summary>The deepest nesting of lists and calls inside one value.</summary>
    public const int MaxDepth = 64;

    private static readonly string[] ShallowerValue = { $"a value nested at most {MaxDepth} levels deep" };

    /// <summary>Runs <paramref name="parser"/> one nesting level deeper, or fails beyond <see cref="MaxDepth"/>.</summary>
    private static Parser<T> Nested<T>(Parser<T> parser) => input =>
    {
        var context = ((SourceInput)input).Context;
        if (context.Depth >= MaxDepth)
        {
            return Fail<T>(input, ShallowerValue);
        }

        context.Depth++;
        try
        {
            return parser(input);
        }
        finally
        {
            context.Depth--;
        }
    };

    private static readonly Parser<ExpressionSyntax> ListValue = Nested(
        from list in Delimited("[", Parse.Ref(() => Value), "]")
        select (ExpressionSyntax)new ListSyntax(list.Items, SourceSpan.Cover(list.Open, list.Close)));

    /// <summary><c>name: value</c> or <c>value</c>.</summary>
    private static readonly Parser<ArgumentSyntax> Argument = input =>
    {
        var name = Identifier(input);
        if (name.WasSuccessful)
        {
            var colon = Symbol(":")(name.Remainder);
            if (colon.WasSuccessful)
            {
                var value = Value!(colon.Remainder);
                return value.WasSuccessful
                    ? Result.Success(new ArgumentSyntax(name.Value, value.Value, SourceSpan.Cover(name.Value.Span, value.Value.Span)), value.Remainder)
                    : Result.Failure<ArgumentSyntax>(value.Remainder, value.Message, value.Expectations);
            }
        }

        var positional = Value!(input);
        return positional.WasSuccessful
            ? Result.Success(new ArgumentSyntax(null, positional.Value, positional.Value.Span), positional.Remainder)
            : Result.Failure<ArgumentSyntax>(positional.Remainder, positional.Message, positional.Expectations);
    };

    private static readonly Parser<(EquatableArray<ArgumentSyntax> Items, SourceSpan Open, SourceSpan Close)> Arguments =
        Nested(Delimited("(", Argument, ")"));

    /// <summary><c>name</c> or <c>name(arguments)</c>, by peeking for the parenthesis.</summary>
    private static readonly Parser<ExpressionSyntax> NameOrCall = input =>
    {
        var name = QualifiedName(input);
        if (!name.WasSuccessful)
        {
            return Result.Failure<ExpressionSyntax>(name.Remainder, name.Message, name.Expectations);
        }

        var rest = (SourceInput)name.Remainder;
        if (!NextIs(rest, "("))
        {
            return Result.Success<ExpressionSyntax>(new NameSyntax(name.Value, name.Value.Span), rest);
        }

        var arguments = Arguments(rest);
        return arguments.WasSuccessful
            ? Result.Success<ExpressionSyntax>(
                new CallSyntax(name.Value, arguments.Value.Items, SourceSpan.Cover(name.Value.Span, arguments.Value.Close)), arguments.Remainder)
            : Result.Failure<ExpressionSyntax>(arguments.Remainder, arguments.Message, arguments.Expectations);
    };

    private static bool NextIs(SourceInput input, string token) =>
        input.Position + token.Length <= input.Text.Length && string.CompareOrdinal(input.Text, input.Position, token, 0, token.Length) == 0;

    /// <summary>Any value; dispatches on its first character so a failure names "a value".</summary>
    public static readonly Parser<ExpressionSyntax> Value = input =>
    {
        var source = (SourceInput)input;
        if (source.AtEnd)
        {
            return Fail<ExpressionSyntax>(input, "a value");
        }

        var c = source.Current;
        if (Lexer.IsDigit(c) || c == '-')
        {
            return NumberValue(input);
        }

        if (c == '[')
        {
            return ListValue(input);
        }

        return Lexer.IsIdentifierStart(c) ? NameOrCall(input) : Fail<ExpressionSyntax>(input, "a value");
    };

    /// <summary>A loss or regularizer term: <c>value ('*' number)?</c>.</summary>
    public static readonly Parser<TermSyntax> Term =
        from function in Value
        from weight in (from star in Symbol("*") from number in Number select number).XOptional()
        select new TermSyntax(function, weight.GetOrDefault(),
            weight.IsDefined ? SourceSpan.Cover(function.Span, weight.Get().Span) : function.Span);

    // ---- statements ------------------------------------------------------------------------------------------------

    public static readonly Parser<NamespaceSyntax> Namespace =
        from keyword in Keyword("namespace")
        from name in QualifiedName
        from semicolon in Semicolon
        select new NamespaceSyntax(keyword, name, SourceSpan.Cover(keyword.Span, semicolon));

    /// <summary><c>experiment NAME {</c>; the body is parsed by the driver.</summary>
    public static readonly Parser<(IdentifierSyntax Keyword, IdentifierSyntax Name)> ExperimentHeader =
        from keyword in Keyword("experiment")
        from name in Identifier
        from open in Symbol("{")
        select (keyword, name);

    /// <summary><c>KEYWORD {</c> of a block; the body is parsed by the driver.</summary>
    public static Parser<IdentifierSyntax> BlockHeader(string keyword) =>
        from word in Keyword(keyword)
        from open in Symbol("{")
        select word;

    public static readonly Parser<StatementSyntax> Input =
        from keyword in Keyword("input")
        from name in Identifier
        from colon in Symbol(":")
        from type in Identifier
        from dimensions in Delimited("[", Number, "]")
        from semicolon in Semicolon
        select (StatementSyntax)new InputStatementSyntax(keyword, name, type, dimensions.Items, SourceSpan.Cover(keyword.Span, semicolon));

    public static readonly Parser<StatementSyntax> Corruption =
        from keyword in Keyword("corruption")
        from name in Identifier
        from assign in Symbol("=")
        from first in Value
        from rest in (from then in Keyword("then") from link in Value select link).XMany()
        from semicolon in Semicolon.Or(input => Fail<SourceSpan>(input, "'then'"))
        select (StatementSyntax)new CorruptionStatementSyntax(
            keyword, name, new[] { first }.Concat(rest).ToEquatableArray(), SourceSpan.Cover(keyword.Span, semicolon));

    public static readonly Parser<StatementSyntax> Encoder =
        from keyword in Keyword("encoder")
        from name in Identifier
        from assign in Symbol("=")
        from value in Value
        from semicolon in Semicolon
        select (StatementSyntax)new EncoderStatementSyntax(keyword, name, value, SourceSpan.Cover(keyword.Span, semicolon));

    public static readonly Parser<StatementSyntax> Predictor =
        from keyword in Keyword("predictor")
        from assign in Symbol("=")
        from value in Value
        from semicolon in Semicolon
        select (StatementSyntax)new PredictorStatementSyntax(keyword, value, SourceSpan.Cover(keyword.Span, semicolon));

    public static readonly Parser<StatementSyntax> Projector =
        from keyword in Keyword("projector")
        from assign in Symbol("=")
        from value in Value
        from semicolon in Semicolon
        select (StatementSyntax)new ProjectorStatementSyntax(keyword, value, SourceSpan.Cover(keyword.Span, semicolon));

    /// <summary><c>views NAME = term (, term)*;</c>, each term <c>corruption * count</c>.</summary>
    public static readonly Parser<StatementSyntax> Views =
        from keyword in Keyword("views")
        from name in Identifier
        from assign in Symbol("=")
        from first in Term
        from rest in (from comma in Symbol(",") from term in Term select term).XMany()
        from semicolon in Semicolon.Or(input => Fail<SourceSpan>(input, "','"))
        select (StatementSyntax)new ViewsStatementSyntax(
            keyword, name, new[] { first }.Concat(rest).ToEquatableArray(), SourceSpan.Cover(keyword.Span, semicolon));

    public static readonly Parser<StatementSyntax> Predict =
        from keyword in Keyword("predict")
        from target in Value
        from fromKeyword in Keyword("from")
        from context in Value
        from semicolon in Semicolon
        select (StatementSyntax)new PredictStatementSyntax(keyword, target, fromKeyword, context, SourceSpan.Cover(keyword.Span, semicolon));

    public static readonly Parser<StatementSyntax> Loss =
        from keyword in Keyword("loss")
        from term in Term
        from semicolon in Semicolon
        select (StatementSyntax)new LossStatementSyntax(keyword, term, SourceSpan.Cover(keyword.Span, semicolon));

    public static readonly Parser<StatementSyntax> Regularize =
        from keyword in Keyword("regularize")
        from first in Term
        from rest in (from comma in Symbol(",") from term in Term select term).XMany()
        from semicolon in Semicolon.Or(input => Fail<SourceSpan>(input, "','"))
        select (StatementSyntax)new RegularizeStatementSyntax(
            keyword, new[] { first }.Concat(rest).ToEquatableArray(), SourceSpan.Cover(keyword.Span, semicolon));

    /// <summary>A <c>train</c> setting <c>KEYWORD value;</c>.</summary>
    public static Parser<StatementSyntax> Setting(string keyword) =>
        from word in Keyword(keyword)
        from value in Value
        from semicolon in Semicolon
        select (StatementSyntax)new SettingStatementSyntax(word, value, SourceSpan.Cover(word.Span, semicolon));

    /// <summary>An <c>evaluate</c>/<c>monitor</c> item <c>name(args);</c> or <c>name;</c>.</summary>
    public static readonly Parser<StatementSyntax> CallItem =
        from value in Value
        from semicolon in Semicolon
        select (StatementSyntax)new CallStatementSyntax(FirstIdentifier(value), value, SourceSpan.Cover(value.Span, semicolon));

    private static IdentifierSyntax FirstIdentifier(ExpressionSyntax value) => value switch
    {
        CallSyntax call => call.Name.Parts[0],
        NameSyntax name => name.Name.Parts[0],
        _ => new IdentifierSyntax(string.Empty, new SourceSpan(value.Span.Start, 0, value.Span.StartLine, value.Span.StartColumn, value.Span.StartLine, value.Span.StartColumn)),
    };
}
