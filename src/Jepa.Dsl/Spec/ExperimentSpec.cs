using Jepa.Dsl.Binding;
using Jepa.Dsl.Catalog;
using Jepa.Dsl.Collections;
using Jepa.Dsl.Cost;

namespace Jepa.Dsl.Spec;

// The spec: what to emit for one experiment, decided once and target-neutral. Every type is a record equal by value
// all the way down (collections are EquatableArray), holding no span, syntax node or symbol: positions are lines and
// columns (an edit to a comment elsewhere leaves a spec equal), built-ins are referred to by kind and name, options by
// neutral identifiers that each emitter maps to its language's names in one place (CSharpNames for C#).

/// <summary>A 1-based line and column in the <c>.jepa</c> file.</summary>
public readonly record struct Position(int Line, int Column);

/// <summary>A range of the <c>.jepa</c> file, first and last position (1-based; the end is exclusive).</summary>
public readonly record struct PositionRange(Position Start, Position End);

/// <summary>A built-in of the catalog, by kind and name.</summary>
public sealed record BuiltinRef(BuiltinKind Kind, string Name)
{
    public static BuiltinRef Of(Builtin builtin) => new(builtin.Kind, builtin.Name);

    /// <summary>The catalog's entry (a method, not a property: the spec holds only the reference).</summary>
    public Builtin Resolve() => Builtins.Find(Kind, Name) ?? throw new System.InvalidOperationException($"no built-in {Kind} {Name}");
}

/// <summary>Who owns a group of options: a link of a corruption, an encoder, the predictor, the loss or a regularizer.</summary>
public enum OwnerKind
{
    Link,
    Encoder,
    Predictor,
    Loss,
    Regularizer,
}

/// <summary>A neutral identifier of an owner of options. A link is the <see cref="Index"/>th of corruption
/// <see cref="Name"/>, the <see cref="Occurrence"/>th of its <see cref="Function"/> there; an encoder is named
/// <see cref="Name"/>; a regularizer by its function.</summary>
public sealed record OwnerId(OwnerKind Kind, string Name, string Function = "", int Index = 0, int Occurrence = 0);

/// <summary>One option: a parameter of an owner (<c>scale</c> for the weight <c>* w</c> of a loss or regularizer term).</summary>
public sealed record OptionId(OwnerId Owner, string Parameter);

/// <summary>What an option's documentation says besides its parameter.</summary>
public enum OptionNote
{
    /// <summary>A parameter of a call, given or defaulted.</summary>
    Argument,

    /// <summary>An mlp predictor's <c>out</c>, not written: the target's width.</summary>
    TargetWidth,

    /// <summary>The weight <c>* w</c> of a loss or regularizer term.</summary>
    TermWeight,
}

/// <summary>An option of the experiment: its identifier, type and value, the built-in whose parameter it is (null for a
/// C# encoder's argument), what it belongs to (<c>encoder context = vit</c>) and where.</summary>
public sealed record OptionSpec(OptionId Id, ParameterType Type, BoundValue Value, BuiltinRef? Builtin, string Of, Position Position, OptionNote Note);

/// <summary>The options of one statement, with its source on one line.</summary>
public sealed record OptionGroup(string Source, Position Position, EquatableArray<OptionSpec> Options);

/// <summary>A parameter of a module, corruption or term and the option that holds its value; null when the parameter
/// is absent (an optional one without a default, such as <c>vit</c>'s <c>pool</c>).</summary>
public sealed record ArgumentRef(string Parameter, OptionId? Option);

/// <summary>An argument of a train-level call (evaluate, monitor) with its value, written as a literal.</summary>
public sealed record ArgumentValue(string Name, ParameterType Type, BoundValue Value);

/// <summary>A call of <c>evaluate</c> or <c>monitor</c>.</summary>
public sealed record CallSpec(BuiltinRef Builtin, EquatableArray<ArgumentValue> Arguments, Position Position);

/// <summary><c>input NAME: float[...]</c>.</summary>
public sealed record InputSpec(string Name, string Source, Position Position, Shape Shape);

