using System.Collections.Generic;
using System.Linq;
using Jepa.Dsl.Catalog;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Cost;
using Jepa.Dsl.Text;

namespace Jepa.Dsl.Binding;

/// <summary>What the cost pass made of the bound nodes: encoders and predictor with their parameter counts, and the
/// cost summary (null when the objective or the shapes did not bind).</summary>
internal sealed record CostResult(IReadOnlyList<BoundEncoder> Encoders, BoundProjector? Projector, BoundPredictor Predictor, CostSummary? Summary,
    SourceSpan? LargestModuleSpan);

/// <summary>
/// The cost pass (docs/models.md): the parameters of every module by its built-in's cost rule in the catalog (an EMA
/// copy, stop-gradient view or alias has its module's), then per experiment the parameters of the context encoder, the
/// target and the predictor, the trainable total and the FLOPs of one training step at the experiment's batch.
/// </summary>
internal static class CostEstimate
{
    /// <param name="objective">The objective when both its sides bound and its context side trains, else null.</param>
    public static CostResult Run(Shape input, IReadOnlyList<BoundEncoder> encoders, BoundProjector? projector, BoundPredictor predictor,
        BoundPipeline? pipeline, BoundObjective? objective, BoundTrain? train)
    {
        var counted = new Dictionary<string, BoundEncoder>();
        foreach (var encoder in encoders.Where(e => e.Kind == EncoderKind.Module))
        {
            counted[encoder.Name] = encoder.Output.IsKnown && input.IsKnown
                ? encoder with { Parameters = encoder.Builtin!.ParameterCount!(input, encoder.Call!) }
                : encoder;
        }

        foreach (var encoder in encoders.Where(e => e.Kind != EncoderKind.Module))
        {
            counted[encoder.Name] = encoder.Module is { } module && counted.TryGetValue(module, out var resolved) && resolved.Kind == EncoderKind.Module
                ? encoder with { Parameters = resolved.Parameters }
                : encoder;
        }

        predictor = predictor with { Parameters = PredictorParameters(predictor) };
        if (projector is { IsError: false, Builtin: { } head, Call: { } call } && projector.Output.IsKnown)
        {
            projector = projector with { Parameters = head.ParameterCount!(projector.Input, call) };
        }

        var all = encoders.Select(e => counted[e.Name]).ToList();
        var (summary, largest) = Summary(input, counted, projector, predictor, pipeline, objective, train);
        return new CostResult(all, projector, predictor, summary, largest);
    }

    /// <summary>The identity has none; another predictor's are counted once its output is known.</summary>
    private static long? PredictorParameters(BoundPredictor predictor)
    {
        if (predictor.Builtin is not { } builtin)
        {
            return null;
        }

        if (builtin.Has(BuiltinFlags.Identity))
        {
            return 0;
        }

        return !predictor.IsError && predictor.Output.IsKnown ? builtin.ParameterCount!(predictor.Input, predictor.Call!) : null;
    }

