using System;
using System.Collections.Generic;
using System.Linq;
using Jepa.Dsl.Binding;
using Jepa.Dsl.Catalog;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Text;

namespace Jepa.Dsl.Spec;

/// <summary>
/// Builds the <see cref="ExperimentSpec"/> of one error-free bound experiment: which options it has and who owns them,
/// which modules and corruptions it builds, and the numbered steps of its training step with their comments and
/// shapes. Every decision an emitter would otherwise make is made here, once; an emitter only maps identifiers to its
/// language's names and prints. Throws <see cref="NotSupportedException"/> for a construct no emitter handles
/// (reported as JEPA902).
/// </summary>
public sealed class SpecBuilder
{
    private readonly BoundExperiment _e;
    private readonly BoundPipeline _pipeline;
    private readonly BoundObjective _objective;
    private readonly BoundLoss _loss;
    private readonly BoundEncoder _context;
    private readonly BoundEncoder _target;
    private readonly TargetKind _kind;
    private readonly BoundCorruption? _contextCorruption;
    private readonly BoundCorruption? _targetCorruption;
    private readonly BoundViews? _contextViews;
    private readonly BoundViews? _targetViews;
    private readonly List<OptionGroup> _groups = new();

    private SpecBuilder(BoundExperiment experiment)
    {
        _e = experiment;
        _pipeline = experiment.Pipeline!;
        _objective = experiment.Objective!;
        _loss = _objective.Loss!;
        _kind = _objective.TargetKind;
        _target = experiment.TargetEncoder!;
        _context = experiment.ContextEncoder!;
        _contextCorruption = experiment.FindCorruption(_objective.Context.Corruption);
        _targetCorruption = experiment.FindCorruption(_objective.Target.Corruption);
        _contextViews = experiment.FindViews(_objective.Context.Views);
        _targetViews = experiment.FindViews(_objective.Target.Views);
        if (_targetCorruption?.TokenMask is not null)
        {
            throw new NotSupportedException($"a token mask on the target side ({_objective.Target.Source}) is not supported; mask the context side");
        }

        if (HasViews && Masked)
        {
            throw new NotSupportedException($"a token mask with views ({_objective.PredictSource}) is not supported");
        }
    }

    /// <summary>True for an experiment without errors and with every part a spec needs.</summary>
    public static bool CanBuild(BoundExperiment experiment) =>
        !experiment.HasErrors && experiment.Input is not null && experiment.Objective?.Loss is not null &&
        experiment.Train is not null && experiment.Pipeline is not null && experiment.ContextEncoder is not null &&
        experiment.TargetEncoder is not null;

    /// <summary>The spec of <paramref name="experiment"/> (<see cref="CanBuild"/> must be true), from the file at
    /// <paramref name="path"/>, in namespace <paramref name="ns"/>.</summary>
    public static ExperimentSpec Build(BoundExperiment experiment, string path, string ns) => new SpecBuilder(experiment).Build(path, ns);

    /// <summary>The file name of a path, for back-references (<c>digits.jepa</c>).</summary>
    public static string FileName(string path)
    {
        var slash = Math.Max(path.LastIndexOf('/'), path.LastIndexOf('\\'));
        return slash >= 0 ? path.Substring(slash + 1) : path;
    }

    private ExperimentSpec Build(string path, string ns)
    {
        var input = _e.Input!;
        CollectOptions();
        return new ExperimentSpec(
            _e.Name,
            ns,
            FileName(path),
            path,
            At(_e.NameSpan),
            new InputSpec(input.Name, input.Source, At(input.Span), input.Shape),
            _pipeline.Stages.Select(s => new ShapeNote(s.Stage, s.Input, s.Output, s.Description)).ToEquatableArray(),
            _e.Cost,
            Train(),
            Evaluate(),
            Calls(Builtins.Monitors, _e.Monitor.Items),
            _groups.Where(g => g.Options.Count > 0).ToEquatableArray(),
            Model(),
            TrainingStep());
    }

    private static Position At(SourceSpan span) => new(span.StartLine + 1, span.StartColumn + 1);

    private bool Masked => _pipeline.Mode == RepresentationMode.MaskedTokens;

    private bool Tokens => _pipeline.Mode != RepresentationMode.Vector;

