using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Jepa.Dsl.Binding;
using Jepa.Dsl.Collections;

namespace Jepa.Dsl.Catalog;

/// <summary>Where a built-in may appear.</summary>
public enum BuiltinKind
{
    Corruption,
    Encoder,
    Projector,
    Predictor,
    Loss,
    Regularizer,
    Optimizer,
    Schedule,
    Evaluation,
    Monitor,
    Device,
}

/// <summary>What the binder's passes and the emitters need to know about a built-in beyond its parameters.</summary>
[Flags]
public enum BuiltinFlags
{
    None = 0,

    /// <summary>A loss that a constant representation minimises (the collapse rule, JEPA301).</summary>
    Invariance = 1 << 0,

    /// <summary>Always a token mask: the last link of the context side's corruption, with a token encoder.</summary>
    TokenMask = 1 << 1,

    /// <summary>A token mask when its corruption feeds a token encoder, otherwise a corruption of the features.</summary>
    TokenMaskOnTokens = 1 << 2,

    /// <summary>Needs an image input <c>float[c, h, w]</c> (JEPA208).</summary>
    NeedsImage = 1 << 3,

    /// <summary>Its value for one sample depends on the other samples of the batch (negatives, batch statistics): a
    /// multi-process target must gather the whole batch for it.</summary>
    CouplesSamples = 1 << 4,

    /// <summary>Estimates statistics over the batch, which a small batch makes noisy (JEPA304).</summary>
    BatchStatistics = 1 << 5,

    /// <summary>Compares one vector per sample; a representation of tokens is JEPA209.</summary>
    OneVectorPerSample = 1 << 6,

    /// <summary>A regularizer of the pair (context output, target output), tokens averaged; their widths must agree
    /// (JEPA212). Without it a regularizer acts on each side's output.</summary>
    PairsSides = 1 << 7,

    /// <summary>Its first, unnamed argument is an encoder's name (<c>ema</c>, <c>stopgrad</c>).</summary>
    TakesEncoder = 1 << 8,

    /// <summary>An encoder module with its own trainable weights.</summary>
    Trainable = 1 << 9,

    /// <summary>An encoder that flattens an image input to a vector first (the shape summary shows the step).</summary>
    FlattensInput = 1 << 10,

    /// <summary>A predictor that predicts at given target positions, so it needs (and a token mask needs) it.</summary>
    LocatesTargets = 1 << 11,

    /// <summary>The identity (<c>predictor = none</c>).</summary>
    Identity = 1 << 12,

    /// <summary>Needs 3 colour channels (R, G, B) whatever its arguments (JEPA215); a link whose need depends on its
    /// arguments marks those parameters instead (<see cref="Parameter.NeedsColourUnlessZero"/>).</summary>
    NeedsColour = 1 << 13,

    /// <summary>An encoder that takes images of another spatial size than the input's (a conv pools globally), such as
    /// the smaller crops of <c>random_resized_crop(size: ...)</c>; any other is JEPA216 on them.</summary>
    AnyImageSize = 1 << 14,
}

/// <summary>Bounds on a number: <c>min &lt;(=) x &lt;(=) max</c>.</summary>
public sealed class Bounds
{
    private Bounds(double? min, bool minInclusive, double? max, bool maxInclusive)
    {
        Min = min;
        MinInclusive = minInclusive;
        Max = max;
        MaxInclusive = maxInclusive;
    }

    public double? Min { get; }

    public bool MinInclusive { get; }

    public double? Max { get; }

    public bool MaxInclusive { get; }

    public static Bounds AtLeast(double min) => new(min, true, null, false);

    public static Bounds Above(double min) => new(min, false, null, false);

    public static Bounds Between(double min, bool minInclusive, double max, bool maxInclusive) => new(min, minInclusive, max, maxInclusive);

