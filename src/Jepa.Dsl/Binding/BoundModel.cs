using System;
using System.Collections.Generic;
using System.Linq;
using Jepa.Dsl.Catalog;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Cost;
using Jepa.Dsl.Text;

namespace Jepa.Dsl.Binding;

/// <summary>
/// The bound file: what the emitter and tools read. Every type is an immutable record with value equality
/// (collections are <see cref="EquatableArray{T}"/>), and nothing refers back to the syntax tree: only spans and names.
/// Each statement keeps its source text on one line (<c>Source</c>), for comments in generated code.
/// </summary>
public sealed record BoundFile(string Path, string? Namespace, EquatableArray<BoundExperiment> Experiments);

/// <summary>One experiment. <see cref="HasErrors"/> is true when any error was reported inside it; its erroneous
/// parts are then error nodes (kind <c>Error</c>, unknown shapes) and the emitter must not emit it.</summary>
public sealed record BoundExperiment(
    string Name,
    SourceSpan Span,
    SourceSpan NameSpan,
    string? Namespace,
    BoundInput? Input,
    EquatableArray<BoundCorruption> Corruptions,
    EquatableArray<BoundViews> Views,
    EquatableArray<BoundEncoder> Encoders,
    BoundProjector? Projector,
    BoundPredictor Predictor,
    BoundObjective? Objective,
    BoundTrain? Train,
    BoundEvaluate Evaluate,
    BoundMonitor Monitor,
    BoundPipeline? Pipeline,
    CostSummary? Cost,
    bool HasErrors)
{
    public BoundEncoder? FindEncoder(string? name) => name is null ? null : Encoders.FirstOrDefault(e => e.Name == name);

    public BoundCorruption? FindCorruption(string? name) => name is null ? null : Corruptions.FirstOrDefault(c => c.Name == name);

    public BoundViews? FindViews(string? name) => name is null ? null : Views.FirstOrDefault(v => v.Name == name);

    /// <summary>The trainable encoder the context side runs (aliases followed).</summary>
    public BoundEncoder? ContextEncoder => FindEncoder(Objective?.Context.ResolvedEncoder);

    /// <summary>The encoder the target side names, aliases followed: an <c>ema</c>/<c>stopgrad</c> encoder, the context
    /// encoder itself (shared), or another trainable encoder (independent).</summary>
    public BoundEncoder? TargetEncoder => FindEncoder(Objective?.Target.ResolvedEncoder);

    /// <summary>Every built-in the experiment names that bound (each once, in no particular order).</summary>
    public IEnumerable<Builtin> Builtins()
    {
        var calls = Corruptions.SelectMany(c => c.Links.Select(l => l.Call))
            .Concat(Encoders.Select(e => e.Call))
            .Append(Projector?.Call)
            .Append(Predictor.Call)
            .Append(Objective?.Loss?.Call)
            .Concat(Objective?.Regularizers.Select(r => r.Call) ?? Enumerable.Empty<BoundCall>())
            .Append(Train?.OptimizerCall)
            .Concat(Evaluate.Items)
            .Concat(Monitor.Items);
        return calls.Select(c => c?.Builtin).Append(Predictor.Builtin).Append(Train?.Schedule).Append(Train?.Device)
            .Where(b => b is not null)
            .Select(b => b!)
            .Distinct();
    }
}

/// <summary><c>input NAME: float[...]</c>.</summary>
public sealed record BoundInput(string Name, SourceSpan Span, SourceSpan NameSpan, string Source, Shape Shape)
{
    /// <summary>True for <c>float[c, h, w]</c>.</summary>
    public bool IsImage => Shape.IsKnown && Shape.Rank == 3;
}

// ---- corruptions ---------------------------------------------------------------------------------------------------

/// <summary>One link of a corruption chain with its resolved parameters; its built-in is <c>Call.Builtin</c> (null for an
/// unknown function). <see cref="IsTokenMask"/> is true for a token mask (<c>block_mask</c>, and <c>random_mask</c>
/// applied to a token encoder; otherwise it masks features). <see cref="IsError"/> marks a link that failed: unknown,
/// misplaced, or on an input it does not fit.</summary>
public sealed record BoundCorruptionLink(BoundCall Call, SourceSpan Span, SourceSpan NameSpan, string Source, bool IsTokenMask, bool IsError)
{
    public Builtin? Builtin => Call.Builtin;
}

