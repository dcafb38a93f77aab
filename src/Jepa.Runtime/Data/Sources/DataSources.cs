namespace Jepa.Runtime.Data;

/// <summary>
/// Opens the data that paths name (what <c>--data</c> takes), telling the source from what is there (docs/data.md):
/// <list type="bullet">
/// <item>nothing: the embedded digits;</item>
/// <item>a folder: MNIST-style IDX files by their standard names (the <c>t10k</c> pair is the test split), else an image
///   folder (class folders or flat, optionally as <c>train/</c> and <c>test/</c>);</item>
/// <item>files: one or two <c>.npy</c> (samples, and labels), one <c>.npz</c>, IDX files (images, labels, the <c>t10k</c> pair),
///   or one CSV file (gzipped or not, the label in the last column, scaled by the largest absolute value).</item>
/// </list>
/// The samples are then fitted to the experiment's input: images are decoded to it; arrays of the same size are
/// reshaped to it, and <c>[h, w, c]</c> images become <c>[c, h, w]</c>. Anything that does not fit, or is ambiguous,
/// is a <see cref="DataException"/> that says what was found and what would work.
/// </summary>
public static class DataSources
{
    public static LoadedData Open(IReadOnlyList<string> paths, DataOptions options)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var loaded = Detect(paths, options);
        try
        {
            return Fit(loaded, options);
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }

    private static LoadedData Detect(IReadOnlyList<string> paths, DataOptions options)
    {
        if (paths.Count == 0)
        {
            var digits = Datasets.Digits();
            return new LoadedData(digits, null, "(embedded)", [new DataFile("digits.csv.gz", Datasets.DigitsBytes, digits.Count)], "digits (embedded)");
        }

        foreach (var path in paths)
        {
            if (!File.Exists(path) && !Directory.Exists(path)) throw new DataException($"The data path '{path}' does not exist.");
        }

        if (paths.Any(Directory.Exists))
        {
            if (paths.Count > 1)
                throw new DataException($"--data takes one folder, or files; got {paths.Count} paths with a folder among them: {string.Join(", ", paths)}.");
            return OpenFolder(paths[0], options);
        }

        var root = CommonFolder(paths);
        if (paths.All(NumpySources.IsNpy) && paths.Count <= 2)
        {
            var (train, files) = NumpySources.OpenNpy(paths, root, options);
            return new LoadedData(train, null, root, files, paths.Count == 1 ? ".npy file" : ".npy files (samples and labels)");
        }
        if (paths.Count == 1 && NumpySources.IsNpz(paths[0]))
        {
            var (train, test, file) = NumpySources.OpenNpz(paths[0], root, options);
            return new LoadedData(train, test, root, [file], ".npz file");
        }
        if (paths.All(p => IdxSources.IsStandardName(Path.GetFileName(p)) || IdxReader.Dimensions(p) is 1 or 3) && paths.Count <= 4)
            return IdxSources.OpenFiles(paths, root, options);
        if (paths.Count == 1)
        {
            var csv = Datasets.Csv(paths[0], new CsvOptions { Label = CsvLabel.Last, Scaling = ValueScaling.MaxAbs });
            return new LoadedData(csv, null, root, [new DataFile(Path.GetFileName(paths[0]), new FileInfo(paths[0]).Length, csv.Count)], "CSV file");
        }
        throw new DataException($"--data takes one folder; or one file (CSV, .npy, .npz, IDX); or IDX files (images, labels, and their t10k pair); or two .npy files (samples and labels); got {paths.Count} files: {string.Join(", ", paths)}.");
    }

    private static LoadedData OpenFolder(string path, DataOptions options)
    {
        var listing = FolderListing.Of(path);
        if (listing.Files.Count == 0 && listing.Folders.Count == 0) throw new DataException($"The data folder '{path}' is empty.");
        var idx = listing.Files.Where(f => FolderListing.Parent(f.Path).Length == 0 && IdxSources.IsStandardName(f.Path)).ToList();
        if (idx.Count == 0) return ImageFolders.Open(listing, options);
        var images = listing.Files.Where(f => ImageDecoder.IsImage(f.Path)).Select(f => f.Path).ToList();
        if (images.Count > 0)
            throw new DataException($"The data folder '{path}' holds both IDX files ({ImageFolders.Few([.. idx.Select(f => f.Path)])}) and images ({ImageFolders.Few(images)}): " +
                                    "which is the data is ambiguous; give the IDX files, or a folder of images only.");
        return IdxSources.OpenFolder(listing, options);
    }

