using System.Collections.Generic;
using System.Linq;
using Jepa.Dsl.Catalog;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Diagnostics;
using Jepa.Dsl.Text;

namespace Jepa.Dsl.Binding;

/// <summary>What shape inference made of the bound nodes: encoders with their outputs, corruptions with the context
/// side's token mask marked, the predictor with its shapes, and the pipeline (null when the objective did not bind).</summary>
internal sealed record ShapeResult(
    IReadOnlyList<BoundEncoder> Encoders,
    IReadOnlyList<BoundCorruption> Corruptions,
    BoundPredictor Predictor,
    BoundPipeline? Pipeline);

/// <summary>
/// The shape pass: the output of every encoder on the input (each built-in's shape rule in the catalog), then, for an
/// objective whose two sides bound, the representation mode (vector, tokens, masked tokens), the context side's token
/// mask, the predictor's shapes and the shape checks of docs/language.md (JEPA205-214), and the shape summary. A part
/// whose shape is unknown because of an error elsewhere is skipped silently.
/// </summary>
internal sealed class ShapeInference
{
    private readonly BoundInput? _input;
    private readonly DiagnosticBag _diagnostics;
    private readonly Dictionary<string, BoundEncoder> _encoders = new();
    private readonly Dictionary<string, ModuleOutput> _outputs = new();

    private ShapeInference(BoundInput? input, DiagnosticBag diagnostics)
    {
        _input = input;
        _diagnostics = diagnostics;
    }

    private Shape InputShape => _input?.Shape ?? Shape.Unknown;

    /// <param name="objective">The objective when both its sides bound to encoders and its context side trains; null
    /// otherwise (only encoder outputs are inferred then).</param>
    public static ShapeResult Run(BoundInput? input, IReadOnlyList<BoundEncoder> encoders, IReadOnlyList<BoundCorruption> corruptions,
        BoundObjective? objective, BoundPredictor predictor, DiagnosticBag diagnostics)
    {
        var pass = new ShapeInference(input, diagnostics);
        var shaped = pass.Encoders(encoders);
        if (objective is null)
        {
            return new ShapeResult(shaped, corruptions, predictor, null);
        }

        return pass.Pipeline(shaped, corruptions, objective, predictor);
    }

    // ---- encoders --------------------------------------------------------------------------------------------------

    /// <summary>Every trainable module's output by its built-in's shape rule (a C# encoder's from its <c>out:</c>);
    /// an EMA copy, stop-gradient view or alias has its module's.</summary>
    private List<BoundEncoder> Encoders(IReadOnlyList<BoundEncoder> encoders)
    {
        foreach (var encoder in encoders.Where(e => e.IsTrainableModule))
        {
            var output = Output(encoder);
            _encoders[encoder.Name] = output is null ? encoder : encoder with { Output = output.Output, TokenMode = output.Tokens };
            if (output is not null)
            {
                _outputs[encoder.Name] = output;
            }
        }

        // A wrapper's module is a trainable encoder, inferred above.
        foreach (var encoder in encoders.Where(e => !e.IsTrainableModule))
        {
            _encoders[encoder.Name] = encoder.Module is { } module
                ? encoder with { Output = _encoders[module].Output, TokenMode = _encoders[module].TokenMode }
                : encoder;
        }

        return encoders.Select(e => _encoders[e.Name]).ToList();
    }

    private ModuleOutput? Output(BoundEncoder encoder)
    {
        if (encoder.Kind == EncoderKind.Custom)
        {
            return encoder.Custom!.Out is { } width ? new ModuleOutput(Shape.Of(width), false) : null;
        }

        // One that needs an image and has none was reported by the binder (JEPA208).
        var builtin = encoder.Builtin!;
        var imageOk = !builtin.Has(BuiltinFlags.NeedsImage) || !InputShape.IsKnown || InputShape.Rank == 3;
        return builtin.Shape!(new ModuleShapeContext(InputShape, encoder.Call!, imageOk, _diagnostics));
    }

    /// <summary>The trainable encoder whose module <paramref name="encoder"/> runs.</summary>
    private BoundEncoder? Module(BoundEncoder encoder) => encoder.Module is { } module && _encoders.TryGetValue(module, out var found) ? found : null;

    // ---- the pipeline ----------------------------------------------------------------------------------------------

