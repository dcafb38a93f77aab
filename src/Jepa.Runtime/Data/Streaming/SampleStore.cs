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
        if (Source.InMemory) return $"in memory as bytes ({Size(DataBytes)})";
        return Caches
            ? $"decoded samples cached as bytes ({Size(DataBytes)}, within the cache budget of {Size(CacheBytes)})"
            : $"decoded again every epoch: {Size(DataBytes)} of decoded samples exceed the cache budget of {Size(CacheBytes)} (--cache-memory)";
    }

    /// <summary>A byte count in binary units: 512 B, 3.0 KiB, 58.6 MiB, 1.50 GiB.</summary>
    public static string Size(long bytes) => bytes switch
    {
        < 1024 => FormattableString.Invariant($"{bytes} B"),
        < 1024 * 1024 => FormattableString.Invariant($"{bytes / 1024.0:F1} KiB"),
        < 1024L * 1024 * 1024 => FormattableString.Invariant($"{bytes / (1024.0 * 1024):F1} MiB"),
        _ => FormattableString.Invariant($"{bytes / (1024.0 * 1024 * 1024):F2} GiB"),
    };
}
