using System.Collections.Generic;
using System.Linq;
using Jepa.Dsl.Catalog;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Diagnostics;
using Jepa.Dsl.Syntax;

namespace Jepa.Dsl.Binding;

internal sealed partial class ExperimentBinder
{
    private readonly List<CorruptionState> _corruptions = new();
    private readonly Dictionary<string, CorruptionState> _corruptionByName = new();

    private sealed class CorruptionState
    {
        public CorruptionState(CorruptionStatementSyntax syntax, string source)
        {
            Syntax = syntax;
            Source = source;
        }

        public CorruptionStatementSyntax Syntax { get; }

        public string Source { get; }

        public string Name => Syntax.Name.Text;

        public List<BoundCorruptionLink> Links { get; } = new();

        public bool HasErrors => Links.Any(l => l.IsError || l.Call.HasErrors);

        /// <summary>The bound corruption; shape inference decides which link of the context side is a token mask.</summary>
        public BoundCorruption ToBound(bool isUsed) => new(Name, Syntax.Span, Syntax.Name.Span, Source, Links.ToEquatableArray(), isUsed);
    }

    private void BindCorruptions()
    {
        foreach (var syntax in _corruptionSyntax)
        {
            var state = new CorruptionState(syntax, Source(syntax.Span));
            _corruptions.Add(state);
            _corruptionByName[state.Name] = state;
            for (var i = 0; i < syntax.Links.Count; i++)
            {
                state.Links.Add(BindLink(syntax.Links[i], isLast: i == syntax.Links.Count - 1));
            }
        }
    }

    /// <summary>One link: its built-in and arguments; one that needs an image on another input, or a token mask that is
    /// not last, is an error link.</summary>
    private BoundCorruptionLink BindLink(ExpressionSyntax syntax, bool isLast)
    {
        var source = Source(syntax.Span);
        var nameSpan = ArgumentBinder.NameSpan(syntax);
        if (syntax is not (CallSyntax or NameSyntax))
        {
            _diagnostics.Report(DiagnosticDescriptors.WrongValueType, syntax.Span, "each link of a corruption",
                "a corruption such as gaussian_noise(std: 0.1)", ArgumentBinder.Describe(syntax));
            return new BoundCorruptionLink(ErrorCall("?", syntax), syntax.Span, nameSpan, source, false, true);
        }

        var name = syntax is CallSyntax call ? call.Name : ((NameSyntax)syntax).Name;
        var spec = name.IsQualified ? null : Builtins.Find(BuiltinKind.Corruption, name.Text);
        if (spec is null)
        {
            var names = Builtins.Names(BuiltinKind.Corruption).ToList();
            _diagnostics.Report(DiagnosticDescriptors.UnknownFunction, name.Span, "corruption", name.Text,
                Suggestions.DidYouMean(name.Text, names) + "expected " + Suggestions.OrList(names));
            return new BoundCorruptionLink(ErrorCall(name.Text, syntax), syntax.Span, nameSpan, source, false, true);
        }

        var bound = _arguments.Bind(syntax, spec, out _);
        var isError = false;
        if (spec.Has(BuiltinFlags.NeedsImage) && _input is { Shape.IsKnown: true } input && input.Shape.Rank != 3)
        {
            _diagnostics.Report(DiagnosticDescriptors.NeedsImageInput, name.Span, spec.Name, input.Name, input.Shape.ToString());
            isError = true;
        }
        else if (spec.Has(BuiltinFlags.TokenMask) && !isLast)
        {
            _diagnostics.Report(DiagnosticDescriptors.TokenMaskNotLast, name.Span, spec.Name);
            isError = true;
        }

        return new BoundCorruptionLink(bound, syntax.Span, nameSpan, source, spec.Has(BuiltinFlags.TokenMask), isError);
    }

    private static BoundCall ErrorCall(string name, ExpressionSyntax syntax) => new(name, syntax.Span, EquatableArray<BoundArgument>.Empty, true);
}
