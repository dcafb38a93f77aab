using System;
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
    IReadOnlyList<BoundViews> Views,
    BoundProjector? Projector,
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
    private readonly Dictionary<string, string> _corruptionSources = new();

    private ShapeInference(BoundInput? input, DiagnosticBag diagnostics)
    {
        _input = input;
        _diagnostics = diagnostics;
    }

    private Shape InputShape => _input?.Shape ?? Shape.Unknown;

    /// <param name="objective">The objective when both its sides bound to encoders and its context side trains; null
    /// otherwise (only encoder outputs are inferred then).</param>
    public static ShapeResult Run(BoundInput? input, IReadOnlyList<BoundEncoder> encoders, IReadOnlyList<BoundCorruption> corruptions,
        IReadOnlyList<BoundViews> views, BoundObjective? objective, BoundProjector? projector, BoundPredictor predictor, DiagnosticBag diagnostics)
    {
        var pass = new ShapeInference(input, diagnostics);
        var shaped = pass.Encoders(encoders);
        var shapedViews = views.Select(v => pass.ViewShapes(v, corruptions)).ToList();
        if (objective is null)
        {
            return new ShapeResult(shaped, corruptions, shapedViews, projector, predictor, null);
        }

        return pass.Pipeline(shaped, corruptions, shapedViews, objective, projector, predictor);
    }

    // ---- views -----------------------------------------------------------------------------------------------------

    /// <summary>The shape of a view of the input through a corruption: each link keeps the shape it is given, but for
    /// a link with a shape rule (<c>random_resized_crop</c> with a size); unknown after an erroneous link.</summary>
    private Shape ViewShape(BoundCorruption? corruption)
    {
        var shape = InputShape;
        foreach (var link in corruption?.Links ?? EquatableArray<BoundCorruptionLink>.Empty)
        {
            if (link.IsError || link.Call.HasErrors)
            {
                return Shape.Unknown;
            }

            shape = link.Builtin?.LinkShape?.Invoke(shape, link.Call) ?? shape;
        }

        return shape;
    }

    /// <summary>Each group's shape, and the views numbered so that views of one size are next to each other (the groups
    /// in the order of their size's first appearance, in the file's order within a size): a side's views of one size
    /// then pass through the encoder as one batch, in the order of their numbers.</summary>
    private BoundViews ViewShapes(BoundViews views, IReadOnlyList<BoundCorruption> corruptions)
    {
        var shaped = views.Groups.Select(g => g with { Shape = ViewShape(corruptions.FirstOrDefault(c => c.Name == g.Corruption)) }).ToList();
        var order = shaped.Select((g, i) => (Group: g, Index: i))
            .OrderBy(x => shaped.FindIndex(g => g.Shape == x.Group.Shape))
            .ThenBy(x => x.Index)
            .ToList();
        var first = 0;
        foreach (var (group, index) in order)
        {
            shaped[index] = group with { First = first };
            first += group.Count;
        }

        return views with { Groups = shaped.ToEquatableArray() };
    }

    /// <summary>One view a side encodes, or a group of them: its shape, how many, where the side names it and what it is.</summary>
    private sealed record SideView(Shape Shape, int Count, SourceSpan Span, string What);

    /// <summary>The views of one side: the input, a corrupted view, or the groups of a <c>views</c> declaration it takes.</summary>
    private static List<SideView> SideViews(BoundApplication side, IReadOnlyList<BoundViews> views, Shape input, Func<string?, Shape> viewShape)
    {
        if (side.Views is { } name && views.FirstOrDefault(v => v.Name == name) is { } declared)
        {
            return declared.Groups.Where(g => side.Group is null || g.Corruption == side.Group)
                .Select(g => new SideView(g.Shape, g.Count, side.ViewsSpan!.Value, $"corruption '{g.Corruption}' of views '{declared.Name}'"))
                .ToList();
        }

        return new List<SideView>
        {
            new(side.Corruption is null ? input : viewShape(side.Corruption), 1, side.ViewSpan, side.Corruption is null ? "the input" : $"corruption '{side.Corruption}'"),
        };
    }

    /// <summary>Every view of another spatial size than the input's must suit the encoder that reads it: a conv pools
    /// globally (its shape rule checks that no stage empties the smaller image, JEPA204 at the view), an mlp or a vit
    /// takes only the input's size (JEPA216); a C# encoder is not checked. False after an error.</summary>
    private bool CheckViewSizes(IEnumerable<SideView> sideViews, BoundEncoder encoder)
    {
        var module = Module(encoder) ?? encoder;
        foreach (var view in sideViews.Where(v => v.Shape.IsKnown && InputShape.IsKnown && v.Shape.Rank == 3 && !SameShape(v.Shape, InputShape)))
        {
            if (module.Kind != EncoderKind.Module || module.Builtin is not { } builtin)
            {
                continue;
            }

            if (!builtin.Has(BuiltinFlags.AnyImageSize))
            {
                _diagnostics.Report(DiagnosticDescriptors.ViewSizeNotAccepted, view.Span, view.What, view.Shape.Dims[1].Size, view.Shape.Dims[2].Size,
                    encoder.Name, builtin.Name, InputShape.Dims[1].Size, InputShape.Dims[2].Size);
                return false;
            }

            if (builtin.Shape!(new ModuleShapeContext(view.Shape, module.Call!, true, _diagnostics, view.Span)) is null)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Views take no token mask (JEPA218): <c>block_mask</c> anywhere in a group's corruption, or
    /// <c>random_mask</c> there when the side's encoder takes tokens. False after an error.</summary>
    private bool CheckViewMasks(BoundApplication side, IReadOnlyList<BoundViews> views, IReadOnlyList<BoundCorruption> corruptions, BoundEncoder encoder)
    {
        if (side.Views is null || views.FirstOrDefault(v => v.Name == side.Views) is not { } declared)
        {
            return true;
        }

        var tokens = Module(encoder)?.TokenMode ?? encoder.TokenMode;
        foreach (var group in declared.Groups.Where(g => side.Group is null || g.Corruption == side.Group))
        {
            var mask = corruptions.FirstOrDefault(c => c.Name == group.Corruption)?.Links.FirstOrDefault(l => !l.IsError
                && (l.Builtin?.Has(BuiltinFlags.TokenMask) == true || (l.Builtin?.Has(BuiltinFlags.TokenMaskOnTokens) == true && tokens)));
            if (mask is not null)
            {
                _diagnostics.Report(DiagnosticDescriptors.TokenMaskInViews, mask.NameSpan,
                    $"corruption '{group.Corruption}' of views '{declared.Name}' holds {mask.Call.Function}{(mask.Builtin!.Has(BuiltinFlags.TokenMask) ? string.Empty : $", a token mask on encoder '{encoder.Name}'")}");
                return false;
            }
        }

        return true;
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

    private ShapeResult Pipeline(List<BoundEncoder> encoders, IReadOnlyList<BoundCorruption> corruptions, IReadOnlyList<BoundViews> views,
        BoundObjective objective, BoundProjector? projector, BoundPredictor predictor)
    {
        var context = _encoders[objective.Context.ResolvedEncoder!];
        var target = _encoders[objective.Target.ResolvedEncoder!];
        var contextCorruption = corruptions.FirstOrDefault(c => c.Name == objective.Context.Corruption);
        foreach (var corruption in corruptions)
        {
            _corruptionSources[corruption.Name] = corruption.Source;
        }

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
            shapesKnown = CheckViewMasks(objective.Context, views, corruptions, context)
                          && (objective.Target.Views == objective.Context.Views || CheckViewMasks(objective.Target, views, corruptions, target));
        }

        // Each side's views, and whether their sizes suit the encoder that reads them.
        Shape ViewOf(string? name) => ViewShape(corruptions.FirstOrDefault(c => c.Name == name));
        var contextViews = SideViews(objective.Context, views, InputShape, ViewOf);
        var targetViews = SideViews(objective.Target, views, InputShape, ViewOf);
        shapesKnown = shapesKnown && CheckViewSizes(contextViews, context) && CheckViewSizes(targetViews, target);

        var contextTokens = context.TokenMode;
        var mode = !contextTokens ? RepresentationMode.Vector : mask is null ? RepresentationMode.Tokens : RepresentationMode.MaskedTokens;
        if (mode == RepresentationMode.MaskedTokens && shapesKnown && objective.Target.Views is { } targetViewsName)
        {
            _diagnostics.Report(DiagnosticDescriptors.TokenMaskInViews, objective.Target.ViewsSpan!.Value,
                $"the context side's corruption '{contextCorruption!.Name}' holds the token mask {mask!.Call.Function}, and the target side draws views '{targetViewsName}'");
            shapesKnown = false;
        }

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

        // The projector: on each side's encoder output, token by token; the loss and regularizers read its output.
        var backbone = contextShape;
        if (projector is not null)
        {
            projector = Project(projector, context, target, objective, shapesKnown);
            contextShape = Projected(contextShape, projector);
            targetShape = Projected(targetShape, projector);
            shapesKnown &= !projector.IsError;
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

        var stages = Stages(objective, contextCorruption, corruptions.FirstOrDefault(c => c.Name == objective.Target.Corruption), views, context, target,
            backbone, contextShape, targetShape, projector, predictor, mode, counts);
        var pipeline = new BoundPipeline(mode, InputShape, contextShape, targetShape, predictor.Output, tokens, counts?.Context, counts?.Target,
            grid, targetOutput.Width, stages)
        {
            ContextViewShapes = contextViews.Select(v => new BoundViewBatch(v.Shape, v.Count)).ToEquatableArray(),
            TargetViewShapes = targetViews.Select(v => new BoundViewBatch(v.Shape, v.Count)).ToEquatableArray(),
            Backbone = projector is null ? null : backbone,
            PeakContextTokens = counts is { } peak ? mask!.Builtin!.PeakContextTokens?.Invoke(mask.Call, tokens!.Value) ?? peak.Context : null,
        };
        return new ShapeResult(encoders, corruptions, views, projector, predictor, pipeline);
    }

    /// <summary>The projector's shapes on the encoders' outputs (per token in token mode): from the encoder's width to its
    /// <c>out</c>. The width of a C# encoder without <c>out:</c> is unknown (JEPA219).</summary>
    private BoundProjector Project(BoundProjector projector, BoundEncoder context, BoundEncoder target, BoundObjective objective, bool shapesKnown)
    {
        if (projector.IsError || projector.Call is not { } call || !shapesKnown)
        {
            return projector;
        }

        foreach (var (encoder, name) in new[] { (context, objective.Context.Encoder), (Module(target) ?? target, objective.Target.Encoder) })
        {
            if (encoder.Output.Width is null)
            {
                _diagnostics.Report(DiagnosticDescriptors.ProjectorNeedsWidth, projector.NameSpan, encoder.Kind == EncoderKind.Custom ? encoder.Name : name);
                return projector with { IsError = true };
            }
        }

        return call.GetInt("out") is { } width
            ? projector with { Input = Shape.Of(context.Output.Width!.Value), Output = Shape.Of(width) }
            : projector;
    }

    /// <summary>A representation through the projector: its last dimension becomes the projector's width.</summary>
    private static Shape Projected(Shape representation, BoundProjector projector) =>
        representation.IsKnown && projector.Output.Width is { } width
            ? Shape.Of(representation.Dims.Take(representation.Rank - 1).Append(new Dim(width)).ToArray())
            : Shape.Unknown;

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
        IReadOnlyList<BoundViews> views, BoundEncoder context, BoundEncoder target, Shape backbone, Shape contextShape, Shape targetShape,
        BoundProjector? projector, BoundPredictor predictor, RepresentationMode mode, (int Context, int Target)? counts)
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

        AddViewStages("context", objective.Context);
        if (targetCorruption is not null)
        {
            stages.Add(new ShapeStage("target view", targetCorruption.Source, input, input));
        }

        AddViewStages("target", objective.Target);
        AddEncoderStages("context", context, projector is null ? contextShape : backbone);
        AddEncoderStages("target", Module(target) ?? target, target.Output, _encoders[objective.Target.Encoder].Source);
        if (projector is not null)
        {
            stages.Add(new ShapeStage("projector", projector.Source + " (on both sides)", projector.Input, projector.Output));
        }

        if (objective.Target.Mean)
        {
            stages.Add(new ShapeStage("target mean", $"the mean over the target side's {SideViews(objective.Target, views, input, _ => input).Sum(v => v.Count)} views", targetShape, targetShape));
        }

        if (mode == RepresentationMode.MaskedTokens)
        {
            stages.Add(new ShapeStage("target tokens", "the target encoder's tokens at the Nt target positions", projector is null ? target.Output : Projected(target.Output, projector), targetShape));
        }

        stages.Add(new ShapeStage("predictor", predictor.Source ?? "predictor = none (the identity)", contextShape, predictor.Output));
        if (objective.Loss is { } loss)
        {
            stages.Add(new ShapeStage("loss", "loss " + loss.Source, predictor.Output, targetShape));
        }

        return stages.ToEquatableArray();

        void AddViewStages(string role, BoundApplication side)
        {
            if (side.Views is not { } name || views.FirstOrDefault(v => v.Name == name) is not { } declared)
            {
                return;
            }

            foreach (var group in declared.Groups.Where(g => side.Group is null || g.Corruption == side.Group))
            {
                var corruption = _corruptionSources.TryGetValue(group.Corruption, out var source) ? source : group.Corruption;
                stages.Add(new ShapeStage($"{role} views", $"{group.Count} x {corruption} (views {declared.Name}, views {group.First + 1}-{group.First + group.Count} of {declared.Count})",
                    input, group.Shape));
            }
        }

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
