using System.Collections.Generic;
using System.Linq;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Text;

namespace Jepa.Dsl.Syntax;

/// <summary>Every syntax node knows the span of source text it came from.</summary>
public abstract record SyntaxNode(SourceSpan Span)
{
    /// <summary>The direct children, in source order.</summary>
    public abstract IEnumerable<SyntaxNode> Children();

    /// <summary>This node and all its descendants, in source order.</summary>
    public IEnumerable<SyntaxNode> DescendantsAndSelf()
    {
        yield return this;
        foreach (var child in Children())
        {
            foreach (var node in child.DescendantsAndSelf())
            {
                yield return node;
            }
        }
    }
}

/// <summary>A name or keyword token: <c>[A-Za-z_][A-Za-z0-9_]*</c>.</summary>
public sealed record IdentifierSyntax(string Text, SourceSpan Span) : SyntaxNode(Span)
{
    public override IEnumerable<SyntaxNode> Children() => Enumerable.Empty<SyntaxNode>();

    public override string ToString() => Text;
}

/// <summary>A possibly dotted name written without spaces, such as <c>mlp</c> or <c>My.Encoders.Tiny</c>.</summary>
public sealed record QualifiedNameSyntax(EquatableArray<IdentifierSyntax> Parts, SourceSpan Span) : SyntaxNode(Span)
{
    public string Text => string.Join(".", Parts.Select(p => p.Text));

    /// <summary>True for a dotted name (a C# type name).</summary>
    public bool IsQualified => Parts.Count > 1;

    public override IEnumerable<SyntaxNode> Children() => Parts;

    public override string ToString() => Text;
}

// ---- values --------------------------------------------------------------------------------------------------------

/// <summary>A value: a number, a range, a schedule, a list, a name or a call.</summary>
public abstract record ExpressionSyntax(SourceSpan Span) : SyntaxNode(Span);

/// <summary>A number as written (<c>3</c>, <c>-0.5</c>, <c>1e-3</c>).</summary>
public sealed record NumberSyntax(string Text, double Value, SourceSpan Span) : ExpressionSyntax(Span)
{
    /// <summary>True when the literal has no fraction or exponent.</summary>
    public bool IsIntegerLiteral => Text.IndexOfAny(new[] { '.', 'e', 'E' }) < 0;

    public override IEnumerable<SyntaxNode> Children() => Enumerable.Empty<SyntaxNode>();

    public override string ToString() => Text;
}

/// <summary>A closed range <c>a..b</c>, sampled from per draw (mask scales, crop scales, aspect ratios).</summary>
public sealed record RangeSyntax(NumberSyntax Low, NumberSyntax High, SourceSpan Span) : ExpressionSyntax(Span)
{
    public override IEnumerable<SyntaxNode> Children() => new SyntaxNode[] { Low, High };

    public override string ToString() => $"{Low}..{High}";
}

/// <summary>A linear schedule <c>a -> b</c> over the whole training run.</summary>
public sealed record ScheduleSyntax(NumberSyntax Start, NumberSyntax End, SourceSpan Span) : ExpressionSyntax(Span)
{
    public override IEnumerable<SyntaxNode> Children() => new SyntaxNode[] { Start, End };

    public override string ToString() => $"{Start} -> {End}";
}

/// <summary>A list <c>[a, b, ...]</c>.</summary>
public sealed record ListSyntax(EquatableArray<ExpressionSyntax> Items, SourceSpan Span) : ExpressionSyntax(Span)
{
    public override IEnumerable<SyntaxNode> Children() => Items;

    public override string ToString() => "[" + string.Join(", ", Items.Select(i => i.ToString())) + "]";
}

/// <summary>A bare name: a reference (<c>context</c>), an option value (<c>layer</c>), <c>true</c>/<c>false</c>, or a
/// function without arguments (<c>mse</c>).</summary>
public sealed record NameSyntax(QualifiedNameSyntax Name, SourceSpan Span) : ExpressionSyntax(Span)
{
    public string Text => Name.Text;

    public override IEnumerable<SyntaxNode> Children() => new SyntaxNode[] { Name };

    public override string ToString() => Text;
}

