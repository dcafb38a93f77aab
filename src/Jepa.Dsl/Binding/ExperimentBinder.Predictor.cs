using System.Linq;
using Jepa.Dsl.Catalog;
using Jepa.Dsl.Diagnostics;
using Jepa.Dsl.Syntax;

namespace Jepa.Dsl.Binding;

internal sealed partial class ExperimentBinder
{
    /// <summary>
    /// The predictor's built-in and arguments, before shapes: <c>none</c> (the identity) when there is no predictor
    /// statement. Shape inference then checks it against the representation mode and fills in its shapes.
    /// </summary>
    private BoundPredictor BindPredictor()
    {
        if (_predictorSyntax is null && _brokenStatements.Contains("predictor"))
        {
            return new BoundPredictor(null, true, true, null, null, null, null, Shape.Unknown, Shape.Unknown, null, null);
        }

        if (_predictorSyntax is not { } syntax || syntax.Value is NameSyntax { Text: "none" })
        {
            var declared = _predictorSyntax is not null;
            return new BoundPredictor(Builtins.NoPredictor, false, declared, null, _predictorSyntax?.Span, _predictorSyntax?.Value.Span, PredictorSource(),
                Shape.Unknown, Shape.Unknown, null, null);
        }

        var value = syntax.Value;
        var name = value switch
        {
            CallSyntax call => call.Name,
            NameSyntax n => n.Name,
            _ => null,
        };
        var spec = name is { IsQualified: false } ? Builtins.Find(BuiltinKind.Predictor, name.Text) : null;
        if (spec is null || spec.Has(BuiltinFlags.Identity))
        {
            // none takes no arguments: none(...) is no predictor.
            var names = Builtins.Names(BuiltinKind.Predictor).ToList();
            if (name is null)
            {
                _diagnostics.Report(DiagnosticDescriptors.WrongValueType, value.Span, "the predictor", "mlp(...), transformer(...) or none", ArgumentBinder.Describe(value));
            }
            else
            {
                _diagnostics.Report(DiagnosticDescriptors.UnknownFunction, name.Span, "predictor", name.Text,
                    Suggestions.DidYouMean(name.Text, names) + "expected " + Suggestions.OrList(names));
            }

            return new BoundPredictor(null, true, true, null, syntax.Span, ArgumentBinder.NameSpan(value), PredictorSource(), Shape.Unknown, Shape.Unknown, null, null);
        }

        var bound = _arguments.Bind(value, spec, out _);
        var fits = spec.CheckArguments?.Invoke(bound, (descriptor, span, args) => _diagnostics.Report(descriptor, span, args)) ?? true;
        return new BoundPredictor(spec, !fits, true, bound, syntax.Span, ArgumentBinder.NameSpan(value), PredictorSource(), Shape.Unknown, Shape.Unknown,
            bound.GetInt("out"), null);
    }

    private string? PredictorSource() => _predictorSyntax is null ? null : Source(_predictorSyntax.Span);
}
