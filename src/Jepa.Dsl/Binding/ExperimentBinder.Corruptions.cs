using System.Collections.Generic;
using System.Linq;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Diagnostics;
using Jepa.Dsl.Syntax;

namespace Jepa.Dsl.Binding;

internal sealed partial class ExperimentBinder
{
    private readonly List<CorruptionState> _corruptions = new();
    private readonly Dictionary<string, CorruptionState> _corruptionByName = new();

    private sealed class LinkState
    {
        public LinkState(CorruptionKind kind, BoundCall call, ExpressionSyntax syntax, string source)
        {
            Kind = kind;
            Call = call;
            Syntax = syntax;
            Source = source;
        }

        public CorruptionKind Kind { get; set; }

        public BoundCall Call { get; }

        public ExpressionSyntax Syntax { get; }

        public string Source { get; }

        public bool IsTokenMask { get; set; }

        public BoundCorruptionLink ToBound() => new(Kind, Call, Syntax.Span, Source, IsTokenMask);
    }

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

        public List<LinkState> Links { get; } = new();

        public bool IsUsed { get; set; }

        public bool HasErrors => Links.Any(l => l.Kind == CorruptionKind.Error || l.Call.HasErrors);

        public BoundCorruption ToBound() =>
            new(Name, Syntax.Span, Syntax.Name.Span, Source, Links.Select(l => l.ToBound()).ToEquatableArray(), IsUsed);
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

    private LinkState BindLink(ExpressionSyntax syntax, bool isLast)
    {
        var source = Source(syntax.Span);
        if (syntax is not (CallSyntax or NameSyntax))
        {
            _diagnostics.Report(DiagnosticDescriptors.WrongValueType, syntax.Span, "each link of a corruption",
                "a corruption such as gaussian_noise(std: 0.1)", ArgumentBinder.Describe(syntax));
            return new LinkState(CorruptionKind.Error, ErrorCall("?", syntax), syntax, source);
        }

        var name = syntax is CallSyntax call ? call.Name : ((NameSyntax)syntax).Name;
        var spec = name.IsQualified ? null : Builtins.Find(FunctionCategory.Corruption, name.Text);
        if (spec is null)
        {
            var names = Builtins.Names(FunctionCategory.Corruption).ToList();
            _diagnostics.Report(DiagnosticDescriptors.UnknownFunction, name.Span, "corruption", name.Text,
                Suggestions.DidYouMean(name.Text, names) + "expected " + Suggestions.OrList(names));
            return new LinkState(CorruptionKind.Error, ErrorCall(name.Text, syntax), syntax, source);
        }

        var bound = _arguments.Bind(syntax, spec, out _);
        var kind = spec.Name switch
        {
            "random_mask" => CorruptionKind.RandomMask,
            "block_mask" => CorruptionKind.BlockMask,
            "gaussian_noise" => CorruptionKind.GaussianNoise,
            "feature_dropout" => CorruptionKind.FeatureDropout,
            _ => CorruptionKind.RandomCrop,
        };
        var link = new LinkState(kind, bound, syntax, source) { IsTokenMask = kind == CorruptionKind.BlockMask };
        if (kind == CorruptionKind.RandomCrop && _input is { Shape.IsKnown: true } input && input.Shape.Rank != 3)
        {
            _diagnostics.Report(DiagnosticDescriptors.NeedsImageInput, name.Span, "random_crop", input.Name, input.Shape.ToString());
            link.Kind = CorruptionKind.Error;
        }
        else if (kind == CorruptionKind.BlockMask && !isLast)
        {
            _diagnostics.Report(DiagnosticDescriptors.TokenMaskNotLast, name.Span, "block_mask");
            link.Kind = CorruptionKind.Error;
        }

        return link;
    }

    private static BoundCall ErrorCall(string name, ExpressionSyntax syntax) => new(name, syntax.Span, EquatableArray<BoundArgument>.Empty, true);
}
