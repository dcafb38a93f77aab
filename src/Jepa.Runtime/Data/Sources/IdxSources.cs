using System.Text.RegularExpressions;

namespace Jepa.Runtime.Data;

/// <summary>
/// MNIST-style IDX data (torchvision's <c>MNIST</c>, <c>FashionMNIST</c>, <c>EMNIST</c> raw files): the standard names
/// <c>[prefix]train-images-idx3-ubyte[.gz]</c>, <c>[prefix]train-labels-idx1-ubyte[.gz]</c> and their <c>t10k</c> (or
/// <c>test</c>) pair, which is the test split. In a folder, a file present both plain and gzipped is read plain.
/// Files given one by one may have other names: then the images file is the one with 3 dimensions.
/// </summary>
internal static partial class IdxSources
{
    [GeneratedRegex(@"^(?<prefix>.*?)(?<split>train|t10k|test)-(?<kind>images|labels)-idx(?<rank>\d)-ubyte(?<gz>\.gz)?$", RegexOptions.CultureInvariant)]
    private static partial Regex StandardName();

    /// <summary>A recognised IDX file: train or test split, images or labels.</summary>
    private sealed record Role(string Path, string Prefix, bool Test, bool Labels, bool Gzipped);

    /// <summary>True when <paramref name="name"/> is one of the standard IDX file names.</summary>
    public static bool IsStandardName(string name) => StandardName().IsMatch(name);

    /// <summary>The IDX files of a folder (top level), by their standard names.</summary>
    public static LoadedData OpenFolder(FolderListing listing, DataOptions options)
    {
        var roles = listing.Files.Where(f => FolderListing.Parent(f.Path).Length == 0)
            .Select(f => Recognise(Path.Combine(listing.Root, f.Path))).OfType<Role>().ToList();
        var prefixes = roles.Select(r => r.Prefix).Distinct().Order(StringComparer.Ordinal).ToList();
        if (prefixes.Count > 1)
            throw new DataException($"The data folder '{listing.Root}' holds IDX files of {prefixes.Count} data sets ({string.Join(", ", prefixes.Select(p => $"'{p}train-images...'"))}): which one to read is ambiguous; give the files of one with --data.");
        // Plain beside gzipped (torchvision keeps both): the plain one.
        roles = [.. roles.GroupBy(r => (r.Test, r.Labels)).Select(g => g.OrderBy(r => r.Gzipped).First())];
        return Open(roles, Path.GetFullPath(listing.Root), "MNIST-style IDX folder", options);
    }

    /// <summary>IDX files given one by one: standard names, or any names for one images file and one labels file.</summary>
    public static LoadedData OpenFiles(IReadOnlyList<string> paths, string root, DataOptions options)
    {
        var roles = paths.Select(p => Recognise(p) ?? ByDimensions(p)).ToList();
        var repeated = roles.GroupBy(r => (r.Test, r.Labels)).FirstOrDefault(g => g.Count() > 1);
        if (repeated is not null)
            throw new DataException($"--data names two IDX {(repeated.Key.Test ? "test" : "training")} {(repeated.Key.Labels ? "labels" : "images")} files ({string.Join(", ", repeated.Select(r => r.Path))}); " +
                                    "give one images file, optionally its labels file, and optionally the t10k pair.");
        return Open(roles, root, paths.Count == 1 ? "IDX file" : "IDX files", options);
    }

    private static LoadedData Open(List<Role> roles, string root, string layout, DataOptions options)
    {
        Role? Find(bool test, bool labels) => roles.FirstOrDefault(r => r.Test == test && r.Labels == labels);
        var trainImages = Find(false, false)
            ?? throw new DataException($"No IDX training images file among {string.Join(", ", roles.Select(r => $"'{r.Path}'"))}: expected one named like train-images-idx3-ubyte[.gz].");
        var trainLabels = Find(false, true);
        var testImages = Find(true, false);
        var testLabels = Find(true, true);
        if ((testImages is null) != (testLabels is null))
            throw new DataException($"'{(testImages ?? testLabels)!.Path}' has no {(testImages is null ? "images" : "labels")} file beside it: a test split needs both t10k files.");

        var files = new List<DataFile>();
        StreamingDataset Read(Role images, Role? labels)
        {
            var (set, count) = IdxReader.Streaming(images.Path, labels?.Path, options);
            files.Add(new DataFile(NumpySources.Relative(root, images.Path), new FileInfo(images.Path).Length, count));
            if (labels is not null) files.Add(new DataFile(NumpySources.Relative(root, labels.Path), new FileInfo(labels.Path).Length, count));
            return set;
        }

        var train = Read(trainImages, trainLabels);
        var test = testImages is null ? null : Read(testImages, testLabels);
        return new LoadedData(train, test, root, files, layout);
    }

    private static Role? Recognise(string path)
    {
        var match = StandardName().Match(Path.GetFileName(path));
        if (!match.Success) return null;
        return new Role(path, match.Groups["prefix"].Value, match.Groups["split"].Value != "train", match.Groups["kind"].Value == "labels", match.Groups["gz"].Success);
    }

    private static Role ByDimensions(string path) => IdxReader.Dimensions(path) switch
    {
        3 => new Role(path, "", false, false, false),
        1 => new Role(path, "", false, true, false),
        var d => throw new DataException($"'{path}' is {(d == 0 ? "not an IDX file" : $"an IDX file of {d} dimensions")}: MNIST images have 3 dimensions, labels 1."),
    };
}
