namespace Jepa.Runtime.Data;

/// <summary>
/// A file that a data source read: its path relative to <see cref="LoadedData.Root"/> ('/' separators), its size in
/// bytes, and the samples taken from it (0 for an image left out with <c>--skip-bad-files</c>). Together they
/// describe the data without absolute paths or modification times (what a run's data fingerprint is made of).
/// </summary>
public sealed record DataFile(string Path, long Bytes, long Samples);

/// <summary>
/// What <see cref="DataSources.Open"/> found: the training samples (labels optional), the source's own labelled test
/// split when it has one (the <c>t10k</c> pair of an MNIST-style folder, the test arrays of an <c>.npz</c>, the
/// <c>test/</c> folder beside <c>train/</c>), and the files read.
/// </summary>
public sealed class LoadedData(ISampleSet train, ISampleSet? test, string root, IReadOnlyList<DataFile> files, string layout) : IDisposable
{
    /// <summary>The samples to train on.</summary>
    public ISampleSet Train { get; } = train;

    /// <summary>The source's own test split, labelled and with the training set's classes; null when the source has none.</summary>
    public ISampleSet? Test { get; } = test;

    /// <summary>The folder the <see cref="Files"/> paths are relative to (absolute); "(embedded)" for the built-in digits.</summary>
    public string Root { get; } = root;

    /// <summary>Every file read, in the order read.</summary>
    public IReadOnlyList<DataFile> Files { get; } = files;

    /// <summary>What the source was taken to be: "CSV file", "MNIST-style IDX folder", "image folder (10 class folders)", ...</summary>
    public string Layout { get; } = layout;

    public void Dispose()
    {
        Train.Dispose();
        Test?.Dispose();
    }
}