    public bool Contains(double value) =>
        (Min is not { } min || (MinInclusive ? value >= min : value > min))
        && (Max is not { } max || (MaxInclusive ? value <= max : value < max));

    /// <summary>"in (0, 1]", "&gt;= 1", "&gt; 0".</summary>
    public string Describe()
    {
        static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        if (Min is { } min && Max is { } max)
        {
            return $"in {(MinInclusive ? "[" : "(")}{F(min)}, {F(max)}{(MaxInclusive ? "]" : ")")}";
        }

        if (Min is { } lower)
        {
            return (MinInclusive ? ">= " : "> ") + F(lower);
        }

        return Max is { } upper ? (MaxInclusive ? "<= " : "< ") + F(upper) : "any number";
    }
}

/// <summary>The names an option parameter accepts (<c>none</c>, <c>layer</c>, <c>batch</c>) and the runtime enum each
/// target maps them to (the member is the name in PascalCase; the PyTorch target passes the name as a string).</summary>
public sealed class OptionSet
{
    public OptionSet(string? csharp, params string[] names)
    {
        CSharp = csharp;
        Names = names;
    }

    public IReadOnlyList<string> Names { get; }

    /// <summary>The C# enum, <c>global::</c>-qualified; null when the value is read by the compiler itself
    /// (<c>target_norm</c>).</summary>
    public string? CSharp { get; }

    /// <summary>The names whose module couples the samples of a batch in training mode (<c>norm: batch</c>: batch
    /// statistics), with what that means; a multi-process target must give such a module the whole batch's
    /// statistics.</summary>
    public IReadOnlyDictionary<string, string> CouplesSamples { get; init; } = new Dictionary<string, string>();
}

/// <summary>A parameter of a built-in.</summary>
public sealed class Parameter
{
    public Parameter(string name, ParameterType type, Bounds? bounds = null, BoundValue? @default = null, bool required = false,
        OptionSet? options = null, int? length = null, bool nonEmpty = false, string? note = null)
    {
        Name = name;
        Type = type;
        Bounds = bounds;
        Default = @default;
        Required = required;
        OptionSet = options;
        Length = length;
        NonEmpty = nonEmpty;
        Note = note;
    }

    public string Name { get; }

    public ParameterType Type { get; }

    /// <summary>Bounds on the number, on each end of a range or schedule, or on each list item.</summary>
    public Bounds? Bounds { get; }

    public BoundValue? Default { get; }

    public bool Required { get; }

    public OptionSet? OptionSet { get; }

    public IReadOnlyList<string>? Options => OptionSet?.Names;

    /// <summary>The exact length of a list.</summary>
    public int? Length { get; }

    public bool NonEmpty { get; }

    /// <summary>What the parameter means, for messages about a missing one.</summary>
    public string? Note { get; }

    /// <summary>False for a parameter the training step reads itself (<c>target_norm</c>): it is no option of the
    /// generated class.</summary>
    public bool IsOption { get; init; } = true;

    /// <summary>The default as the language reference states it when it is not a value (<c>absent: tokens</c>).</summary>
    public string? DefaultNote { get; init; }

    /// <summary>The option values with which the built-in couples the samples of a batch (<c>norm: batch</c>: batch
    /// norm's statistics): see <see cref="Builtin.CouplesSamples"/>.</summary>
    public IReadOnlyList<string>? CouplingOptions { get; init; }

    /// <summary>A value other than 0 needs 3 colour channels (<c>color_jitter</c>'s saturation and hue; JEPA215).</summary>
    public bool NeedsColourUnlessZero { get; init; }