/// <summary>A call <c>name(arguments)</c>.</summary>
public sealed record CallSyntax(QualifiedNameSyntax Name, EquatableArray<ArgumentSyntax> Arguments, SourceSpan Span)
    : ExpressionSyntax(Span)
{
    public override IEnumerable<SyntaxNode> Children() => new SyntaxNode[] { Name }.Concat(Arguments);

    public override string ToString() => Name.Text + "(" + string.Join(", ", Arguments.Select(a => a.ToString())) + ")";
}

/// <summary>An argument, named (<c>out: 128</c>) or positional (<c>context</c> in <c>ema(context)</c>).</summary>
public sealed record ArgumentSyntax(IdentifierSyntax? Name, ExpressionSyntax Value, SourceSpan Span) : SyntaxNode(Span)
{
    public override IEnumerable<SyntaxNode> Children() =>
        Name is null ? new SyntaxNode[] { Value } : new SyntaxNode[] { Name, Value };

    public override string ToString() => Name is null ? Value.ToString()! : $"{Name.Text}: {Value}";
}

/// <summary>A loss or regularizer term: <c>name</c> or <c>name(args)</c>, optionally <c>* weight</c>.</summary>
public sealed record TermSyntax(ExpressionSyntax Function, NumberSyntax? Weight, SourceSpan Span) : SyntaxNode(Span)
{
    public override IEnumerable<SyntaxNode> Children() =>
        Weight is null ? new SyntaxNode[] { Function } : new SyntaxNode[] { Function, Weight };

    public override string ToString() => Weight is null ? Function.ToString()! : $"{Function} * {Weight}";
}

// ---- statements ----------------------------------------------------------------------------------------------------

/// <summary>A statement; its span runs from its first token to its closing <c>;</c> or <c>}</c>.</summary>
public abstract record StatementSyntax(IdentifierSyntax Keyword, SourceSpan Span) : SyntaxNode(Span);

/// <summary><c>input NAME: float[d];</c> or <c>input NAME: float[c, h, w];</c></summary>
public sealed record InputStatementSyntax(
    IdentifierSyntax Keyword, IdentifierSyntax Name, IdentifierSyntax ElementType, EquatableArray<NumberSyntax> Dimensions,
    SourceSpan Span) : StatementSyntax(Keyword, Span)
{
    public override IEnumerable<SyntaxNode> Children() =>
        new SyntaxNode[] { Keyword, Name, ElementType }.Concat(Dimensions);
}

/// <summary><c>corruption NAME = link (then link)*;</c> where each link is a call or a bare name.</summary>
public sealed record CorruptionStatementSyntax(
    IdentifierSyntax Keyword, IdentifierSyntax Name, EquatableArray<ExpressionSyntax> Links, SourceSpan Span)
    : StatementSyntax(Keyword, Span)
{
    public override IEnumerable<SyntaxNode> Children() => new SyntaxNode[] { Keyword, Name }.Concat(Links);
}

/// <summary><c>encoder NAME = call;</c> or <c>encoder NAME = OTHER;</c></summary>
public sealed record EncoderStatementSyntax(IdentifierSyntax Keyword, IdentifierSyntax Name, ExpressionSyntax Value, SourceSpan Span)
    : StatementSyntax(Keyword, Span)
{
    public override IEnumerable<SyntaxNode> Children() => new SyntaxNode[] { Keyword, Name, Value };
}

/// <summary><c>predictor = call;</c> or <c>predictor = none;</c></summary>
public sealed record PredictorStatementSyntax(IdentifierSyntax Keyword, ExpressionSyntax Value, SourceSpan Span)
    : StatementSyntax(Keyword, Span)
{
    public override IEnumerable<SyntaxNode> Children() => new SyntaxNode[] { Keyword, Value };
}

/// <summary><c>projector = call;</c>: a head on the encoder's output that the loss and regularizers read.</summary>
public sealed record ProjectorStatementSyntax(IdentifierSyntax Keyword, ExpressionSyntax Value, SourceSpan Span)
    : StatementSyntax(Keyword, Span)
{
    public override IEnumerable<SyntaxNode> Children() => new SyntaxNode[] { Keyword, Value };
}

/// <summary><c>views NAME = GROUP * count, GROUP * count, ...;</c>: each group a corruption's name and how many views of
/// each sample it draws (a term whose weight is the count; 1 when not written).</summary>
public sealed record ViewsStatementSyntax(IdentifierSyntax Keyword, IdentifierSyntax Name, EquatableArray<TermSyntax> Groups, SourceSpan Span)
    : StatementSyntax(Keyword, Span)
{
    public override IEnumerable<SyntaxNode> Children() => new SyntaxNode[] { Keyword, Name }.Concat(Groups);
}

