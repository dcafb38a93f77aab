using System.Linq;
using Jepa.Dsl.Cost;

namespace Jepa.Dsl.Binding;

internal sealed partial class ExperimentBinder
{
    /// <summary>The cost summary of docs/models.md; null when the objective or the shapes could not be bound.</summary>
    private CostSummary? ComputeCost(BoundObjective? objective, BoundPredictor predictor, BoundPipeline? pipeline, BoundTrain? train)
    {
        if (objective is null || pipeline is null || objective.TargetKind == TargetKind.Error)
        {
            return null;
        }

        var context = _encoderByName[objective.Context.ResolvedEncoder!];
        var target = _encoderByName[objective.Target.ResolvedEncoder!];
        var batch = train?.Batch ?? 256;
        var masked = pipeline.Mode == RepresentationMode.MaskedTokens;

        // The context encoder sees Nc tokens in its blocks when masked; the target always sees the whole input.
        var contextFlops = ForwardFlops(context, masked ? pipeline.ContextTokens : pipeline.Tokens);
        var targetModule = ResolveModule(target) ?? target;
        var targetFlops = ForwardFlops(targetModule, targetModule.Output.IsTokens ? targetModule.Output.Dims[0].Size : null);
        var predictorFlops = PredictorFlops(predictor, pipeline);

        var contextCost = new ModuleCost("context", context.Name, context.Parameters, contextFlops, true, true, "trained");
        var targetCost = objective.TargetKind switch
        {
            TargetKind.Ema => new ModuleCost("target", target.Name, targetModule.Parameters, targetFlops, false, false,
                $"EMA copy of '{context.Name}', not trained"),
            TargetKind.StopGradient => new ModuleCost("target", target.Name, 0, targetFlops, false, false,
                $"stop-gradient: '{context.Name}' run without gradient, no parameters of its own"),
            TargetKind.Shared => new ModuleCost("target", target.Name, 0, targetFlops, false, true,
                $"shared with '{context.Name}': the same weights, trained through both sides"),
            _ => new ModuleCost("target", target.Name, target.Parameters, targetFlops, true, true, "a second encoder, trained"),
        };
        var predictorCost = new ModuleCost("predictor", null, predictor.Parameters, predictorFlops, predictor.Kind != PredictorKind.None, true,
            predictor.Kind == PredictorKind.None ? "none: the identity" : "trained");

        var trainable = Sum(contextCost.Parameters, predictorCost.Parameters, targetCost.Trainable ? targetCost.Parameters : 0);
        var total = Sum(trainable, targetCost.Trainable ? 0 : targetCost.Parameters);
        long? step = contextFlops is { } c && predictorFlops is { } p && targetFlops is { } t
            ? CostModel.StepFlops(batch, c, p, t, targetCost.OnGradientPath)
            : null;
        return new CostSummary(batch, contextCost, targetCost, predictorCost, trainable, total, step);
    }

    private long? ForwardFlops(EncoderState encoder, int? blockTokens)
    {
        var input = InputShape;
        var call = encoder.Call;
        if (!input.IsKnown || call is null || !encoder.Output.IsKnown)
        {
            return null;
        }

        switch (encoder.Kind)
        {
            case EncoderKind.Mlp when call.GetIntList("hidden") is { } hidden && call.GetInt("out") is { } output:
                return CostModel.MlpFlops(input.Elements, hidden.ToArray(), output);
            case EncoderKind.Conv when call.GetIntList("channels") is { } channels && call.GetInt("kernel") is { } kernel && call.GetInt("out") is { } output:
                return CostModel.ConvFlops(input.Dims[0].Size, input.Dims[1].Size, input.Dims[2].Size, channels.ToArray(), kernel, output);
            case EncoderKind.Vit when call.GetInt("patch") is { } patch && call.GetInt("dim") is { } dim && call.GetInt("depth") is { } depth:
                var all = (input.Dims[1].Size / patch) * (input.Dims[2].Size / patch);
                return CostModel.VitFlops(input.Dims[0].Size, patch, dim, depth, all, blockTokens ?? all);
            default:
                return null;
        }
    }

    private static long? PredictorFlops(BoundPredictor predictor, BoundPipeline pipeline)
    {
        var call = predictor.Call;
        switch (predictor.Kind)
        {
            case PredictorKind.None:
                return 0;
            case PredictorKind.Mlp when call!.GetIntList("hidden") is { } hidden && predictor.Out is { } output && predictor.Input.Width is { } input:
                var rows = pipeline.Mode == RepresentationMode.Tokens ? pipeline.Tokens ?? 1 : 1;
                return CostModel.MlpFlops(input, hidden.ToArray(), output, rows);
            case PredictorKind.Transformer when call!.GetInt("dim") is { } dim && call.GetInt("depth") is { } depth
                                                && predictor.Input.Width is { } encoderDim
                                                && pipeline.ContextTokens is { } nc && pipeline.TargetTokens is { } nt:
                return CostModel.TransformerPredictorFlops(encoderDim, dim, depth, nc, nt);
            default:
                return null;
        }
    }

    private static long? Sum(params long?[] values) => values.All(v => v.HasValue) ? values.Sum(v => v!.Value) : null;
}
