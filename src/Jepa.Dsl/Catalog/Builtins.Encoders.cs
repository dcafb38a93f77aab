using System.Collections.Generic;
using System.Linq;
using Jepa.Dsl.Binding;
using Jepa.Dsl.Cost;
using Jepa.Dsl.Diagnostics;
using static Jepa.Dsl.Catalog.Parts;

namespace Jepa.Dsl.Catalog;

public static partial class Builtins
{
    // ---- encoders --------------------------------------------------------------------------------------------------

    public static readonly Builtin MlpEncoder = new("mlp", BuiltinKind.Encoder,
        "a multilayer perceptron; flattens an image input first",
        BuiltinFlags.Trainable | BuiltinFlags.FlattensInput,
        Hidden(), Int("out", AtLeastOne, required: true, note: "the output width"), Norm(), Activation())
    {
        CSharp = new("new global::Jepa.Runtime.Models.MlpEncoder({$input_shape}, {hidden}, {out}, {norm}, {act})", Width: "{$module}.OutputWidth"),
        Python = new("M.MlpEncoder({$input_shape}, hidden={hidden}, out={out}, norm={norm}, act={act})"),
        Shape = c => c.Call.GetInt("out") is { } output ? new ModuleOutput(Binding.Shape.Of(output), false) : null,
        ParameterCount = (input, call) => call.GetIntList("hidden") is { } hidden && call.GetInt("out") is { } output
            ? CostModel.MlpParameters(input.Elements, hidden.ToArray(), output, call.GetOption("norm") is "layer" or "batch")
            : null,
        ForwardFlops = (input, call, _) => call.GetIntList("hidden") is { } hidden && call.GetInt("out") is { } output
            ? CostModel.MlpFlops(input.Elements, hidden.ToArray(), output)
            : null,
        ActivationCount = (input, call, _) => call.GetIntList("hidden") is { } hidden && call.GetInt("out") is { } output
            ? MemoryModel.MlpActivations(input.Elements, hidden.ToArray(), output, call.GetOption("norm") is "layer" or "batch")
            : null,
    };

    public static readonly Builtin Conv = new("conv", BuiltinKind.Encoder,
        "convolution stages (conv, norm, GELU, 2x2 max pool), then a global pool and a linear layer to out; takes smaller crops too",
        BuiltinFlags.Trainable | BuiltinFlags.NeedsImage | BuiltinFlags.AnyImageSize,
        new Parameter("channels", ParameterType.IntegerList, AtLeastOne, required: true, nonEmpty: true, note: "the channels of each stage"),
        Int("kernel", AtLeastOne, 3),
        Option("pool", "mean", PoolOptions),
        Int("out", AtLeastOne, required: true, note: "the output width"),
        ConvNorm(),
        Int("groups", AtLeastOne, 8))
    {
        CSharp = new("new global::Jepa.Runtime.Models.ConvEncoder({$input_shape}, {channels}, {kernel}, {pool}, {out}, {norm}, {groups})", Width: "{$module}.OutputWidth"),
        Python = new("M.ConvEncoder({$input_shape}, channels={channels}, kernel={kernel}, pool={pool}, out={out}, norm={norm}, groups={groups})"),
        Shape = ConvShape,
        ParameterCount = (input, call) => call.GetIntList("channels") is { } channels && call.GetInt("kernel") is { } kernel && call.GetInt("out") is { } output
            ? CostModel.ConvParameters(input.Dims[0].Size, channels.ToArray(), kernel, output, call.GetOption("norm") is not (null or "none"))
            : null,
        ForwardFlops = (input, call, _) => call.GetIntList("channels") is { } channels && call.GetInt("kernel") is { } kernel && call.GetInt("out") is { } output
            ? CostModel.ConvFlops(input.Dims[0].Size, input.Dims[1].Size, input.Dims[2].Size, channels.ToArray(), kernel, output)
            : null,
        ActivationCount = (input, call, _) => call.GetIntList("channels") is { } channels && call.GetInt("kernel") is { } kernel && call.GetInt("out") is { } output
            ? MemoryModel.ConvActivations(input.Dims[0].Size, input.Dims[1].Size, input.Dims[2].Size, channels.ToArray(), kernel, output,
                call.GetOption("norm") is not (null or "none"))
            : null,
    };

