using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Jepa.Dsl.Collections;

namespace Jepa.Dsl.Binding;

/// <summary>Where a built-in may appear.</summary>
internal enum FunctionCategory
{
    Corruption,
    Encoder,
    Predictor,
    Loss,
    Regularizer,
    Optimizer,
    Schedule,
    Evaluation,
    Monitor,
}

/// <summary>Bounds on a number: <c>min &lt;(=) x &lt;(=) max</c>.</summary>
internal sealed class Bounds
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

/// <summary>A parameter of a built-in.</summary>
internal sealed class ParamSpec
{
    public ParamSpec(string name, ParameterType type, Bounds? bounds = null, BoundValue? @default = null, bool required = false,
        string[]? options = null, int? length = null, bool nonEmpty = false, string? note = null)
    {
        Name = name;
        Type = type;
        Bounds = bounds;
        Default = @default;
        Required = required;
        Options = options;
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

    public string[]? Options { get; }

    /// <summary>The exact length of a list.</summary>
    public int? Length { get; }

    public bool NonEmpty { get; }

    /// <summary>What the parameter means, for messages about a missing one.</summary>
    public string? Note { get; }

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
            _ => "a number, a list of numbers, true or false",
        };
    }
}

/// <summary>A built-in function: its parameters in declaration order (which is the order of bound arguments).</summary>
internal sealed class FunctionSpec
{
    public FunctionSpec(string name, FunctionCategory category, params ParamSpec[] parameters)
    {
        Name = name;
        Category = category;
        Parameters = parameters;
    }

    public string Name { get; }

    public FunctionCategory Category { get; }

    public IReadOnlyList<ParamSpec> Parameters { get; }

    /// <summary>True for <c>ema</c> and <c>stopgrad</c>, whose first argument is an encoder name.</summary>
    public bool TakesEncoder { get; init; }

    public ParamSpec? Find(string name) => Parameters.FirstOrDefault(p => p.Name == name);
}

/// <summary>Every built-in of the language with its parameters, types, ranges and defaults (docs/language.md).</summary>
internal static class Builtins
{
    private static readonly Bounds Positive = Bounds.Above(0);
    private static readonly Bounds NonNegative = Bounds.AtLeast(0);
    private static readonly Bounds AtLeastOne = Bounds.AtLeast(1);
    private static readonly Bounds OpenUnit = Bounds.Between(0, false, 1, false);
    private static readonly Bounds HalfOpenUnit = Bounds.Between(0, true, 1, false);
    private static readonly Bounds UnitFromAbove = Bounds.Between(0, false, 1, true);
    private static readonly Bounds Unit = Bounds.Between(0, true, 1, true);

    private static NumberValue N(double value) => new(value);

    private static RangeValue R(double low, double high) => new(low, high);

    private static OptionValue O(string name) => new(name);

    private static ListValue L(params double[] items) => new(items.Select(i => (BoundValue)new NumberValue(i)).ToEquatableArray());

    private static ParamSpec Int(string name, Bounds bounds, double? @default = null, bool required = false, string? note = null) =>
        new(name, ParameterType.Integer, bounds, @default is { } d ? N(d) : null, required, note: note);

    private static ParamSpec Num(string name, Bounds bounds, double? @default = null, bool required = false, string? note = null) =>
        new(name, ParameterType.Number, bounds, @default is { } d ? N(d) : null, required, note: note);

    private static ParamSpec Option(string name, string @default, params string[] options) =>
        new(name, ParameterType.Option, @default: O(@default), options: options);

    private static readonly ParamSpec TargetNorm = Option("target_norm", "none", "none", "layer");

    public static readonly FunctionSpec RandomMask = new("random_mask", FunctionCategory.Corruption,
        Num("ratio", OpenUnit, 0.5));

    public static readonly FunctionSpec BlockMask = new("block_mask", FunctionCategory.Corruption,
        Int("targets", AtLeastOne, 4),
        new ParamSpec("target_scale", ParameterType.Range, UnitFromAbove, R(0.15, 0.2)),
        new ParamSpec("context_scale", ParameterType.Range, UnitFromAbove, R(0.85, 1.0)),
        new ParamSpec("aspect", ParameterType.Range, Positive, R(0.75, 1.5)),
        Int("min_keep", AtLeastOne, 4));