    /// <returns>The summary, and the declaration of the module that holds the most memory.</returns>
    private static (CostSummary?, SourceSpan?) Summary(Shape input, Dictionary<string, BoundEncoder> encoders, BoundProjector? projector,
        BoundPredictor predictor, BoundPipeline? pipeline, BoundObjective? objective, BoundTrain? train)
    {
        if (objective is null || pipeline is null || objective.TargetKind == TargetKind.Error)
        {
            return (null, null);
        }

        var context = encoders[objective.Context.ResolvedEncoder!];
        var target = encoders[objective.Target.ResolvedEncoder!];
        var batch = train?.Batch ?? 256;
        var masked = pipeline.Mode == RepresentationMode.MaskedTokens;
        var targetModule = target.Module is { } name && encoders.TryGetValue(name, out var module) ? module : target;

        // Per sample, every view: the context encoder sees Nc tokens in its blocks when masked; the target always sees
        // the whole input; each view goes through the projector too, token by token. A target that reuses the context's
        // views runs no pass of its own.
        var projectorParameters = projector is null ? 0 : projector.Parameters;
        var contextFlops = ViewFlops(pipeline.ContextViewShapes, input, view => ForwardFlops(view, context, masked ? pipeline.ContextTokens : pipeline.Tokens),
            Tokens(pipeline.Backbone ?? pipeline.Context), projector);
        var targetFlops = objective.TargetReusesContext ? 0
            : ViewFlops(pipeline.TargetViewShapes, input, view => ForwardFlops(view, targetModule, targetModule.Output.IsTokens ? targetModule.Output.Dims[0].Size : null),
                Tokens(targetModule.Output), projector);
        var identity = predictor.IsIdentity;
        var predictorContext = new PredictorShapeContext(pipeline.Mode, predictor.Input, pipeline.Target, pipeline.Tokens, Counts(pipeline));
        var predictorFlops = identity ? 0
            : predictor.IsError ? null
            : predictor.Builtin?.PredictorFlops?.Invoke(predictorContext, predictor.Call!) * pipeline.ContextViews;

        var views = pipeline.ContextViews > 1 || pipeline.TargetViews > 1;
        var head = projector is null ? string.Empty : $"; with its projector ({projectorParameters?.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) ?? "?"})";
        var contextCost = new ModuleCost("context", context.Name, Sum(context.Parameters, projectorParameters), contextFlops, true, true,
            "trained" + head + (views ? $"; FLOPs over its {pipeline.ContextViews} views" : string.Empty));
        var targetViews = views && !objective.TargetReusesContext ? $"; FLOPs over its {pipeline.TargetViews} views" : string.Empty;
        var targetCost = objective.TargetKind switch
        {
            TargetKind.Ema => new ModuleCost("target", target.Name, Sum(targetModule.Parameters, projectorParameters), targetFlops, false, false,
                $"EMA copy of '{context.Name}'{(projector is null ? string.Empty : " and its projector")}, not trained{targetViews}"),
            TargetKind.StopGradient => new ModuleCost("target", target.Name, 0, targetFlops, false, false,
                $"stop-gradient: '{context.Name}' run without gradient, no parameters of its own" + (objective.TargetReusesContext ? "; the context's views, detached" : targetViews)),
            TargetKind.Shared => new ModuleCost("target", target.Name, 0, targetFlops, false, true,
                $"shared with '{context.Name}': the same weights, trained through both sides" + (objective.TargetReusesContext ? "; the context's views" : targetViews)),
            TargetKind.Independent => new ModuleCost("target", target.Name, Sum(target.Parameters, projectorParameters), targetFlops, true, true,
                "a second encoder, trained" + (projector is null ? string.Empty : ", with a projector of its own") + targetViews),
            _ => throw new System.InvalidOperationException($"no cost for the target kind {objective.TargetKind}"),
        };
        var predictorCost = new ModuleCost("predictor", null, predictor.Parameters, predictorFlops, !identity, true,
            identity ? "none: the identity" : "trained" + (pipeline.ContextViews > 1 ? $"; FLOPs over the {pipeline.ContextViews} context views" : string.Empty));

        var trainable = Sum(contextCost.Parameters, predictorCost.Parameters, targetCost.Trainable ? targetCost.Parameters : 0);
        var total = Sum(trainable, targetCost.Trainable ? 0 : targetCost.Parameters);
        long? step = contextFlops is { } c && predictorFlops is { } p && targetFlops is { } t
            ? CostModel.StepFlops(batch, c, p, t, targetCost.OnGradientPath)
            : null;
        // Memory at the peak: a masked context at its most tokens (the FLOPs above take the typical count).
        var peakContext = predictorContext with { Counts = pipeline.PeakContextTokens is { } peak && Counts(pipeline) is { } counts ? (peak, counts.Target) : null };
        var (memory, largest) = Memory(input, context, target, targetModule, objective.TargetKind, predictor, identity ? 0
                : predictor.IsError ? null
                : predictor.Builtin?.PredictorActivations?.Invoke(peakContext, predictor.Call!),
            contextCost, targetCost, predictorCost, pipeline, objective.TargetReusesContext, RegularizerValues(objective, pipeline, batch), train, batch);
        return (new CostSummary(batch, contextCost, targetCost, predictorCost, trainable, total, step) { Memory = memory }, largest);
    }

