using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Diagnostics;
using Jepa.Dsl.Syntax;

namespace Jepa.Dsl.Binding;

/// <summary>
/// Binds a parsed file: names, parameters, shapes, the collapse rule and warnings, per experiment. Semantic checks
/// live here, not in the parser; an erroneous node binds to an error node so that one mistake gives one diagnostic.
/// </summary>
public static class Binder
{
    public static BoundFile Bind(JepaSyntaxTree tree, string path, out EquatableArray<Diagnostic> diagnostics,
        CancellationToken cancellationToken = default)
    {
        var bag = new DiagnosticBag();
        var @namespace = tree.Namespace?.Name.Text;
        var experiments = new List<BoundExperiment>();
        var seen = new Dictionary<string, ExperimentSyntax>();
        var syntaxErrors = tree.Diagnostics.Where(d => d.Severity == Severity.Error).Select(d => d.Span.Start).ToList();
        for (var index = 0; index < tree.Experiments.Count; index++)
        {
            var syntax = tree.Experiments[index];
            cancellationToken.ThrowIfCancellationRequested();
            if (seen.TryGetValue(syntax.Name.Text, out var first))
            {
                bag.Report(DiagnosticDescriptors.DuplicateName, syntax.Name.Span, syntax.Name.Text, first.Name.Span.StartLine + 1,
                    "experiment names must be unique in a file (each becomes a C# class)");
                continue;
            }

            seen.Add(syntax.Name.Text, syntax);
            var bound = new ExperimentBinder(tree, syntax, @namespace, bag).Bind();

            // A syntax error counts against the experiment it follows (its statement was dropped); one before the
            // first experiment (in the namespace line) against every experiment.
            var start = index == 0 ? 0 : syntax.Span.Start;
            var end = index + 1 < tree.Experiments.Count ? tree.Experiments[index + 1].Span.Start : int.MaxValue;
            if (syntaxErrors.Any(position => position >= start && position < end) || syntaxErrors.Any(position => position < tree.Experiments[0].Span.Start))
            {
                bound = bound with { HasErrors = true };
            }

            experiments.Add(bound);
        }

        diagnostics = bag.ToSortedArray();
        return new BoundFile(path, @namespace, experiments.ToEquatableArray());
    }
}