    /// <summary>"an integer >= 1", "a range a..b with both ends in (0, 1]", ...</summary>
    public string Describe()
    {
        var bounds = Bounds is null ? string.Empty : " " + Bounds.Describe();
        return Type switch
        {
            ParameterType.Integer => "an integer" + bounds,
            ParameterType.Number => "a number" + bounds,
            ParameterType.IntegerList => (NonEmpty ? "a non-empty list" : "a list") + " of integers" + bounds,
            ParameterType.NumberList => Length is { } n ? $"a list of {n} numbers{bounds}" : "a list of numbers" + bounds,
            ParameterType.Range => "a range a..b" + (Bounds is null ? string.Empty : " with both ends" + bounds),
            ParameterType.NumberOrSchedule => "a number or a schedule a -> b" + (Bounds is null ? string.Empty : ", each" + bounds),
            ParameterType.Option => "one of " + Diagnostics.Suggestions.OrList(Options!),
            ParameterType.Boolean => "true or false",
            ParameterType.Size => "an integer n or a list [h, w] of integers" + bounds,
            _ => "a number, a list of numbers, true or false",
        };
    }
}

/// <summary>
/// How a built-in maps to the C# runtime (Jepa.Runtime, TorchSharp): templates whose <c>{parameter}</c> holes the C#
/// emitter fills with the parameter's value (an option of the generated class, or a literal for train settings) and
/// whose <c>{$name}</c> holes with what the training step provides (<c>{$input_shape}</c>, <c>{$grid}</c>,
/// <c>{$context_width}</c>, <c>{$module}</c>, <c>{$source}</c>, <c>{$create}</c>, <c>{$predicted}</c>, <c>{$target}</c>,
/// <c>{$z}</c>, <c>{$z1}</c>, <c>{$z2}</c>, <c>{$generator}</c>). Another target adds its own mapping beside this one.
/// </summary>
/// <param name="Member">The runtime member: what a module, corruption or loss is built or called as; the enum member of
/// an optimizer or schedule; the device's name.</param>
/// <param name="TokenMask">For a corruption that can be a token mask: the mask it is then.</param>
/// <param name="Width">For an encoder module: the member that holds its output width.</param>
public sealed record CSharpMember(string? Member, string? TokenMask = null, string? Width = null);

/// <summary>How a term that couples the samples of a batch (<see cref="BuiltinFlags.CouplesSamples"/>) sees the batches of
/// the other processes in the PyTorch target.</summary>
public enum PythonCoupling
{
    /// <summary>A term of its own part's samples: DistributedDataParallel averages the processes' gradients.</summary>
    None,

    /// <summary>Its sample inputs are gathered from every process first (autograd-aware, <c>ddp.all_gather</c>).</summary>
    Gather,

    /// <summary>It sums its statistics over the processes itself (autograd-aware, <c>ddp.all_reduce</c>, the
    /// <c>{$reduce}</c> hole).</summary>
    Reduce,
}

/// <summary>A random draw a regularizer needs in the PyTorch target (SIGReg's directions): drawn from the step's
/// generator for the whole batch, so every process draws the same. <see cref="Template"/>'s holes: its parameters,
/// <c>{$width}</c> (the width of what it acts on) and <c>{$generator}</c>.</summary>
public sealed record PythonDraw(string Name, string Template, string Note);

/// <summary>
/// How a built-in maps to the PyTorch runtime (python/jepa_torch; a program imports it as <c>jt</c> and its modules as
/// <c>C</c> corruptions, <c>L</c> losses, <c>M</c> models and <c>T</c> training): templates like
/// <see cref="CSharpMember"/>'s, whose <c>{parameter}</c> holes the PyTorch emitter fills with Python literals (or the
/// program's constants for the loss and regularizers), and whose <c>{$name}</c> holes with what it provides
/// (<c>{$input_shape}</c>, <c>{$grid}</c>, <c>{$context_width}</c>, <c>{$source}</c>, <c>{$create}</c>,
/// <c>{$predicted}</c>, <c>{$target}</c>, <c>{$first}</c>). An entry whose <see cref="Member"/> is null says
/// <see cref="Unused"/>: the program has nothing to write for it.
/// </summary>
/// <param name="Member">What a module, corruption or loss is built or called as; the optimizer's or schedule's name;
/// the options of a monitor or evaluation item.</param>
/// <param name="TokenMask">For a corruption that can be a token mask: the mask it is then.</param>
/// <param name="Coupling">For a loss or regularizer that couples samples: how it sees the other processes' samples.</param>
/// <param name="CouplingNote">For such a term: what it computes over the global batch (the program's comment).</param>
/// <param name="Draw">For a regularizer: the random draw it needs.</param>
/// <param name="Unused">Why the program has nothing to write for it (the probes run in .NET; the device is chosen when
/// the program runs).</param>
public sealed record PythonMember(
    string? Member,
    string? TokenMask = null,
    PythonCoupling Coupling = PythonCoupling.None,
    string? CouplingNote = null,
    PythonDraw? Draw = null,
    string? Unused = null)
{
    /// <summary>An entry the PyTorch program has nothing to write for, and why.</summary>
    public static PythonMember NotInProgram(string why) => new(null, Unused: why);
}