    /// <summary>Forward FLOPs per sample over a side's views: the encoder on each view's shape, then the projector on
    /// each of its <paramref name="tokens"/> outputs (1 for a vector).</summary>
    private static long? ViewFlops(EquatableArray<BoundViewBatch> views, Shape input, System.Func<Shape, long?> encoder, int tokens, BoundProjector? projector)
    {
        long? head = projector is null ? 0
            : projector is { IsError: false, Builtin: { } builtin, Call: { } call } && projector.Input.IsKnown
                ? builtin.ForwardFlops!(projector.Input, call, tokens)
                : null;
        var batches = views.Count == 0 ? new[] { new BoundViewBatch(input, 1) } : views.ToArray();
        long total = 0;
        foreach (var view in batches)
        {
            if (encoder(view.Shape) is not { } flops || head is not { } h)
            {
                return null;
            }

            total += view.Count * (flops + h);
        }

        return total;
    }

    /// <summary>The number of outputs per sample of a representation: its tokens, or 1 for a vector.</summary>
    private static int Tokens(Shape representation) => representation.IsTokens ? representation.Dims[0].Size : 1;

    /// <summary>
    /// The memory of a training process (docs/models.md, "Memory"): 4 bytes per value of the trained weights, their
    /// gradients and the optimizer's state per parameter, the EMA copy's weights, the activations one step keeps at the
    /// batch (every view of each side, the context encoder on its tokens, the predictor, the target's activations when
    /// it is on the gradient path and otherwise its output, and the regularizers' values), the workspace (the larger of
    /// the optimizer step's temporaries, one per trained weight, and the checkpoint's in-memory copy of the optimizer
    /// state, plus the C heap's slack: <see cref="MemoryModel.HeapSlack"/>) and the
    /// process baseline. Null where a count is unknown (a C# encoder).
    /// </summary>
    private static (MemoryCost?, SourceSpan?) Memory(Shape input, BoundEncoder context, BoundEncoder target, BoundEncoder targetModule, TargetKind targetKind,
        BoundPredictor predictor, long? predictorActivations,
        ModuleCost contextCost, ModuleCost targetCost, ModuleCost predictorCost, BoundPipeline pipeline, bool targetReusesContext, long? regularizers,
        BoundTrain? train, int batch)
    {
        var masked = pipeline.Mode == RepresentationMode.MaskedTokens;
        var contextActivations = Activations(input, context, masked ? pipeline.PeakContextTokens : pipeline.Tokens);
        var targetActivations = targetCost.OnGradientPath ? Activations(input, targetModule, pipeline.Tokens) : pipeline.Target.IsKnown ? pipeline.Target.Elements : null;
        var states = train?.OptimizerCall is { } optimizer ? optimizer.Builtin?.StatesPerParameter?.Invoke(optimizer) : null;
        if (!input.IsKnown || regularizers is not { } r || contextActivations is not { } c || targetActivations is not { } t || predictorActivations is not { } p || states is not { } perParameter
            || contextCost.Parameters is not { } contextParameters || targetCost.Parameters is not { } targetParameters || predictorCost.Parameters is not { } predictorParameters)
        {
            return (null, null);
        }

        const long F = MemoryModel.Float;
        var trained = contextParameters + predictorParameters + (targetCost.Trainable ? targetParameters : 0);
        // Every view is counted, each at the input's size (an upper bound for smaller local crops); a target that reads
        // the context's representations of its views keeps nothing of its own.
        var contextViews = pipeline.ContextViews;
        var targetViews = targetReusesContext ? 0 : pipeline.TargetViews;
        (c, p, t) = (contextViews * c, contextViews * p, targetViews * t);
        var perSample = ((contextViews + targetViews) * input.Elements) + c + p + t;
        var weights = F * trained;
        var optimizerState = F * perParameter * trained;
        var parts = new (string Name, long Bytes, SourceSpan? Span)[]
        {
            ($"context encoder '{context.Name}' ({context.Builtin?.Name})", (F * (2 + perParameter) * contextParameters) + (F * batch * c), context.Span),
            (targetKind == TargetKind.Ema ? $"target '{target.Name}' (EMA copy of '{context.Name}')" : $"target encoder '{target.Name}' ({targetModule.Builtin?.Name})",
                (F * (targetCost.Trainable ? 2 + perParameter : 1) * targetParameters) + (F * batch * t), target.Span),
            (predictorParameters > 0 ? $"predictor ({predictor.Builtin?.Name})" : "predictor (the identity)",
                (F * (2 + perParameter) * predictorParameters) + (F * batch * p), predictor.Span),
        };
        var largest = parts.OrderByDescending(part => part.Bytes).First();
        var activations = (F * batch * perSample) + (F * r);
        return (new MemoryCost(batch, weights, targetKind == TargetKind.Ema ? F * targetParameters : 0, weights, optimizerState,
            activations, System.Math.Max(weights, optimizerState) + MemoryModel.HeapSlack(activations), MemoryModel.ProcessBaseline, largest.Name, largest.Bytes), largest.Span);
    }

