using static TorchSharp.torch;

namespace Jepa.Runtime.Training;

/// <summary>
/// The samples a run trains on (<see cref="Data.JepaDataset"/>'s shape, so a data set can implement it as it is).
/// <see cref="Batches"/> yields, with <c>dropLast</c>, <c>Count / batchSize</c> batches of exactly <c>batchSize</c>
/// samples in an order that depends only on <c>(seed, epoch)</c>, from batch <c>startBatch</c> on, so a resumed run
/// sees the same batches. Each yielded tensor is new and owned by the caller: the trainer disposes it with the step.
/// </summary>
public interface ITrainingData
{
    /// <summary>Number of samples.</summary>
    long Count { get; }

    /// <summary>The batches of epoch <paramref name="epoch"/>, each (batchSize, ...sample shape), from batch <paramref name="startBatch"/>.</summary>
    IEnumerable<Tensor> Batches(int batchSize, long seed, long epoch, bool dropLast = true, long startBatch = 0);
}

/// <summary>How one call of <see cref="JepaExperiment.Train"/> runs; none of this changes what is learned except the run length.</summary>
public sealed record TrainOptions
{
    /// <summary>Overrides the experiment's run length in steps (replaces its Steps or Epochs).</summary>
    public long? Steps { get; init; }

    /// <summary>Overrides the experiment's run length in epochs (replaces its Steps or Epochs).</summary>
    public int? Epochs { get; init; }

    /// <summary>
    /// Folder for <c>options.json</c>, <c>metrics.jsonl</c>, <c>metrics.csv</c>, TensorBoard event files (<c>tensorboard/</c>)
    /// and <c>checkpoint.ckpt</c>; created if missing. Null: nothing is written.
    /// </summary>
    public string? RunFolder { get; init; }

    /// <summary>Write <c>checkpoint.ckpt</c> every this many steps (0: only at the end); needs <see cref="RunFolder"/>.</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>A checkpoint to resume from before training (see <see cref="JepaExperiment.Load"/>).</summary>
    public string? ResumeFrom { get; init; }

    /// <summary>Write a metrics row (files, TensorBoard) and report progress every this many steps.</summary>
    public int LogEvery { get; init; } = 1;

    /// <summary>Samples in the fixed batch the collapse monitor embeds (at most the data's size).</summary>
    public int MonitorSamples { get; init; } = 1024;

    /// <summary>Where warnings (collapse alarms) go; null writes them to standard error.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>
    /// The labelled samples the online evaluation (<see cref="Evaluation.EvaluationOptions.Online"/>) draws its fixed
    /// subset from, in the experiment's input shape: the probe data, never the test split. Null: the training data when
    /// it is an <see cref="Data.ISampleSet"/> with labels; without either the online evaluation is skipped with a warning.
    /// </summary>
    public Data.ISampleSet? OnlineData { get; init; }
}

/// <summary>Progress of a run after a step, for a live display.</summary>
public sealed record StepReport(
    long Step,
    long TotalSteps,
    int Epoch,
    IReadOnlyDictionary<string, double> Terms,
    double Loss,
    double LearningRate,
    double WeightDecay,
    double? EmaMomentum,
    double GradientNorm,
    double StepsPerSecond,
    TimeSpan Elapsed,
    TimeSpan? Remaining,
    CollapseReading? Collapse,
    CollapseAlarm? Alarm)
{
    /// <summary>The latest online evaluation (of this step or an earlier one), if the run has one.</summary>
    public OnlineReading? Online { get; init; }

    /// <summary>Seconds the online evaluation has taken so far, across resumes (included in <see cref="Elapsed"/>).</summary>
    public double OnlineSeconds { get; init; }
}

/// <summary>What a call of <see cref="JepaExperiment.Train"/> did.</summary>
public sealed record TrainingRun(
    long Steps,
    long TotalSteps,
    double Seconds,
    IReadOnlyDictionary<string, double> FinalTerms,
    double FinalLoss,
    IReadOnlyList<CollapseReading> CollapseReadings,
    IReadOnlyList<CollapseAlarm> CollapseAlarms,
    StopReason StopReason,
    string? RunFolder,
    string? Checkpoint)
{
    /// <summary>Seconds the last checkpoint write of this call took (metrics flushed, file written, flushed to disk and
    /// renamed), or null when it wrote none.</summary>
    public double? CheckpointSeconds { get; init; }

    /// <summary>The latest collapse reading, if the monitor ran.</summary>
    public CollapseReading? LastCollapse => CollapseReadings.Count == 0 ? null : CollapseReadings[^1];

    /// <summary>Every online evaluation of the run (across resumes), in step order; empty without one.</summary>
    public IReadOnlyList<OnlineReading> OnlineReadings { get; init; } = [];

    /// <summary>The latest online evaluation, if any.</summary>
    public OnlineReading? LastOnline => OnlineReadings.Count == 0 ? null : OnlineReadings[^1];
}

/// <summary>One online evaluation (<see cref="Evaluation.OnlineEvaluationOptions"/>).</summary>
/// <param name="Step">Steps completed when it was taken (0: before training).</param>
/// <param name="LinearProbe">Accuracy of the ridge probe on the held-out part of the subset, in [0, 1].</param>
/// <param name="Knn">Accuracy of kNN (cosine) on the same held-out part, in [0, 1].</param>
/// <param name="Seconds">Wall time of this evaluation (embedding the subset and both probes).</param>
public sealed record OnlineReading(long Step, double LinearProbe, double Knn, double Seconds);