/// <summary>One line of the shape summary: a stage, its input and output without the batch dimension, and what it is.</summary>
public sealed record ShapeNote(string Stage, Shape Input, Shape Output, string Description);

/// <summary>An EMA target's momentum: the target's statement and the schedule.</summary>
public sealed record EmaSpec(string Source, Position Position, (double Start, double End) Momentum);

/// <summary>The values of <c>train</c> with the defaults filled in, as the runtime's options hold them.</summary>
public sealed record TrainSpec(
    Position Position,
    BuiltinRef Optimizer,
    (double Start, double End) LearningRate,
    (double Start, double End)? WeightDecay,
    (double Beta1, double Beta2)? Betas,
    double? Momentum,
    bool? Nesterov,
    BuiltinRef Schedule,
    int? WarmupEpochs,
    int? WarmupSteps,
    double? StartLr,
    double? FinalLr,
    int Batch,
    int? Steps,
    int? Epochs,
    int Seed,
    BuiltinRef Device,
    double? Clip,
    EmaSpec? Ema);

/// <summary><c>evaluate { ... }</c>: its calls in the catalog's order.</summary>
public sealed record EvaluateSpec(Position Position, EquatableArray<CallSpec> Items);

/// <summary>A built-in module (<see cref="Builtin"/>) or a C# type (<see cref="CustomType"/>), the owner of its
/// options and its arguments as options, its output width, and its statement.</summary>
public sealed record ModuleSpec(
    OwnerId Owner,
    BuiltinRef? Builtin,
    string? CustomType,
    PositionRange? CustomTypeRange,
    EquatableArray<ArgumentRef> Arguments,
    int? Width,
    string Source,
    Position Position);

/// <summary>The predictor: its built-in and arguments, and its statement when declared.</summary>
public sealed record PredictorSpec(BuiltinRef Builtin, EquatableArray<ArgumentRef> Arguments, string? Source, Position? Position);

/// <summary>One link of a corruption: the owner of its options, its built-in, arguments, and whether it is the token mask.</summary>
public sealed record LinkSpec(OwnerId Owner, BuiltinRef Builtin, EquatableArray<ArgumentRef> Arguments, bool IsTokenMask, string Source, Position Position);

/// <summary>A corruption the objective uses: the links applied to the input, then the token mask if any.</summary>
public sealed record CorruptionSpec(string Name, string Source, Position Position, EquatableArray<LinkSpec> InputLinks, LinkSpec? Mask);

/// <summary>
/// The modules: the context encoder; the target (how it relates to the context encoder, its statement, its own
/// module when independent, its wrapper built-in when an EMA copy or a stop-gradient view); the predictor; the
/// corruptions; the token grid and representation mode; and the output <see cref="Encode"/> reads.
/// </summary>
public sealed record ModelSpec(
    ModuleSpec Context,
    TargetKind TargetKind,
    string TargetSource,
    Position TargetPosition,
    ModuleSpec? Target,
    BuiltinRef? TargetWrapper,
    PredictorSpec Predictor,
    EquatableArray<CorruptionSpec> Corruptions,
    (int Height, int Width)? Grid,
    RepresentationMode Mode,
    int? EmbeddingWidth,
    Shape EncodedOutput);

/// <summary>Which side of <c>predict</c> a corrupted view is for.</summary>
public enum Side
{
    Target,
    Context,
}

/// <summary>How the prediction is made.</summary>
public enum PredictionForm
{
    /// <summary>From the context tokens and the target positions (a predictor that locates targets).</summary>
    AtTargets,

    /// <summary>From the context representation, per token in token mode.</summary>
    FromContext,

    /// <summary>No predictor: the context representation is the prediction.</summary>
    Identity,
}

/// <summary>
/// One numbered step of the training step, in order, with its comment (<see cref="Note"/>) and the batched shapes it
/// maps (<see cref="Shapes"/>, such as <c>(B, 1, 8, 8) -&gt; (B, Nc, 64)</c>; null when there are none to show). An
/// emitter numbers the steps and writes each in its language.
/// </summary>
public abstract record StepSpec(string Note, string? Shapes);

