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
        else if (_input is { IsImage: true } image && image.Shape.Dims[0].Size != 3 && ColourNeed(spec, bound, name.Span) is { } need)
        {
            var channels = image.Shape.Dims[0].Size;
            _diagnostics.Report(DiagnosticDescriptors.NeedsColourInput, need.Span, need.What, image.Name,
                channels == 1 ? "1 channel" : $"{channels} channels", need.Hint);
            isError = true;
        }

        return new BoundCorruptionLink(bound, syntax.Span, nameSpan, source, spec.Has(BuiltinFlags.TokenMask), isError);
    }

    /// <summary>Why a link needs 3 colour channels, if it does: always (<c>grayscale</c>), or because of an argument
    /// other than 0 (<c>color_jitter</c>'s saturation and hue, defaults included), located at that argument when it is
    /// written, else at the link's name.</summary>
    private static (string What, Text.SourceSpan Span, string Hint)? ColourNeed(Builtin spec, BoundCall call, Text.SourceSpan nameSpan)
    {
        if (spec.Has(BuiltinFlags.NeedsColour))
        {
            return (spec.Name, nameSpan, $"{spec.Name} works on colour images only");
        }

        var colour = spec.Parameters.Where(p => p.NeedsColourUnlessZero).ToList();
        var argument = colour.Select(p => call.Find(p.Name)).FirstOrDefault(a => a?.Value is NumberValue { Value: not 0 });
        if (argument is null)
        {
            return null;
        }

        var zeros = string.Join(" and ", colour.Select(p => p.Name + ": 0"));
        return ($"{spec.Name} with {argument.Name} {argument.Value.Display}{(argument.IsDefault ? " (its default)" : string.Empty)}",
            argument.IsDefault ? nameSpan : argument.Span, $"write {zeros} for images of another channel count (brightness and contrast work on any)");
    }

    private static BoundCall ErrorCall(string name, ExpressionSyntax syntax) => new(name, syntax.Span, EquatableArray<BoundArgument>.Empty, true);
}
