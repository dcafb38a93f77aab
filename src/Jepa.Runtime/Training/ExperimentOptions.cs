using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Jepa.Runtime.Schedules;

namespace Jepa.Runtime.Training;

/// <summary>
/// What the trainer needs from an experiment (the train, monitor and evaluate blocks of a <c>.jepa</c> file). Generated
/// code derives a sealed record <c>Options</c> that adds the architecture values and sets every value of the file in its
/// parameterless constructor, so <c>Options.Default with { Steps = 500 }</c> works. <see cref="ToJson"/> writes the
/// effective options, the derived record's properties included; the trainer puts them in <c>options.json</c> and in
/// every checkpoint.
/// </summary>
public abstract record ExperimentOptions
{
    /// <summary>Samples per optimizer step; the last incomplete batch of an epoch is dropped.</summary>
    public int Batch { get; init; } = 256;

    private int? epochs;
    private long? steps;
    private int warmupSteps;
    private double warmupEpochs;

    /// <summary>Length of the run in passes over the data. Setting it (not null) clears <see cref="Steps"/>, so
    /// <c>Options.Default with { Epochs = 5 }</c> means five epochs whatever the default length was.</summary>
    public int? Epochs
    {
        get => epochs;
        init
        {
            epochs = value;
            if (value is not null) steps = null;
        }
    }

    /// <summary>Length of the run in optimizer steps. Setting it (not null) clears <see cref="Epochs"/>.</summary>
    public long? Steps
    {
        get => steps;
        init
        {
            steps = value;
            if (value is not null) epochs = null;
        }
    }

    /// <summary>Seeds the initial weights (<see cref="JepaExperiment.InitializationScope"/>), the corruptions and the data order.</summary>
    public long Seed { get; init; }

    /// <summary><c>cpu</c> (default), <c>cuda</c>, <c>cuda:N</c>, or <c>auto</c> (CUDA where available, else CPU).</summary>
    public string Device { get; init; } = "cpu";

    public OptimizerKind Optimizer { get; init; } = OptimizerKind.AdamW;

    /// <summary>The learning rate: the peak under <see cref="LrScheduleKind.WarmupCosine"/>, a (possibly constant) linear ramp under <see cref="LrScheduleKind.Constant"/>.</summary>
    public Ramp LearningRate { get; init; } = new(1e-3);

    /// <summary>Weight decay of weight matrices (never of biases and other 1-D parameters).</summary>
    public Ramp WeightDecay { get; init; } = new(0.0);

    /// <summary>SGD momentum (unused by AdamW).</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>SGD with Nesterov momentum (unused by AdamW).</summary>
    public bool Nesterov { get; init; }

    /// <summary>AdamW's (beta1, beta2) (unused by SGD).</summary>
    public (double Beta1, double Beta2) Betas { get; init; } = (0.9, 0.999);

    public LrScheduleKind Schedule { get; init; } = LrScheduleKind.Constant;

    /// <summary>Warm-up length in steps (WarmupCosine only). Setting it above 0 clears <see cref="WarmupEpochs"/>.</summary>
    public int WarmupSteps
    {
        get => warmupSteps;
        init
        {
            warmupSteps = value;
            if (value > 0) warmupEpochs = 0;
        }
    }

    /// <summary>Warm-up length in epochs (WarmupCosine only), converted with the run's steps per epoch, rounded.
    /// Setting it above 0 clears <see cref="WarmupSteps"/>.</summary>
    public double WarmupEpochs
    {
        get => warmupEpochs;
        init
        {
            warmupEpochs = value;
            if (value > 0) warmupSteps = 0;
        }
    }

    /// <summary>Learning rate at the start of the warm-up.</summary>
    public double StartLr { get; init; }

    /// <summary>Learning rate at the end of the cosine decay.</summary>
    public double FinalLr { get; init; }

    /// <summary>Maximum total L2 norm of the gradients; null for no clipping (the norm is reported either way).</summary>
    public double? GradClip { get; init; }

    /// <summary>EMA momentum of an <see cref="TargetKind.Ema"/> target, linear per step from Start to End (I-JEPA).</summary>
    public Ramp EmaMomentum { get; init; } = new(0.996, 1.0);

    /// <summary>The collapse monitor; null turns it off.</summary>
    public CollapseMonitorOptions? Collapse { get; init; } = new(MinStd: 0.01, MinRank: 3, Action: CollapseAction.Warn, Every: 100);

    /// <summary>The evaluations of the run (linear probe, few-shot probe, kNN) and the held-out fraction; all three by default.</summary>
    public Evaluation.EvaluationOptions Evaluation { get; init; } = new()
    {
        LinearProbe = new Evaluation.LinearProbeOptions(),
        FewShot = new Evaluation.FewShotOptions(),
        Knn = new Evaluation.KnnOptions(),
    };

    /// <summary>
    /// The per-channel normalisation of the inputs (<see cref="JepaExperiment.Normalize"/>): declared values, or null
    /// (the default) to compute it on the training data when a fresh run starts (<see cref="InputNormalization.Compute"/>);
    /// <see cref="InputNormalization.None"/> turns it off. The trainer puts the values it used here, in
    /// <see cref="JepaExperiment.EffectiveOptions"/>, so <c>options.json</c> and every checkpoint carry them.
    /// </summary>
    public InputNormalization? Normalization { get; init; }

    /// <summary>The options as indented JSON, with the derived record's properties (enums as names).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, GetType(), Json);

    /// <summary>The options as a JSON object (see <see cref="ToJson"/>).</summary>
    public JsonObject ToJsonObject() => JsonSerializer.SerializeToNode(this, GetType(), Json)!.AsObject();

