using System.Runtime.InteropServices;
using NumSharp;
using NumSharp.IO;

namespace Jepa.Runtime.Data;

/// <summary>
/// NumPy <c>.npy</c> and <c>.npz</c> files, read with NumSharp (its 0.70 reader is a port of NumPy's own
/// <c>_format_impl.py</c>: format versions 1 to 3, Fortran order, either byte order; pickled object arrays are refused).
/// Samples are <c>[N, ...]</c> arrays of uint8 (pixels: kept as bytes and scaled by 1/255 when batched), float32 or
/// float64 (taken as they are, stored as float32); labels are 1-dimensional integer arrays (or whole floats).
/// An <c>.npz</c> holds <c>x</c>/<c>y</c>, <c>images</c>/<c>labels</c> or <c>x_train</c>/<c>y_train</c>, optionally with a
/// labelled test split <c>x_test</c>/<c>y_test</c> or <c>test_images</c>/<c>test_labels</c> (Keras' <c>mnist.npz</c> layout).
/// </summary>
internal static class NumpySources
{
    private static readonly string[] TrainFeatures = ["x", "images", "x_train", "train_images"];
    private static readonly string[] TrainLabels = ["y", "labels", "y_train", "train_labels"];
    private static readonly string[] TestFeatures = ["x_test", "test_images"];
    private static readonly string[] TestLabels = ["y_test", "test_labels"];

    /// <summary>An array read from a file: its bytes in C order, element type and shape, and how messages name it.</summary>
    internal sealed record Array(byte[] Bytes, NPTypeCode Type, long[] Shape, string Name);