/// <summary>A regularizer's weight parameter <c>w</c> that weighs it against the prediction: <c>L = (1 - w) L_pred + w R</c>.</summary>
public sealed record PredictionShare(string Parameter, string Note);

/// <summary>One loss term a regularizer adds: its name in the metrics, the parameter its weight is multiplied by (else
/// only the term's <c>* w</c>), and its runtime call per target.</summary>
public sealed record RegularizerTerm(string Name, string? WeightParameter, string CSharp)
{
    /// <summary>The PyTorch runtime call (holes <c>{$z}</c>, <c>{$z1}</c>, <c>{$z2}</c>, <c>{$drawn}</c>,
    /// <c>{$reduce}</c>); null where the PyTorch target lacks it.</summary>
    public string? Python { get; init; }
}

/// <summary>
/// A built-in of the language, described once: its name, parameters (in declaration order, which is the order of bound
/// arguments) with types, ranges and defaults, a one-line doc, its flags, its shape and cost rules, and the runtime
/// member it maps to per target. The binder attaches it to the bound node; the passes and the emitters read it. An
/// instance is a singleton of <see cref="Builtins"/>: equality is identity.
/// </summary>
public sealed class Builtin
{
    public Builtin(string name, BuiltinKind kind, string doc, BuiltinFlags flags, params Parameter[] parameters)
    {
        Name = name;
        Kind = kind;
        Doc = doc;
        Flags = flags;
        Parameters = parameters;
    }

    public string Name { get; }

    public BuiltinKind Kind { get; }

    /// <summary>What it does, in one line (the language reference's tables).</summary>
    public string Doc { get; }

    public BuiltinFlags Flags { get; }

    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>The C# runtime member; null only for an entry not yet mapped, which a test reports.</summary>
    public CSharpMember? CSharp { get; init; }

    /// <summary>The PyTorch runtime member; null for an entry the PyTorch target does not support yet (exporting a file
    /// that uses it is JEPA154 at the call; a test lists such entries).</summary>
    public PythonMember? Python { get; init; }

    /// <summary>For an encoder: what it binds to (a trainable module, an EMA copy, a stop-gradient view).</summary>
    public EncoderKind EncoderKind { get; init; } = EncoderKind.Module;

    /// <summary>For a regularizer: the loss terms it adds.</summary>
    public EquatableArray<RegularizerTerm> Terms { get; init; }

    /// <summary>For a regularizer: the parameter <c>w</c> that also scales the prediction terms by <c>1 - w</c>
    /// (LeJEPA's SIGReg weight), with the training step's comment on it.</summary>
    public PredictionShare? SharesPredictionWeight { get; init; }

    /// <summary>For a token mask: what it selects, for the training step's comment.</summary>
    public string? MaskNote { get; init; }

    /// <summary>For an encoder module, its shape rule: the output on the input, or null when unknown (a diagnostic,
    /// if any, is reported through the context).</summary>
    internal Func<ModuleShapeContext, ModuleOutput?>? Shape { get; init; }

