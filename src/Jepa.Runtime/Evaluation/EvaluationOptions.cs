using System.Text.Json.Serialization;

namespace Jepa.Runtime.Evaluation;

/// <summary>The <c>evaluate { ... }</c> block: which probes run on frozen embeddings of a labelled split.</summary>
public sealed record EvaluationOptions
{
    /// <summary><c>linear_probe(epochs)</c>, or null.</summary>
    public LinearProbeOptions? LinearProbe { get; init; }

    /// <summary><c>few_shot(labels_per_class, draws)</c>, or null.</summary>
    public FewShotOptions? FewShot { get; init; }

    /// <summary><c>knn(k)</c>, or null.</summary>
    public KnnOptions? Knn { get; init; }

    /// <summary><c>online(every, samples)</c>: probes while training, or null (see <see cref="OnlineEvaluationOptions"/>).</summary>
    public OnlineEvaluationOptions? Online { get; init; }

    /// <summary>The fraction of the labelled data held out as the test split (stratified); 0.25 by default.</summary>
    public double TestFraction { get; init; } = 0.25;

    /// <summary>True when at least one probe of the final evaluation is configured (the online evaluation aside).</summary>
    [JsonIgnore]
    public bool Any => LinearProbe is not null || FewShot is not null || Knn is not null;

    /// <summary>The names of the configured probes, as the .jepa file spells them (for messages).</summary>
    [JsonIgnore]
    public string Names => string.Join(", ", new[] { LinearProbe is null ? null : "linear_probe", FewShot is null ? null : "few_shot", Knn is null ? null : "knn" }.OfType<string>());
}

/// <summary>
/// <c>linear_probe(epochs)</c>: multinomial logistic regression on frozen embeddings, full-batch L-BFGS for at most
/// <paramref name="Epochs"/> iterations, L2 penalty as scikit-learn's C = 1 (see <see cref="LogisticRegression"/>).
/// </summary>
public sealed record LinearProbeOptions(int Epochs = 100);

/// <summary>
/// <c>few_shot(labels_per_class, draws, epochs)</c>: the linear probe trained on <paramref name="LabelsPerClass"/> labelled
/// samples per class of the train split, averaged over <paramref name="Draws"/> fixed draws (draw i is seeded by i).
/// <paramref name="Epochs"/> is the probe's iteration budget.
/// </summary>
public sealed record FewShotOptions(int LabelsPerClass = 10, int Draws = 10, int Epochs = 100);

/// <summary><c>knn(k)</c>: k nearest neighbours by cosine similarity, uniform vote, ties to the smallest label.</summary>
public sealed record KnnOptions(int K = 20);

/// <summary>
/// <c>online(every, samples)</c>: every <paramref name="Every"/> steps (and at step 0 and the last step), the trainer
/// embeds a fixed subset of <paramref name="Samples"/> labelled samples (drawn once, stratified, seeded by the run seed,
/// from the probe data or the labelled training data, never the test split), fits a ridge probe
/// (<see cref="RidgeClassifier"/>) on part of it and scores it and kNN (the <c>knn</c> entry's k, else 20) on the rest
/// (<see cref="EvaluationOptions.TestFraction"/>, stratified). The results go to the metrics files and the progress
/// reports; the time they take counts in the run's seconds and is reported on its own.
/// </summary>
public sealed record OnlineEvaluationOptions(int Every = 100, int Samples = 1000)
{
    /// <summary>The fewest samples a subset may have: a few per class on each side of its split.</summary>
    public const int MinSamples = 20;
}
