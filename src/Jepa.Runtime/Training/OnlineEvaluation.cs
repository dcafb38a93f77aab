using System.Diagnostics;
using Jepa.Runtime.Data;
using Jepa.Runtime.Evaluation;
using static TorchSharp.torch;

namespace Jepa.Runtime.Training;

/// <summary>
/// The online evaluation of one run (<see cref="OnlineEvaluationOptions"/>): a fixed, stratified subset of labelled
/// samples drawn once from the seed (so a resumed run draws the same one), split into a part the probes fit on and a
/// held-out part they are scored on; each reading embeds both with <see cref="JepaExperiment.Embed"/> (modules in
/// evaluation mode, no gradient, nothing random drawn: the training is unchanged by it) and scores a ridge probe and
/// kNN. docs/runtime-training.md, "Online evaluation".
/// </summary>
internal sealed class OnlineEvaluation : IDisposable
{
    /// <summary>Mixed into the run seed to draw the subset.</summary>
    internal const long SubsetSeed = 0x6F6E6C696E65; // "online"

    /// <summary>The ridge probe's penalty, on features scaled to a root mean square of 1 (as the final probe's).</summary>
    internal const double Alpha = 1.0;

    private readonly JepaExperiment experiment;
    private readonly OnlineEvaluationOptions options;
    private readonly JepaDataset fit;
    private readonly JepaDataset heldOut;
    private readonly int classes;
    private readonly int k;

    private OnlineEvaluation(JepaExperiment experiment, OnlineEvaluationOptions options, JepaDataset fit, JepaDataset heldOut, int classes, int k)
    {
        this.experiment = experiment;
        this.options = options;
        this.fit = fit;
        this.heldOut = heldOut;
        this.classes = classes;
        this.k = k;
    }

    /// <summary>The samples the probes fit on and are scored on.</summary>
    public (int Fit, int HeldOut) Counts => ((int)fit.Count, (int)heldOut.Count);

    /// <summary>The labels of the part the probes fit on (for tests).</summary>
    internal Tensor FitLabels() => fit.Labels!;

    /// <summary>The labels of the held-out part the probes are scored on (for tests).</summary>
    internal Tensor HeldOutLabels() => heldOut.Labels!;

    /// <summary>
    /// Draws the subset: <c>min(Samples, N)</c> samples of <paramref name="labelled"/>, stratified (each class in
    /// proportion), seeded by <c>(seed, "online")</c>; then its stratified split by <paramref name="evaluation"/>'s
    /// held-out fraction.
    /// </summary>
    public static OnlineEvaluation Create(JepaExperiment experiment, EvaluationOptions evaluation, ISampleSet labelled, long seed)
    {
        var options = evaluation.Online ?? throw new ArgumentException("The evaluation has no online entry.", nameof(evaluation));
        var labels = labelled.LabelValues ?? throw new DataException($"The online evaluation needs labels, but {labelled.Source} has none.");
        var chosen = labels.Length <= options.Samples
            ? Enumerable.Range(0, labels.Length).Select(i => (long)i).ToArray()
            : Datasets.StratifiedSplit(labels, options.Samples / (double)labels.Length, unchecked((long)Seeds.Mix(seed, SubsetSeed))).Test;
        using var subset = labelled.Subset(chosen, $"{labelled.Source} (online evaluation subset)");
        using var samples = subset.ToDataset();
        var (fit, heldOut) = samples.Split(evaluation.TestFraction, seed);
        if (fit.Count == 0 || heldOut.Count == 0)
        {
            fit.Dispose();
            heldOut.Dispose();
            throw new DataException($"The online evaluation's subset of {chosen.Length} samples of {labelled.Source} cannot be split into a part to fit and a part to score.");
        }
        var classes = (int)labels.Max() + 1;
        var k = Math.Min(evaluation.Knn?.K ?? new KnnOptions().K, (int)fit.Count);
        return new OnlineEvaluation(experiment, options, fit, heldOut, classes, k);
    }

    /// <summary>Whether step <paramref name="step"/> (steps completed) of a run of <paramref name="total"/> takes a reading.</summary>
    public bool IsDue(long step, long total) => step % options.Every == 0 || step == total;

    /// <summary>How many readings are due after <paramref name="step"/>, up to and including <paramref name="total"/>.</summary>
    public long DueAfter(long step, long total) =>
        step >= total ? 0 : total / options.Every - step / options.Every + (total % options.Every == 0 ? 0 : 1);

    /// <summary>The reading after <paramref name="step"/> steps; each module's mode is restored afterwards.</summary>
    public OnlineReading Measure(long step)
    {
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        Tensor train, test;
        using (experiment.EvaluationMode())
        {
            train = Evaluator.Embed(experiment.Embed, fit);
            test = Evaluator.Embed(experiment.Embed, heldOut);
        }
        // As the final probe (Evaluator.Run): one scale for both parts, the root mean square of the fitted part.
        var rms = train.square().mean().sqrt().item<float>();
        if (rms > 0 && float.IsFinite(rms))
        {
            train = train / rms;
            test = test / rms;
        }
        var linear = RidgeClassifier.Fit(train, fit.Labels!, classes, Alpha).Accuracy(test, heldOut.Labels!);
        var knn = Knn.Accuracy(train, fit.Labels!, test, heldOut.Labels!, k, classes);
        return new OnlineReading(step, linear, knn, clock.Elapsed.TotalSeconds);
    }

    public void Dispose()
    {
        fit.Dispose();
        heldOut.Dispose();
    }
}
