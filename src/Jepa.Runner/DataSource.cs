using System.Globalization;
using Jepa.Runtime.Data;

namespace Jepa.Runner;

/// <summary>
/// What one data option (<c>--data</c>, <c>--test-data</c>, <c>--probe-data</c>) names, loaded by
/// <see cref="DataFiles.Load"/>: the seam between reading data and using it (<see cref="RunData"/> splits it, the run's
/// <c>run.json</c> keeps its <see cref="Fingerprint"/>).
/// </summary>
/// <param name="Description">How messages name it: a path, or <c>digits (embedded)</c>.</param>
/// <param name="Paths">The paths it was loaded from, full (empty for the embedded digits).</param>
/// <param name="Samples">Its samples in the experiment's input shape; labels optional.</param>
/// <param name="Test">Its own test split (an MNIST folder's t10k pair, ...), or null.</param>
/// <param name="Files">The files read, relative to the data's root, with their sizes.</param>
/// <param name="ClassNames">The name of each label (index = label); null: a label's name is its number.</param>
internal sealed record DataSource(
    string Description,
    IReadOnlyList<string> Paths,
    JepaDataset Samples,
    JepaDataset? Test,
    IReadOnlyList<DataFile> Files,
    IReadOnlyList<string>? ClassNames = null) : IDisposable
{
    /// <summary>What identifies the data wherever it lies.</summary>
    public DataFingerprint Fingerprint => new(Files, Samples.Count, Test?.Count);

    /// <summary>The name of label <paramref name="label"/>.</summary>
    public string ClassName(long label) =>
        ClassNames is { } names && label < names.Count ? names[(int)label] : label.ToString(CultureInfo.InvariantCulture);

    public void Dispose()
    {
        Samples.Dispose();
        Test?.Dispose();
    }
}

/// <summary>One file a data source read: its path relative to the data's root (with <c>/</c>), and its size in bytes.</summary>
public sealed record DataFile(string Path, long Bytes)
{
    /// <summary>The files at <paramref name="paths"/>, relative to <paramref name="root"/>.</summary>
    public static IReadOnlyList<DataFile> Of(string root, IEnumerable<string> paths) =>
        [.. paths.Select(p => new DataFile(System.IO.Path.GetRelativePath(root, p).Replace('\\', '/'), new FileInfo(p).Length))];
}

/// <summary>
/// What identifies a data set wherever it lies: the files read (paths relative to the data's root, sizes) and the sample
/// counts; not modification times or absolute paths, so a data set that moved has the same fingerprint and one that
/// changed does not. (A change that keeps every size and count, a pixel edited in place, is not seen.)
/// </summary>
public sealed record DataFingerprint(IReadOnlyList<DataFile> Files, long Samples, long? TestSamples)
{
    /// <summary>What differs from <paramref name="now"/>, one phrase per difference (at most 5, then a count); empty when the same.</summary>
    public IReadOnlyList<string> Changes(DataFingerprint now)
    {
        var changes = new List<string>();
        var before = Files.ToDictionary(f => f.Path, f => f.Bytes, StringComparer.Ordinal);
        var after = now.Files.ToDictionary(f => f.Path, f => f.Bytes, StringComparer.Ordinal);
        foreach (var (path, bytes) in before)
        {
            if (!after.TryGetValue(path, out var b)) changes.Add($"{path} is missing");
            else if (b != bytes) changes.Add(Invariant($"{path} has {b:N0} bytes, {bytes:N0} when the run started"));
        }
        changes.AddRange(after.Keys.Where(p => !before.ContainsKey(p)).Select(p => $"{p} is new"));
        if (now.Samples != Samples) changes.Add(Invariant($"it has {now.Samples:N0} samples, {Samples:N0} when the run started"));
        if (now.TestSamples != TestSamples) changes.Add($"its own test split has {Count(now.TestSamples)}, {Count(TestSamples)} when the run started");
        return changes.Count <= 5 ? changes : [.. changes.Take(5), $"{changes.Count - 5} more differences"];
    }

    private static string Count(long? samples) => samples switch { null => "none", 1 => "1 sample", { } n => Invariant($"{n:N0} samples") };

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