/// <summary><c>corruption NAME = link then link ...</c>.</summary>
public sealed record BoundCorruption(
    string Name, SourceSpan Span, SourceSpan NameSpan, string Source, EquatableArray<BoundCorruptionLink> Links, bool IsUsed)
{
    /// <summary>The token mask that ends the chain, if any.</summary>
    public BoundCorruptionLink? TokenMask => Links.Count > 0 && Links[Links.Count - 1].IsTokenMask ? Links[Links.Count - 1] : null;

    /// <summary>The links applied to the input before any token mask (pixel or feature corruptions).</summary>
    public EquatableArray<BoundCorruptionLink> InputLinks => Links.Where(l => !l.IsTokenMask).ToEquatableArray();

    /// <summary>True when a link failed or has an argument error.</summary>
    public bool HasErrors => Links.Any(l => l.IsError || l.Call.HasErrors);
}

// ---- views ---------------------------------------------------------------------------------------------------------

/// <summary>A group of <c>views</c>: <see cref="Count"/> views of each sample through corruption
/// <see cref="Corruption"/>, the declaration's views <see cref="First"/> to <c>First + Count - 1</c>.
/// <see cref="Shape"/> is one view's shape (shape inference: another spatial size after <c>random_resized_crop</c>).</summary>
public sealed record BoundViewGroup(string Corruption, SourceSpan Span, int Count, int First, Shape Shape);

/// <summary><c>views NAME = GROUP * count, ...;</c>: every view of a sample, group after group. The first group holds
/// the "global" views by convention (LeJEPA's target is their mean), but any group can be named.</summary>
public sealed record BoundViews(
    string Name, SourceSpan Span, SourceSpan NameSpan, string Source, EquatableArray<BoundViewGroup> Groups, bool IsUsed, bool HasErrors)
{
    /// <summary>Every view of a sample.</summary>
    public int Count => Groups.Sum(g => g.Count);

    public BoundViewGroup? Find(string? corruption) => corruption is null ? null : Groups.FirstOrDefault(g => g.Corruption == corruption);
}

// ---- encoders ------------------------------------------------------------------------------------------------------

/// <summary>What an encoder statement defines.</summary>
public enum EncoderKind
{
    /// <summary>Unknown because of an error in the statement or the encoder it names.</summary>
    Error,

    /// <summary>A built-in module with trainable weights (<c>mlp</c>, <c>conv</c>, <c>vit</c>: the catalog's
    /// trainable encoders).</summary>
    Module,

    /// <summary>A C# encoder type.</summary>
    Custom,

    /// <summary>An EMA copy of another encoder.</summary>
    Ema,

    /// <summary>Another encoder run without gradient.</summary>
    StopGradient,

    /// <summary>Another encoder's name: the same module.</summary>
    Alias,
}

/// <summary>
/// <c>encoder NAME = ...</c>; a built-in's description is <c>Call.Builtin</c>. <see cref="Reference"/> is the encoder an
/// <c>ema</c>, <c>stopgrad</c> or alias names;
/// <see cref="Module"/> is the trainable encoder whose architecture this one runs (itself for mlp, conv, vit and C#
/// types). <see cref="Output"/> is the shape of its output on the whole input (<c>[16, 64]</c> tokens for a vit
/// without pool). <see cref="Parameters"/> counts the parameters of its architecture (docs/models.md).
/// </summary>
public sealed record BoundEncoder(
    string Name,
    SourceSpan Span,
    SourceSpan NameSpan,
    string Source,
    EncoderKind Kind,
    BoundCall? Call,
    BoundCustomEncoder? Custom,
    string? Reference,
    SourceSpan? ReferenceSpan,
    string? Module,
    Shape Output,
    bool TokenMode,
    long? Parameters,
    bool IsUsed)
{
    /// <summary>True for mlp, conv, vit and C# encoders: modules with their own trainable weights.</summary>
    public bool IsTrainableModule => Kind is EncoderKind.Module or EncoderKind.Custom;

    public Builtin? Builtin => Call?.Builtin;
}

/// <summary>A C# encoder <c>My.Ns.Type(name: value, ...)</c>; the generator checks the type against the compilation.
/// Its output width is the value of an <c>out:</c> argument when given, else unknown.</summary>
public sealed record BoundCustomEncoder(string TypeName, SourceSpan TypeNameSpan, EquatableArray<BoundCustomArgument> Arguments, int? Out);

