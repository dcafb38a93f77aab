using System.Collections.Generic;
using System.Linq;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Cost;
using Jepa.Dsl.Diagnostics;
using Jepa.Dsl.Syntax;
using Jepa.Dsl.Text;

namespace Jepa.Dsl.Binding;

internal sealed partial class ExperimentBinder
{
    private (int Context, int Target)? _tokenCounts;

    /// <summary>
    /// Decides the target kind and the representation mode, marks token masks, binds the predictor, infers shapes
    /// through the graph and checks them, and applies the collapse rule. Returns null (no shapes) when the objective
    /// or an encoder it names has an error: the checks that need them are then skipped silently.
    /// </summary>
    private BoundPipeline? BindPipeline(ObjectiveState? objective, out BoundPredictor predictor)
    {
        if (objective is not { IsComplete: true } || objective.Context!.Resolved is not { } context || objective.Target!.Resolved is not { } target)
        {
            predictor = BindPredictor(null);
            if (objective is not null)
            {
                objective.TargetKind = TargetKind.Error;
            }

            return null;
        }

        var contextApplication = objective.Context;
        var targetApplication = objective.Target;

        // The context side must train.
        if (context.Kind is EncoderKind.Ema or EncoderKind.StopGradient)
        {
            _diagnostics.Report(DiagnosticDescriptors.ContextNotTrainable, contextApplication.EncoderName!.Span, contextApplication.EncoderName.Text,
                (context.Kind == EncoderKind.Ema ? "an EMA copy" : "a stop-gradient view") + (context.Reference is { } r ? $" of '{r}'" : string.Empty));
            objective.TargetKind = TargetKind.Error;
            predictor = BindPredictor(null);
            return null;
        }

        objective.TargetKind = DecideTargetKind(objective, context, target);

        // A C# encoder without out: has an unknown output, but it is still a vector encoder; any other unknown output
        // comes from an error in that encoder, and then nothing shape-related is checked.
        // A broken link of the context's corruption leaves the mask unknown, so the mode is unknown as well.
        var shapesKnown = (context.Output.IsKnown || context.Kind == EncoderKind.Custom)
                          && (target.Output.IsKnown || ResolveModule(target)?.Kind == EncoderKind.Custom)
                          && contextApplication.Corruption?.HasErrors != true;
        var contextTokens = context.TokenMode;
        var mask = shapesKnown ? MarkTokenMask(contextApplication, context) : null;
        shapesKnown &= contextApplication.Corruption?.HasErrors != true; // a misplaced mask was just reported
        if (shapesKnown)
        {
            CheckTargetCorruption(targetApplication);
        }

        var mode = !contextTokens ? RepresentationMode.Vector : mask is null ? RepresentationMode.Tokens : RepresentationMode.MaskedTokens;
        int? tokens = contextTokens ? context.Output.Dims[0].Size : null;
        (int Height, int Width)? grid = null;
        if (contextTokens && context.Call?.GetInt("patch") is { } patch && InputShape.IsKnown)
        {
            grid = (InputShape.Dims[1].Size / patch, InputShape.Dims[2].Size / patch);
        }

        _tokenCounts = mode == RepresentationMode.MaskedTokens && tokens is { } n ? TokenCounts(mask!, n) : null;

        var width = context.Output.Width;
        var contextShape = mode switch
        {
            RepresentationMode.MaskedTokens when _tokenCounts is { } counts && width is { } d => Shape.Of(new Dim(counts.Context, "Nc"), new Dim(d)),
            RepresentationMode.MaskedTokens => Shape.Unknown,
            _ => context.Output,
        };

        var targetOutput = target.Output;
        var targetShape = targetOutput;
        if (mode == RepresentationMode.MaskedTokens && shapesKnown)
        {
            if (targetOutput.IsKnown && (!targetOutput.IsTokens || targetOutput.Dims[0].Size != tokens))
            {
                _diagnostics.Report(DiagnosticDescriptors.TargetNotOnTokenGrid, targetApplication.EncoderName!.Span, tokens!.Value,
                    targetApplication.EncoderName.Text, targetOutput.ToString());
                targetShape = Shape.Unknown;
            }
            else
            {
                targetShape = targetOutput.IsKnown && _tokenCounts is { } counts
                    ? Shape.Of(new Dim(counts.Target, "Nt"), new Dim(targetOutput.Width!.Value))
                    : Shape.Unknown;
            }
        }

        predictor = BindPredictor(shapesKnown ? new PredictorContext(mode, contextShape, targetShape, context, tokens, objective) : null);
        var prediction = predictor.Output;

        if (shapesKnown && predictor.Kind != PredictorKind.Error && prediction.IsKnown && targetShape.IsKnown && !SameShape(prediction, targetShape))
        {
            ReportPredictionMismatch(predictor, contextShape, prediction, targetShape, objective);
        }

        if (shapesKnown)
        {
            CheckLossAndRegularizers(objective, contextShape, targetShape, prediction);
        }

        CheckCollapse(objective, context);

        var stages = Stages(objective, context, target, contextShape, targetShape, predictor, mode);
        return new BoundPipeline(mode, InputShape, contextShape, targetShape, prediction, tokens, _tokenCounts?.Context, _tokenCounts?.Target,
            grid, targetOutput.Width, stages);
    }

