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

    /// <summary>
    /// MNIST-style IDX files (images, and optionally labels), gzipped or not, at any path: features (N, 1, rows, columns)
    /// = bytes / <paramref name="divisor"/> (255 gives [0, 1]), labels (N).
    /// </summary>
    public static JepaDataset Mnist(string imagesPath, string? labelsPath = null, double divisor = 255.0) => IdxReader.Mnist(imagesPath, labelsPath, divisor);

    /// <summary>
    /// A stratified split seeded by <paramref name="seed"/>: in every class of <c>n_c</c> samples,
    /// <c>round(testFraction n_c)</c> (half away from zero, but at least 1 and at most <c>n_c - 1</c> when
    /// <c>n_c &gt;= 2</c>) randomly chosen samples go to the test side. Both index lists are ascending.
    /// </summary>
    public static (long[] Train, long[] Test) StratifiedSplit(Tensor labels, double testFraction, long seed)
    {
        if (!(testFraction > 0 && testFraction < 1)) throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "The test fraction must be in (0, 1).");
        var y = labels.to(ScalarType.Int64).cpu().data<long>().ToArray();
        using var generator = new Generator(Seeds.Mix(seed, -1), torch.CPU);
        using var permutation = randperm(y.Length, generator: generator);
        var order = permutation.data<long>().ToArray();
        var train = new List<long>();
        var test = new List<long>();
        foreach (var group in order.GroupBy(i => y[i]))                                  // each class in random order
        {
            var members = group.ToArray();
            var n = members.Length;
            var testCount = n < 2 ? 0 : Math.Clamp((int)Math.Round(testFraction * n, MidpointRounding.AwayFromZero), 1, n - 1);
            test.AddRange(members.Take(testCount));
            train.AddRange(members.Skip(testCount));
        }
        train.Sort();
        test.Sort();
        return (train.ToArray(), test.ToArray());
    }
}