/// <summary>A named argument of a C# encoder.</summary>
public sealed record BoundCustomArgument(string Name, SourceSpan NameSpan, BoundValue Value, SourceSpan ValueSpan);

// ---- projector -----------------------------------------------------------------------------------------------------

/// <summary><c>projector = mlp(...)</c>: a head on the encoder's output, on both sides of the objective (the target side
/// runs the target's copy: its EMA copy, the context's own head, or a second head for a second encoder). The loss and
/// the regularizers read its output; <c>Encode</c>, the probes and the collapse monitor read the encoder's.
/// <see cref="Input"/> and <see cref="Output"/> are per sample (per token in token mode), from shape inference.</summary>
public sealed record BoundProjector(
    Builtin? Builtin, BoundCall? Call, SourceSpan Span, SourceSpan NameSpan, string Source, Shape Input, Shape Output, long? Parameters, bool IsError);

// ---- predictor -----------------------------------------------------------------------------------------------------

/// <summary>The predictor: its built-in (<c>none</c>, the identity, when absent or written <c>predictor = none;</c>; null
/// when unknown). <see cref="IsError"/> marks one that failed to bind or does not fit the objective. <see cref="Out"/>
/// is the output width of an mlp predictor, its default (the target's width) filled in when known.
/// <see cref="NameSpan"/> is the span of the declared predictor's name.</summary>
public sealed record BoundPredictor(
    Builtin? Builtin,
    bool IsError,
    bool IsDeclared,
    BoundCall? Call,
    SourceSpan? Span,
    SourceSpan? NameSpan,
    string? Source,
    Shape Input,
    Shape Output,
    int? Out,
    long? Parameters)
{
    /// <summary>True for the identity (<c>none</c>) without error.</summary>
    public bool IsIdentity => !IsError && Builtin?.Has(BuiltinFlags.Identity) == true;
}

// ---- objective -----------------------------------------------------------------------------------------------------

/// <summary>How the target side gets its representation.</summary>
public enum TargetKind
{
    /// <summary>Unknown because of an error elsewhere.</summary>
    Error,

    /// <summary>An EMA copy of the context encoder, never trained (I-JEPA, BYOL).</summary>
    Ema,

    /// <summary>The context encoder run without gradient (SimSiam).</summary>
    StopGradient,

    /// <summary>The context encoder itself, trained through both sides.</summary>
    Shared,

    /// <summary>A second trainable encoder.</summary>
    Independent,
}

/// <summary><c>ENCODER(INPUT)</c>, <c>ENCODER(CORRUPTION(INPUT))</c>, <c>ENCODER(VIEWS(INPUT))</c> (every view) or
/// <c>ENCODER(VIEWS.GROUP(INPUT))</c> (one group's views), and on the target side any of them in <c>mean(...)</c> (the
/// mean of the views' representations). <see cref="ResolvedEncoder"/> follows aliases.</summary>
public sealed record BoundApplication(
    SourceSpan Span,
    string Source,
    string Encoder,
    SourceSpan EncoderSpan,
    string? ResolvedEncoder,
    string? Corruption,
    SourceSpan? CorruptionSpan,
    string Input,
    SourceSpan InputSpan,
    bool IsError)
{
    /// <summary>The <c>views</c> declaration the side draws from, or null.</summary>
    public string? Views { get; init; }

    /// <summary>The group (its corruption) of <see cref="Views"/> the side takes, or null for every view.</summary>
    public string? Group { get; init; }

    /// <summary>Where <c>VIEWS</c> or <c>VIEWS.GROUP</c> is written.</summary>
    public SourceSpan? ViewsSpan { get; init; }

    /// <summary>True for <c>mean(...)</c>: the side's representation is the mean over its views.</summary>
    public bool Mean { get; init; }

    /// <summary>Where the side's view is named: the corruption, the views, or the input.</summary>
    public SourceSpan ViewSpan => CorruptionSpan ?? ViewsSpan ?? InputSpan;
}

/// <summary><c>loss TERM</c>; <see cref="Call"/> holds its built-in and parameters (with <c>target_norm</c>).</summary>
public sealed record BoundLoss(BoundCall Call, double Weight, SourceSpan Span, string Source)
{
    /// <summary>The loss; null for an unknown function.</summary>
    public Builtin? Builtin => Call.Builtin;