    public static readonly Builtin Vit = new("vit", BuiltinKind.Encoder,
        "a vision transformer over patch x patch patches: tokens [N, dim], or their mean with pool: mean",
        BuiltinFlags.Trainable | BuiltinFlags.NeedsImage,
        Int("patch", AtLeastOne, required: true, note: "the patch size"),
        Int("dim", AtLeastOne, required: true, note: "the token width"),
        Int("depth", AtLeastOne, required: true, note: "the number of blocks"),
        Int("heads", AtLeastOne, required: true, note: "the number of attention heads"),
        new Parameter("pool", ParameterType.Option, options: TokenPoolOptions) { DefaultNote = "absent: tokens" })
    {
        CSharp = new("new global::Jepa.Runtime.Models.VitEncoder({$input_shape}, {patch}, {dim}, {depth}, {heads}, pool: {pool})", Width: "{$module}.Dim"),
        Python = new("M.VitEncoder({$input_shape}, patch={patch}, dim={dim}, depth={depth}, heads={heads}, pool={pool})"),
        Shape = VitShape,
        ParameterCount = (input, call) => call.GetInt("patch") is { } patch && call.GetInt("dim") is { } dim && call.GetInt("depth") is { } depth
            ? CostModel.VitParameters(input.Dims[0].Size, patch, dim, depth)
            : null,
        ForwardFlops = (input, call, blockTokens) =>
        {
            if (call.GetInt("patch") is not { } patch || call.GetInt("dim") is not { } dim || call.GetInt("depth") is not { } depth)
            {
                return null;
            }

            var all = (input.Dims[1].Size / patch) * (input.Dims[2].Size / patch);
            return CostModel.VitFlops(input.Dims[0].Size, patch, dim, depth, all, blockTokens ?? all);
        },
        ActivationCount = (input, call, blockTokens) =>
        {
            if (call.GetInt("patch") is not { } patch || call.GetInt("dim") is not { } dim || call.GetInt("depth") is not { } depth
                || call.GetInt("heads") is not { } heads)
            {
                return null;
            }

            var all = (input.Dims[1].Size / patch) * (input.Dims[2].Size / patch);
            return MemoryModel.VitActivations(input.Dims[0].Size, input.Dims[1].Size, input.Dims[2].Size, dim, depth, heads, all, blockTokens ?? all);
        },
    };

    public static readonly Builtin Ema = new("ema", BuiltinKind.Encoder,
        "a copy of ENCODER, never trained, updated after every step as theta <- m theta + (1 - m) theta_ENCODER",
        BuiltinFlags.TakesEncoder,
        new Parameter("momentum", ParameterType.NumberOrSchedule, Unit, new ScheduleValue(0.996, 1.0)))
    {
        EncoderKind = EncoderKind.Ema,
        CSharp = new("global::Jepa.Runtime.Training.Ema.CopyOf({$source}, () => {$create})"),
        Python = new("T.ema_copy({$source}, lambda: {$create})"),
    };

    public static readonly Builtin StopGrad = new("stopgrad", BuiltinKind.Encoder,
        "ENCODER itself, run without gradient",
        BuiltinFlags.TakesEncoder)
    {
        EncoderKind = EncoderKind.StopGradient,
        CSharp = new("{$source}"),
        Python = new("{$source}"),
    };

    /// <summary>The built-in encoders.</summary>
    public static IReadOnlyList<Builtin> Encoders { get; } = new[] { MlpEncoder, Conv, Vit, Ema, StopGrad };

