using System.Collections.Generic;
using System.Linq;
using Jepa.Dsl.Binding;
using static Jepa.Dsl.Catalog.Parts;

namespace Jepa.Dsl.Catalog;

public static partial class Builtins
{
    // ---- optimizers and schedules ----------------------------------------------------------------------------------

    public static readonly Builtin AdamW = new("adamw", BuiltinKind.Optimizer,
        "AdamW; no weight decay on biases and norm weights",
        BuiltinFlags.None,
        Ramp("lr", Positive, required: true, note: "the learning rate"),
        Ramp("weight_decay", NonNegative, 0.05),
        new Parameter("betas", ParameterType.NumberList, HalfOpenUnit, L(0.9, 0.999), length: 2))
    {
        CSharp = new("global::Jepa.Runtime.Training.OptimizerKind.AdamW"),
        Python = new("\"adamw\""),
        StatesPerParameter = _ => 2,
    };

    public static readonly Builtin Sgd = new("sgd", BuiltinKind.Optimizer,
        "SGD with momentum; no weight decay on biases and norm weights",
        BuiltinFlags.None,
        Ramp("lr", Positive, required: true, note: "the learning rate"),
        Num("momentum", HalfOpenUnit, 0.9),
        Ramp("weight_decay", NonNegative, 0),
        new Parameter("nesterov", ParameterType.Boolean, @default: new BooleanValue(false)))
    {
        CSharp = new("global::Jepa.Runtime.Training.OptimizerKind.Sgd"),
        Python = new("\"sgd\""),
        StatesPerParameter = call => call.GetNumber("momentum") is 0 ? 0 : 1,
    };

    /// <summary>The optimizers.</summary>
    public static IReadOnlyList<Builtin> Optimizers { get; } = new[] { AdamW, Sgd };

    /// <summary>warmup_cosine: <c>warmup_steps</c> defaults to 0 unless <c>warmup_epochs</c> is given (the binder
    /// fills that in; both at once is JEPA115).</summary>
    public static readonly Builtin WarmupCosine = new("warmup_cosine", BuiltinKind.Schedule,
        "linear warm-up from start_lr to lr, then a cosine to final_lr; weight decay follows its own cosine",
        BuiltinFlags.None,
        new Parameter("warmup_epochs", ParameterType.Integer, NonNegative) { DefaultNote = "not written: warm-up in steps" },
        new Parameter("warmup_steps", ParameterType.Integer, NonNegative) { DefaultNote = "0, unless warmup_epochs is written (not both: JEPA115)" },
        Num("start_lr", NonNegative, 0),
        Num("final_lr", NonNegative, 1e-6))
    {
        CSharp = new("global::Jepa.Runtime.Schedules.LrScheduleKind.WarmupCosine"),
        Python = new("\"warmup_cosine\""),
    };

    public static readonly Builtin Constant = new("constant", BuiltinKind.Schedule,
        "the learning rate as written (lr: a -> b is linear over training)",
        BuiltinFlags.None)
    {
        CSharp = new("global::Jepa.Runtime.Schedules.LrScheduleKind.Constant"),
        Python = new("\"constant\""),
    };

    /// <summary>The learning-rate schedules.</summary>
    public static IReadOnlyList<Builtin> Schedules { get; } = new[] { WarmupCosine, Constant };

    // ---- devices ---------------------------------------------------------------------------------------------------

    public static readonly Builtin Cpu = new("cpu", BuiltinKind.Device, "the processor", BuiltinFlags.None)
    {
        CSharp = new("cpu"),
        Python = ChosenWhenRun,
    };

    public static readonly Builtin Cuda = new("cuda", BuiltinKind.Device, "the first CUDA GPU; an error without one", BuiltinFlags.None)
    {
        CSharp = new("cuda"),
        Python = ChosenWhenRun,
    };

    public static readonly Builtin Auto = new("auto", BuiltinKind.Device, "CUDA when available, else the processor", BuiltinFlags.None)
    {
        CSharp = new("auto"),
        Python = ChosenWhenRun,
    };

    /// <summary>The devices <c>device</c> names.</summary>
    public static IReadOnlyList<Builtin> Devices { get; } = new[] { Cpu, Cuda, Auto };

