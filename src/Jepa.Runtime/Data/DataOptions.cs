namespace Jepa.Runtime.Data;

/// <summary>How <see cref="DataSources.Open"/> reads data for an experiment.</summary>
public sealed record DataOptions
{
    /// <summary>The experiment's input shape: images are converted and resized to it (<c>[c, h, w]</c>), arrays reshaped to it.</summary>
    public required long[] InputShape { get; init; }

    /// <summary>Worker threads that read and decode (null: <see cref="DefaultWorkers"/>).</summary>
    public int? Workers { get; init; }

    /// <summary>The memory decoded samples may take as bytes; more than that and they are decoded again each epoch (null: <see cref="DefaultCacheBytes"/>; 0: never cached).</summary>
    public long? CacheBytes { get; init; }

    /// <summary>Batches decoded ahead of the trainer, at most (null: twice the workers, at least 4).</summary>
    public int? Prefetch { get; init; }

    /// <summary>Decode every image when the folder is indexed and leave out those that cannot be decoded (counted in a note) instead of stopping with an error when one is met.</summary>
    public bool SkipBadFiles { get; init; }

    /// <summary>Where notes go (ignored files, the cache decision, upscaled images); null: nowhere.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>One fewer than the processor count, between 1 and 8: the trainer keeps a core.</summary>
    public static int DefaultWorkers => Math.Clamp(Environment.ProcessorCount - 1, 1, 8);

    /// <summary>A quarter of the memory available to the process (the GC's view: physical memory or the container's limit).</summary>
    public static long DefaultCacheBytes => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4;

    internal int WorkerCount => Workers is { } w ? w : DefaultWorkers;

    internal int PrefetchDepth => Prefetch is { } p ? p : Math.Max(4, 2 * WorkerCount);

    internal long CacheBudget => CacheBytes is { } c ? c : DefaultCacheBytes;

    /// <summary>Throws for values that cannot work (no workers, a negative budget).</summary>
    public void Validate()
    {
        if (Workers is < 1) throw new ArgumentOutOfRangeException(nameof(Workers), Workers, "The data loader needs at least one worker.");
        if (Prefetch is < 1) throw new ArgumentOutOfRangeException(nameof(Prefetch), Prefetch, "The prefetch queue holds at least one batch.");
        if (CacheBytes is < 0) throw new ArgumentOutOfRangeException(nameof(CacheBytes), CacheBytes, "The cache budget cannot be negative.");
        if (InputShape is null || InputShape.Length == 0 || InputShape.Any(d => d < 1))
            throw new ArgumentException($"The input shape {(InputShape is null ? "null" : JepaDataset.Format(InputShape))} must have at least one dimension, each at least 1.", nameof(InputShape));
    }
}