    private ShapeResult Pipeline(List<BoundEncoder> encoders, IReadOnlyList<BoundCorruption> corruptions, BoundObjective objective, BoundPredictor predictor)
    {
        var context = _encoders[objective.Context.ResolvedEncoder!];
        var target = _encoders[objective.Target.ResolvedEncoder!];
        var contextCorruption = corruptions.FirstOrDefault(c => c.Name == objective.Context.Corruption);

        // A C# encoder without out: has an unknown output, but it is still a vector encoder; any other unknown output
        // comes from an error in that encoder, and then nothing shape-related is checked. A broken link of the
        // context's corruption leaves the mask unknown, so the mode is unknown as well.
        var shapesKnown = (context.Output.IsKnown || context.Kind == EncoderKind.Custom)
                          && (target.Output.IsKnown || Module(target)?.Kind == EncoderKind.Custom)
                          && contextCorruption?.HasErrors != true;
        BoundCorruptionLink? mask = null;
        if (shapesKnown && contextCorruption is not null)
        {
            (contextCorruption, mask) = MarkTokenMask(contextCorruption, context);
            corruptions = corruptions.Select(c => c.Name == contextCorruption.Name ? contextCorruption : c).ToList();
            shapesKnown = !contextCorruption.HasErrors; // a misplaced mask was just reported
        }

        if (shapesKnown)
        {
            CheckTargetCorruption(corruptions.FirstOrDefault(c => c.Name == objective.Target.Corruption), objective.Target, target);
        }

        var contextTokens = context.TokenMode;
        var mode = !contextTokens ? RepresentationMode.Vector : mask is null ? RepresentationMode.Tokens : RepresentationMode.MaskedTokens;
        int? tokens = contextTokens ? context.Output.Dims[0].Size : null;
        var grid = contextTokens && _outputs.TryGetValue(context.Name, out var output) ? output.Grid : null;
        var counts = mode == RepresentationMode.MaskedTokens && tokens is { } n ? mask!.Builtin!.TokenCounts!(mask.Call, n) : null;

        var width = context.Output.Width;
        var contextShape = mode switch
        {
            RepresentationMode.MaskedTokens when counts is { } c && width is { } d => Shape.Of(new Dim(c.Context, "Nc"), new Dim(d)),
            RepresentationMode.MaskedTokens => Shape.Unknown,
            _ => context.Output,
        };

        var targetOutput = target.Output;
        var targetShape = targetOutput;
        if (mode == RepresentationMode.MaskedTokens && shapesKnown)
        {
            if (targetOutput.IsKnown && (!targetOutput.IsTokens || targetOutput.Dims[0].Size != tokens))
            {
                _diagnostics.Report(DiagnosticDescriptors.TargetNotOnTokenGrid, objective.Target.EncoderSpan, tokens!.Value, objective.Target.Encoder, targetOutput.ToString());
                targetShape = Shape.Unknown;
            }
            else
            {
                targetShape = targetOutput.IsKnown && counts is { } c ? Shape.Of(new Dim(c.Target, "Nt"), new Dim(targetOutput.Width!.Value)) : Shape.Unknown;
            }
        }

        if (shapesKnown)
        {
            var shapes = new PredictorShapeContext(mode, contextShape, targetShape, tokens, counts);
            predictor = Predictor(predictor, shapes, context, contextCorruption, objective);
            var prediction = predictor.Output;
            if (!predictor.IsError && prediction.IsKnown && targetShape.IsKnown && !SameShape(prediction, targetShape))
            {
                ReportPredictionMismatch(predictor, contextShape, prediction, targetShape, objective);
            }

            CheckLossAndRegularizers(objective, contextShape, targetShape, prediction);
        }

        var stages = Stages(objective, contextCorruption, corruptions.FirstOrDefault(c => c.Name == objective.Target.Corruption), context, target,
            contextShape, targetShape, predictor, mode, counts);
        var pipeline = new BoundPipeline(mode, InputShape, contextShape, targetShape, predictor.Output, tokens, counts?.Context, counts?.Target,
            grid, targetOutput.Width, stages);
        return new ShapeResult(encoders, corruptions, predictor, pipeline);
    }

