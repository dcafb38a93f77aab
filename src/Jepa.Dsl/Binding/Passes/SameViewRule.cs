using System.Collections.Generic;
using System.Linq;
using Jepa.Dsl.Diagnostics;

namespace Jepa.Dsl.Binding;

/// <summary>
/// The same view on both sides (JEPA311): an objective whose every comparison is a view against itself learns nothing.
/// <list type="bullet">
/// <item>Both sides take views of one <c>views</c> declaration and a view is never compared with itself: when the two
/// sides share a single view, no pair is left.</item>
/// <item>The prediction is the target by construction: both sides see the same view (the input as it is, or the
/// one view that a <c>mean</c> averages), through the same weights (the context encoder itself, its stop-gradient view,
/// or its EMA copy, which starts equal and stays so while nothing moves), with no predictor and no target norm, and an
/// invariance loss, which is then zero, as is its gradient.</item>
/// </list>
/// </summary>
internal static class SameViewRule
{
    /// <param name="objective">An objective whose two sides bound, with a trainable context side.</param>
    public static void Check(BoundObjective objective, IReadOnlyList<BoundViews> views, BoundPredictor predictor, DiagnosticBag diagnostics)
    {
        var context = objective.Context;
        var target = objective.Target;
        var declared = context.Views is { } name && name == target.Views ? views.FirstOrDefault(v => v.Name == name) : null;
        if (declared is not null && !target.Mean && Single(declared, context.Group) is { } one && Single(declared, target.Group) == one)
        {
            diagnostics.Report(DiagnosticDescriptors.SameViewOnBothSides, context.Span,
                $"both sides take the one view of {Describe(declared, one)}, and a view is never compared with itself, so no pair of views is left",
                $"draw more of them ({one} * 2) or take another group on one side");
            return;
        }

        if (objective.TargetKind is not (TargetKind.Shared or TargetKind.StopGradient or TargetKind.Ema)
            || !predictor.IsIdentity || objective.Loss is not { IsInvariance: true, LayerNormTarget: false })
        {
            return;
        }

        var sameInput = context.Corruption is null && context.Views is null && target.Corruption is null && target.Views is null;
        var sameView = declared is not null && target.Mean && Single(declared, target.Group) is { } only && Single(declared, context.Group) == only;
        if (sameInput || sameView)
        {
            var what = sameInput ? "the input as it is" : $"the one view of {Describe(declared!, Single(declared!, context.Group)!)}";
            diagnostics.Report(DiagnosticDescriptors.SameViewOnBothSides, context.Span,
                $"both sides encode {what} with the same weights and no predictor, so the prediction is the target and the loss is zero",
                "corrupt the context side, as in context(noisy(image)), draw several views, or add a predictor");
        }
    }

    /// <summary>The group of a side when the side takes exactly one view, else null.</summary>
    private static string? Single(BoundViews views, string? group)
    {
        var taken = views.Groups.Where(g => group is null || g.Corruption == group).ToList();
        return taken.Sum(g => g.Count) == 1 ? taken[0].Corruption : null;
    }

    private static string Describe(BoundViews views, string group) =>
        views.Groups.Count == 1 ? $"views '{views.Name}'" : $"group '{group}' of views '{views.Name}'";
}
