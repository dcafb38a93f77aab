using System.Collections.Generic;
using System.Linq;
using Jepa.Dsl.Catalog;
using Jepa.Dsl.Cost;
using Jepa.Dsl.Text;

namespace Jepa.Dsl.Binding;

/// <summary>What the cost pass made of the bound nodes: encoders and predictor with their parameter counts, and the
/// cost summary (null when the objective or the shapes did not bind).</summary>
internal sealed record CostResult(IReadOnlyList<BoundEncoder> Encoders, BoundPredictor Predictor, CostSummary? Summary, SourceSpan? LargestModuleSpan);

/// <summary>
/// The cost pass (docs/models.md): the parameters of every module by its built-in's cost rule in the catalog (an EMA
/// copy, stop-gradient view or alias has its module's), then per experiment the parameters of the context encoder, the
/// target and the predictor, the trainable total and the FLOPs of one training step at the experiment's batch.
/// </summary>
internal static class CostEstimate
{
    /// <param name="objective">The objective when both its sides bound and its context side trains, else null.</param>
    public static CostResult Run(Shape input, IReadOnlyList<BoundEncoder> encoders, BoundPredictor predictor, BoundPipeline? pipeline,
        BoundObjective? objective, BoundTrain? train)
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
        var all = encoders.Select(e => counted[e.Name]).ToList();
        var (summary, largest) = Summary(input, counted, predictor, pipeline, objective, train);
        return new CostResult(all, predictor, summary, largest);
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
    private static (CostSummary?, SourceSpan?) Summary(Shape input, Dictionary<string, BoundEncoder> encoders, BoundPredictor predictor, BoundPipeline? pipeline,
        BoundObjective? objective, BoundTrain? train)
    {
        if (objective is null || pipeline is null || objective.TargetKind == TargetKind.Error)
        {
            return (null, null);
        }

        var context = encoders[objective.Context.ResolvedEncoder!];
        var target = encoders[objective.Target.ResolvedEncoder!];
        var batch = train?.Batch ?? 256;
        var masked = pipeline.Mode == RepresentationMode.MaskedTokens;

        // The context encoder sees Nc tokens in its blocks when masked; the target always sees the whole input.
        var contextFlops = ForwardFlops(input, context, masked ? pipeline.ContextTokens : pipeline.Tokens);
        var targetModule = target.Module is { } name && encoders.TryGetValue(name, out var module) ? module : target;
        var targetFlops = ForwardFlops(input, targetModule, targetModule.Output.IsTokens ? targetModule.Output.Dims[0].Size : null);
        var identity = predictor.IsIdentity;
        var predictorContext = new PredictorShapeContext(pipeline.Mode, predictor.Input, pipeline.Target, pipeline.Tokens, Counts(pipeline));
        var predictorFlops = identity ? 0
            : predictor.IsError ? null
            : predictor.Builtin?.PredictorFlops?.Invoke(predictorContext, predictor.Call!);

        var contextCost = new ModuleCost("context", context.Name, context.Parameters, contextFlops, true, true, "trained");
        var targetCost = objective.TargetKind switch
        {
            TargetKind.Ema => new ModuleCost("target", target.Name, targetModule.Parameters, targetFlops, false, false,
                $"EMA copy of '{context.Name}', not trained"),
            TargetKind.StopGradient => new ModuleCost("target", target.Name, 0, targetFlops, false, false,
                $"stop-gradient: '{context.Name}' run without gradient, no parameters of its own"),
            TargetKind.Shared => new ModuleCost("target", target.Name, 0, targetFlops, false, true,
                $"shared with '{context.Name}': the same weights, trained through both sides"),
            TargetKind.Independent => new ModuleCost("target", target.Name, target.Parameters, targetFlops, true, true, "a second encoder, trained"),
            _ => throw new System.InvalidOperationException($"no cost for the target kind {objective.TargetKind}"),
        };
        var predictorCost = new ModuleCost("predictor", null, predictor.Parameters, predictorFlops, !identity, true,
            identity ? "none: the identity" : "trained");

        var trainable = Sum(contextCost.Parameters, predictorCost.Parameters, targetCost.Trainable ? targetCost.Parameters : 0);
        var total = Sum(trainable, targetCost.Trainable ? 0 : targetCost.Parameters);
        long? step = contextFlops is { } c && predictorFlops is { } p && targetFlops is { } t
            ? CostModel.StepFlops(batch, c, p, t, targetCost.OnGradientPath)
            : null;
        var (memory, largest) = Memory(input, context, target, targetModule, objective.TargetKind, predictor, identity ? 0
                : predictor.IsError ? null
                : predictor.Builtin?.PredictorActivations?.Invoke(predictorContext, predictor.Call!),
            contextCost, targetCost, predictorCost, pipeline, train, batch);
        return (new CostSummary(batch, contextCost, targetCost, predictorCost, trainable, total, step) { Memory = memory }, largest);
    }

    /// <summary>
    /// The memory of a training process (docs/models.md, "Memory"): 4 bytes per value of the trained weights, their
    /// gradients and the optimizer's state per parameter, the EMA copy's weights, the activations one step keeps at the
    /// batch (each side's input view, the context encoder on its tokens, the predictor, the target's activations when
    /// it is on the gradient path and otherwise its output), the workspace (the larger of the optimizer step's
    /// temporaries, one per trained weight, and the checkpoint's in-memory copy of the optimizer state) and the
    /// process baseline. Null where a count is unknown (a C# encoder).
    /// </summary>
    private static (MemoryCost?, SourceSpan?) Memory(Shape input, BoundEncoder context, BoundEncoder target, BoundEncoder targetModule, TargetKind targetKind,
        BoundPredictor predictor, long? predictorActivations,
        ModuleCost contextCost, ModuleCost targetCost, ModuleCost predictorCost, BoundPipeline pipeline, BoundTrain? train, int batch)
    {
        var masked = pipeline.Mode == RepresentationMode.MaskedTokens;
        var contextActivations = Activations(input, context, masked ? pipeline.ContextTokens : pipeline.Tokens);
        var targetActivations = targetCost.OnGradientPath ? Activations(input, targetModule, pipeline.Tokens) : pipeline.Target.IsKnown ? pipeline.Target.Elements : null;
        var states = train?.OptimizerCall is { } optimizer ? optimizer.Builtin?.StatesPerParameter?.Invoke(optimizer) : null;
        if (!input.IsKnown || contextActivations is not { } c || targetActivations is not { } t || predictorActivations is not { } p || states is not { } perParameter
            || contextCost.Parameters is not { } contextParameters || targetCost.Parameters is not { } targetParameters || predictorCost.Parameters is not { } predictorParameters)
        {
            return (null, null);
        }

        const long F = MemoryModel.Float;
        var trained = contextParameters + predictorParameters + (targetCost.Trainable ? targetParameters : 0);
        var perSample = (2 * input.Elements) + c + p + t;
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
        return (new MemoryCost(batch, weights, targetKind == TargetKind.Ema ? F * targetParameters : 0, weights, optimizerState,
            F * batch * perSample, System.Math.Max(weights, optimizerState), MemoryModel.ProcessBaseline, largest.Name, largest.Bytes), largest.Span);
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