    public static bool IsNpy(string path) => path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase);

    public static bool IsNpz(string path) => path.EndsWith(".npz", StringComparison.OrdinalIgnoreCase);

    /// <summary>One <c>.npy</c> of samples (unlabelled), or two: the samples and their labels (the 1-dimensional integer one).</summary>
    public static (ISampleSet Train, List<DataFile> Files) OpenNpy(IReadOnlyList<string> paths, string root, DataOptions options)
    {
        var arrays = paths.Select(p => ReadNpy(p)).ToList();
        var files = paths.Select((p, i) => new DataFile(Relative(root, p), new FileInfo(p).Length, arrays[i].Shape.Length > 0 ? arrays[i].Shape[0] : 0)).ToList();
        if (arrays.Count == 1) return (Samples(arrays[0], null, options), files);
        var labelIndex = arrays.FindIndex(a => a.Shape.Length == 1);
        if (arrays.Count != 2 || labelIndex < 0 || arrays[1 - labelIndex].Shape.Length == 1)
            throw new DataException($"Two .npy files are the samples [N, ...] and their labels [N]; got {string.Join(" and ", arrays.Select(a => $"{a.Name} of shape {JepaDataset.Format(a.Shape)}"))}.");
        return (Samples(arrays[1 - labelIndex], arrays[labelIndex], options), files);
    }

    /// <summary>An <c>.npz</c>: the training arrays and, when present, the test arrays.</summary>
    public static (ISampleSet Train, ISampleSet? Test, DataFile File) OpenNpz(string path, string root, DataOptions options)
    {
        try
        {
            using var archive = np.load_npz(path);
            var keys = archive.Keys.ToList();
            var x = Key(keys, TrainFeatures, path, "samples", required: true)!;
            var y = Key(keys, TrainLabels, path, "labels", required: false);
            var xTest = Key(keys, TestFeatures, path, "test samples", required: false);
            var yTest = Key(keys, TestLabels, path, "test labels", required: false);
            if ((xTest is null) != (yTest is null))
                throw new DataException($"'{path}' has {xTest ?? yTest} without {(xTest is null ? "test samples (x_test or test_images)" : "test labels (y_test or test_labels)")}: a test split needs both.");
            Array Get(string key) => Convert(archive[key], $"'{path}' [{key}]");
            var train = Samples(Get(x), y is null ? null : Get(y), options);
            var test = xTest is null ? null : Samples(Get(xTest), Get(yTest!), options);
            var samples = ((Training.ITrainingData)train).Count + (test is null ? 0 : ((Training.ITrainingData)test).Count);
            return (train, test, new DataFile(Relative(root, path), new FileInfo(path).Length, samples));
        }
        catch (Exception e) when (e is FormatException or EndOfStreamException or InvalidDataException or NotSupportedException or IOException)
        {
            throw new DataException($"'{path}' is not a valid .npz file (a zip of .npy arrays): {e.Message}", e);
        }
    }

    private static string? Key(List<string> keys, string[] names, string path, string what, bool required)
    {
        var found = names.Where(n => keys.Contains(n, StringComparer.Ordinal)).ToList();
        if (found.Count > 1)
            throw new DataException($"'{path}' has {string.Join(" and ", found)}: which array holds the {what} is ambiguous; keep one.");
        if (found.Count == 0 && required)
            throw new DataException($"'{path}' has no array of {what}: expected one named {string.Join(", ", names)}; it has {(keys.Count == 0 ? "none" : string.Join(", ", keys))}.");
        return found.Count == 1 ? found[0] : null;
    }

    internal static Array ReadNpy(string path)
    {
        try
        {
            return Convert(np.load_npy(path), $"'{path}'");
        }
        catch (Exception e) when (e is FormatException or EndOfStreamException or InvalidDataException or NotSupportedException)
        {
            throw new DataException($"'{path}' is not a valid .npy file: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException($"The data file '{path}' could not be read: {e.Message}", e);
        }
    }

    private static Array Convert(NDArray array, string name)
    {
        using (array)
            return new Array(array.tobytes(), array.typecode, [.. array.shape.Select(d => (long)d)], name);
    }

    /// <summary>Samples from <paramref name="x"/> [N, ...] with the labels of <paramref name="y"/> [N]: bytes stream, floats sit in memory.</summary>
    private static ISampleSet Samples(Array x, Array? y, DataOptions options)
    {
        if (x.Shape.Length < 2)
            throw new DataException($"{x.Name} has shape {JepaDataset.Format(x.Shape)}; samples are an array of shape [N, ...] (N samples, each of at least one dimension).");
        var labels = y is null ? null : Labels(y, x.Shape[0]);
        var sampleShape = x.Shape[1..];
        switch (x.Type)
        {
            case NPTypeCode.Byte:
                return new StreamingDataset(new SampleStore(new MemorySource(x.Bytes, sampleShape), 0), sampleShape, labels, null, x.Name, options);
            case NPTypeCode.Single:
            case NPTypeCode.Double:
            {
                float[] values = x.Type == NPTypeCode.Single
                    ? MemoryMarshal.Cast<byte, float>(x.Bytes).ToArray()
                    : [.. MemoryMarshal.Cast<byte, double>(x.Bytes).ToArray().Select(v => (float)v)];
                using var scope = TorchSharp.torch.NewDisposeScope();
                return new JepaDataset(TorchSharp.torch.tensor(values, x.Shape), labels is null ? null : TorchSharp.torch.tensor(labels), x.Name);
            }
            default:
                throw new DataException($"{x.Name} holds {DtypeName(x.Type)} values; samples must be uint8 (pixels 0..255, scaled by 1/255), float32 or float64 (taken as they are). Convert them, for example with x.astype(np.float32).");
        }
    }

    private static long[] Labels(Array y, long count)
    {
        if (y.Shape.Length != 1 || y.Shape[0] != count)
            throw new DataException($"{y.Name} has shape {JepaDataset.Format(y.Shape)}; the labels of {count} samples are an array of shape [{count}].");
        long[] values = y.Type switch
        {
            NPTypeCode.Byte => [.. y.Bytes.Select(b => (long)b)],
            NPTypeCode.SByte => [.. MemoryMarshal.Cast<byte, sbyte>(y.Bytes).ToArray().Select(v => (long)v)],
            NPTypeCode.Int16 => [.. MemoryMarshal.Cast<byte, short>(y.Bytes).ToArray().Select(v => (long)v)],
            NPTypeCode.UInt16 => [.. MemoryMarshal.Cast<byte, ushort>(y.Bytes).ToArray().Select(v => (long)v)],
            NPTypeCode.Int32 => [.. MemoryMarshal.Cast<byte, int>(y.Bytes).ToArray().Select(v => (long)v)],
            NPTypeCode.UInt32 => [.. MemoryMarshal.Cast<byte, uint>(y.Bytes).ToArray().Select(v => (long)v)],
            NPTypeCode.Int64 => MemoryMarshal.Cast<byte, long>(y.Bytes).ToArray(),
            NPTypeCode.UInt64 => [.. MemoryMarshal.Cast<byte, ulong>(y.Bytes).ToArray().Select(v => v > long.MaxValue ? -1 : (long)v)],
            NPTypeCode.Single => [.. MemoryMarshal.Cast<byte, float>(y.Bytes).ToArray().Select(v => WholeNumber(v, y.Name))],
            NPTypeCode.Double => [.. MemoryMarshal.Cast<byte, double>(y.Bytes).ToArray().Select(v => WholeNumber(v, y.Name))],
            _ => throw new DataException($"{y.Name} holds {DtypeName(y.Type)} values; labels must be integers (class indices 0, 1, 2, ...)."),
        };
        if (values.Length > 0 && values.Min() < 0)
            throw new DataException($"{y.Name} has a negative label ({values.Min()}); labels are class indices 0, 1, 2, ...");
        return values;
    }

    private static long WholeNumber(double v, string name) =>
        double.IsFinite(v) && v == Math.Round(v) ? (long)v : throw new DataException($"{name} has labels that are not whole numbers ({v}); labels are class indices 0, 1, 2, ...");

    /// <summary>NumPy's name of a type: int16, bool, complex128, ...</summary>
    private static string DtypeName(NPTypeCode type) => type switch
    {
        NPTypeCode.Boolean => "bool",
        NPTypeCode.SByte => "int8",
        NPTypeCode.Byte => "uint8",
        NPTypeCode.Int16 => "int16",
        NPTypeCode.UInt16 => "uint16",
        NPTypeCode.Int32 => "int32",
        NPTypeCode.UInt32 => "uint32",
        NPTypeCode.Int64 => "int64",
        NPTypeCode.UInt64 => "uint64",
        NPTypeCode.Half => "float16",
        NPTypeCode.Single => "float32",
        NPTypeCode.Double => "float64",
        NPTypeCode.Complex => "complex128",
        _ => type.ToString().ToLowerInvariant(),
    };

    internal static string Relative(string root, string path) => Path.GetRelativePath(root, Path.GetFullPath(path)).Replace('\\', '/');
}
