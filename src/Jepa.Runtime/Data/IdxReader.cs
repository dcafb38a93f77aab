using System.Buffers.Binary;
using static TorchSharp.torch;

namespace Jepa.Runtime.Data;

/// <summary>
/// Reads MNIST-style IDX files (plain or gzip): a 4-byte magic <c>00 00 08 d</c> (unsigned bytes, <c>d</c> dimensions),
/// <c>d</c> big-endian int32 sizes, then the values. Images have 3 dimensions (n, rows, columns), labels 1 (n).
/// </summary>
internal static class IdxReader
{
    public static (byte[] Values, int[] Dims) Read(string path)
    {
        var bytes = ReadAll(path);
        if (bytes.Length < 4 || bytes[0] != 0 || bytes[1] != 0)
            throw new DataException($"'{path}' is not an IDX file: it does not start with the bytes 00 00.");
        if (bytes[2] != 0x08)
            throw new DataException($"'{path}' holds IDX values of type 0x{bytes[2]:x2}; only unsigned bytes (0x08, as in MNIST) are supported.");
        int rank = bytes[3];
        var header = 4 + 4 * rank;
        if (rank < 1 || bytes.Length < header)
            throw new DataException($"'{path}' is truncated: its IDX header announces {rank} dimensions but the file has {bytes.Length} bytes.");
        var dims = new int[rank];
        for (var i = 0; i < rank; i++) dims[i] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * i));
        var count = dims.Aggregate(1L, (a, d) => a * d);
        if (dims.Any(d => d < 0) || bytes.Length - header != count)
            throw new DataException($"'{path}' is {(bytes.Length - header < count ? "truncated" : "longer than its header says")}: the header announces {string.Join(" x ", dims)} values ({header + count} bytes) but the file has {bytes.Length} bytes.");
        return (bytes[header..], dims);
    }

    private static byte[] ReadAll(string path)
    {
        if (!File.Exists(path)) throw new DataException($"The data file '{path}' does not exist.");
        try
        {
            using var file = File.OpenRead(path);
            using var stream = Compression.Decompressed(file, $"'{path}'");
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            return memory.ToArray();
        }
        catch (InvalidDataException e) { throw new DataException($"'{path}' is not a valid gzip file: {e.Message}", e); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new DataException($"The data file '{path}' could not be read: {e.Message}", e); }
    }

    public static JepaDataset Mnist(string imagesPath, string? labelsPath, double divisor)
    {
        var (pixels, dims, labels) = ReadPair(imagesPath, labelsPath);
        var images = tensor(pixels, [dims[0], 1, dims[1], dims[2]]).to(ScalarType.Float32) / divisor;   // (N, 1, rows, cols)
        using var labelTensor = labels is null ? null : tensor(labels);
        return new JepaDataset(images, labelTensor, $"'{imagesPath}'");
    }

    /// <summary>The images as bytes, streamed to the trainer (scaled by 1/255 per batch), with their labels; and the count.</summary>
    public static (StreamingDataset Data, long Count) Streaming(string imagesPath, string? labelsPath, DataOptions options)
    {
        var (pixels, dims, labels) = ReadPair(imagesPath, labelsPath);
        long[] shape = [1, dims[1], dims[2]];
        return (new StreamingDataset(new SampleStore(new MemorySource(pixels, shape), 0), shape, labels, null, $"'{imagesPath}'", options), dims[0]);
    }

    /// <summary>The images file's pixels and dimensions (n, rows, columns), and the labels file's values (checked: as many as images).</summary>
    private static (byte[] Pixels, int[] Dims, long[]? Labels) ReadPair(string imagesPath, string? labelsPath)
    {
        var (pixels, dims) = Read(imagesPath);
        if (dims.Length != 3)
            throw new DataException($"'{imagesPath}' holds IDX data of {dims.Length} dimension(s) ({string.Join(" x ", dims)}); MNIST images have 3 (count x rows x columns). Are the images and labels files swapped?");
        if (labelsPath is null) return (pixels, dims, null);
        var (values, labelDims) = Read(labelsPath);
        if (labelDims.Length != 1)
            throw new DataException($"'{labelsPath}' holds IDX data of {labelDims.Length} dimensions ({string.Join(" x ", labelDims)}); MNIST labels have 1. Are the images and labels files swapped?");
        if (labelDims[0] != dims[0])
            throw new DataException($"'{imagesPath}' has {dims[0]} images but '{labelsPath}' has {labelDims[0]} labels.");
        return (pixels, dims, [.. values.Select(v => (long)v)]);
    }

    /// <summary>The dimension count of an IDX file (magic 0x00 0x00 0x08 d), gzipped or not; 0 for anything else.</summary>
    public static int Dimensions(string path)
    {
        try
        {
            using var stream = Datasets.Open(path);
            Span<byte> magic = stackalloc byte[4];
            if (stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) < 4) return 0;
            return magic[0] == 0 && magic[1] == 0 && magic[2] == 0x08 ? magic[3] : 0;
        }
        catch (InvalidDataException)
        {
            return 0;
        }
    }
}