    /// <summary>Marks the token mask of the context side's corruption and checks where it stands: a token mask needs a
    /// token encoder (JEPA206) and must be the last link (JEPA207). Returns the corruption with its links marked, and
    /// the mask.</summary>
    private (BoundCorruption Corruption, BoundCorruptionLink? Mask) MarkTokenMask(BoundCorruption corruption, BoundEncoder context)
    {
        BoundCorruptionLink? mask = null;
        var links = new List<BoundCorruptionLink>();
        for (var i = 0; i < corruption.Links.Count; i++)
        {
            var link = corruption.Links[i];
            var isLast = i == corruption.Links.Count - 1;
            if (!link.IsError && link.Builtin?.Has(BuiltinFlags.TokenMaskOnTokens) == true && context.TokenMode)
            {
                link = link with { IsTokenMask = true };
                if (!isLast)
                {
                    _diagnostics.Report(DiagnosticDescriptors.TokenMaskNotLast, link.NameSpan, link.Call.Function);
                    link = link with { IsError = true };
                }
                else
                {
                    mask = link;
                }
            }
            else if (!link.IsError && link.Builtin?.Has(BuiltinFlags.TokenMask) == true)
            {
                if (!context.TokenMode)
                {
                    var output = context.Output.IsKnown ? context.Output.ToString() : "one vector per sample";
                    _diagnostics.Report(DiagnosticDescriptors.TokenMaskWithoutTokenEncoder, link.NameSpan, link.Call.Function, context.Name, output);
                    link = link with { IsError = true };
                }
                else
                {
                    mask = link;
                }
            }

            links.Add(link);
        }

        return (corruption with { Links = links.ToEquatableArray() }, mask);
    }

    /// <summary>The target encoder sees the whole input: a token mask on the target side is JEPA213.</summary>
    private void CheckTargetCorruption(BoundCorruption? corruption, BoundApplication application, BoundEncoder target)
    {
        if (corruption is null)
        {
            return;
        }

        var targetTokens = Module(target)?.TokenMode ?? false;
        var mask = corruption.Links.FirstOrDefault(l => !l.IsError
            && (l.Builtin?.Has(BuiltinFlags.TokenMask) == true || (l.Builtin?.Has(BuiltinFlags.TokenMaskOnTokens) == true && targetTokens)));
        if (mask is not null)
        {
            _diagnostics.Report(DiagnosticDescriptors.TokenMaskOnTarget, application.CorruptionSpan!.Value, corruption.Name, mask.Call.Function);
        }
    }

    private static bool SameShape(Shape a, Shape b) =>
        a.Rank == b.Rank && a.Dims.Zip(b.Dims, (x, y) => x.Size == y.Size && x.Symbol == y.Symbol).All(same => same);

    // ---- the predictor ---------------------------------------------------------------------------------------------

    /// <summary>
    /// The predictor against the representation mode: with a token mask only a predictor that locates the target
    /// positions fits (JEPA211), and one that does needs the mask (JEPA210); an mlp's <c>out</c> defaults to the target's
    /// width. Then its output by its built-in's shape rule.
    /// </summary>
    private BoundPredictor Predictor(BoundPredictor predictor, PredictorShapeContext shapes, BoundEncoder context, BoundCorruption? contextCorruption,
        BoundObjective objective)
    {
        predictor = predictor with { Input = shapes.Context };
        if (predictor.IsError || predictor.Builtin is not { } builtin)
        {
            return predictor;
        }

        var masked = shapes.Mode == RepresentationMode.MaskedTokens;
        if (masked && !builtin.Has(BuiltinFlags.LocatesTargets))
        {
            var (span, what) = builtin.Has(BuiltinFlags.Identity)
                ? predictor.IsDeclared
                    ? (predictor.NameSpan!.Value, "predictor none (the identity)")
                    : (objective.PredictSpan, "without a predictor statement, the identity")
                : (predictor.NameSpan!.Value, "predictor " + builtin.Name);
            _diagnostics.Report(DiagnosticDescriptors.PredictorCannotLocateTargets, span, what);
            return predictor with { IsError = true, Out = null };
        }

        if (!masked && builtin.Has(BuiltinFlags.LocatesTargets))
        {
            var reason = !context.TokenMode
                ? $"the context encoder '{context.Name}' outputs {(context.Output.IsKnown ? context.Output.ToString() : "one vector per sample")}"
                : contextCorruption is not null
                    ? $"corruption '{contextCorruption.Name}' has no token mask"
                    : "the context side has no corruption";
            _diagnostics.Report(DiagnosticDescriptors.TransformerWithoutTokenMask, predictor.NameSpan!.Value, reason);
            return predictor with { IsError = true };
        }

        var call = predictor.Call;
        if (call is not null && builtin.Find("out") is not null && call.Find("out") is null && shapes.Target.Width is { } targetWidth)
        {
            // out defaults to the target's width.
            var arguments = call.Arguments.ToList();
            arguments.Insert(builtin.Parameters.ToList().FindIndex(p => p.Name == "out"),
                new BoundArgument("out", ParameterType.Integer, new NumberValue(targetWidth), true, predictor.NameSpan!.Value));
            call = call with { Arguments = arguments.ToEquatableArray() };
            predictor = predictor with { Call = call, Out = targetWidth };
        }

        return predictor with { Output = builtin.PredictorShape!(shapes, call!) };
    }