    /// <summary>Values the regularizers need in one step (docs/models.md, "Memory"): each on every context view's
    /// representation, <c>batch</c> rows (times its tokens) of its width; null where a rule or a shape is unknown.</summary>
    private static long? RegularizerValues(BoundObjective objective, BoundPipeline pipeline, int batch)
    {
        if (objective.Regularizers.Count == 0)
        {
            return 0;
        }

        if (!pipeline.Context.IsKnown || pipeline.Context.Dims.Count == 0)
        {
            return null;
        }

        var rows = pipeline.Mode == RepresentationMode.MaskedTokens ? pipeline.PeakContextTokens : pipeline.Context.IsTokens ? pipeline.Context.Dims[0].Size : 1;
        if (rows is not { } perSample)
        {
            return null;
        }

        var samples = (long)batch * perSample;
        var width = pipeline.Context.Dims[pipeline.Context.Dims.Count - 1].Size;
        long total = 0;
        foreach (var regularizer in objective.Regularizers)
        {
            if (regularizer.Builtin?.RegularizerValues?.Invoke(regularizer.Call, samples, width) is not { } values)
            {
                return null;
            }

            total += pipeline.ContextViews * values;
        }

        return total;
    }

    /// <summary>Values one sample's forward pass through a module keeps, its blocks seeing <paramref name="blockTokens"/>.</summary>
    private static long? Activations(Shape input, BoundEncoder encoder, int? blockTokens) =>
        input.IsKnown && encoder.Call is not null && encoder.Output.IsKnown && encoder.Kind == EncoderKind.Module
            ? encoder.Builtin!.ActivationCount!(input, encoder.Call, blockTokens)
            : null;

    private static (int Context, int Target)? Counts(BoundPipeline pipeline) =>
        pipeline.ContextTokens is { } nc && pipeline.TargetTokens is { } nt ? (nc, nt) : null;

    /// <summary>Forward FLOPs per sample of a module on the whole input, its blocks seeing <paramref name="blockTokens"/>.</summary>
    private static long? ForwardFlops(Shape input, BoundEncoder encoder, int? blockTokens) =>
        input.IsKnown && encoder.Call is not null && encoder.Output.IsKnown && encoder.Kind == EncoderKind.Module
            ? encoder.Builtin!.ForwardFlops!(input, encoder.Call, blockTokens)
            : null;

    private static long? Sum(params long?[] values) => values.All(v => v.HasValue) ? values.Sum(v => v!.Value) : null;
}