    /// <summary>True for <c>target_norm: layer</c> (layer-normalise the target representation, as I-JEPA does).</summary>
    public bool LayerNormTarget => Call.GetOption("target_norm") == "layer";

    /// <summary>True for the invariance losses that a constant representation minimises.</summary>
    public bool IsInvariance => Builtin?.Has(BuiltinFlags.Invariance) == true;
}

/// <summary>One term of <c>regularize</c>; <see cref="Call"/> holds its built-in and parameters.</summary>
public sealed record BoundRegularizer(BoundCall Call, double Weight, SourceSpan Span, string Source)
{
    /// <summary>The regularizer; null for an unknown function.</summary>
    public Builtin? Builtin => Call.Builtin;
}

/// <summary><c>objective { predict TARGET from CONTEXT; loss ...; regularize ...; }</c>. The first application of
/// <c>predict</c> is the target side, the second the context side. <see cref="PredictSpan"/> and
/// <see cref="PredictSource"/> are those of the <c>predict</c> statement (the training step's comment points there).</summary>
public sealed record BoundObjective(
    SourceSpan Span,
    string Source,
    SourceSpan PredictSpan,
    string PredictSource,
    BoundApplication Target,
    BoundApplication Context,
    TargetKind TargetKind,
    BoundLoss? Loss,
    EquatableArray<BoundRegularizer> Regularizers)
{
    /// <summary>True when the target side's views are among the context side's (one <c>views</c> declaration, every
    /// view or the same group) and the target is the context encoder itself or its stop-gradient view: its
    /// representations are then the context's, sliced (and detached for a stop-gradient target), not a second pass.</summary>
    public bool TargetReusesContext =>
        TargetKind is TargetKind.Shared or TargetKind.StopGradient && Target.Views is not null && Target.Views == Context.Views
        && (Context.Group is null || Context.Group == Target.Group);
}

// ---- train, evaluate, monitor --------------------------------------------------------------------------------------

/// <summary><c>train { ... }</c> with defaults filled in: batch 256, seed 0, device cpu, schedule constant, no clip.
/// Exactly one of <see cref="Epochs"/> and <see cref="Steps"/> is set in an error-free experiment. The optimizer is
/// <c>OptimizerCall.Builtin</c>; <see cref="Schedule"/> is null when the schedule failed to bind.</summary>
public sealed record BoundTrain(
    SourceSpan Span,
    string Source,
    BoundCall? OptimizerCall,
    Builtin? Schedule,
    BoundCall? ScheduleCall,
    int Batch,
    int? Epochs,
    int? Steps,
    int Seed,
    Builtin Device,
    double? Clip)
{
    /// <summary>The optimizer; null when missing or unknown.</summary>
    public Builtin? Optimizer => OptimizerCall?.Builtin;

    /// <summary>Where <c>batch</c>'s value is written; null when it is the default.</summary>
    public SourceSpan? BatchSpan { get; init; }

    /// <summary>The learning rate as (start, end); constant when start equals end.</summary>
    public (double Start, double End)? LearningRate => OptimizerCall?.GetRamp("lr");

    /// <summary>The weight decay as (start, end).</summary>
    public (double Start, double End)? WeightDecay => OptimizerCall?.GetRamp("weight_decay");

    /// <summary>Warm-up in steps under warmup_cosine (0 by default), unless given in epochs.</summary>
    public int? WarmupSteps => ScheduleCall?.GetInt("warmup_steps");

    /// <summary>Warm-up in epochs under warmup_cosine, when given so.</summary>
    public int? WarmupEpochs => ScheduleCall?.GetInt("warmup_epochs");
}

/// <summary><c>evaluate { ... }</c>: the evaluations asked for, each once, in the file's order (their built-ins are
/// <c>Call.Builtin</c>); one that is not listed is not run. <c>split</c> applies with its default (a held-out fraction of
/// 0.25) when not listed: the binder adds it then.</summary>
public sealed record BoundEvaluate(SourceSpan? Span, string? Source, EquatableArray<BoundCall> Items)
{
    public BoundCall? Find(string name) => Items.FirstOrDefault(i => i.Function == name);

    public int? LinearProbeEpochs => Find("linear_probe")?.GetInt("epochs");