    public static readonly FunctionSpec GaussianNoise = new("gaussian_noise", FunctionCategory.Corruption,
        Num("std", NonNegative, required: true, note: "the noise's standard deviation"));

    public static readonly FunctionSpec FeatureDropout = new("feature_dropout", FunctionCategory.Corruption,
        Num("p", HalfOpenUnit, required: true, note: "the probability of dropping a feature"));

    public static readonly FunctionSpec RandomCrop = new("random_crop", FunctionCategory.Corruption,
        new ParamSpec("scale", ParameterType.Range, UnitFromAbove, required: true, note: "the crop's area as a fraction of the image, a..b"),
        new ParamSpec("aspect", ParameterType.Range, Positive, R(0.75, 1.3333)));

    private static ParamSpec Hidden() => new("hidden", ParameterType.IntegerList, AtLeastOne, L());

    private static ParamSpec Norm() => Option("norm", "none", "none", "layer", "batch");

    private static ParamSpec Activation() => Option("act", "gelu", "gelu", "relu", "silu", "tanh");

    public static readonly FunctionSpec MlpEncoder = new("mlp", FunctionCategory.Encoder,
        Hidden(), Int("out", AtLeastOne, required: true, note: "the output width"), Norm(), Activation());

    public static readonly FunctionSpec Conv = new("conv", FunctionCategory.Encoder,
        new ParamSpec("channels", ParameterType.IntegerList, AtLeastOne, required: true, nonEmpty: true, note: "the channels of each stage"),
        Int("kernel", AtLeastOne, 3),
        Option("pool", "mean", "mean", "max"),
        Int("out", AtLeastOne, required: true, note: "the output width"));

    public static readonly FunctionSpec Vit = new("vit", FunctionCategory.Encoder,
        Int("patch", AtLeastOne, required: true, note: "the patch size"),
        Int("dim", AtLeastOne, required: true, note: "the token width"),
        Int("depth", AtLeastOne, required: true, note: "the number of blocks"),
        Int("heads", AtLeastOne, required: true, note: "the number of attention heads"),
        new ParamSpec("pool", ParameterType.Option, options: new[] { "mean" }));

    public static readonly FunctionSpec Ema = new("ema", FunctionCategory.Encoder,
        new ParamSpec("momentum", ParameterType.NumberOrSchedule, Unit, new ScheduleValue(0.996, 1.0)))
    { TakesEncoder = true };

    public static readonly FunctionSpec StopGrad = new("stopgrad", FunctionCategory.Encoder) { TakesEncoder = true };

    public static readonly FunctionSpec MlpPredictor = new("mlp", FunctionCategory.Predictor,
        Hidden(), Int("out", AtLeastOne), Norm(), Activation());

    public static readonly FunctionSpec Transformer = new("transformer", FunctionCategory.Predictor,
        Int("dim", AtLeastOne, required: true, note: "the predictor's token width"),
        Int("depth", AtLeastOne, required: true, note: "the number of blocks"),
        Int("heads", AtLeastOne, required: true, note: "the number of attention heads"));

    public static readonly FunctionSpec Mse = new("mse", FunctionCategory.Loss, TargetNorm);

    public static readonly FunctionSpec L1 = new("l1", FunctionCategory.Loss, TargetNorm);

    public static readonly FunctionSpec Cosine = new("cosine", FunctionCategory.Loss, TargetNorm);

    public static readonly FunctionSpec SmoothL1 = new("smooth_l1", FunctionCategory.Loss, Num("beta", Positive, 1.0), TargetNorm);

    public static readonly FunctionSpec InfoNce = new("info_nce", FunctionCategory.Loss, Num("temperature", Positive, 0.1), TargetNorm);

    public static readonly FunctionSpec VicReg = new("vicreg", FunctionCategory.Regularizer,
        Num("variance", NonNegative, 25), Num("covariance", NonNegative, 1));

    public static readonly FunctionSpec BarlowTwins = new("barlow_twins", FunctionCategory.Regularizer, Num("lambda", Positive, 0.005));

    public static readonly FunctionSpec SigReg = new("sigreg", FunctionCategory.Regularizer,
        Int("directions", AtLeastOne, 256), Num("weight", Unit, 0.05));

