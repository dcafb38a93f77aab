using System.Globalization;
using Jepa.Runtime.Data;

namespace Jepa.Runner;

/// <summary>
/// What one data option (<c>--data</c>, <c>--test-data</c>, <c>--probe-data</c>) names, opened by
/// <see cref="DataFiles.Load"/> (<see cref="DataSources.Open"/>): the seam between reading data and using it
/// (<see cref="RunData"/> splits it, the run's <c>run.json</c> keeps its <see cref="Fingerprint"/>).
/// </summary>
/// <param name="Description">How messages name it: a path, or <c>digits (embedded)</c>.</param>
/// <param name="Paths">The paths it was opened from, full (empty for the embedded digits).</param>
/// <param name="Loaded">What the source holds: its samples in the experiment's input shape (labels optional), its own
/// test split (an MNIST folder's t10k pair, ...) or null, and the files read, relative to the data's root.</param>
internal sealed record DataSource(string Description, IReadOnlyList<string> Paths, LoadedData Loaded) : IDisposable
{
    /// <summary>The samples, labels optional.</summary>
    public ISampleSet Samples => Loaded.Train;

    /// <summary>The source's own labelled test split, with the samples' classes, or null.</summary>
    public ISampleSet? Test => Loaded.Test;

    /// <summary>What identifies the data wherever it lies.</summary>
    public DataFingerprint Fingerprint => new(Loaded.Files, Samples.Count, Test?.Count);

    /// <summary>The name of label <paramref name="label"/> in <paramref name="set"/> (one of this source's sets).</summary>
    public static string ClassName(ISampleSet set, long label) =>
        label < set.ClassNames.Count ? set.ClassNames[(int)label] : label.ToString(CultureInfo.InvariantCulture);

    public void Dispose() => Loaded.Dispose();
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
        var before = Files.ToDictionary(f => f.Path, StringComparer.Ordinal);
        var after = now.Files.ToDictionary(f => f.Path, StringComparer.Ordinal);
        foreach (var (path, file) in before)
        {
            if (!after.TryGetValue(path, out var other)) changes.Add($"{path} is missing");
            else if (other.Bytes != file.Bytes) changes.Add(Invariant($"{path} has {other.Bytes:N0} bytes, {file.Bytes:N0} when the run started"));
            else if (other.Samples != file.Samples) changes.Add(Invariant($"{path} gives {Count(other.Samples)}, {Count(file.Samples)} when the run started"));
        }
        changes.AddRange(after.Keys.Where(p => !before.ContainsKey(p)).Select(p => $"{p} is new"));
        if (now.Samples != Samples) changes.Add(Invariant($"it has {now.Samples:N0} samples, {Samples:N0} when the run started"));
        if (now.TestSamples != TestSamples) changes.Add($"its own test split has {Count(now.TestSamples)}, {Count(TestSamples)} when the run started");
        return changes.Count <= 5 ? changes : [.. changes.Take(5), $"{changes.Count - 5} more differences"];
    }

    private static string Count(long? samples) => samples switch { null => "none", 1 => "1 sample", { } n => Invariant($"{n:N0} samples") };

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