    /// <summary>For an encoder module or a predictor, its cost rule: parameters on an input of the given shape.</summary>
    internal Func<Shape, BoundCall, long?>? ParameterCount { get; init; }

    /// <summary>For an encoder module, its cost rule: forward FLOPs per sample on the input, its blocks seeing the given
    /// number of tokens (fewer for a masked context).</summary>
    internal Func<Shape, BoundCall, int?, long?>? ForwardFlops { get; init; }

    /// <summary>For a token mask: the estimated (context, target) token counts out of N tokens (docs/models.md).</summary>
    internal Func<BoundCall, int, (int Context, int Target)?>? TokenCounts { get; init; }

    /// <summary>For a token mask whose context varies from batch to batch: the most context tokens a batch can keep of
    /// the given number, for the memory estimate (its peak); without it <see cref="TokenCounts"/>' context.</summary>
    internal Func<BoundCall, int, int?>? PeakContextTokens { get; init; }

    /// <summary>Checks of its arguments against each other (a transformer's heads must divide its width); false after
    /// reporting an error through the callback.</summary>
    internal Func<BoundCall, Action<Diagnostics.DiagnosticDescriptor, Text.SourceSpan, object[]>, bool>? CheckArguments { get; init; }

    /// <summary>For a predictor: its output, given what it predicts from (context) and for (target).</summary>
    internal Func<PredictorShapeContext, BoundCall, Shape>? PredictorShape { get; init; }

    /// <summary>For a predictor: forward FLOPs per sample.</summary>
    internal Func<PredictorShapeContext, BoundCall, long?>? PredictorFlops { get; init; }

    /// <summary>For a corruption link that changes the shape of what it is applied to (<c>random_resized_crop</c> with a
    /// size): its output on the given input. Without it a link keeps the shape.</summary>
    internal Func<Shape, BoundCall, Shape>? LinkShape { get; init; }

    /// <summary>For an encoder module, its memory rule: the float values one sample's forward pass keeps for the
    /// backward pass, its blocks seeing the given number of tokens (docs/models.md, "Memory").</summary>
    internal Func<Shape, BoundCall, int?, long?>? ActivationCount { get; init; }

    /// <summary>For a predictor, its memory rule: the float values one sample's forward pass keeps.</summary>
    internal Func<PredictorShapeContext, BoundCall, long?>? PredictorActivations { get; init; }

    /// <summary>For a regularizer, its memory rule: the float values one call on <c>samples</c> embeddings of <c>width</c>
    /// keeps for the backward pass and needs at its peak (docs/models.md, "Memory").</summary>
    internal Func<BoundCall, long, long, long?>? RegularizerValues { get; init; }

    /// <summary>For an optimizer, its memory rule: the state it keeps per trained parameter (AdamW's two moments).</summary>
    internal Func<BoundCall, int>? StatesPerParameter { get; init; }

    public bool Has(BuiltinFlags flag) => (Flags & flag) == flag;

    /// <summary>
    /// True when a call of this built-in couples the samples of a batch (one sample's value depends on the others): the
    /// built-in always does (<see cref="BuiltinFlags.CouplesSamples"/>: negatives, batch statistics of a regularizer),
    /// or one of its option parameters was given a coupling value (<c>norm: batch</c>). A multi-process target must
    /// gather the batch, or synchronise batch norm, for exactly those.
    /// </summary>
    public bool CouplesSamples(BoundCall? call) =>
        Has(BuiltinFlags.CouplesSamples)
        || (call is not null && Parameters.Any(p => p.CouplingOptions is { } values && call.GetOption(p.Name) is { } value && values.Contains(value)));

    public Parameter? Find(string name) => Parameters.FirstOrDefault(p => p.Name == name);

    public override string ToString() => $"{Builtins.Describe(Kind)} {Name}";
}
