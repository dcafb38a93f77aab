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
        foreach (var syntax in tree.Experiments)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (seen.TryGetValue(syntax.Name.Text, out var first))
            {
                bag.Report(DiagnosticDescriptors.DuplicateName, syntax.Name.Span, syntax.Name.Text, first.Name.Span.StartLine + 1,
                    "experiment names must be unique in a file (each becomes a C# class)");
                continue;
            }

            seen.Add(syntax.Name.Text, syntax);
            experiments.Add(new ExperimentBinder(tree, syntax, @namespace, bag).Bind());
        }

        diagnostics = bag.ToSortedArray();
        return new BoundFile(path, @namespace, experiments.ToEquatableArray());
    }
}