    /// <summary>The settings of <c>train</c>, as parameters: <c>batch 128</c> binds like <c>batch: 128</c>.</summary>
    public static IReadOnlyDictionary<string, Parameter> TrainSettings { get; } = new Dictionary<string, Parameter>
    {
        ["batch"] = Int("batch", AtLeastOne, 256),
        ["epochs"] = Int("epochs", AtLeastOne),
        ["steps"] = Int("steps", AtLeastOne),
        ["seed"] = Int("seed", NonNegative, 0),
        ["clip"] = Num("clip", Positive),
        ["device"] = Option("device", "cpu", new OptionSet(null, Devices.Select(d => d.Name).ToArray())),
    };

    // ---- evaluation and monitoring ---------------------------------------------------------------------------------

    public static readonly Builtin LinearProbe = new("linear_probe", BuiltinKind.Evaluation,
        "a logistic regression on the frozen embeddings", BuiltinFlags.None,
        Int("epochs", AtLeastOne, 100))
    {
        CSharp = new("LinearProbe = new global::Jepa.Runtime.Evaluation.LinearProbeOptions(Epochs: {epochs})"),
        Python = EvaluatedInDotNet,
    };

    public static readonly Builtin FewShot = new("few_shot", BuiltinKind.Evaluation,
        "a linear probe on labels_per_class labels per class, averaged over draws fixed draws; epochs is each draw's L-BFGS budget",
        BuiltinFlags.None,
        Int("labels_per_class", AtLeastOne, 10), Int("draws", AtLeastOne, 10), Int("epochs", AtLeastOne, 100))
    {
        CSharp = new("FewShot = new global::Jepa.Runtime.Evaluation.FewShotOptions(LabelsPerClass: {labels_per_class}, Draws: {draws}, Epochs: {epochs})"),
        Python = EvaluatedInDotNet,
    };

    public static readonly Builtin Knn = new("knn", BuiltinKind.Evaluation,
        "k-nearest-neighbour classification by cosine similarity", BuiltinFlags.None,
        Int("k", AtLeastOne, 20))
    {
        CSharp = new("Knn = new global::Jepa.Runtime.Evaluation.KnnOptions(K: {k})"),
        Python = EvaluatedInDotNet,
    };

    public static readonly Builtin Split = new("split", BuiltinKind.Evaluation,
        "the held-out fraction the evaluations test on (stratified)", BuiltinFlags.None,
        Num("test", OpenUnit, 0.25))
    {
        CSharp = new("TestFraction = {test}"),
        Python = new("test_fraction={test}"),
    };

    public static readonly Builtin Online = new("online", BuiltinKind.Evaluation,
        "while training, every so many steps: a ridge probe and kNN on a fixed stratified subset of so many labelled samples (never the test split), logged with the metrics",
        BuiltinFlags.None,
        Int("every", AtLeastOne, 100), Int("samples", Bounds.AtLeast(20), 1000))
    {
        CSharp = new("Online = new global::Jepa.Runtime.Evaluation.OnlineEvaluationOptions(Every: {every}, Samples: {samples})"),
        Python = PythonMember.NotInProgram("the PyTorch program runs no online evaluation: jepa evaluate probes its checkpoints in .NET"),
    };

    /// <summary>The evaluations, in the order the options list them.</summary>
    public static IReadOnlyList<Builtin> Evaluations { get; } = new[] { LinearProbe, FewShot, Knn, Split, Online };

    public static readonly Builtin Collapse = new("collapse", BuiltinKind.Monitor,
        "warns or stops when the std or effective rank of the per-sample embeddings falls below its threshold and far below its step-0 value (a tenth, a half)", BuiltinFlags.None,
        Num("min_std", NonNegative, 0.01), Num("min_rank", AtLeastOne, 3), Option("action", "warn", CollapseActions),
        Int("every", AtLeastOne, 100))
    {
        CSharp = new("Collapse = new global::Jepa.Runtime.Training.CollapseMonitorOptions(MinStd: {min_std}, MinRank: {min_rank}, Action: {action}, Every: {every})"),
        Python = new("collapse=jt.Collapse(min_std={min_std}, min_rank={min_rank}, action={action}, every={every})"),
    };

    /// <summary>The monitors.</summary>
    public static IReadOnlyList<Builtin> Monitors { get; } = new[] { Collapse };
}
