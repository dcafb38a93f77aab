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
        if (_targetCorruption?.TokenMask is not null)
        {
            throw new NotSupportedException($"a token mask on the target side ({_objective.Target.Source}) is not supported; mask the context side");
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

    private static NotSupportedException Unsupported(string what) => new($"the emitter does not support {what}");

    // ---- options ---------------------------------------------------------------------------------------------------

    private static readonly OwnerId PredictorOwner = new(OwnerKind.Predictor, "predictor");

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

    /// <summary>The corruptions the objective uses, in the file's order.</summary>
    private IEnumerable<BoundCorruption> UsedCorruptions =>
        _e.Corruptions.Where(c => c.IsUsed && (_objective.Context.Corruption == c.Name || _objective.Target.Corruption == c.Name));

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

        CollectPredictor();
        CollectObjective();
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
            predictor.IsDeclared && predictor.Span is { } span ? At(span) : null);
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
            EncodedOutput);
    }

    private static ModuleSpec Module(BoundEncoder encoder)
    {
        var owner = EncoderOwner(encoder);
        switch (encoder.Kind)
        {
            case EncoderKind.Module:
                return new ModuleSpec(owner, BuiltinRef.Of(encoder.Builtin!), null, null, Arguments(encoder.Builtin!, encoder.Call, owner), encoder.Output.Width,
                    encoder.Source, At(encoder.Span));
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

        steps.Add(Target());
        if (contextView is not null)
        {
            var links = string.Join(" then ", _contextCorruption!.InputLinks.Select(l => l.Source));
            steps.Add(new ViewStep($"Corrupt: {_contextCorruption.Name} = {links}", input, Side.Context, _contextCorruption.Name));
        }

        steps.Add(Masked
            ? new ContextStep("Context: the encoder sees only the context tokens", $"{input} -> {Batched(_pipeline.Context)}", contextView is null ? null : Side.Context, true)
            : new ContextStep($"Context: {(contextView is null ? "the input" : "the corrupted input")} through the context encoder",
                $"{input} -> {Batched(_pipeline.Context)}", contextView is null ? null : Side.Context, false));
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

    private bool RegularizersNeedTargetOutput => _objective.Regularizers.Any(r => r.Builtin!.Has(BuiltinFlags.PairsSides) || TargetTrainable);

    private TargetStep Target()
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

        var description = _kind switch
        {
            TargetKind.Ema => "through the EMA target encoder, without gradient",
            TargetKind.StopGradient => "through the context encoder under stop-gradient (no gradient flows back)",
            TargetKind.Shared => "through the context encoder, with gradient (shared weights)",
            TargetKind.Independent => "through the target encoder, with gradient",
            _ => throw Unsupported($"the target kind {_kind}"),
        };
        var what = _targetCorruption is null ? "the full input" : "the corrupted view";
        var shapes = $"{Batched(_e.Input!.Shape)} -> {Batched(EncodedOutput)}" + (Masked ? $" -> {Batched(_pipeline.Target)}" : string.Empty);
        var note = $"Target: {what} {description}{(transform.Count > 0 ? "; " + string.Join("; ", transform) : string.Empty)}";
        return new TargetStep(note, shapes, _kind, _targetCorruption is null ? null : Side.Target, _loss.LayerNormTarget, Masked,
            RegularizersNeedTargetOutput && transform.Count > 0);
    }

    private PredictStep Predict()
    {
        var shapes = $"{Batched(_pipeline.Context)} -> {Batched(_pipeline.Prediction)}";
        var predictor = _e.Predictor.Builtin!;
        if (predictor.Has(BuiltinFlags.LocatesTargets))
        {
            return new PredictStep("Predict the target tokens from the context tokens and the target positions", shapes, PredictionForm.AtTargets);
        }

        return predictor.Has(BuiltinFlags.Identity)
            ? new PredictStep("No predictor: the context representation is the prediction", Batched(_pipeline.Prediction), PredictionForm.Identity)
            : new PredictStep($"Predict the target representation from the context one{(Tokens ? ", token by token" : string.Empty)}", shapes, PredictionForm.FromContext);
    }

    private LossStep Loss()
    {
        var shared = _objective.Regularizers.FirstOrDefault(r => r.Builtin!.SharesPredictionWeight is not null);
        var regularizers = _objective.Regularizers.Select(r =>
        {
            var builtin = r.Builtin!;
            var pairs = builtin.Has(BuiltinFlags.PairsSides);
            var owner = RegularizerOwner(r);
            var note = $"regularize {r.Source}: on the context encoder's output{(TargetTrainable && !pairs ? " and the target encoder's, averaged" : string.Empty)}";
            return new RegularizerSpec(BuiltinRef.Of(builtin), note, Arguments(builtin, r.Call, owner), new OptionId(owner, "scale"), pairs, TargetTrainable && !pairs);
        });
        var loss = _loss.Builtin!;
        return new LossStep(
            "Loss terms",
            BuiltinRef.Of(loss),
            loss.Parameters.Where(p => p.IsOption).Select(p => new ArgumentRef(p.Name, _loss.Call.Find(p.Name) is null ? null : new OptionId(LossOwner, p.Name))).ToEquatableArray(),
            new OptionId(LossOwner, "scale"),
            shared is null ? null : new OptionId(RegularizerOwner(shared), shared.Builtin!.SharesPredictionWeight!.Parameter),
            shared?.Builtin!.SharesPredictionWeight!.Note,
            regularizers.ToEquatableArray(),
            Tokens);
    }
}
