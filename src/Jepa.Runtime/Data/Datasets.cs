using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Data;

/// <summary>Loaders and the stratified split.</summary>
public static class Datasets
{
    private const string DigitsResource = "Jepa.Runtime.Data.digits.csv.gz";

    /// <summary>
    /// The 1,797 8x8 handwritten digits embedded in Jepa.Runtime (UCI, as redistributed by scikit-learn; see
    /// data/README.md): features (1797, 64) = pixels / 16 in [0, 1], labels 0..9.
    /// </summary>
    public static JepaDataset Digits()
    {
        using var stream = typeof(Datasets).Assembly.GetManifestResourceStream(DigitsResource)
            ?? throw new DataException($"The embedded resource {DigitsResource} is missing from Jepa.Runtime.");
        return CsvReader.Read(stream, "digits (embedded)", new CsvOptions { Label = CsvLabel.Last, Scaling = ValueScaling.DivideBy(16) });
    }

    /// <summary>The size of the embedded digits file (digits.csv.gz), for the list of files a run read.</summary>
    public static long DigitsBytes
    {
        get
        {
            using var stream = typeof(Datasets).Assembly.GetManifestResourceStream(DigitsResource);
            return stream?.Length ?? 0;
        }
    }

    /// <summary>Samples (and labels) from tensors; features (N, ...), labels (N) or null.</summary>
    public static JepaDataset FromTensors(Tensor features, Tensor? labels = null, string source = "the in-memory data") => new(features, labels, source);

    /// <summary>
    /// A numeric CSV file, gzipped or not (detected by its first bytes, whatever the name), one sample per line.
    /// Blank lines are skipped; a malformed row is refused with its file and line.
    /// </summary>
    public static JepaDataset Csv(string path, CsvOptions? options = null)
    {
        if (!File.Exists(path)) throw new DataException($"The data file '{path}' does not exist.");
        try
        {
            using var file = File.OpenRead(path);
            return CsvReader.Read(file, path, options ?? new CsvOptions());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException($"The data file '{path}' could not be read: {e.Message}", e);
        }
    }

    /// <summary>Opens a data file for reading, decompressing it when it is gzipped (detected by its first bytes).</summary>
    public static Stream Open(string path) => Compression.Decompressed(File.OpenRead(path), path);

    /// <summary>
    /// MNIST-style IDX files (images, and optionally labels), gzipped or not, at any path: features (N, 1, rows, columns)
    /// = bytes / <paramref name="divisor"/> (255 gives [0, 1]), labels (N).
    /// </summary>
    public static JepaDataset Mnist(string imagesPath, string? labelsPath = null, double divisor = 255.0) => IdxReader.Mnist(imagesPath, labelsPath, divisor);

    /// <summary>
    /// A stratified split seeded by <paramref name="seed"/>, as scikit-learn's <c>train_test_split(stratify=y)</c> sizes
    /// it: <c>ceil(testFraction N)</c> test samples in all, class c gets <c>floor(testFraction n_c)</c> of them and the
    /// rest go one each to the classes with the largest remainders (ties: the larger class, then the smaller label); a
    /// class of at least 2 samples keeps at least one on each side. Which samples of a class go to the test side is
    /// random. Both index lists are ascending.
    /// </summary>
    public static (long[] Train, long[] Test) StratifiedSplit(Tensor labels, double testFraction, long seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        return StratifiedSplit(labels.to(ScalarType.Int64).cpu().data<long>().ToArray(), testFraction, seed);
    }

    /// <summary><see cref="StratifiedSplit(Tensor, double, long)"/> of labels given as numbers.</summary>
    public static (long[] Train, long[] Test) StratifiedSplit(long[] y, double testFraction, long seed)
    {
        ArgumentNullException.ThrowIfNull(y);
        if (!(testFraction > 0 && testFraction < 1)) throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "The test fraction must be in (0, 1).");
        using var generator = new Generator(Seeds.Mix(seed, -1), torch.CPU);
        using var permutation = randperm(y.Length, generator: generator);
        var order = permutation.data<long>().ToArray();
        var classes = order.GroupBy(i => y[i]).OrderBy(g => g.Key).Select(g => (Label: g.Key, Members: g.ToArray())).ToArray();   // each class in random order

        var quota = classes.Select(c => (int)Math.Floor(testFraction * c.Members.Length)).ToArray();
        var missing = (int)Math.Ceiling(testFraction * y.Length - 1e-9) - quota.Sum();
        foreach (var i in Enumerable.Range(0, classes.Length)
                     .OrderByDescending(i => testFraction * classes[i].Members.Length - quota[i])
                     .ThenByDescending(i => classes[i].Members.Length).ThenBy(i => classes[i].Label).Take(Math.Max(0, missing)))
            quota[i]++;

        var train = new List<long>();
        var test = new List<long>();
        for (var i = 0; i < classes.Length; i++)
        {
            var n = classes[i].Members.Length;
            var testCount = n < 2 ? 0 : Math.Clamp(quota[i], 1, n - 1);
            test.AddRange(classes[i].Members.Take(testCount));
            train.AddRange(classes[i].Members.Skip(testCount));
        }
        train.Sort();
        test.Sort();
        return (train.ToArray(), test.ToArray());
    }
}
