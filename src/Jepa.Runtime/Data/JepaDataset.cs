using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Data;

/// <summary>
/// A data set in memory for training and evaluation: features <c>(N, ...)</c> float32 and optional labels <c>(N)</c>
/// int64. Shuffling is seeded per epoch and depends only on (seed, epoch) (<see cref="SampleOrder.Of"/>), so a resumed
/// run sees the same order; batches drop the last incomplete one by default. The data set owns its tensors (they are
/// detached from any dispose scope).
/// </summary>
public sealed class JepaDataset : ISampleSet
{
    private readonly long[]? lines;   // the file line of each sample, for messages (CSV)
    private long[]? labelValues;
    private IReadOnlyList<string>? classNames;

    /// <summary>Creates a data set over <paramref name="features"/> (N, ...) and optional <paramref name="labels"/> (N).</summary>
    /// <param name="features">Any real or integer tensor with the samples along the first dimension; stored as float32.</param>
    /// <param name="labels">Non-negative integer class labels, one per sample.</param>
    /// <param name="source">How messages name the data, for example the file path.</param>
    public JepaDataset(Tensor features, Tensor? labels = null, string source = "the in-memory data")
        : this(features, labels, source, null) { }

    internal JepaDataset(Tensor features, Tensor? labels, string source, long[]? lines)
    {
        ArgumentNullException.ThrowIfNull(features);
        Source = source;
        if (features.dim() < 1) throw new DataException($"{source} must hold samples along a first dimension; it is a scalar.");
        if (features.is_complex() || features.dtype == ScalarType.Bool)
            throw new DataException($"{source} must hold real numbers, not {features.dtype}.");
        Features = (features.dtype == ScalarType.Float32 ? features.alias() : features.to(ScalarType.Float32)).DetachFromDisposeScope();
        if (labels is not null)
        {
            if (labels.dim() != 1 || labels.shape[0] != features.shape[0])
                throw new DataException($"{source} has {features.shape[0]} samples but {(labels.dim() == 1 ? labels.shape[0] + " labels" : "labels of shape [" + string.Join(", ", labels.shape) + "]")}; give one label per sample.");
            if (labels.is_floating_point() && !labels.eq(labels.round()).all().item<bool>())
                throw new DataException($"{source} has labels that are not whole numbers; labels are class indices 0, 1, 2, ...");
            Labels = labels.to(ScalarType.Int64).DetachFromDisposeScope();
            if (Labels.numel() > 0 && Labels.min().item<long>() < 0)
                throw new DataException($"{source} has a negative label ({Labels.min().item<long>()}); labels are class indices 0, 1, 2, ...");
        }
        this.lines = lines;
    }

    /// <summary>How messages name this data (a file path, "digits (embedded)", ...).</summary>
    public string Source { get; }

    /// <summary>The samples, (N, ...) float32.</summary>
    public Tensor Features { get; }

    /// <summary>The class labels, (N) int64, or null.</summary>
    public Tensor? Labels { get; }

    /// <summary>True when every sample has a label.</summary>
    public bool HasLabels => Labels is not null;

    /// <summary>The number of samples N.</summary>
    public long Count => Features.shape[0];

    /// <summary>The shape of one sample (without the batch dimension).</summary>
    public long[] SampleShape => Features.shape[1..];

    /// <summary>The number of classes: the largest label + 1 (0 without labels).</summary>
    public int ClassCount => Labels is null || Labels.numel() == 0 ? 0 : (int)Labels.max().item<long>() + 1;

    /// <inheritdoc/>
    public long[]? LabelValues => Labels is null ? null : labelValues ??= Labels.cpu().data<long>().ToArray();

    /// <inheritdoc/>
    public IReadOnlyList<string> ClassNames => Labels is null ? [] : classNames ??= SampleOrder.NumericClassNames(LabelValues);

    /// <summary>Names the classes (an image folder's class folders); the labels index them.</summary>
    public JepaDataset WithClassNames(IReadOnlyList<string> names)
    {
        classNames = Labels is null ? null : names;
        return this;
    }