    public int? FewShotLabelsPerClass => Find("few_shot")?.GetInt("labels_per_class");

    public int? FewShotDraws => Find("few_shot")?.GetInt("draws");

    public int? FewShotEpochs => Find("few_shot")?.GetInt("epochs");

    public int? KnnK => Find("knn")?.GetInt("k");

    public double TestFraction => Find("split")?.GetNumber("test") ?? 0.25;
}

public enum CollapseAction
{
    Warn,
    Stop,
}

/// <summary><c>collapse(min_std, min_rank, action, every)</c> with defaults 0.01, 3, warn, 100.</summary>
public sealed record BoundCollapseMonitor(double MinStd, double MinRank, CollapseAction Action, int Every, SourceSpan Span);

/// <summary><c>monitor { ... }</c>: the monitors asked for, each once (their built-ins are <c>Call.Builtin</c>).
/// <see cref="Collapse"/> is null when not asked for.</summary>
public sealed record BoundMonitor(SourceSpan? Span, string? Source, EquatableArray<BoundCall> Items)
{
    public BoundCollapseMonitor? Collapse =>
        Items.FirstOrDefault(i => i.Function == "collapse") is { } call
            ? new BoundCollapseMonitor(
                call.GetNumber("min_std") ?? 0.01,
                call.GetNumber("min_rank") ?? 3,
                (CollapseAction)Enum.Parse(typeof(CollapseAction), call.GetOption("action") ?? "warn", ignoreCase: true),
                call.GetInt("every") ?? 100,
                call.Span)
            : null;
}

// ---- shapes through the graph --------------------------------------------------------------------------------------

/// <summary>What the representations are: one vector per sample, tokens, or tokens of which the context sees a
/// masked subset (<c>Nc</c>) and the predictor predicts the targets (<c>Nt</c>).</summary>
public enum RepresentationMode
{
    Vector,
    Tokens,
    MaskedTokens,
}

/// <summary><see cref="Count"/> views of each sample of one shape (without the batch dimension).</summary>
public sealed record BoundViewBatch(Shape Shape, int Count);

/// <summary>One step of the shape summary, such as <c>context encoder: [1, 8, 8] -> [Nc, 64]</c>.</summary>
public sealed record ShapeStage(string Stage, string Description, Shape Input, Shape Output)
{
    public override string ToString() => $"{Stage}: {Input} -> {Output} ({Description})";
}

/// <summary>
/// Shapes through input -> corruption -> encoders -> predictor -> loss. <see cref="Context"/> is the context
/// representation (<c>[Nc, D]</c> when masked), <see cref="Target"/> the target representation the loss compares
/// against (<c>[Nt, D]</c>: the target encoder's tokens at the target positions), <see cref="Prediction"/> the
/// predictor's output. Token counts follow docs/models.md (estimates at the midpoint of the scales).
/// </summary>
public sealed record BoundPipeline(
    RepresentationMode Mode,
    Shape Input,
    Shape Context,
    Shape Target,
    Shape Prediction,
    int? Tokens,
    int? ContextTokens,
    int? TargetTokens,
    (int Height, int Width)? Grid,
    int? EmbeddingWidth,
    EquatableArray<ShapeStage> Stages)
{
    /// <summary>The most context tokens a step can keep (masked tokens; the memory estimate's Nc), else null.</summary>
    public int? PeakContextTokens { get; init; }

    /// <summary>The views the context side encodes, by shape (one view of the input's shape without views): the
    /// representations above are per view.</summary>
    public EquatableArray<BoundViewBatch> ContextViewShapes { get; init; }

    /// <summary>The views the target side encodes, by shape (before a <c>mean</c>).</summary>
    public EquatableArray<BoundViewBatch> TargetViewShapes { get; init; }

    /// <summary>How many views the context side encodes (1 without views).</summary>
    public int ContextViews => ContextViewShapes.Count == 0 ? 1 : ContextViewShapes.Sum(v => v.Count);

    /// <summary>How many views the target side encodes, before a <c>mean</c> (1 without views).</summary>
    public int TargetViews => TargetViewShapes.Count == 0 ? 1 : TargetViewShapes.Sum(v => v.Count);

    /// <summary>The shape of the encoder's output before the projector (the representation <c>Encode</c> reads); the
    /// encoder's output is <see cref="Context"/>'s without a projector.</summary>
    public Shape? Backbone { get; init; }
}