    /// <summary>The training samples (and the test split, which must have the same shape) in the experiment's input shape.</summary>
    private static LoadedData Fit(LoadedData loaded, DataOptions options)
    {
        var input = options.InputShape;
        if (loaded.Test is { } test)
        {
            if (!test.SampleShape.SequenceEqual(loaded.Train.SampleShape))
                throw new DataException($"The test split {test.Source} has samples of shape {JepaDataset.Format(test.SampleShape)}, but the training split {loaded.Train.Source} has {JepaDataset.Format(loaded.Train.SampleShape)}; both must have the same shape.");
            CheckClasses(loaded.Train, test);
        }

        var train = FitOne(loaded.Train, input, options);
        var fittedTest = loaded.Test is null ? null : FitOne(loaded.Test, input, options);
        if (!ReferenceEquals(train, loaded.Train)) loaded.Train.Dispose();
        if (!ReferenceEquals(fittedTest, loaded.Test)) loaded.Test?.Dispose();
        return new LoadedData(train, fittedTest, loaded.Root, loaded.Files, loaded.Layout);
    }

    private static ISampleSet FitOne(ISampleSet data, long[] input, DataOptions options)
    {
        if (data is JepaDataset memory)
        {
            if (IsChannelsLast(memory.SampleShape, input))
            {
                options.Log?.Invoke($"note: {memory.Source} has samples of shape {JepaDataset.Format(memory.SampleShape)} (height, width, channels); they are read as {JepaDataset.Format(input)}.");
                using var scope = TorchSharp.torch.NewDisposeScope();
                return new JepaDataset(memory.Features.permute(0, 3, 1, 2).contiguous(), memory.Labels, memory.Source).WithClassNames(memory.ClassNames);
            }
            return memory.ForExperiment(input);
        }

        var streaming = (StreamingDataset)data;
        if (streaming.Count == 0) throw new DataException($"{streaming.Source} has no samples.");
        if (streaming.SampleShape.SequenceEqual(input)) return streaming;
        if (IsChannelsLast(streaming.SampleShape, input))
        {
            options.Log?.Invoke($"note: {streaming.Source} has samples of shape {JepaDataset.Format(streaming.SampleShape)} (height, width, channels); they are read as {JepaDataset.Format(input)}.");
            return streaming.ChannelsFirst();
        }
        if (JepaDataset.Product(streaming.SampleShape) == JepaDataset.Product(input)) return streaming.Reshape(input);
        throw new DataException($"The experiment expects samples of shape {JepaDataset.Format(input)} ({JepaDataset.Product(input)} values each), but {streaming.Source} has samples of shape " +
                                $"{JepaDataset.Format(streaming.SampleShape)} ({JepaDataset.Product(streaming.SampleShape)} values each).");
    }

    /// <summary>Samples [h, w, c] for an input [c, h, w] with 1 or 3 channels (NumPy images are usually stored so).</summary>
    private static bool IsChannelsLast(long[] shape, long[] input) =>
        input is [1 or 3, var h, var w] && shape is [var sh, var sw, var sc] && sh == h && sw == w && sc == input[0] && !shape.SequenceEqual(input);

    /// <summary>Every class of the test split must be one the training split has (numeric labels are classes by number).</summary>
    private static void CheckClasses(ISampleSet train, ISampleSet test)
    {
        if (train.LabelValues is not { } trainLabels || test.LabelValues is not { } testLabels) return;
        var known = trainLabels.Select(l => train.ClassNames[(int)l]).ToHashSet(StringComparer.Ordinal);
        var unknown = testLabels.Select(l => test.ClassNames[(int)l]).Distinct().Where(name => !known.Contains(name)).Order(CodePoints.Instance).ToList();
        if (unknown.Count > 0)
            throw new DataException($"The test split {test.Source} has the class{(unknown.Count == 1 ? "" : "es")} {ImageFolders.Few(unknown)} that the training split {train.Source} lacks.");
    }

    /// <summary>The deepest folder holding all the files.</summary>
    private static string CommonFolder(IReadOnlyList<string> files)
    {
        var folders = files.Select(f => Path.GetDirectoryName(Path.GetFullPath(f))!).ToList();
        var common = folders[0];
        bool Holds(string folder) => folder == common ||
                                     folder.StartsWith(Path.EndsInDirectorySeparator(common) ? common : common + Path.DirectorySeparatorChar, StringComparison.Ordinal);
        while (!folders.All(Holds) && Path.GetDirectoryName(common) is { } parent) common = parent;
        return common;
    }
}