    private TargetKind DecideTargetKind(ObjectiveState objective, EncoderState context, EncoderState target)
    {
        if (target.Kind is EncoderKind.Ema or EncoderKind.StopGradient)
        {
            if (target.Module is null)
            {
                return TargetKind.Error;
            }

            if (target.Module != context.Name)
            {
                _diagnostics.Report(DiagnosticDescriptors.TargetWrapsOtherEncoder, objective.Target!.EncoderName!.Span, objective.Target.EncoderName.Text,
                    target.Kind == EncoderKind.Ema ? "an EMA copy" : "a stop-gradient view", target.Module, context.Name);
                return TargetKind.Error;
            }

            return target.Kind == EncoderKind.Ema ? TargetKind.Ema : TargetKind.StopGradient;
        }

        return target == context ? TargetKind.Shared : TargetKind.Independent;
    }

    /// <summary>The trainable encoder whose module <paramref name="encoder"/> runs.</summary>
    private EncoderState? ResolveModule(EncoderState encoder) =>
        encoder.Module is { } module && _encoderByName.TryGetValue(module, out var state) ? state : null;

    /// <summary>Marks the token mask of the context side's corruption and checks where it stands.</summary>
    private LinkState? MarkTokenMask(ApplicationState application, EncoderState context)
    {
        if (application.Corruption is not { } corruption)
        {
            return null;
        }

        LinkState? mask = null;
        for (var i = 0; i < corruption.Links.Count; i++)
        {
            var link = corruption.Links[i];
            var isLast = i == corruption.Links.Count - 1;
            if (link.Kind == CorruptionKind.RandomMask && context.TokenMode)
            {
                link.IsTokenMask = true;
                if (!isLast)
                {
                    _diagnostics.Report(DiagnosticDescriptors.TokenMaskNotLast, ArgumentBinder.NameSpan(link.Syntax), "random_mask");
                    link.Kind = CorruptionKind.Error;
                    continue;
                }

                mask = link;
            }
            else if (link.Kind == CorruptionKind.BlockMask)
            {
                if (!context.TokenMode)
                {
                    var output = context.Output.IsKnown ? context.Output.ToString() : "one vector per sample";
                    _diagnostics.Report(DiagnosticDescriptors.TokenMaskWithoutTokenEncoder, ArgumentBinder.NameSpan(link.Syntax), "block_mask", context.Name, output);
                    link.Kind = CorruptionKind.Error;
                    continue;
                }

                mask = link;
            }
        }

        return mask;
    }

    private void CheckTargetCorruption(ApplicationState application)
    {
        if (application.Corruption is not { } corruption || application.Resolved is not { } target)
        {
            return;
        }

        var targetTokens = ResolveModule(target)?.TokenMode ?? false;
        var mask = corruption.Links.FirstOrDefault(l => l.Kind == CorruptionKind.BlockMask || (l.Kind == CorruptionKind.RandomMask && targetTokens));
        if (mask is not null)
        {
            _diagnostics.Report(DiagnosticDescriptors.TokenMaskOnTarget, application.CorruptionName!.Span, corruption.Name, mask.Call.Function);
        }
    }

