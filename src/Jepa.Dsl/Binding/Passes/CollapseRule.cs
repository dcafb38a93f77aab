using Jepa.Dsl.Diagnostics;

namespace Jepa.Dsl.Binding;

/// <summary>
/// The collapse rule (JEPA301): an invariance loss (the catalog's <see cref="Catalog.BuiltinFlags.Invariance"/>) whose
/// target side receives gradients (the same encoder on both sides, an alias, or a second trainable encoder), with no
/// EMA or stop-gradient target, no contrastive loss and no regularizer, is minimised by a constant representation.
/// </summary>
internal static class CollapseRule
{
    /// <param name="objective">An objective whose two sides bound, with a trainable context side.</param>
    /// <param name="context">The context side's encoder, aliases followed.</param>
    public static void Check(BoundObjective objective, BoundEncoder context, DiagnosticBag diagnostics)
    {
        if (objective.TargetKind is not (TargetKind.Shared or TargetKind.Independent)
            || objective.Loss is not { IsInvariance: true } loss
            || objective.Regularizers.Count > 0)
        {
            return;
        }

        var targetName = objective.Target.Encoder;
        var why = objective.TargetKind == TargetKind.Independent
            ? $"is trained as well (encoder '{targetName}' is a second trainable network)"
            : targetName == objective.Context.Encoder
                ? $"is the same trainable encoder '{context.Name}'"
                : $"shares the context's trainable weights (encoder '{targetName}' is '{context.Name}')";
        diagnostics.Report(DiagnosticDescriptors.CollapseProneObjective, loss.Span, $"the invariance loss {loss.Call.Function}", why);
    }
}
