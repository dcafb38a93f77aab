namespace Jepa.Runtime.Data;

/// <summary>
/// A sample source with its cache: each decoded sample is kept as its bytes (uint8, a quarter of float32) when the whole
/// source fits <see cref="DataOptions.CacheBytes"/>, so only the first pass decodes; otherwise every pass decodes again.
/// Sources already in memory are never cached. Shared by a data set and its subsets; thread-safe (a sample decoded
/// twice at once is stored twice with the same bytes).
/// </summary>
internal sealed class SampleStore
{
    private readonly byte[]?[]? cache;

    public SampleStore(ISampleSource source, long cacheBytes)
    {
        Source = source;
        DataBytes = (long)source.Count * source.SampleBytes;
        if (!source.InMemory && DataBytes <= cacheBytes) cache = new byte[source.Count][];
        CacheBytes = cacheBytes;
    }

    public ISampleSource Source { get; }

    /// <summary>Bytes of all decoded samples (count x sample bytes).</summary>
    public long DataBytes { get; }

    /// <summary>The cache budget this store was made with.</summary>
    public long CacheBytes { get; }

    /// <summary>True when decoded samples are kept.</summary>
    public bool Caches => cache is not null;

    public void Read(int index, Span<byte> destination)
    {
        if (cache is not null && Volatile.Read(ref cache[index]) is { } kept)
        {
            kept.CopyTo(destination);
            return;
        }
        Source.Read(index, destination);
        if (cache is not null) Volatile.Write(ref cache[index], destination.ToArray());
    }

    /// <summary>One line on the memory rule's decision, for the run's output.</summary>
    public string Describe()
    {
        if (Source.InMemory) return $"in memory as bytes ({ByteSize.Format(DataBytes)})";
        return Caches
            ? $"decoded samples cached as bytes ({ByteSize.Format(DataBytes)}, within the cache budget of {ByteSize.Format(CacheBytes)})"
            : $"decoded again every epoch: {ByteSize.Format(DataBytes)} of decoded samples exceed the cache budget of {ByteSize.Format(CacheBytes)} (--cache-memory)";
    }
}