    public static readonly FunctionSpec AdamW = new("adamw", FunctionCategory.Optimizer,
        new ParamSpec("lr", ParameterType.NumberOrSchedule, Positive, required: true, note: "the learning rate"),
        new ParamSpec("weight_decay", ParameterType.NumberOrSchedule, NonNegative, N(0.05)),
        new ParamSpec("betas", ParameterType.NumberList, HalfOpenUnit, L(0.9, 0.999), length: 2));

    public static readonly FunctionSpec Sgd = new("sgd", FunctionCategory.Optimizer,
        new ParamSpec("lr", ParameterType.NumberOrSchedule, Positive, required: true, note: "the learning rate"),
        Num("momentum", HalfOpenUnit, 0.9),
        new ParamSpec("weight_decay", ParameterType.NumberOrSchedule, NonNegative, N(0)),
        new ParamSpec("nesterov", ParameterType.Boolean, @default: new BooleanValue(false)));

    /// <summary>warmup_cosine: <c>warmup_steps</c> defaults to 0 unless <c>warmup_epochs</c> is given (the binder
    /// fills that in; both at once is an error).</summary>
    public static readonly FunctionSpec WarmupCosine = new("warmup_cosine", FunctionCategory.Schedule,
        Int("warmup_epochs", NonNegative),
        Int("warmup_steps", NonNegative),
        Num("start_lr", NonNegative, 0),
        Num("final_lr", NonNegative, 1e-6));

    public static readonly FunctionSpec Constant = new("constant", FunctionCategory.Schedule);

    public static readonly FunctionSpec LinearProbe = new("linear_probe", FunctionCategory.Evaluation, Int("epochs", AtLeastOne, 100));

    public static readonly FunctionSpec FewShot = new("few_shot", FunctionCategory.Evaluation,
        Int("labels_per_class", AtLeastOne, 10), Int("draws", AtLeastOne, 10));

    public static readonly FunctionSpec Knn = new("knn", FunctionCategory.Evaluation, Int("k", AtLeastOne, 20));

    public static readonly FunctionSpec Split = new("split", FunctionCategory.Evaluation, Num("test", OpenUnit, 0.25));

    public static readonly FunctionSpec Collapse = new("collapse", FunctionCategory.Monitor,
        Num("min_std", NonNegative, 0.01), Num("min_rank", AtLeastOne, 3), Option("action", "warn", "warn", "stop"),
        Int("every", AtLeastOne, 100));

    /// <summary>The settings of <c>train</c>, as parameters: <c>batch 128</c> binds like <c>batch: 128</c>.</summary>
    public static readonly IReadOnlyDictionary<string, ParamSpec> TrainSettings = new Dictionary<string, ParamSpec>
    {
        ["batch"] = Int("batch", AtLeastOne, 256),
        ["epochs"] = Int("epochs", AtLeastOne),
        ["steps"] = Int("steps", AtLeastOne),
        ["seed"] = Int("seed", NonNegative, 0),
        ["clip"] = Num("clip", Positive),
        ["device"] = Option("device", "cpu", "cpu", "cuda", "auto"),
    };

    private static readonly FunctionSpec[] All =
    {
        RandomMask, BlockMask, GaussianNoise, FeatureDropout, RandomCrop,
        MlpEncoder, Conv, Vit, Ema, StopGrad,
        MlpPredictor, Transformer,
        Mse, L1, Cosine, SmoothL1, InfoNce,
        VicReg, BarlowTwins, SigReg,
        AdamW, Sgd,
        WarmupCosine, Constant,
        LinearProbe, FewShot, Knn, Split,
        Collapse,
    };

    public static FunctionSpec? Find(FunctionCategory category, string name) =>
        All.FirstOrDefault(f => f.Category == category && f.Name == name);

    public static IEnumerable<string> Names(FunctionCategory category) => All.Where(f => f.Category == category).Select(f => f.Name);

    public static string Describe(FunctionCategory category) => category switch
    {
        FunctionCategory.Corruption => "corruption",
        FunctionCategory.Encoder => "encoder",
        FunctionCategory.Predictor => "predictor",
        FunctionCategory.Loss => "loss",
        FunctionCategory.Regularizer => "regularizer",
        FunctionCategory.Optimizer => "optimizer",
        FunctionCategory.Schedule => "schedule",
        FunctionCategory.Evaluation => "evaluation",
        _ => "monitor",
    };
}
