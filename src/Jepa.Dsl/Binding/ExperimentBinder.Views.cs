using System.Collections.Generic;
using System.Linq;
using Jepa.Dsl.Catalog;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Diagnostics;
using Jepa.Dsl.Syntax;

namespace Jepa.Dsl.Binding;

internal sealed partial class ExperimentBinder
{
    private readonly List<ViewsState> _views = new();
    private readonly Dictionary<string, ViewsState> _viewsByName = new();

    private sealed class ViewsState
    {
        public ViewsState(ViewsStatementSyntax syntax, string source)
        {
            Syntax = syntax;
            Source = source;
        }

        public ViewsStatementSyntax Syntax { get; }

        public string Source { get; }

        public string Name => Syntax.Name.Text;

        public List<BoundViewGroup> Groups { get; } = new();

        public bool HasErrors { get; set; }

        /// <summary>The bound views; shape inference fills in each group's shape.</summary>
        public BoundViews ToBound(bool isUsed) => new(Name, Syntax.Span, Syntax.Name.Span, Source, Groups.ToEquatableArray(), isUsed, HasErrors);
    }

    /// <summary><c>views NAME = GROUP * count, ...;</c>: each group a declared corruption, named once, drawn a whole
    /// number of times (1 when not written).</summary>
    private void BindViews()
    {
        foreach (var syntax in _viewsSyntax)
        {
            var state = new ViewsState(syntax, Source(syntax.Span));
            _views.Add(state);
            _viewsByName[state.Name] = state;
            var first = 0;
            foreach (var term in syntax.Groups)
            {
                if (term.Function is not NameSyntax { Name.IsQualified: false } name)
                {
                    _diagnostics.Report(DiagnosticDescriptors.WrongValueType, term.Function.Span, $"each group of views '{state.Name}'",
                        "a corruption's name, as in global * 2", ArgumentBinder.Describe(term.Function));
                    state.HasErrors = true;
                    continue;
                }

                if (!_corruptionByName.ContainsKey(name.Text))
                {
                    ReportUnknownReference("corruption", name.Text, name.Span, _corruptionByName.Keys);
                    state.HasErrors = true;
                    continue;
                }

                if (state.Groups.Any(g => g.Corruption == name.Text))
                {
                    _diagnostics.Report(DiagnosticDescriptors.DuplicateStatement, name.Span, $"'{name.Text}'", $"in views '{state.Name}'");
                    state.HasErrors = true;
                    continue;
                }

                var count = 1;
                if (term.Weight is { } weight)
                {
                    // A bad count is reported here; the group is still declared (one view), so that the sides naming
                    // it report nothing more.
                    if (_arguments.BindValue(weight, ViewCount, $"the count of views '{name.Text}'") is NumberValue number)
                    {
                        count = (int)number.Value;
                    }
                    else
                    {
                        state.HasErrors = true;
                    }
                }

                state.Groups.Add(new BoundViewGroup(name.Text, term.Span, count, first, Shape.Unknown));
                first += count;
            }
        }
    }

    private static readonly Parameter ViewCount = new("count", ParameterType.Integer, Bounds.AtLeast(1));

    // ---- projector -------------------------------------------------------------------------------------------------

    /// <summary><c>projector = mlp(...);</c>: the head's built-in and arguments, before shapes.</summary>
    private BoundProjector? BindProjector()
    {
        if (_projectorSyntax is not { } syntax)
        {
            return null;
        }

        var value = syntax.Value;
        var source = Source(syntax.Span);
        if (FindHead(value, BuiltinKind.Projector, "projector", "mlp(...)") is not { } spec)
        {
            return new BoundProjector(null, null, syntax.Span, ArgumentBinder.NameSpan(value), source, Shape.Unknown, Shape.Unknown, null, true);
        }

        var bound = _arguments.Bind(value, spec, out _);
        return new BoundProjector(spec, bound, syntax.Span, ArgumentBinder.NameSpan(value), source, Shape.Unknown, Shape.Unknown, null, bound.HasErrors);
    }
}
