using Jepa.Runtime.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Data;

/// <summary>
/// Samples to train or evaluate on, with optional class labels: in memory (<see cref="JepaDataset"/>, float32) or
/// read and decoded while training (<see cref="StreamingDataset"/>, bytes). Both shuffle an epoch the same way (the
/// permutation of <see cref="SampleOrder.Of"/>), so the same samples give the same batches either way.
/// </summary>
public interface ISampleSet : ITrainingData, IDisposable
{
    /// <summary>How messages name the data: a file or folder path, "digits (embedded)", ...</summary>
    string Source { get; }

    /// <summary>The shape of one sample (without the batch dimension).</summary>
    long[] SampleShape { get; }

    /// <summary>True when every sample has a label.</summary>
    bool HasLabels { get; }

    /// <summary>The class index of each sample (0, 1, ...), or null without labels.</summary>
    long[]? LabelValues { get; }

    /// <summary>
    /// The name of each class index: the class folder names of an image folder, the numbers "0", "1", ... of numeric
    /// labels; empty without labels. A test set's classes are matched to the training set's by these names.
    /// </summary>
    IReadOnlyList<string> ClassNames { get; }

    /// <summary>The samples at <paramref name="indices"/> (positions in this set), with their labels.</summary>
    ISampleSet Subset(long[] indices, string source);

    /// <summary>All samples in memory as float32 in [0, 1] (images) or as stored (other data), in their stored order, with the labels.</summary>
    JepaDataset ToDataset();
}

/// <summary>The sample order of an epoch, and splits, shared by every <see cref="ISampleSet"/>.</summary>
public static class SampleOrder
{
    /// <summary>A permutation of <c>0..count-1</c> that depends only on (<paramref name="seed"/>, <paramref name="epoch"/>): the full shuffle of an epoch.</summary>
    public static long[] Of(long count, long seed, long epoch)
    {
        using var generator = new Generator(Seeds.Mix(seed, epoch), torch.CPU);
        using var permutation = randperm(count, generator: generator);
        return permutation.data<long>().ToArray();
    }

    /// <summary>The number of batches in one epoch of <paramref name="count"/> samples.</summary>
    public static long Batches(long count, int batchSize, bool dropLast)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be at least 1.");
        return dropLast ? count / batchSize : (count + batchSize - 1) / batchSize;
    }

    /// <summary>A stratified, seeded train/test split of a labelled set (<see cref="Datasets.StratifiedSplit(long[], double, long)"/>).</summary>
    public static (ISampleSet Train, ISampleSet Test) Split(this ISampleSet data, double testFraction, long seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        var labels = data.LabelValues ?? throw new DataException($"A stratified split needs labels, but {data.Source} has none.");
        var (train, test) = Datasets.StratifiedSplit(labels, testFraction, seed);
        return (data.Subset(train, $"{data.Source} (train split)"), data.Subset(test, $"{data.Source} (test split)"));
    }

    /// <summary>"0", "1", ... for numeric labels up to the largest.</summary>
    internal static IReadOnlyList<string> NumericClassNames(long[]? labels) =>
        labels is null || labels.Length == 0 ? [] : [.. Enumerable.Range(0, (int)labels.Max() + 1).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>"N samples of shape [..], K classes" (or "no labels").</summary>
    internal static string Describe(ISampleSet data) =>
        $"{data.Source}: {((ITrainingData)data).Count} samples of shape {JepaDataset.Format(data.SampleShape)}{(data.HasLabels ? $", {data.ClassNames.Count} classes" : ", no labels")}";
}