/// <summary><c>predict TARGET from CONTEXT;</c> (inside <c>objective</c>).</summary>
public sealed record PredictStatementSyntax(
    IdentifierSyntax Keyword, ExpressionSyntax Target, IdentifierSyntax FromKeyword, ExpressionSyntax Context, SourceSpan Span)
    : StatementSyntax(Keyword, Span)
{
    public override IEnumerable<SyntaxNode> Children() => new SyntaxNode[] { Keyword, Target, FromKeyword, Context };
}

/// <summary><c>loss TERM;</c> (inside <c>objective</c>).</summary>
public sealed record LossStatementSyntax(IdentifierSyntax Keyword, TermSyntax Term, SourceSpan Span) : StatementSyntax(Keyword, Span)
{
    public override IEnumerable<SyntaxNode> Children() => new SyntaxNode[] { Keyword, Term };
}

/// <summary><c>regularize TERM (, TERM)*;</c> (inside <c>objective</c>).</summary>
public sealed record RegularizeStatementSyntax(IdentifierSyntax Keyword, EquatableArray<TermSyntax> Terms, SourceSpan Span)
    : StatementSyntax(Keyword, Span)
{
    public override IEnumerable<SyntaxNode> Children() => new SyntaxNode[] { Keyword }.Concat(Terms);
}

/// <summary>A <c>train</c> setting: <c>KEYWORD value;</c> (<c>optimizer adamw(...)</c>, <c>batch 128</c>, <c>device cpu</c>).</summary>
public sealed record SettingStatementSyntax(IdentifierSyntax Keyword, ExpressionSyntax Value, SourceSpan Span)
    : StatementSyntax(Keyword, Span)
{
    public override IEnumerable<SyntaxNode> Children() => new SyntaxNode[] { Keyword, Value };
}

/// <summary>An <c>evaluate</c> or <c>monitor</c> item: <c>knn(k: 20);</c>; its keyword is the called name.</summary>
public sealed record CallStatementSyntax(IdentifierSyntax Keyword, ExpressionSyntax Call, SourceSpan Span) : StatementSyntax(Keyword, Span)
{
    public override IEnumerable<SyntaxNode> Children() => new SyntaxNode[] { Call };
}

/// <summary>
/// A statement that failed to parse (a syntax error was reported for it). It keeps the keyword and, for a
/// declaration, the declared name, so the binder treats that name as declared but erroneous instead of reporting it
/// missing (one mistake, one diagnostic).
/// </summary>
public sealed record ErrorStatementSyntax(IdentifierSyntax Keyword, IdentifierSyntax? Name, SourceSpan Span) : StatementSyntax(Keyword, Span)
{
    public override IEnumerable<SyntaxNode> Children() => Name is null ? new SyntaxNode[] { Keyword } : new SyntaxNode[] { Keyword, Name };
}

/// <summary>Which block a <see cref="BlockSyntax"/> is.</summary>
public enum BlockKind
{
    Objective,
    Train,
    Evaluate,
    Monitor,
}

/// <summary><c>objective { ... }</c>, <c>train { ... }</c>, <c>evaluate { ... }</c> or <c>monitor { ... }</c>.</summary>
public sealed record BlockSyntax(IdentifierSyntax Keyword, BlockKind Kind, EquatableArray<StatementSyntax> Statements, SourceSpan Span)
    : StatementSyntax(Keyword, Span)
{
    public override IEnumerable<SyntaxNode> Children() => new SyntaxNode[] { Keyword }.Concat(Statements);
}

/// <summary><c>experiment NAME { statements }</c></summary>
public sealed record ExperimentSyntax(IdentifierSyntax Keyword, IdentifierSyntax Name, EquatableArray<StatementSyntax> Statements, SourceSpan Span)
    : SyntaxNode(Span)
{
    public override IEnumerable<SyntaxNode> Children() => new SyntaxNode[] { Keyword, Name }.Concat(Statements);
}

/// <summary><c>namespace A.B;</c></summary>
public sealed record NamespaceSyntax(IdentifierSyntax Keyword, QualifiedNameSyntax Name, SourceSpan Span) : SyntaxNode(Span)
{
    public override IEnumerable<SyntaxNode> Children() => new SyntaxNode[] { Keyword, Name };
}