    private bool TargetTrainable => _kind is TargetKind.Shared or TargetKind.Independent;

    /// <summary>True when a side draws views: then every side's representations are view-major, (V, B, ...).</summary>
    private bool HasViews => _contextViews is not null || _targetViews is not null;

    private static NotSupportedException Unsupported(string what) => new($"the emitter does not support {what}");

    // ---- options ---------------------------------------------------------------------------------------------------

    private static readonly OwnerId PredictorOwner = new(OwnerKind.Predictor, "predictor");

    private static readonly OwnerId ProjectorOwner = new(OwnerKind.Projector, "projector");

    private static readonly OwnerId LossOwner = new(OwnerKind.Loss, "loss");

    private static OwnerId EncoderOwner(BoundEncoder encoder) => new(OwnerKind.Encoder, encoder.Name);

    private static OwnerId RegularizerOwner(BoundRegularizer regularizer) => new(OwnerKind.Regularizer, regularizer.Call.Function, regularizer.Call.Function);

    /// <summary>The owner of each link's options: the corruption, the link's function and, for a repeated function,
    /// its count.</summary>
    private static List<OwnerId> LinkOwners(BoundCorruption corruption)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var owners = new List<OwnerId>();
        for (var i = 0; i < corruption.Links.Count; i++)
        {
            var function = corruption.Links[i].Call.Function;
            seen[function] = seen.TryGetValue(function, out var count) ? count + 1 : 1;
            owners.Add(new OwnerId(OwnerKind.Link, corruption.Name, function, i, seen[function]));
        }

