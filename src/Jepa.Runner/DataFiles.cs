using Jepa.Runtime.Data;

namespace Jepa.Runner;

/// <summary>Loads the data of <c>--data</c> (and <c>--test-data</c>, <c>--probe-data</c>): one CSV file, or MNIST IDX images
/// (and labels); the digits data when no file is given. Labels are optional.</summary>
internal static class DataFiles
{
    public static DataSource Load(IReadOnlyList<string> files, long[] inputShape)
    {
        foreach (var file in files)
        {
            if (Directory.Exists(file))
                throw new RunException($"The data path {file} is a folder; give the data file: a CSV, or MNIST IDX images and labels files.");
            if (!File.Exists(file)) throw new RunException($"The data file {file} does not exist.");
        }

        JepaDataset data = files.Count switch
        {
            0 => Datasets.Digits(),
            1 when IsIdx(files[0]) => Datasets.Mnist(files[0]),
            1 => Datasets.Csv(files[0], new CsvOptions { Label = CsvLabel.Last, Scaling = ValueScaling.MaxAbs }),
            2 when IsIdx(files[0]) && IsIdx(files[1]) => Mnist(files[0], files[1]),
            _ => throw new RunException($"--data takes one CSV file, or two MNIST IDX files (images and labels); got {files.Count} files: {string.Join(", ", files)}."),
        };
        using (data)
        {
            var paths = files.Select(Path.GetFullPath).ToArray();
            var root = paths.Length == 0 ? "" : Path.GetDirectoryName(paths[0])!;
            return new DataSource(data.Source, paths, data.ForExperiment(inputShape), null, DataFile.Of(root, paths));
        }
    }

    /// <summary>The IDX images file is the one whose magic says 3 dimensions; the order on the command line is free.</summary>
    private static JepaDataset Mnist(string first, string second)
    {
        var (images, labels) = Dimensions(first) == 3 ? (first, second) : (second, first);
        if (Dimensions(images) != 3 || Dimensions(labels) != 1)
            throw new RunException($"Expected an IDX images file (3 dimensions) and an IDX labels file (1 dimension), got {first} and {second}.");
        return Datasets.Mnist(images, labels);
    }

    private static bool IsIdx(string path) => Dimensions(path) is 1 or 3;

    /// <summary>The dimension count of an IDX file (magic 0x00 0x00 0x08 d), gzipped or not; 0 for anything else.</summary>
    private static int Dimensions(string path)
    {
        using var stream = Datasets.Open(path);
        Span<byte> magic = stackalloc byte[4];
        if (stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) < 4) return 0;
        return magic[0] == 0 && magic[1] == 0 && magic[2] == 0x08 ? magic[3] : 0;
    }
}