    private static ModuleOutput? ConvShape(ModuleShapeContext c)
    {
        var call = c.Call;
        if (!c.ImageOk || call.GetIntList("channels") is not { } stages || call.GetInt("kernel") is not { } k || call.GetInt("out") is not { } output)
        {
            return null;
        }

        if (call.GetOption("norm") == "group" && call.GetInt("groups") is { } groups)
        {
            var stage = stages.ToList().FindIndex(channels => channels % groups != 0);
            if (stage >= 0)
            {
                c.Report(DiagnosticDescriptors.GroupsDoNotDivide, c.SpanOf("groups"), groups, stage + 1, stages[stage]);
                return null;
            }
        }

        if (c.Input.IsKnown)
        {
            int h = c.Input.Dims[1].Size, w = c.Input.Dims[2].Size;
            for (var i = 0; i < stages.Count; i++)
            {
                h = CostModel.ConvStageOutput(h, k);
                w = CostModel.ConvStageOutput(w, k);
                if (h < 1 || w < 1)
                {
                    c.Report(DiagnosticDescriptors.ConvTooDeep, c.SpanOf("channels"), i + 1, stages.Count, h, w);
                    return null;
                }
            }
        }

        return new ModuleOutput(Binding.Shape.Of(output), false);
    }

    private static ModuleOutput? VitShape(ModuleShapeContext c)
    {
        var call = c.Call;
        var patch = call.GetInt("patch");
        var dim = call.GetInt("dim");
        var depth = call.GetInt("depth");
        var heads = call.GetInt("heads");
        if (dim is { } d && heads is { } hd && d % hd != 0)
        {
            c.Report(DiagnosticDescriptors.HeadsDoNotDivide, c.SpanOf("heads"), "vit", d, hd);
            return null;
        }

        if (!c.ImageOk || patch is not { } p || dim is not { } width || depth is null || heads is null || !c.Input.IsKnown)
        {
            return null;
        }

        int height = c.Input.Dims[1].Size, w = c.Input.Dims[2].Size;
        if (height % p != 0 || w % p != 0)
        {
            c.Report(DiagnosticDescriptors.PatchDoesNotDivide, c.SpanOf("patch"), p, height, w);
            return null;
        }

        var grid = (height / p, w / p);
        var pooled = call.GetOption("pool") is not null;
        return new ModuleOutput(pooled ? Binding.Shape.Of(width) : Binding.Shape.Of(grid.Item1 * grid.Item2, width), !pooled, grid);
    }

    // ---- projectors ------------------------------------------------------------------------------------------------

    public static readonly Builtin MlpProjector = new("mlp", BuiltinKind.Projector,
        "a multilayer perceptron on the encoder's output (per token in token mode), on both sides; the loss and regularizers read its output",
        BuiltinFlags.None,
        Hidden(), Int("out", AtLeastOne, required: true, note: "the output width"), Norm(), Activation())
    {
        CSharp = new("new global::Jepa.Runtime.Models.MlpEncoder([{$input_width}], {hidden}, {out}, {norm}, {act})", Width: "{$module}.OutputWidth"),
        Python = new("M.MlpEncoder(({$input_width},), hidden={hidden}, out={out}, norm={norm}, act={act})"),
        ParameterCount = (input, call) => input.Width is { } width && call.GetIntList("hidden") is { } hidden && call.GetInt("out") is { } output
            ? CostModel.MlpParameters(width, hidden.ToArray(), output, call.GetOption("norm") is "layer" or "batch")
            : null,
        ForwardFlops = (input, call, tokens) => input.Width is { } width && call.GetIntList("hidden") is { } hidden && call.GetInt("out") is { } output
            ? CostModel.MlpFlops(width, hidden.ToArray(), output, tokens ?? 1)
            : null,
    };

    /// <summary>The projector heads.</summary>
    public static IReadOnlyList<Builtin> Projectors { get; } = new[] { MlpProjector };

    // ---- predictors ------------------------------------------------------------------------------------------------

