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
        const string expected = "mlp(...), transformer(...) or none";
        var spec = FindHead(value, BuiltinKind.Predictor, "predictor", expected);
        if (spec is null || spec.Has(BuiltinFlags.Identity))
        {
            if (spec is not null)
            {
                ReportUnknownHead(value, BuiltinKind.Predictor, "predictor", expected); // none takes no arguments: none(...) is no predictor
            }

            return new BoundPredictor(null, true, true, null, syntax.Span, ArgumentBinder.NameSpan(value), PredictorSource(), Shape.Unknown, Shape.Unknown, null, null);
        }

        var bound = _arguments.Bind(value, spec, out _);
        var fits = spec.CheckArguments?.Invoke(bound, (descriptor, span, args) => _diagnostics.Report(descriptor, span, args)) ?? true;
        return new BoundPredictor(spec, !fits, true, bound, syntax.Span, ArgumentBinder.NameSpan(value), PredictorSource(), Shape.Unknown, Shape.Unknown,
            bound.GetInt("out"), null);
    }

    /// <summary>The built-in of a head statement (<c>predictor = ...;</c>, <c>projector = ...;</c>): <c>NAME</c> or
    /// <c>NAME(...)</c> of <paramref name="kind"/>; null after reporting what is wrong.</summary>
    private Builtin? FindHead(ExpressionSyntax value, BuiltinKind kind, string role, string expected)
    {
        if (HeadName(value) is { IsQualified: false } name && Builtins.Find(kind, name.Text) is { } spec)
        {
            return spec;
        }

        ReportUnknownHead(value, kind, role, expected);
        return null;
    }

    private static QualifiedNameSyntax? HeadName(ExpressionSyntax value) => value switch
    {
        CallSyntax call => call.Name,
        NameSyntax n => n.Name,
        _ => null,
    };

    private void ReportUnknownHead(ExpressionSyntax value, BuiltinKind kind, string role, string expected)
    {
        var names = Builtins.Names(kind).ToList();
        if (HeadName(value) is not { } name)
        {
            _diagnostics.Report(DiagnosticDescriptors.WrongValueType, value.Span, $"the {role}", expected, ArgumentBinder.Describe(value));
        }
        else
        {
            _diagnostics.Report(DiagnosticDescriptors.UnknownFunction, name.Span, role, name.Text,
                Suggestions.DidYouMean(name.Text, names) + "expected " + Suggestions.OrList(names));
        }
    }

    private string? PredictorSource() => _predictorSyntax is null ? null : Source(_predictorSyntax.Span);
}