    private void ReportPredictionMismatch(BoundPredictor predictor, Shape context, Shape prediction, Shape target, BoundObjective objective)
    {
        string what;
        SourceSpan span;
        if (predictor.Builtin!.Has(BuiltinFlags.Identity))
        {
            what = $"with no predictor the prediction is the context representation {context}";
            span = predictor.IsDeclared ? predictor.Span!.Value : objective.PredictSpan;
        }
        else if (predictor.Builtin.Has(BuiltinFlags.LocatesTargets))
        {
            what = $"predictor {predictor.Builtin.Name} outputs {prediction} (the context encoder's width)";
            span = predictor.Span!.Value;
        }
        else
        {
            var output = predictor.Call!.Find("out");
            what = $"predictor {predictor.Builtin.Name} outputs {prediction}";
            span = output is { IsDefault: false } ? output.Span : predictor.Span!.Value;
        }

        _diagnostics.Report(DiagnosticDescriptors.PredictionShapeMismatch, span, what, target.ToString());
    }

    // ---- loss and regularizers -------------------------------------------------------------------------------------

    /// <summary>A loss that compares one vector per sample cannot take tokens (JEPA209); a regularizer of the pair of
    /// sides needs equal widths (JEPA212).</summary>
    private void CheckLossAndRegularizers(BoundObjective objective, Shape context, Shape target, Shape prediction)
    {
        if (objective.Loss is { } loss && loss.Builtin?.Has(BuiltinFlags.OneVectorPerSample) == true)
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

        foreach (var regularizer in objective.Regularizers.Where(r => r.Builtin?.Has(BuiltinFlags.PairsSides) == true))
        {
            if (context.Width is { } c && target.Width is { } t && c != t)
            {
                _diagnostics.Report(DiagnosticDescriptors.BarlowTwinsWidthMismatch, regularizer.Span, c, t);
            }
        }
    }

    // ---- the shape summary -----------------------------------------------------------------------------------------

    private EquatableArray<ShapeStage> Stages(BoundObjective objective, BoundCorruption? contextCorruption, BoundCorruption? targetCorruption,
        BoundEncoder context, BoundEncoder target, Shape contextShape, Shape targetShape, BoundPredictor predictor, RepresentationMode mode,
        (int Context, int Target)? counts)
    {
        var stages = new List<ShapeStage>();
        var input = InputShape;
        stages.Add(new ShapeStage("input", _input?.Source ?? "input", input, input));
        if (contextCorruption is not null)
        {
            var description = contextCorruption.Source;
            if (mode == RepresentationMode.MaskedTokens && counts is { } c)
            {
                description += $"; of {context.Output.Dims[0].Size} tokens the context keeps Nc = {c.Context} and the targets are Nt = {c.Target} (estimates)";
            }

            stages.Add(new ShapeStage("context view", description, input, input));
        }

        if (targetCorruption is not null)
        {
            stages.Add(new ShapeStage("target view", targetCorruption.Source, input, input));
        }

        AddEncoderStages("context", context, contextShape);
        AddEncoderStages("target", Module(target) ?? target, target.Output, _encoders[objective.Target.Encoder].Source);
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

        void AddEncoderStages(string role, BoundEncoder module, Shape output, string? source = null)
        {
            var encoderInput = input;
            if (module.Builtin?.Has(BuiltinFlags.FlattensInput) == true && input.IsKnown && input.Rank > 1)
            {
                encoderInput = Shape.Of((int)input.Elements);
                stages.Add(new ShapeStage(role + " flatten", module.Builtin.Name + " flattens its input", input, encoderInput));
            }

            stages.Add(new ShapeStage(role + " encoder", source ?? module.Source, encoderInput, output));
        }
    }
}