    private static (int Context, int Target)? TokenCounts(LinkState mask, int tokens)
    {
        var call = mask.Call;
        if (mask.Kind == CorruptionKind.RandomMask)
        {
            return call.GetNumber("ratio") is { } ratio ? CostModel.RandomMaskTokens(tokens, ratio) : null;
        }

        return call.GetInt("targets") is { } targets && call.GetRange("target_scale") is { } targetScale
               && call.GetRange("context_scale") is { } contextScale && call.GetInt("min_keep") is { } minKeep
            ? CostModel.BlockMaskTokens(tokens, targets, targetScale, contextScale, minKeep)
            : null;
    }

    private static bool SameShape(Shape a, Shape b) =>
        a.Rank == b.Rank && a.Dims.Zip(b.Dims, (x, y) => x.Size == y.Size && x.Symbol == y.Symbol).All(same => same);

    // ---- predictor -------------------------------------------------------------------------------------------------

    private sealed record PredictorContext(
        RepresentationMode Mode, Shape Context, Shape Target, EncoderState ContextEncoder, int? Tokens, ObjectiveState Objective);

    /// <summary>Binds the predictor; with a null context only its arguments are checked.</summary>
    private BoundPredictor BindPredictor(PredictorContext? context)
    {
        var contextShape = context?.Context ?? Shape.Unknown;
        if (_predictorSyntax is null && _brokenStatements.Contains("predictor"))
        {
            return new BoundPredictor(PredictorKind.Error, true, null, null, null, contextShape, Shape.Unknown, null, null);
        }

        if (_predictorSyntax is not { } syntax || syntax.Value is NameSyntax { Text: "none" })
        {
            var declared = _predictorSyntax is not null;
            if (context is { Mode: RepresentationMode.MaskedTokens })
            {
                var span = declared ? _predictorSyntax!.Value.Span : context.Objective.Predict!.Span;
                _diagnostics.Report(DiagnosticDescriptors.PredictorCannotLocateTargets, span,
                    declared ? "predictor none (the identity)" : "without a predictor statement, the identity");
                return new BoundPredictor(PredictorKind.Error, declared, null, _predictorSyntax?.Span, PredictorSource(), contextShape, Shape.Unknown, null, 0);
            }

            return new BoundPredictor(PredictorKind.None, declared, null, _predictorSyntax?.Span, PredictorSource(), contextShape, contextShape, null, 0);
        }

        var value = syntax.Value;
        var name = value switch
        {
            CallSyntax call => call.Name,
            NameSyntax n => n.Name,
            _ => null,
        };
        var spec = name is { IsQualified: false } ? Builtins.Find(FunctionCategory.Predictor, name.Text) : null;
        if (spec is null)
        {
            var names = new[] { "mlp", "transformer", "none" };
            if (name is null)
            {
                _diagnostics.Report(DiagnosticDescriptors.WrongValueType, value.Span, "the predictor", "mlp(...), transformer(...) or none", ArgumentBinder.Describe(value));
            }
            else
            {
                _diagnostics.Report(DiagnosticDescriptors.UnknownFunction, name.Span, "predictor", name.Text,
                    Suggestions.DidYouMean(name.Text, names) + "expected " + Suggestions.OrList(names));
            }

            return new BoundPredictor(PredictorKind.Error, true, null, syntax.Span, PredictorSource(), contextShape, Shape.Unknown, null, null);
        }

        var bound = _arguments.Bind(value, spec, out _);
        return spec.Name == "mlp" ? BindMlpPredictor(syntax, bound, context) : BindTransformerPredictor(syntax, bound, context);
    }