/// <summary>Samples the token masks of the context side's corruption for this batch.</summary>
public sealed record MaskStep(string Note, string Corruption) : StepSpec(Note, null);

/// <summary>Applies a corruption's input links to the batch, giving one side's view.</summary>
public sealed record ViewStep(string Note, string? Shapes, Side Side, string Corruption) : StepSpec(Note, Shapes);

/// <summary>The target representation: the target side's module on its view (the input when
/// <see cref="ViewSide"/> is null), without gradient for an EMA or stop-gradient target; layer-normed; gathered at the
/// target positions. <see cref="KeepsOutput"/> keeps the module's output apart for the regularizers.</summary>
public sealed record TargetStep(string Note, string? Shapes, TargetKind Kind, Side? ViewSide, bool LayerNorm, bool Gather, bool KeepsOutput)
    : StepSpec(Note, Shapes);

/// <summary>The context representation: the context encoder on its view, keeping only the context tokens when masked.</summary>
public sealed record ContextStep(string Note, string? Shapes, Side? ViewSide, bool Masked) : StepSpec(Note, Shapes);

/// <summary>The prediction.</summary>
public sealed record PredictStep(string Note, string? Shapes, PredictionForm Form) : StepSpec(Note, Shapes);

/// <summary>A regularizer's terms: on each side's output (averaged over the two when the target trains) or on the
/// pair (context, target), tokens averaged first.</summary>
public sealed record RegularizerSpec(BuiltinRef Builtin, string Note, EquatableArray<ArgumentRef> Arguments, OptionId Scale, bool Pairs, bool BothSides);

/// <summary>The loss terms: the prediction term (weighted by <see cref="Scale"/>, and by <c>1 - w</c> when a
/// regularizer's <see cref="SharedWeight"/> <c>w</c> weighs it against the prediction, with <see cref="SharedNote"/>),
/// then each regularizer's. <see cref="Tokens"/>: the representations are tokens.</summary>
public sealed record LossStep(
    string Note,
    BuiltinRef Loss,
    EquatableArray<ArgumentRef> Arguments,
    OptionId Scale,
    OptionId? SharedWeight,
    string? SharedNote,
    EquatableArray<RegularizerSpec> Regularizers,
    bool Tokens) : StepSpec(Note, null);

/// <summary>Backward through the terms and the optimizer step.</summary>
public sealed record BackwardStep(string Note) : StepSpec(Note, null);

/// <summary>The EMA update of the target from the context encoder.</summary>
public sealed record EmaStep(string Note) : StepSpec(Note, null);

/// <summary>The training step: <c>predict TARGET from CONTEXT</c> and its steps. <see cref="ContextView"/> is the
/// corruption whose input links make the context view (what <c>Corrupt</c> returns), null when the context side sees
/// the input (or only masks tokens); <see cref="ContextMasksOnly"/> when it only masks tokens.</summary>
public sealed record TrainingStepSpec(
    string Target,
    string Context,
    Position Position,
    Position ContextPosition,
    string? ContextView,
    bool ContextMasksOnly,
    EquatableArray<StepSpec> Steps);

/// <summary>
/// What to emit for one error-free experiment, target-neutral: its name and namespace, the file it comes from, the
/// input, the shape summary and cost, the options (train, evaluate, monitor, and the groups of architecture options),
/// the modules, and the training step.
/// </summary>
public sealed record ExperimentSpec(
    string Name,
    string Namespace,
    string FileName,
    string Path,
    Position Position,
    InputSpec Input,
    EquatableArray<ShapeNote> Shapes,
    CostSummary? Cost,
    TrainSpec Train,
    EvaluateSpec? Evaluate,
    EquatableArray<CallSpec> Monitors,
    EquatableArray<OptionGroup> Options,
    ModelSpec Model,
    TrainingStepSpec TrainingStep);