        return owners;
    }

    /// <summary>The corruptions the objective uses, directly or as a group of its views, in the file's order.</summary>
    private IEnumerable<BoundCorruption> UsedCorruptions =>
        _e.Corruptions.Where(c => c.IsUsed && (_objective.Context.Corruption == c.Name || _objective.Target.Corruption == c.Name
                                               || UsedViews.Any(v => v.Find(c.Name) is not null)));

    /// <summary>The views the objective uses, in the file's order.</summary>
    private IEnumerable<BoundViews> UsedViews => _e.Views.Where(v => v == _contextViews || v == _targetViews);

    private void CollectOptions()
    {
        foreach (var corruption in UsedCorruptions)
        {
            var options = new List<OptionSpec>();
            var owners = LinkOwners(corruption);
            for (var i = 0; i < corruption.Links.Count; i++)
            {
                var link = corruption.Links[i];
                options.AddRange(link.Call.Arguments.Select(a => Option(owners[i], link.Call, a, link.Call.Function, corruption.Span)));
            }

            _groups.Add(new OptionGroup(corruption.Source, At(corruption.Span), options.ToEquatableArray()));
        }

        CollectEncoder(_context);
        if (_kind == TargetKind.Independent)
        {
            CollectEncoder(_target);
        }

        CollectProjector();
        CollectPredictor();
        CollectObjective();
    }

    private void CollectProjector()
    {
        if (_e.Projector is not { Call: { } call } projector)
        {
            return;
        }

        var of = $"projector = {call.Function}";
        var options = call.Arguments.Select(a => Option(ProjectorOwner, call, a, of, projector.Span));
        _groups.Add(new OptionGroup(projector.Source, At(projector.Span), options.ToEquatableArray()));
    }

    private static OptionSpec Option(OwnerId owner, BoundCall call, BoundArgument argument, string of, SourceSpan span) =>
        new(new OptionId(owner, argument.Name), argument.Type, argument.Value, call.Builtin is { } b ? BuiltinRef.Of(b) : null, of, At(span), OptionNote.Argument);

    private void CollectEncoder(BoundEncoder encoder)
    {
        var owner = EncoderOwner(encoder);
        var options = encoder.Kind == EncoderKind.Custom
            ? encoder.Custom!.Arguments.Select(a => new OptionSpec(new OptionId(owner, a.Name), ParameterType.Any, a.Value, null, encoder.Custom.TypeName, At(encoder.Span), OptionNote.Argument))
            : encoder.Call!.Arguments.Select(a => Option(owner, encoder.Call, a, $"encoder {encoder.Name} = {encoder.Call.Function}", encoder.Span));
        _groups.Add(new OptionGroup(encoder.Source, At(encoder.Span), options.ToEquatableArray()));
    }

    private void CollectPredictor()
    {
        var predictor = _e.Predictor;
        if (predictor.IsIdentity || predictor.Call is not { } call)
        {
            return;
        }

        var span = predictor.Span ?? _e.NameSpan;
        var of = $"predictor = {call.Function}";
        var options = call.Arguments.Select(a => Option(PredictorOwner, call, a, of, span)).ToList();
        if (OutFromTarget(predictor))
        {
            options.Add(new OptionSpec(new OptionId(PredictorOwner, "out"), ParameterType.Integer, new NumberValue(predictor.Out ?? _pipeline.Target.Width ?? 0),
                BuiltinRef.Of(predictor.Builtin!), of, At(span), OptionNote.TargetWidth));
        }

        _groups.Add(new OptionGroup(predictor.Source ?? "predictor", At(span), options.ToEquatableArray()));
    }

    /// <summary>True for an mlp predictor whose <c>out</c> is not in its call: the target's width, an option of its own.</summary>
    private static bool OutFromTarget(BoundPredictor predictor) => predictor.Builtin?.Find("out") is not null && predictor.Call?.Find("out") is null;

    private void CollectObjective()
    {
        var loss = _loss.Call;
        var options = loss.Arguments.Where(a => _loss.Builtin!.Find(a.Name)!.IsOption)
            .Select(a => Option(LossOwner, loss, a, "loss " + loss.Function, _loss.Span))
            .Append(Weight(LossOwner, _loss.Weight, "loss " + loss.Function, _loss.Span));
        _groups.Add(new OptionGroup($"loss {_loss.Source}", At(_loss.Span), options.ToEquatableArray()));
        foreach (var regularizer in _objective.Regularizers)
        {
            var owner = RegularizerOwner(regularizer);
            var of = "regularize " + regularizer.Call.Function;
            var regularizerOptions = regularizer.Call.Arguments.Select(a => Option(owner, regularizer.Call, a, of, regularizer.Span))
                .Append(Weight(owner, regularizer.Weight, of, regularizer.Span));
            _groups.Add(new OptionGroup($"regularize {regularizer.Source}", At(regularizer.Span), regularizerOptions.ToEquatableArray()));
        }
    }

    private static OptionSpec Weight(OwnerId owner, double weight, string of, SourceSpan span) =>
        new(new OptionId(owner, "scale"), ParameterType.Number, new NumberValue(weight), null, of, At(span), OptionNote.TermWeight);

    /// <summary>Each parameter of <paramref name="builtin"/> with the option holding it (null when absent from the call).</summary>
    private static EquatableArray<ArgumentRef> Arguments(Builtin builtin, BoundCall? call, OwnerId owner, Func<string, bool>? implicitOption = null) =>
        builtin.Parameters
            .Select(p => new ArgumentRef(p.Name, call?.Find(p.Name) is not null || implicitOption?.Invoke(p.Name) == true ? new OptionId(owner, p.Name) : null))
            .ToEquatableArray();

    // ---- train, evaluate, monitor ----------------------------------------------------------------------------------

    private TrainSpec Train()
    {
        var train = _e.Train!;
        var optimizer = train.OptimizerCall!;
        var schedule = train.ScheduleCall;
        var betas = optimizer.GetNumberList("betas") is { Count: 2 } b ? (b[0], b[1]) : ((double, double)?)null;
        EmaSpec? ema = _kind == TargetKind.Ema && _target.Call?.GetRamp("momentum") is { } momentum
            ? new EmaSpec(_target.Source, At(_target.Span), momentum)
            : null;
        return new TrainSpec(
            At(train.Span),
            BuiltinRef.Of(train.Optimizer!),
            train.LearningRate!.Value,
            train.WeightDecay,
            betas,
            optimizer.GetNumber("momentum"),
            optimizer.GetBool("nesterov"),
            BuiltinRef.Of(train.Schedule!),
            train.WarmupEpochs,
            train.WarmupEpochs is null ? train.WarmupSteps : null,
            schedule?.GetNumber("start_lr"),
            schedule?.GetNumber("final_lr"),
            train.Batch,
            train.Steps,
            train.Epochs,
            train.Seed,
            BuiltinRef.Of(train.Device),
            train.Clip,
            ema);
    }

    private EvaluateSpec? Evaluate() =>
        _e.Evaluate.Span is { } span ? new EvaluateSpec(At(span), Calls(Builtins.Evaluations, _e.Evaluate.Items)) : null;

    /// <summary>The calls among <paramref name="items"/>, in the catalog's order.</summary>
    private static EquatableArray<CallSpec> Calls(IEnumerable<Builtin> catalog, EquatableArray<BoundCall> items) =>
        catalog.Select(b => items.FirstOrDefault(i => i.Builtin == b))
            .Where(i => i is not null)
            .Select(i => new CallSpec(BuiltinRef.Of(i!.Builtin!), i.Arguments.Select(a => new ArgumentValue(a.Name, a.Type, a.Value)).ToEquatableArray(), At(i.Span)))
            .ToEquatableArray();

    // ---- modules ---------------------------------------------------------------------------------------------------

    private ModelSpec Model()
    {
        var predictor = _e.Predictor;
        var predictorSpec = new PredictorSpec(
            BuiltinRef.Of(predictor.Builtin!),
            Arguments(predictor.Builtin!, predictor.Call, PredictorOwner, parameter => parameter == "out" && OutFromTarget(predictor) && !predictor.IsIdentity),
            predictor.IsDeclared && predictor.Span is not null ? predictor.Source : null,
            predictor.IsDeclared && predictor.Span is { } span ? At(span) : null)
        {
            CouplesSamples = predictor.Builtin!.CouplesSamples(predictor.Call),
        };
        var corruptions = UsedCorruptions.Select(c =>
        {
            var owners = LinkOwners(c);
            var links = c.Links.Select((l, i) => new LinkSpec(owners[i], BuiltinRef.Of(l.Builtin!), Arguments(l.Builtin!, l.Call, owners[i]), l.IsTokenMask, l.Source, At(l.Span))).ToList();
            return new CorruptionSpec(c.Name, c.Source, At(c.Span), links.Where(l => !l.IsTokenMask).ToEquatableArray(), links.FirstOrDefault(l => l.IsTokenMask));
        });
        return new ModelSpec(
            Module(_context),
            _kind,
            _target.Source,
            At(_target.Span),
            _kind == TargetKind.Independent ? Module(_target) : null,
            _kind is TargetKind.Ema or TargetKind.StopGradient ? BuiltinRef.Of(_target.Builtin!) : null,
            predictorSpec,
            corruptions.ToEquatableArray(),
            _pipeline.Grid,
            _pipeline.Mode,
            _pipeline.EmbeddingWidth,
            EncodedOutput)
        {
            Projector = _e.Projector is { Builtin: { } head, Call: { } call } projector
                ? new ProjectorSpec(BuiltinRef.Of(head), Arguments(head, call, ProjectorOwner), projector.Source, At(projector.Span), projector.Output.Width)
                {
                    CouplesSamples = head.CouplesSamples(call),
                }
                : null,
            Views = UsedViews.Select(v => new ViewsSpec(v.Name, v.Source, At(v.Span),
                v.Groups.Select(g => new ViewGroupSpec(g.Corruption, g.Count, g.First, g.Shape)).ToEquatableArray())).ToEquatableArray(),
        };
    }

    private static ModuleSpec Module(BoundEncoder encoder)
    {
        var owner = EncoderOwner(encoder);
        switch (encoder.Kind)
        {
            case EncoderKind.Module:
                return new ModuleSpec(owner, BuiltinRef.Of(encoder.Builtin!), null, null, Arguments(encoder.Builtin!, encoder.Call, owner), encoder.Output.Width,
                    encoder.Source, At(encoder.Span))
                {
                    CouplesSamples = encoder.Builtin!.CouplesSamples(encoder.Call),
                };
            case EncoderKind.Custom:
                var custom = encoder.Custom!;
                var range = new PositionRange(At(custom.TypeNameSpan), new Position(custom.TypeNameSpan.EndLine + 1, custom.TypeNameSpan.EndColumn + 1));
                return new ModuleSpec(owner, null, custom.TypeName, range,
                    custom.Arguments.Select(a => new ArgumentRef(a.Name, new OptionId(owner, a.Name))).ToEquatableArray(), encoder.Output.Width,
                    encoder.Source, At(encoder.Span));
            default:
                throw Unsupported($"the encoder kind {encoder.Kind}");
        }
    }

    /// <summary>The output <c>Encode</c> reads: the target encoder's when it has its own module, else the context encoder's.</summary>
    private Shape EncodedOutput => (_kind == TargetKind.Independent ? _target : _context).Output;

    // ---- the training step -----------------------------------------------------------------------------------------

    private TrainingStepSpec TrainingStep()
    {
        if (HasViews)
        {
            return ViewsTrainingStep();
        }

        var contextView = _contextCorruption is { InputLinks.Count: > 0 } ? _contextCorruption.Name : null;
        var steps = new List<StepSpec>();
        if (Masked)
        {
            var mask = _contextCorruption!.TokenMask!;
            var what = mask.Builtin!.MaskNote ?? throw Unsupported($"the token mask {mask.Source} without a note");
            steps.Add(new MaskStep($"Masks for this batch: {what}; {mask.Source}", _contextCorruption.Name));
        }

        var input = Batched(_e.Input!.Shape);
        if (_targetCorruption is not null)
        {
            steps.Add(new ViewStep($"Corrupt the target side: {_targetCorruption.Source}", input, Side.Target, _targetCorruption.Name));
        }

        // Both encoders read the input as it is: it is normalised once for the two.
        var sharedInput = _targetCorruption is null && contextView is null;
        if (sharedInput)
        {
            steps.Add(new NormalizeStep("Normalise the input once for both encoders: per channel, (x - mean) / std", input));
        }

        steps.Add(Target(new EncoderInput(_targetCorruption is null ? null : Side.Target, sharedInput)));
        if (contextView is not null)
        {
            var links = string.Join(" then ", _contextCorruption!.InputLinks.Select(l => l.Source));
            steps.Add(new ViewStep($"Corrupt: {_contextCorruption.Name} = {links}", input, Side.Context, _contextCorruption.Name));
        }

        var contextInput = new EncoderInput(contextView is null ? null : Side.Context, sharedInput);
        steps.Add(Masked
            ? new ContextStep("Context: the encoder sees only the context tokens", $"{input} -> {Batched(_pipeline.Context)}", contextInput, true)
            : new ContextStep($"Context: {(contextView is null ? "the input" : "the corrupted input")} through the context encoder",
                $"{input} -> {Batched(_pipeline.Context)}", contextInput, false));
        steps.Add(Predict());
        steps.Add(Loss());
        steps.Add(new BackwardStep("Backward and optimizer step (every term is checked to be finite first; lr and weight decay follow the schedules)"));
        if (_kind == TargetKind.Ema)
        {
            steps.Add(new EmaStep("EMA update: theta_target <- m * theta_target + (1 - m) * theta_context, m from the momentum schedule"));
        }

        return new TrainingStepSpec(_objective.Target.Source, _objective.Context.Source, At(_objective.Span), At(_objective.Context.Span), contextView,
            _contextCorruption is not null && contextView is null, steps.ToEquatableArray());
    }

    private static string Batched(Shape shape) => shape.WithBatch();

    // ---- the training step with views ------------------------------------------------------------------------------

    /// <summary>The groups of views a side takes, in the order of their views (views of one size next to each other).</summary>
    private static List<BoundViewGroup> Taken(BoundApplication side, BoundViews? views) =>
        views?.Groups.Where(g => side.Group is null || g.Corruption == side.Group).OrderBy(g => g.First).ToList() ?? new List<BoundViewGroup>();

    /// <summary>
    /// The training step when a side draws views: the groups either side takes are drawn (each once, normalised), each
    /// side's module runs over its views with the views of one size as one batch, and the representations are
    /// view-major (V, B, ...): a side without views is one view. A shared or stop-gradient target whose views are among
    /// the context's reads the context's representations of them. The loss averages over the pairs of a context view and
    /// a target view (not a view with itself), the regularizers over the views.
    /// </summary>
    private TrainingStepSpec ViewsTrainingStep()
    {
        var steps = new List<StepSpec>();
        var input = _e.Input!.Shape;
        var context = Taken(_objective.Context, _contextViews);
        var target = Taken(_objective.Target, _targetViews);
        foreach (var views in UsedViews)
        {
            foreach (var group in views.Groups.OrderBy(g => g.First).Where(g => (views == _contextViews && context.Contains(g)) || (views == _targetViews && target.Contains(g))))
            {
                var corruption = _e.FindCorruption(group.Corruption)!;
                steps.Add(new DrawViewsStep($"Views: {group.Count} x {views.Name}.{group.Corruption}, {corruption.Source}; normalised",
                    $"{Batched(input)} -> {Views(group.Count, group.Shape, flat: true)}", views.Name, group.Corruption, group.Count));
            }
        }

        if (_targetCorruption is not null)
        {
            steps.Add(new ViewStep($"Corrupt the target side: {_targetCorruption.Source}", Batched(input), Side.Target, _targetCorruption.Name));
        }

        if (_contextCorruption is not null)
        {
            steps.Add(new ViewStep($"Corrupt: {_contextCorruption.Source}", Batched(input), Side.Context, _contextCorruption.Name));
        }

        var contextInput = ViewsInput(context, _contextCorruption is null ? null : Side.Context);
        var contextCount = contextInput.Views;
        var reuse = _objective.TargetReusesContext;
        var targetCount = reuse ? target.Sum(g => g.Count) : ViewsInput(target, _targetCorruption is null ? null : Side.Target).Views;
        var contextShape = Views(contextCount, _pipeline.Context);
        var contextStep = new ViewsContextStep(
            $"Context: {Describe(contextInput, context, _contextViews)} through the context encoder{(_e.Projector is null ? string.Empty : " and its projector")}"
            + (contextInput.Passes.Count > 0 ? ", the views of one size as one batch" : string.Empty),
            $"{Inputs(contextInput)} -> {contextShape}", contextInput);
        var targetStep = ViewsTarget(target, context, reuse, targetCount);
        if (reuse)
        {
            steps.Add(contextStep);
            steps.Add(targetStep);
        }
        else
        {
            steps.Add(targetStep);
            steps.Add(contextStep);
        }

        steps.Add(Predict(contextCount));
        var pairs = Pairs(context, target, contextCount, targetCount);
        steps.Add(Loss(pairs));
        steps.Add(new BackwardStep("Backward and optimizer step (every term is checked to be finite first; lr and weight decay follow the schedules)"));
        if (_kind == TargetKind.Ema)
        {
            steps.Add(new EmaStep("EMA update: theta_target <- m * theta_target + (1 - m) * theta_context, m from the momentum schedule"));
        }

        var contextView = context.Count > 0 ? context[0].Corruption : _contextCorruption is { InputLinks.Count: > 0 } ? _contextCorruption.Name : null;
        return new TrainingStepSpec(_objective.Target.Source, _objective.Context.Source, At(_objective.Span), At(_objective.Context.Span), contextView,
            false, steps.ToEquatableArray());
    }

    /// <summary>A side's input: the passes over its groups (consecutive groups of one shape as one pass), or its one view.</summary>
    private static ViewsInput ViewsInput(List<BoundViewGroup> groups, Side? view)
    {
        if (groups.Count == 0)
        {
            return new ViewsInput(EquatableArray<ViewPass>.Empty, new EncoderInput(view, false), 1);
        }

        var passes = new List<(Shape Shape, List<BoundViewGroup> Groups)>();
        foreach (var group in groups)
        {
            if (passes.Count > 0 && passes[passes.Count - 1].Shape == group.Shape)
            {
                passes[passes.Count - 1].Groups.Add(group);
            }
            else
            {
                passes.Add((group.Shape, new List<BoundViewGroup> { group }));
            }
        }

        return new ViewsInput(
            passes.Select(p => new ViewPass(p.Groups.Select(g => g.Corruption).ToEquatableArray(), p.Shape, p.Groups.Sum(g => g.Count))).ToEquatableArray(),
            null, groups.Sum(g => g.Count));
    }

    private ViewsTargetStep ViewsTarget(List<BoundViewGroup> target, List<BoundViewGroup> context, bool reuse, int count)
    {
        var mean = _objective.Target.Mean;
        var layerNorm = _loss.LayerNormTarget;
        var transform = new List<string>();
        if (mean)
        {
            transform.Add($"the mean over its {count} views");
        }

        if (layerNorm)
        {
            transform.Add("layer-normed");
        }

        var output = Views(count, _pipeline.Target);
        var result = Views(mean ? 1 : count, _pipeline.Target);
        var keeps = RegularizersNeedTargetOutput(reuse) && transform.Count > 0;
        var suffix = transform.Count > 0 ? "; " + string.Join("; ", transform) : string.Empty;
        if (reuse)
        {
            var first = target[0].First - context[0].First;
            var how = _kind == TargetKind.StopGradient ? ", detached (stop-gradient)" : ", with gradient (shared weights)";
            return new ViewsTargetStep($"Target: the context's representations of views {first + 1}-{first + count} ({Describe(target, _targetViews!)}){how}{suffix}",
                $"{Views(_pipeline.ContextViews, _pipeline.Context)} -> {output}{(mean ? " -> " + result : string.Empty)}", _kind, null, (first, count), mean, layerNorm, keeps);
        }

        var input = ViewsInput(target, _targetCorruption is null ? null : Side.Target);
        var description = TargetDescription();
        return new ViewsTargetStep($"Target: {Describe(input, target, _targetViews)} {description}{suffix}",
            $"{Inputs(input)} -> {output}{(mean ? " -> " + result : string.Empty)}", _kind, input, null, mean, layerNorm, keeps);
    }

    /// <summary>The pairs the loss compares: a view is not compared with itself when both sides take views of one
    /// declaration and the target is not their mean.</summary>
    private ViewPairs Pairs(List<BoundViewGroup> context, List<BoundViewGroup> target, int contextCount, int targetCount)
    {
        if (_objective.Target.Mean || _contextViews is null || _contextViews != _targetViews)
        {
            return new ViewPairs(null, contextCount * (_objective.Target.Mean ? 1 : targetCount));
        }

        var contextFirst = context[0].First;
        var targetFirst = target[0].First;
        var shared = Enumerable.Range(contextFirst, contextCount).Intersect(Enumerable.Range(targetFirst, targetCount)).Count();
        return new ViewPairs((contextFirst, targetFirst), (contextCount * targetCount) - shared);
    }

    /// <summary>"the 6 views of crops", "the 2 views of crops.global", "the corrupted input", "the input".</summary>
    private string Describe(ViewsInput input, List<BoundViewGroup> groups, BoundViews? views) =>
        input.Single is { } single
            ? single.View is null ? "the input, as one view" : "the corrupted input, as one view"
            : Describe(groups, views!);

    private static string Describe(List<BoundViewGroup> groups, BoundViews views) =>
        groups.Count == views.Groups.Count
            ? $"the {groups.Sum(g => g.Count)} views of {views.Name}"
            : $"the {groups.Sum(g => g.Count)} views of {string.Join(" and ", groups.Select(g => views.Name + "." + g.Corruption))}";

    /// <summary>The batched shapes a side's passes read: "(2B, 1, 28, 28) + (4B, 1, 14, 14)", or its one view.</summary>
    private string Inputs(ViewsInput input) =>
        input.Single is not null
            ? Batched(_e.Input!.Shape)
            : string.Join(" + ", input.Passes.Select(p => Views(p.Views, p.Shape, flat: true)));

    /// <summary>A view-major shape: "(6, B, 64)", or flat "(6B, 1, 28, 28)".</summary>
    private static string Views(int count, Shape shape, bool flat = false)
    {
        var batched = shape.WithBatch();
        var views = count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // Flat: (2B, ...) for two views, (B, ...) for one; else view-major (V, B, ...).
        return flat ? (count == 1 ? batched : "(" + views + batched.Substring(1)) : $"({views}, {batched.Substring(1)}";
    }

    private bool RegularizersNeedTargetOutput(bool reuse = false) =>
        _objective.Regularizers.Any(r => r.Builtin!.Has(BuiltinFlags.PairsSides) || (TargetTrainable && !reuse));

    /// <summary>How the target side's encoder runs, in words, for the step's comment.</summary>
    private string TargetDescription() => _kind switch
    {
        TargetKind.Ema => "through the EMA target encoder, without gradient",
        TargetKind.StopGradient => "through the context encoder under stop-gradient (no gradient flows back)",
        TargetKind.Shared => "through the context encoder, with gradient (shared weights)",
        TargetKind.Independent => "through the target encoder, with gradient",
        _ => throw Unsupported($"the target kind {_kind}"),
    };

    private TargetStep Target(EncoderInput input)
    {
        var transform = new List<string>();
        if (_loss.LayerNormTarget)
        {
            transform.Add("layer-normed");
        }

        if (Masked)
        {
            transform.Add("kept at the target positions");
        }

        var description = TargetDescription();
        var what = _targetCorruption is null ? "the full input" : "the corrupted view";
        var shapes = $"{Batched(_e.Input!.Shape)} -> {Batched(EncodedOutput)}" + (Masked ? $" -> {Batched(_pipeline.Target)}" : string.Empty);
        var note = $"Target: {what} {description}{(transform.Count > 0 ? "; " + string.Join("; ", transform) : string.Empty)}";
        return new TargetStep(note, shapes, _kind, input, _loss.LayerNormTarget, Masked,
            RegularizersNeedTargetOutput() && transform.Count > 0);
    }

    private PredictStep Predict(int? views = null)
    {
        string Shape(Shape shape) => views is { } count ? Views(count, shape) : Batched(shape);
        var shapes = $"{Shape(_pipeline.Context)} -> {Shape(_pipeline.Prediction)}";
        var predictor = _e.Predictor.Builtin!;
        if (predictor.Has(BuiltinFlags.LocatesTargets))
        {
            return new PredictStep("Predict the target tokens from the context tokens and the target positions", shapes, PredictionForm.AtTargets);
        }

        return predictor.Has(BuiltinFlags.Identity)
            ? new PredictStep("No predictor: the context representation is the prediction", Shape(_pipeline.Prediction), PredictionForm.Identity)
            : new PredictStep($"Predict the target representation from the context one{(views is not null ? ", view by view" : string.Empty)}{(Tokens ? ", token by token" : string.Empty)}",
                shapes, PredictionForm.FromContext);
    }

    private LossStep Loss(ViewPairs? views = null)
    {
        var shared = _objective.Regularizers.FirstOrDefault(r => r.Builtin!.SharesPredictionWeight is not null);
        var module = _e.Projector is null ? "encoder's" : "projector's";
        var targetOwn = TargetTrainable && !(views is not null && _objective.TargetReusesContext);
        var regularizers = _objective.Regularizers.Select(r =>
        {
            var builtin = r.Builtin!;
            var pairs = builtin.Has(BuiltinFlags.PairsSides);
            var owner = RegularizerOwner(r);
            var note = views is null
                ? $"regularize {r.Source}: on the context {module} output{(targetOwn && !pairs ? $" and the target {module}, averaged" : string.Empty)}"
                : pairs
                    ? $"regularize {r.Source}: on each pair of a context view and a target view, averaged"
                    : $"regularize {r.Source}: on the context {module} output of each view{(targetOwn ? $" and the target {module} of each view" : string.Empty)}, averaged";
            return new RegularizerSpec(BuiltinRef.Of(builtin), note, Arguments(builtin, r.Call, owner), new OptionId(owner, "scale"), pairs, targetOwn && !pairs);
        });
        var loss = _loss.Builtin!;
        var what = views is null ? "Loss terms"
            : _objective.Target.Mean ? $"Loss terms: each of the {views.Count} context views against the target (the mean), averaged"
            : $"Loss terms: each pair of a context view and a target view{(views.SameView is null ? string.Empty : ", but a view with itself")} ({views.Count} pairs), averaged";
        return new LossStep(
            what,
            BuiltinRef.Of(loss),
            loss.Parameters.Where(p => p.IsOption).Select(p => new ArgumentRef(p.Name, _loss.Call.Find(p.Name) is null ? null : new OptionId(LossOwner, p.Name))).ToEquatableArray(),
            new OptionId(LossOwner, "scale"),
            shared is null ? null : new OptionId(RegularizerOwner(shared), shared.Builtin!.SharesPredictionWeight!.Parameter),
            shared?.Builtin!.SharesPredictionWeight!.Note,
            regularizers.ToEquatableArray(),
            Tokens)
        {
            Pairs = views,
        };
    }
}