    private BoundPredictor BindMlpPredictor(PredictorStatementSyntax syntax, BoundCall call, PredictorContext? context)
    {
        var contextShape = context?.Context ?? Shape.Unknown;
        if (context is { Mode: RepresentationMode.MaskedTokens })
        {
            _diagnostics.Report(DiagnosticDescriptors.PredictorCannotLocateTargets, ArgumentBinder.NameSpan(syntax.Value), "predictor mlp");
            return new BoundPredictor(PredictorKind.Error, true, call, syntax.Span, PredictorSource(), contextShape, Shape.Unknown, null, null);
        }

        int? output = call.GetInt("out");
        if (call.Find("out") is null && context?.Target.Width is { } targetWidth)
        {
            // out defaults to the target's width.
            output = targetWidth;
            var arguments = call.Arguments.ToList();
            arguments.Insert(1, new BoundArgument("out", ParameterType.Integer, new NumberValue(targetWidth), true, ArgumentBinder.NameSpan(syntax.Value)));
            call = call with { Arguments = arguments.ToEquatableArray() };
        }

        var hidden = call.GetIntList("hidden");
        var shape = Shape.Unknown;
        long? parameters = null;
        if (context is not null && contextShape.Width is { } inputWidth && output is { } o)
        {
            shape = context.Mode == RepresentationMode.Tokens ? Shape.Of(contextShape.Dims[0].Size, o) : Shape.Of(o);
            if (hidden is { } h)
            {
                parameters = CostModel.MlpParameters(inputWidth, h.ToArray(), o, call.GetOption("norm") is "layer" or "batch");
            }
        }

        return new BoundPredictor(PredictorKind.Mlp, true, call, syntax.Span, PredictorSource(), contextShape, shape, output, parameters);
    }

    private BoundPredictor BindTransformerPredictor(PredictorStatementSyntax syntax, BoundCall call, PredictorContext? context)
    {
        var contextShape = context?.Context ?? Shape.Unknown;
        var dim = call.GetInt("dim");
        var depth = call.GetInt("depth");
        var heads = call.GetInt("heads");
        if (dim is { } d && heads is { } h && d % h != 0)
        {
            _diagnostics.Report(DiagnosticDescriptors.HeadsDoNotDivide, call.Find("heads")!.Span, "transformer", d, h);
            return new BoundPredictor(PredictorKind.Error, true, call, syntax.Span, PredictorSource(), contextShape, Shape.Unknown, null, null);
        }

        if (context is null)
        {
            return new BoundPredictor(PredictorKind.Transformer, true, call, syntax.Span, PredictorSource(), contextShape, Shape.Unknown, null, null);
        }

        if (context.Mode != RepresentationMode.MaskedTokens)
        {
            var encoder = context.ContextEncoder;
            var reason = !encoder.TokenMode
                ? $"the context encoder '{encoder.Name}' outputs {(encoder.Output.IsKnown ? encoder.Output.ToString() : "one vector per sample")}"
                : context.Objective.Context!.Corruption is { } corruption
                    ? $"corruption '{corruption.Name}' has no token mask"
                    : "the context side has no corruption";
            _diagnostics.Report(DiagnosticDescriptors.TransformerWithoutTokenMask, ArgumentBinder.NameSpan(syntax.Value), reason);
            return new BoundPredictor(PredictorKind.Error, true, call, syntax.Span, PredictorSource(), contextShape, Shape.Unknown, null, null);
        }

        var shape = Shape.Unknown;
        long? parameters = null;
        if (contextShape.Width is { } encoderDim && _tokenCounts is { } counts)
        {
            shape = Shape.Of(new Dim(counts.Target, "Nt"), new Dim(encoderDim));
            if (dim is { } width && depth is { } layers)
            {
                parameters = CostModel.TransformerPredictorParameters(encoderDim, width, layers);
            }
        }

        return new BoundPredictor(PredictorKind.Transformer, true, call, syntax.Span, PredictorSource(), contextShape, shape, null, parameters);
    }

    private string? PredictorSource() => _predictorSyntax is null ? null : Source(_predictorSyntax.Span);

    private void ReportPredictionMismatch(BoundPredictor predictor, Shape context, Shape prediction, Shape target, ObjectiveState objective)
    {
        string what;
        SourceSpan span;
        switch (predictor.Kind)
        {
            case PredictorKind.Mlp:
                var output = predictor.Call!.Find("out");
                what = $"predictor mlp outputs {prediction}";
                span = output is { IsDefault: false } ? output.Span : predictor.Span!.Value;
                break;
            case PredictorKind.Transformer:
                what = $"predictor transformer outputs {prediction} (the context encoder's width)";
                span = predictor.Span!.Value;
                break;
            default:
                what = $"with no predictor the prediction is the context representation {context}";
                span = predictor.IsDeclared ? predictor.Span!.Value : objective.Predict!.Span;
                break;
        }

        _diagnostics.Report(DiagnosticDescriptors.PredictionShapeMismatch, span, what, target.ToString());
    }

    // ---- loss, regularizers, collapse ------------------------------------------------------------------------------