    /// <summary>
    /// Checks the data against what an experiment needs and throws a <see cref="DataException"/> that says what differs:
    /// at least one sample; samples with as many values as <paramref name="inputShape"/>; only finite values; labels when
    /// <paramref name="labelsNeededBy"/> names the evaluation that needs them.
    /// </summary>
    public void Validate(ReadOnlySpan<long> inputShape, string? labelsNeededBy = null)
    {
        if (Count == 0) throw new DataException($"{Source} has no samples.");
        var expected = Product(inputShape);
        var actual = Product(SampleShape);
        if (expected != actual)
        {
            var hint = actual == expected + 1 && lines is not null ? " Is the label column read as a feature? Set the label column in CsvOptions." : "";
            throw new DataException($"The experiment expects samples of shape {Format(inputShape)} ({expected} values each), but {Source} has samples of shape {Format(SampleShape)} ({actual} values each).{hint}");
        }
        CheckFinite();
        if (labelsNeededBy is not null && Labels is null)
            throw new DataException($"{labelsNeededBy} needs labels, but {Source} has none. Load it with a label column, or pass labels with the features.");
    }

    /// <summary>The same samples viewed with the experiment's input shape (a flattened 8x8 image becomes [1, 8, 8]).</summary>
    public JepaDataset Reshape(ReadOnlySpan<long> inputShape)
    {
        var expected = Product(inputShape);
        var actual = Product(SampleShape);
        if (expected != actual)
            throw new DataException($"The experiment expects samples of shape {Format(inputShape)} ({expected} values each), but {Source} has samples of shape {Format(SampleShape)} ({actual} values each).");
        using var scope = NewDisposeScope();
        return new JepaDataset(Features.reshape([Count, .. inputShape]), Labels, Source, lines) { classNames = classNames };
    }

    /// <summary><see cref="Validate"/> then <see cref="Reshape"/>: the data in the shape the experiment trains on.</summary>
    public JepaDataset ForExperiment(ReadOnlySpan<long> inputShape, string? labelsNeededBy = null)
    {
        Validate(inputShape, labelsNeededBy);
        return Reshape(inputShape);
    }

    /// <summary>The sample order of an epoch: a permutation that depends only on (<paramref name="seed"/>, <paramref name="epoch"/>).</summary>
    public long[] Order(long seed, long epoch) => SampleOrder.Of(Count, seed, epoch);

    /// <summary>The number of batches in one epoch.</summary>
    public long BatchesPerEpoch(int batchSize, bool dropLast = true) => SampleOrder.Batches(Count, batchSize, dropLast);

    /// <summary>
    /// The feature batches of epoch <paramref name="epoch"/> in its seeded order, from batch <paramref name="startBatch"/>
    /// (to resume inside an epoch). Each batch is a new tensor that the caller owns (B, ...).
    /// </summary>
    public IEnumerable<Tensor> Batches(int batchSize, long seed, long epoch, bool dropLast = true, long startBatch = 0)
    {
        foreach (var idx in BatchIndices(batchSize, seed, epoch, dropLast, startBatch))
            yield return Take(Features, idx);
    }

    /// <summary>As <see cref="Batches"/>, with the labels of each batch (B).</summary>
    public IEnumerable<(Tensor Features, Tensor Labels)> LabelledBatches(int batchSize, long seed, long epoch, bool dropLast = true, long startBatch = 0)
    {
        var labels = Labels ?? throw new DataException($"Labelled batches need labels, but {Source} has none.");
        foreach (var idx in BatchIndices(batchSize, seed, epoch, dropLast, startBatch))
            yield return (Take(Features, idx), Take(labels, idx));
    }