    /// <summary>Every problem with these options that would make a run fail or misbehave, as sentences; empty when fine.</summary>
    public virtual IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Batch < 1) problems.Add($"Batch must be at least 1 (is {Batch}).");
        if (Steps is null && Epochs is null) problems.Add("Set Steps or Epochs: the run has no length.");
        if (Steps is < 1) problems.Add($"Steps must be at least 1 (is {Steps}).");
        if (Epochs is < 1) problems.Add($"Epochs must be at least 1 (is {Epochs}).");
        CheckRamp(problems, nameof(LearningRate), LearningRate, 0, double.MaxValue);
        CheckRamp(problems, nameof(WeightDecay), WeightDecay, 0, double.MaxValue);
        CheckRamp(problems, nameof(EmaMomentum), EmaMomentum, 0, 1);
        if (Optimizer == OptimizerKind.Sgd && Momentum is < 0 or >= 1 or double.NaN) problems.Add($"Momentum must lie in [0, 1) (is {Momentum}).");
        if (Optimizer == OptimizerKind.AdamW && (Betas.Beta1 is < 0 or >= 1 or double.NaN || Betas.Beta2 is < 0 or >= 1 or double.NaN))
            problems.Add($"Betas must lie in [0, 1) (are {Betas.Beta1}, {Betas.Beta2}).");
        if (Schedule == LrScheduleKind.WarmupCosine && !LearningRate.IsConstant)
            problems.Add($"With the WarmupCosine schedule LearningRate is the peak, one value (is {LearningRate}); FinalLr is the end value.");
        if (Schedule == LrScheduleKind.Constant && (WarmupSteps > 0 || WarmupEpochs > 0))
            problems.Add("Warm-up needs Schedule = WarmupCosine; the Constant schedule has none.");
        if (WarmupSteps < 0 || WarmupEpochs < 0 || double.IsNaN(WarmupEpochs)) problems.Add("Warm-up cannot be negative.");
        if (!double.IsFinite(StartLr) || StartLr < 0) problems.Add($"StartLr must be finite and not negative (is {StartLr}).");
        if (!double.IsFinite(FinalLr) || FinalLr < 0) problems.Add($"FinalLr must be finite and not negative (is {FinalLr}).");
        if (GradClip is { } clip && !(clip > 0)) problems.Add($"GradClip must be positive (is {clip}).");
        if (Collapse is { } c)
        {
            if (c.Every < 1) problems.Add($"Collapse.Every must be at least 1 (is {c.Every}).");
            if (double.IsNaN(c.MinStd) || double.IsNaN(c.MinRank)) problems.Add("Collapse thresholds cannot be NaN.");
        }
        if (Evaluation is { } ev)
        {
            if (!(ev.TestFraction > 0 && ev.TestFraction < 1)) problems.Add($"Evaluation.TestFraction must lie in (0, 1) (is {ev.TestFraction}).");
            if (ev.LinearProbe is { Epochs: < 1 }) problems.Add("Evaluation.LinearProbe.Epochs must be at least 1.");
            if (ev.FewShot is { } fs && (fs.LabelsPerClass < 1 || fs.Draws < 1 || fs.Epochs < 1)) problems.Add("Evaluation.FewShot needs at least 1 label per class, 1 draw and 1 epoch.");
            if (ev.Knn is { K: < 1 }) problems.Add("Evaluation.Knn.K must be at least 1.");
            const int minSamples = global::Jepa.Runtime.Evaluation.OnlineEvaluationOptions.MinSamples;
            if (ev.Online is { } online && (online.Every < 1 || online.Samples < minSamples))
                problems.Add($"Evaluation.Online needs Every >= 1 and Samples >= {minSamples} (are {online.Every} and {online.Samples}).");
        }
        if (Normalization is { } n) problems.AddRange(n.Problems());
        if (!IsKnownDevice(Device)) problems.Add($"Device must be cpu, cuda, cuda:N or auto (is '{Device}').");
        return problems;
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem, if any.</summary>
    public void Validate()
    {
        var problems = Problems();
        if (problems.Count > 0)
            throw new ArgumentException($"{GetType().Name} is not valid:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", problems));
    }

    private static void CheckRamp(List<string> problems, string name, Ramp? ramp, double min, double max)
    {
        if (ramp is null)
        {
            problems.Add($"{name} is not set.");
            return;
        }
        foreach (var v in new[] { ramp.Start, ramp.End })
        {
            if (!double.IsFinite(v) || v < min || v > max)
            {
                problems.Add($"{name} must lie in [{min}, {(max == double.MaxValue ? "inf" : max.ToString(System.Globalization.CultureInfo.InvariantCulture))}] (is {ramp}).");
                return;
            }
        }
    }

    private static bool IsKnownDevice(string? device) => device is not null &&
        (device is "cpu" or "cuda" or "auto" || (device.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(device.AsSpan(5), out var i) && i >= 0));

    /// <summary>The serializer settings of <see cref="ToJson"/>.</summary>
    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(), new PairConverter() },
    };

    /// <summary>Writes a (double, double) pair as a two-element array.</summary>
    private sealed class PairConverter : JsonConverter<(double, double)>
    {
        public override (double, double) Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var values = JsonSerializer.Deserialize<double[]>(ref reader, options);
            return values is { Length: 2 } ? (values[0], values[1]) : throw new JsonException("expected a pair [a, b]");
        }

        public override void Write(Utf8JsonWriter writer, (double, double) value, JsonSerializerOptions options)
        {
            writer.WriteStartArray();
            JsonSerializer.Serialize(writer, value.Item1, options);
            JsonSerializer.Serialize(writer, value.Item2, options);
            writer.WriteEndArray();
        }
    }
}
