using static TorchSharp.torch;

namespace Jepa.Runtime.Data;

/// <summary>
/// Samples read and decoded while training: worker threads fill each batch as plain bytes (<see cref="BatchPrefetcher"/>,
/// a bounded queue of <see cref="DataOptions.Prefetch"/> batches), and the consuming thread turns them into float32
/// tensors in [0, 1] (bytes / 255). Every epoch is a full shuffle of the sample indices from (seed, epoch), the same as
/// <see cref="JepaDataset"/>'s, so a resume that starts at batch k of an epoch sees the batches it would have seen, and
/// the number of workers changes nothing but speed. Decoded samples are cached as bytes when they fit the memory budget
/// (<see cref="SampleStore"/>). Subsets share the source and its cache.
/// </summary>
public sealed class StreamingDataset : ISampleSet
{
    private readonly SampleStore store;
    private readonly int[] map;   // position in this set -> index in the source
    private readonly DataOptions options;

    internal StreamingDataset(SampleStore store, long[] sampleShape, long[]? labels, IReadOnlyList<string>? classNames, string source, DataOptions options, int[]? map = null)
    {
        this.store = store;
        this.options = options;
        this.map = map ?? [.. Enumerable.Range(0, store.Source.Count)];
        if (JepaDataset.Product(sampleShape) != store.Source.SampleBytes)
            throw new ArgumentException($"A sample of shape {JepaDataset.Format(sampleShape)} does not have {store.Source.SampleBytes} values.", nameof(sampleShape));
        if (labels is not null && labels.Length != this.map.Length)
            throw new DataException($"{source} has {this.map.Length} samples but {labels.Length} labels; give one label per sample.");
        SampleShape = sampleShape;
        LabelValues = labels;
        ClassNames = labels is null ? [] : classNames ?? SampleOrder.NumericClassNames(labels);
        Source = source;
    }

    /// <inheritdoc/>
    public string Source { get; }

    /// <inheritdoc/>
    public long Count => map.Length;

    /// <inheritdoc/>
    public long[] SampleShape { get; }

    /// <inheritdoc/>
    public bool HasLabels => LabelValues is not null;

    /// <inheritdoc/>
    public long[]? LabelValues { get; }

    /// <inheritdoc/>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Worker threads that decode.</summary>
    public int Workers => options.WorkerCount;

    /// <summary>True when decoded samples are kept in memory (they fit the cache budget), or the samples are in memory anyway.</summary>
    public bool Cached => store.Caches || store.Source.InMemory;

    /// <summary>The memory the samples take at most as this loader holds them: all of them as bytes when they are in
    /// memory or cached (once the cache is full), else none beyond the prefetch queue. Shared with subsets.</summary>
    public long MemoryBytes => store.Source.InMemory || store.Caches ? store.DataBytes : 0;

    /// <summary>How the samples are held: in memory, cached after the first decode, or decoded every epoch (one line).</summary>
    public string Memory => store.Describe();

    /// <inheritdoc/>
    public IEnumerable<Tensor> Batches(int batchSize, long seed, long epoch, bool dropLast = true, long startBatch = 0)
    {
        var batches = SampleOrder.Batches(Count, batchSize, dropLast);
        if (startBatch < 0 || startBatch > batches) throw new ArgumentOutOfRangeException(nameof(startBatch), startBatch, $"An epoch has {batches} batches.");
        var order = SampleOrder.Of(Count, seed, epoch);
        return Stream(order, batchSize, startBatch, batches);
    }

    /// <summary>The samples in their stored order in batches of at most <paramref name="batchSize"/> (the last may be smaller).</summary>
    public IEnumerable<Tensor> InOrder(int batchSize)
    {
        var batches = SampleOrder.Batches(Count, batchSize, dropLast: false);
        return Stream([.. Enumerable.Range(0, map.Length).Select(i => (long)i)], batchSize, 0, batches);
    }

    /// <inheritdoc/>
    public JepaDataset ToDataset()
    {
        using var scope = NewDisposeScope();
        var parts = InOrder(1024).ToList();
        var features = parts.Count == 0 ? zeros([0, .. SampleShape]) : cat(parts, 0);
        using var labels = LabelValues is null ? null : tensor(LabelValues);
        return new JepaDataset(features, labels, Source).WithClassNames(ClassNames);
    }

    /// <inheritdoc/>
    ISampleSet ISampleSet.Subset(long[] indices, string source) => Subset(indices, source);

    /// <summary>The samples at <paramref name="indices"/> (positions in this set), sharing this set's source and cache.</summary>
    public StreamingDataset Subset(long[] indices, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var positions = indices.Select(i => i >= 0 && i < map.Length ? map[i] : throw new ArgumentOutOfRangeException(nameof(indices), i, $"{Source} has {map.Length} samples.")).ToArray();
        return new StreamingDataset(store, SampleShape, LabelValues is null ? null : [.. indices.Select(i => LabelValues[i])], ClassNames, source ?? Source, options, positions);
    }

    /// <summary>The same samples seen with another shape of as many values (a flat [784] as [1, 28, 28]).</summary>
    internal StreamingDataset Reshape(long[] shape) => new(store, shape, LabelValues, ClassNames, Source, options, map);

    /// <summary>In-memory samples stored [h, w, c] (NumPy's usual image layout) rearranged to [c, h, w].</summary>
    internal StreamingDataset ChannelsFirst()
    {
        if (store.Source is not MemorySource memory || SampleShape is not [var h, var w, var c])
            throw new InvalidOperationException("Only in-memory samples of shape [h, w, c] can be rearranged.");
        var from = memory.Values;
        var to = new byte[from.Length];
        var size = (int)(h * w * c);
        for (var start = 0; start < from.Length; start += size)
        {
            for (var p = 0; p < h * w; p++)
            {
                for (var ch = 0; ch < c; ch++) to[start + ch * h * w + p] = from[start + p * c + ch];
            }
        }
        long[] shape = [c, h, w];
        return new StreamingDataset(new SampleStore(new MemorySource(to, shape), 0), shape, LabelValues, ClassNames, Source, options, map);
    }

    /// <summary>Nothing to release: the bytes are managed memory, shared with subsets.</summary>
    public void Dispose()
    {
    }

    /// <inheritdoc/>
    public override string ToString() => SampleOrder.Describe(this);

    private IEnumerable<Tensor> Stream(long[] order, int batchSize, long startBatch, long batches)
    {
        if (startBatch >= batches) yield break;
        var sampleBytes = store.Source.SampleBytes;
        int SamplesIn(long b) => (int)Math.Min(batchSize, order.Length - b * batchSize);
        void Fill(long b, byte[] buffer)
        {
            FaultInjection.DataWorker();
            var start = b * batchSize;
            for (var i = 0; i < SamplesIn(b); i++) store.Read(map[order[start + i]], buffer.AsSpan(i * sampleBytes, sampleBytes));
        }

        using var prefetcher = new BatchPrefetcher(startBatch, batches, options.WorkerCount, options.PrefetchDepth, b => SamplesIn(b) * sampleBytes, Fill);
        for (var b = startBatch; b < batches; b++)
        {
            var (buffer, length) = prefetcher.Take(b);
            Tensor batch;
            using (var bytes = tensor(length == buffer.Length ? buffer : buffer[..length], [SamplesIn(b), .. SampleShape]))
                batch = bytes.to(ScalarType.Float32).div_(255.0);
            prefetcher.Release(b);
            if ((store.Source as ImageFileSource)?.TakeUpscaleNote() is { } note) options.Log?.Invoke(note);
            yield return batch;
        }
    }
}
