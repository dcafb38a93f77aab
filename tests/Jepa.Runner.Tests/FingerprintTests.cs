using Jepa.Runtime.Data;

namespace Jepa.Runner.Tests;

/// <summary>The data fingerprint: relative paths, sizes and sample counts; a move keeps it, a change is named.</summary>
public class FingerprintTests
{
    private static readonly DataFingerprint Run = new([new("train/a.png", 100, 1), new("train/b.png", 200, 1)], 2, 1);

    [Fact]
    public void The_same_files_sizes_and_counts_are_the_same_data_wherever_they_lie()
    {
        Assert.Empty(Run.Changes(new DataFingerprint([new("train/b.png", 200, 1), new("train/a.png", 100, 1)], 2, 1)));
    }

    [Fact]
    public void Each_change_is_named()
    {
        var now = new DataFingerprint([new("train/a.png", 150, 1), new("train/c.png", 10, 1)], 3, null);

        Assert.Equal(
        [
            "train/a.png has 150 bytes, 100 when the run started",
            "train/b.png is missing",
            "train/c.png is new",
            "it has 3 samples, 2 when the run started",
            "its own test split has none, 1 sample when the run started",
        ], Run.Changes(now));
    }

    [Fact]
    public void Many_changes_are_cut_to_five_and_a_count()
    {
        var now = new DataFingerprint([.. Enumerable.Range(0, 9).Select(i => new DataFile($"x{i}", 1, 1))], 2, 1);

        var changes = Run.Changes(now);

        Assert.Equal(6, changes.Count);
        Assert.Equal("6 more differences", changes[^1]);
    }

    [Fact]
    public void A_file_that_gives_other_samples_at_the_same_size_is_named()
    {
        var now = new DataFingerprint([new("train/a.png", 100, 0), new("train/b.png", 200, 1)], 2, 1);

        Assert.Equal(["train/a.png gives 0 samples, 1 sample when the run started"], Run.Changes(now));
    }

    [Fact]
    public void Files_are_recorded_relative_to_the_root_with_their_sizes_and_samples()
    {
        using var workspace = new Workspace();
        var a = workspace.Csv("set/part/a.csv", 3);

        using var source = DataFiles.Load([a], [64], new RunSettings(), _ => { });

        Assert.Equal([new DataFile("a.csv", new FileInfo(a).Length, 3)], source.Fingerprint.Files);
        Assert.Equal([Path.GetFullPath(a)], source.Paths);
    }
}