    /// <summary>The samples in their stored order in batches of at most <paramref name="batchSize"/> (the last may be smaller).</summary>
    public IEnumerable<Tensor> InOrder(int batchSize)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be at least 1.");
        for (long start = 0; start < Count; start += batchSize)
            yield return Features.narrow(0, start, Math.Min(batchSize, Count - start));
    }

    /// <summary>The samples at <paramref name="indices"/>, with their labels.</summary>
    public JepaDataset Subset(long[] indices, string? source = null)
    {
        using var scope = NewDisposeScope();
        using var idx = tensor(indices, dtype: ScalarType.Int64, device: Features.device);
        return new JepaDataset(Features.index_select(0, idx), Labels?.index_select(0, idx.to(Labels.device)), source ?? Source,
                               lines is null ? null : indices.Select(i => lines[i]).ToArray()) { classNames = classNames };
    }

    /// <inheritdoc/>
    ISampleSet ISampleSet.Subset(long[] indices, string source) => Subset(indices, source);

    /// <summary>This data set under another handle (the tensors are shared, each handle is disposed on its own).</summary>
    public JepaDataset ToDataset() => new(Features, Labels, Source, lines) { classNames = classNames };

    /// <summary>A stratified, seeded train/test split (see <see cref="Datasets.StratifiedSplit"/>).</summary>
    public (JepaDataset Train, JepaDataset Test) Split(double testFraction, long seed)
    {
        var labels = Labels ?? throw new DataException($"A stratified split needs labels, but {Source} has none.");
        var (train, test) = Datasets.StratifiedSplit(labels, testFraction, seed);
        return (Subset(train, $"{Source} (train split)"), Subset(test, $"{Source} (test split)"));
    }

    /// <summary>The data set on another device.</summary>
    public JepaDataset To(Device device)
    {
        using var scope = NewDisposeScope();
        return new JepaDataset(Features.to(device), Labels?.to(device), Source, lines) { classNames = classNames };
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Features.Dispose();
        Labels?.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => SampleOrder.Describe(this);

    private IEnumerable<long[]> BatchIndices(int batchSize, long seed, long epoch, bool dropLast, long startBatch)
    {
        var batches = BatchesPerEpoch(batchSize, dropLast);
        if (startBatch < 0 || startBatch > batches) throw new ArgumentOutOfRangeException(nameof(startBatch), startBatch, $"An epoch has {batches} batches.");
        var order = Order(seed, epoch);
        for (var b = startBatch; b < batches; b++)
        {
            var start = b * batchSize;
            yield return order.AsSpan((int)start, (int)Math.Min(batchSize, Count - start)).ToArray();
        }
    }

    private static Tensor Take(Tensor source, long[] idx)
    {
        using var index = tensor(idx, dtype: ScalarType.Int64, device: source.device);
        return source.index_select(0, index);
    }

    private void CheckFinite()
    {
        using var scope = NewDisposeScope();
        var flat = Features.reshape(Count, -1);
        if (isfinite(flat).all().item<bool>()) return;
        var first = isfinite(flat).logical_not().nonzero()[0];                   // (sample, feature), row-major first
        long sample = first[0].item<long>(), feature = first[1].item<long>();
        var value = flat[sample, feature].item<float>();
        var kind = float.IsNaN(value) ? "NaN" : value > 0 ? "+infinity" : "-infinity";
        var where = lines is null ? "" : $" (line {lines[sample]} of the file)";
        throw new DataException($"{Source} contains {kind} at sample {sample}, feature {feature} (both counted from 0){where}; every value must be finite.");
    }

    internal static long Product(ReadOnlySpan<long> shape)
    {
        long n = 1;
        foreach (var s in shape) n *= s;
        return n;
    }

    internal static string Format(ReadOnlySpan<long> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";
}

/// <summary>Seed derivation: independent generator seeds from (seed, stream) pairs.</summary>
internal static class Seeds
{
    /// <summary>SplitMix64 of the pair: a well-mixed 64-bit seed that depends only on (seed, stream).</summary>
    public static ulong Mix(long seed, long stream) => SplitMix((ulong)seed ^ SplitMix((ulong)stream + 0x9E3779B97F4A7C15UL));

    private static ulong SplitMix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