    public static readonly Builtin MlpPredictor = new("mlp", BuiltinKind.Predictor,
        "a multilayer perceptron from the context width to out, per token in token mode",
        BuiltinFlags.None,
        Hidden(), new Parameter("out", ParameterType.Integer, AtLeastOne) { DefaultNote = "the target's width" }, Norm(), Activation())
    {
        CSharp = new("new global::Jepa.Runtime.Models.MlpEncoder([{$context_width}], {hidden}, {out}, {norm}, {act})"),
        Python = new("M.MlpEncoder(({$context_width},), hidden={hidden}, out={out}, norm={norm}, act={act})"),
        PredictorShape = (c, call) => c.Context.Width is not null && call.GetInt("out") is { } output
            ? c.Mode == RepresentationMode.Tokens ? Binding.Shape.Of(c.Context.Dims[0].Size, output) : Binding.Shape.Of(output)
            : Binding.Shape.Unknown,
        ParameterCount = (input, call) => input.Width is { } width && call.GetIntList("hidden") is { } hidden && call.GetInt("out") is { } output
            ? CostModel.MlpParameters(width, hidden.ToArray(), output, call.GetOption("norm") is "layer" or "batch")
            : null,
        PredictorFlops = (c, call) => call.GetIntList("hidden") is { } hidden && call.GetInt("out") is { } output && c.Context.Width is { } width
            ? CostModel.MlpFlops(width, hidden.ToArray(), output, c.Mode == RepresentationMode.Tokens ? c.Tokens ?? 1 : 1)
            : null,
        PredictorActivations = (c, call) => call.GetIntList("hidden") is { } hidden && call.GetInt("out") is { } output && c.Context.Width is { } width
            ? MemoryModel.MlpActivations(width, hidden.ToArray(), output, call.GetOption("norm") is "layer" or "batch",
                c.Mode == RepresentationMode.Tokens ? c.Tokens ?? 1 : 1)
            : null,
    };

    public static readonly Builtin Transformer = new("transformer", BuiltinKind.Predictor,
        "I-JEPA's predictor: the context tokens and a mask token per target position through transformer blocks",
        BuiltinFlags.LocatesTargets,
        Int("dim", AtLeastOne, required: true, note: "the predictor's token width"),
        Int("depth", AtLeastOne, required: true, note: "the number of blocks"),
        Int("heads", AtLeastOne, required: true, note: "the number of attention heads"))
    {
        CSharp = new("new global::Jepa.Runtime.Models.TransformerPredictor(encoderDim: {$context_width}, {dim}, {depth}, {heads}, grid: {$grid})"),
        Python = new("M.TransformerPredictor(encoder_dim={$context_width}, dim={dim}, depth={depth}, heads={heads}, grid={$grid})"),
        CheckArguments = (call, report) =>
        {
            if (call.GetInt("dim") is { } d && call.GetInt("heads") is { } h && d % h != 0)
            {
                report(DiagnosticDescriptors.HeadsDoNotDivide, call.Find("heads")!.Span, new object[] { "transformer", d, h });
                return false;
            }

            return true;
        },
        PredictorShape = (c, _) => c.Context.Width is { } width && c.Counts is { } counts
            ? Binding.Shape.Of(new Dim(counts.Target, "Nt"), new Dim(width))
            : Binding.Shape.Unknown,
        ParameterCount = (input, call) => input.Width is { } width && call.GetInt("dim") is { } dim && call.GetInt("depth") is { } depth
            ? CostModel.TransformerPredictorParameters(width, dim, depth)
            : null,
        PredictorFlops = (c, call) => call.GetInt("dim") is { } dim && call.GetInt("depth") is { } depth && c.Context.Width is { } width
                                      && c.Counts is { } counts
            ? CostModel.TransformerPredictorFlops(width, dim, depth, counts.Context, counts.Target)
            : null,
        PredictorActivations = (c, call) => call.GetInt("dim") is { } dim && call.GetInt("depth") is { } depth && call.GetInt("heads") is { } heads
                                            && c.Context.Width is { } width && c.Counts is { } counts
            ? MemoryModel.TransformerPredictorActivations(width, dim, depth, heads, counts.Context, counts.Target)
            : null,
    };

    public static readonly Builtin NoPredictor = new("none", BuiltinKind.Predictor,
        "the identity: the context representation is the prediction",
        BuiltinFlags.Identity)
    {
        CSharp = new("new global::Jepa.Runtime.Models.Identity()"),
        Python = new("M.Identity()"),
        PredictorShape = (c, _) => c.Context,
        ParameterCount = (_, _) => 0,
        PredictorFlops = (_, _) => 0,
        PredictorActivations = (_, _) => 0,
    };

    /// <summary>The built-in predictors.</summary>
    public static IReadOnlyList<Builtin> Predictors { get; } = new[] { MlpPredictor, Transformer, NoPredictor };
}
