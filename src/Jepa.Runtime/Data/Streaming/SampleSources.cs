namespace Jepa.Runtime.Data;

/// <summary>
/// Where the bytes of each sample come from: <c>[..sample shape]</c> unsigned bytes (pixel values 0..255) by index.
/// <see cref="Read"/> is called from the loader's worker threads, several at once.
/// </summary>
internal interface ISampleSource
{
    /// <summary>The number of samples.</summary>
    int Count { get; }

    /// <summary>The shape of one sample; <see cref="SampleBytes"/> is its product.</summary>
    long[] SampleShape { get; }

    int SampleBytes { get; }

    /// <summary>True when reading is a copy from memory: the samples are never cached a second time.</summary>
    bool InMemory { get; }

    /// <summary>Writes sample <paramref name="index"/> into <paramref name="destination"/>; a <see cref="DataException"/> names a bad file.</summary>
    void Read(int index, Span<byte> destination);
}

/// <summary>Samples held in memory as one array of bytes (IDX images, uint8 NumPy arrays).</summary>
internal sealed class MemorySource(byte[] values, long[] sampleShape) : ISampleSource
{
    /// <summary>All samples' bytes, one after the other.</summary>
    public byte[] Values => values;

    public int SampleBytes { get; } = checked((int)JepaDataset.Product(sampleShape));

    public int Count => SampleBytes == 0 ? 0 : values.Length / SampleBytes;

    public long[] SampleShape => sampleShape;

    public bool InMemory => true;

    public void Read(int index, Span<byte> destination) => values.AsSpan(index * SampleBytes, SampleBytes).CopyTo(destination);
}

/// <summary>
/// Image files decoded on demand into <c>[c, h, w]</c> (<see cref="ImageDecoder"/>). Counts the images smaller than the
/// input, which are upscaled; the first one is kept for the note.
/// </summary>
internal sealed class ImageFileSource(string root, IReadOnlyList<string> files, int channels, int height, int width) : ISampleSource
{
    private long upscaled;
    private string? firstUpscaled;
    private int upscaleNoted;

    public int Count => files.Count;

    public long[] SampleShape { get; } = [channels, height, width];

    public int SampleBytes => channels * height * width;

    public bool InMemory => false;

    /// <summary>How many decoded images were smaller than the input in a dimension (counted once per decode).</summary>
    public long Upscaled => Interlocked.Read(ref upscaled);

    /// <summary>The note on upscaled images, the first time it is asked for after one was found; null otherwise.</summary>
    public string? TakeUpscaleNote()
    {
        if (Upscaled == 0 || Interlocked.Exchange(ref upscaleNoted, 1) == 1) return null;
        return $"note: images smaller than the input {width} x {height} are upscaled (the first: {Volatile.Read(ref firstUpscaled)}); docs/data.md says how.";
    }

    public void Read(int index, Span<byte> destination)
    {
        var name = files[index];
        byte[] encoded;
        try
        {
            encoded = File.ReadAllBytes(Path.Combine(root, name));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException($"'{Path.Combine(root, name)}' cannot be read: {e.Message}", e);
        }

        var (w, h) = ImageDecoder.Decode(encoded, Path.Combine(root, name), channels, height, width, destination);
        if (w < width || h < height)
        {
            Interlocked.Increment(ref upscaled);
            Interlocked.CompareExchange(ref firstUpscaled, $"{name}, {w} x {h}", null);
        }
    }
}
