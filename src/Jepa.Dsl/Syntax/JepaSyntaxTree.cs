using System.Collections.Generic;
using System.Linq;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Diagnostics;
using Jepa.Dsl.Text;

namespace Jepa.Dsl.Syntax;

/// <summary>
/// The parsed file: an optional namespace, the experiments that parsed (statements with syntax errors are left out),
/// the spans of every comment (so a formatter can keep them) and the syntax diagnostics.
/// </summary>
public sealed record JepaSyntaxTree(
    string Text,
    NamespaceSyntax? Namespace,
    EquatableArray<ExperimentSyntax> Experiments,
    EquatableArray<SourceSpan> Comments,
    EquatableArray<Diagnostic> Diagnostics)
{
    /// <summary>Every node of the tree in source order.</summary>
    public IEnumerable<SyntaxNode> Nodes()
    {
        var roots = Namespace is null ? Experiments.Cast<SyntaxNode>() : new SyntaxNode[] { Namespace }.Concat(Experiments);
        return roots.SelectMany(r => r.DescendantsAndSelf());
    }

    /// <summary>The source text of a span.</summary>
    public string TextOf(SourceSpan span) => Text.Substring(span.Start, span.Length);
}