    private void CheckLossAndRegularizers(ObjectiveState objective, Shape context, Shape target, Shape prediction)
    {
        if (objective.Loss is { Kind: LossKind.InfoNce } loss)
        {
            if (prediction.IsTokens)
            {
                _diagnostics.Report(DiagnosticDescriptors.InfoNceOnTokens, loss.Span, "prediction", prediction.ToString());
            }
            else if (target.IsTokens)
            {
                _diagnostics.Report(DiagnosticDescriptors.InfoNceOnTokens, loss.Span, "target representation", target.ToString());
            }
        }

        foreach (var regularizer in objective.Regularizers.Where(r => r.Kind == RegularizerKind.BarlowTwins))
        {
            if (context.Width is { } c && target.Width is { } t && c != t)
            {
                _diagnostics.Report(DiagnosticDescriptors.BarlowTwinsWidthMismatch, regularizer.Span, c, t);
            }
        }
    }

    /// <summary>
    /// An invariance loss whose target side receives gradients (the same encoder on both sides, an alias, or a second
    /// trainable encoder), with no EMA or stop-gradient target, no info_nce and no regularizer, is minimised by a
    /// constant representation.
    /// </summary>
    private void CheckCollapse(ObjectiveState objective, EncoderState context)
    {
        if (objective.TargetKind is not (TargetKind.Shared or TargetKind.Independent)
            || objective.Loss is not { IsInvariance: true } loss
            || objective.Regularizers.Count > 0)
        {
            return;
        }

        var targetName = objective.Target!.EncoderName!.Text;
        var contextName = objective.Context!.EncoderName!.Text;
        var why = objective.TargetKind == TargetKind.Independent
            ? $"is trained as well (encoder '{targetName}' is a second trainable network)"
            : targetName == contextName
                ? $"is the same trainable encoder '{context.Name}'"
                : $"shares the context's trainable weights (encoder '{targetName}' is '{context.Name}')";
        _diagnostics.Report(DiagnosticDescriptors.CollapseProneObjective, loss.Span, $"the invariance loss {loss.Call.Function}", why);
    }

    // ---- the shape summary -----------------------------------------------------------------------------------------

    private EquatableArray<ShapeStage> Stages(ObjectiveState objective, EncoderState context, EncoderState target, Shape contextShape,
        Shape targetShape, BoundPredictor predictor, RepresentationMode mode)
    {
        var stages = new List<ShapeStage>();
        var input = InputShape;
        stages.Add(new ShapeStage("input", _input?.Source ?? "input", input, input));
        if (objective.Context!.Corruption is { } contextCorruption)
        {
            var description = contextCorruption.Source;
            if (mode == RepresentationMode.MaskedTokens && _tokenCounts is { } counts)
            {
                description += $"; of {context.Output.Dims[0].Size} tokens the context keeps Nc = {counts.Context} and the targets are Nt = {counts.Target} (estimates)";
            }

            stages.Add(new ShapeStage("context view", description, input, input));
        }

        if (objective.Target!.Corruption is { } targetCorruption)
        {
            stages.Add(new ShapeStage("target view", targetCorruption.Source, input, input));
        }

        AddEncoderStages("context", context, contextShape);
        var targetModule = ResolveModule(target) ?? target;
        AddEncoderStages("target", targetModule, target.Output, objective.Target.Encoder!.Source);
        if (mode == RepresentationMode.MaskedTokens)
        {
            stages.Add(new ShapeStage("target tokens", "the target encoder's tokens at the Nt target positions", target.Output, targetShape));
        }

        stages.Add(new ShapeStage("predictor", predictor.Source ?? "predictor = none (the identity)", contextShape, predictor.Output));
        if (objective.Loss is { } loss)
        {
            stages.Add(new ShapeStage("loss", "loss " + loss.Source, predictor.Output, targetShape));
        }

        return stages.ToEquatableArray();

        void AddEncoderStages(string role, EncoderState module, Shape output, string? source = null)
        {
            var encoderInput = input;
            if (module.Kind == EncoderKind.Mlp && input.IsKnown && input.Rank > 1)
            {
                encoderInput = Shape.Of((int)input.Elements);
                stages.Add(new ShapeStage(role + " flatten", "mlp flattens its input", input, encoderInput));
            }

            stages.Add(new ShapeStage(role + " encoder", source ?? module.Source, encoderInput, output));
        }
    }
}
