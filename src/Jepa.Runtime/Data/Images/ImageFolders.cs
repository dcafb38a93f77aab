using System.Collections.Concurrent;

namespace Jepa.Runtime.Data;

/// <summary>
/// Image folders: torchvision's <c>ImageFolder</c> layout (one subfolder per class, labels numbered by the class
/// names in code-point order, images at any depth inside a class folder) or a flat folder of images (unlabelled);
/// either alone or as <c>train/</c> with <c>test/</c> (or <c>val/</c>) beside it, the test classes matched to the
/// training classes by name. Files whose extension is not an image's are ignored and counted in one note.
/// </summary>
internal static class ImageFolders
{
    /// <summary>The images of one split: files relative to the data root, and their labels and class names (null: unlabelled).</summary>
    private sealed record Split(string Folder, List<ListedFile> Images, long[]? Labels, List<string>? Classes);

    public static LoadedData Open(FolderListing listing, DataOptions options)
    {
        var root = listing.Root;
        var ignored = listing.Files.Where(f => !ImageDecoder.IsImage(f.Path)).ToList();
        var top = listing.SubfoldersOf("").ToHashSet(StringComparer.Ordinal);
        var testFolder = top.Contains("train") ? TestFolder(top, root) : null;

        Split train;
        Split? test = null;
        if (testFolder is null)
        {
            train = Index(listing, "", root);
        }
        else
        {
            var stray = listing.Files.Where(f => FolderListing.Parent(f.Path).Length == 0 && ImageDecoder.IsImage(f.Path)).Select(f => f.Path).ToList();
            if (stray.Count > 0)
                throw new DataException($"The data folder '{root}' has train/ and {testFolder}/ subfolders and also images beside them ({Few(stray)}); put every image in train/ or {testFolder}/.");
            train = Index(listing, "train", root);
            test = Index(listing, testFolder, root);
            if (test.Classes is null)
                throw new DataException($"'{Path.Combine(root, testFolder)}' holds images but no class folders: a test split needs labels, one subfolder per class as in train/.");
            test = MatchClasses(test, train, root, testFolder);
        }

        if (ignored.Count > 0)
            options.Log?.Invoke($"note: {ignored.Count} file{(ignored.Count == 1 ? " is" : "s are")} not {(ignored.Count == 1 ? "an image" : "images")} by extension and {(ignored.Count == 1 ? "was" : "were")} ignored in '{root}': " +
                                string.Join(", ", ignored.GroupBy(f => Extension(f.Path)).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} ({g.Count()})")) + ".");

        var shape = ImageShape(options.InputShape, root);
        var all = train.Images.Concat(test?.Images ?? []).ToList();
        var source = new ImageFileSource(root, [.. all.Select(f => f.Path)], (int)shape[0], (int)shape[1], (int)shape[2]);
        var store = new SampleStore(source, options.CacheBudget);
        var good = options.SkipBadFiles ? Validate(store, options) : null;

        var trainCount = train.Images.Count;
        var (trainMap, testMap) = good is null
            ? ([.. Enumerable.Range(0, trainCount)], [.. Enumerable.Range(trainCount, all.Count - trainCount)])
            : (good.Where(i => i < trainCount).ToArray(), good.Where(i => i >= trainCount).ToArray());
        if (trainMap.Length == 0)
            throw new DataException($"None of the {trainCount} images in '{Path.Combine(root, train.Folder)}' can be decoded.");

        var trainSet = new StreamingDataset(store, shape, train.Labels is null ? null : [.. trainMap.Select(i => train.Labels[i])], train.Classes,
            Name(root, train.Folder), options, trainMap);
        StreamingDataset? testSet = test is null ? null
            : new StreamingDataset(store, shape, [.. testMap.Select(i => test.Labels![i - trainCount])], test.Classes, Name(root, test.Folder), options, testMap);
        var kept = good?.ToHashSet();
        var files = all.Select((f, i) => new DataFile(f.Path, f.Bytes, kept is null || kept.Contains(i) ? 1 : 0)).ToList();
        var layout = (train.Classes is null ? "image folder (flat, unlabelled)" : $"image folder ({train.Classes.Count} class folders)") +
                     (testFolder is null ? "" : $" with train/ and {testFolder}/");
        return new LoadedData(trainSet, testSet, Path.GetFullPath(root), files, layout);
    }

    /// <summary>The experiment's input as <c>[c, h, w]</c> with c = 1 or 3 (a 2-dimensional input <c>[h, w]</c> is grey).</summary>
    private static long[] ImageShape(long[] input, string root) => input switch
    {
        [1 or 3, > 0, > 0] => input,
        [> 0, > 0] => [1, input[0], input[1]],
        _ => throw new DataException($"'{root}' is a folder of images, which become samples of shape [channels, height, width] with 1 (grey) or 3 (RGB) channels; " +
                                     $"the experiment's input is {JepaDataset.Format(input)}. Declare the input as, for example, float[1, 28, 28] or float[3, 32, 32]."),
    };

    private static string? TestFolder(HashSet<string> top, string root)
    {
        if (top.Contains("test") && top.Contains("val"))
            throw new DataException($"The data folder '{root}' has train/, test/ and val/ subfolders: which one is the test split is ambiguous; give --data the train/ folder, or remove one.");
        return top.Contains("test") ? "test" : top.Contains("val") ? "val" : null;
    }

    /// <summary>The images under <paramref name="folder"/>: class folders (labelled), or images directly in it (unlabelled).</summary>
    private static Split Index(FolderListing listing, string folder, string root)
    {
        var where = folder.Length == 0 ? $"'{root}'" : $"'{Path.Combine(root, folder)}'";
        var prefix = folder.Length == 0 ? "" : folder + "/";
        var direct = new List<ListedFile>();
        var byClass = new Dictionary<string, List<ListedFile>>(StringComparer.Ordinal);
        var any = false;
        foreach (var file in folder.Length == 0 ? listing.Files : listing.Files.Where(f => f.Path.StartsWith(prefix, StringComparison.Ordinal)))
        {
            any = true;
            if (!ImageDecoder.IsImage(file.Path)) continue;
            var slash = file.Path.IndexOf('/', prefix.Length);
            if (slash < 0)
            {
                direct.Add(file);
                continue;
            }
            var name = file.Path[prefix.Length..slash];
            if (!byClass.TryGetValue(name, out var list)) byClass[name] = list = [];
            list.Add(file);
        }

        var subfolders = listing.SubfoldersOf(folder).ToList();
        if (byClass.Count > 0)
        {
            if (direct.Count > 0)
                throw new DataException($"{where} holds images directly ({Few(direct.Select(f => f.Path[prefix.Length..]).ToList())}) and class folders with images ({Few(byClass.Keys.Order(CodePoints.Instance).ToList())}): " +
                                        "the layout is ambiguous. Put every image in a class folder (labelled) or all of them in one folder (unlabelled).");
            var empty = subfolders.Where(s => !byClass.ContainsKey(s)).ToList();
            if (empty.Count > 0)
                throw new DataException($"The class folder{(empty.Count == 1 ? "" : "s")} {string.Join(", ", empty.Take(5).Select(e => $"'{e}'"))}{(empty.Count > 5 ? $" and {empty.Count - 5} more" : "")} in {where} " +
                                        $"hold{(empty.Count == 1 ? "s" : "")} no images ({string.Join(", ", ImageDecoder.Extensions)}); every subfolder is a class: add images or remove {(empty.Count == 1 ? "it" : "them")}.");
            var classes = subfolders;   // sorted by code point: label i is the i-th name
            var images = new List<ListedFile>();
            var labels = new List<long>();
            for (var c = 0; c < classes.Count; c++)
            {
                images.AddRange(byClass[classes[c]]);
                labels.AddRange(Enumerable.Repeat((long)c, byClass[classes[c]].Count));
            }
            return new Split(folder, images, [.. labels], classes);
        }
        if (direct.Count > 0) return new Split(folder, direct, null, null);
        if (!any && subfolders.Count == 0) throw new DataException($"The data folder {where} is empty.");
        throw new DataException($"{where} holds no images ({string.Join(", ", ImageDecoder.Extensions)}){Others(listing, prefix)}.");
    }

    /// <summary>", only: a.txt, b.npy (give a data file itself to --data)" when other files are there.</summary>
    private static string Others(FolderListing listing, string prefix)
    {
        var others = listing.Files.Where(f => f.Path.StartsWith(prefix, StringComparison.Ordinal)).Select(f => f.Path[prefix.Length..]).ToList();
        return others.Count == 0 ? "" : $"; it holds {Few(others)} (give a data file itself to --data)";
    }

    /// <summary>The test split's labels renumbered to the training classes, matched by name.</summary>
    private static Split MatchClasses(Split test, Split train, string root, string testFolder)
    {
        if (train.Classes is null) return test;   // unlabelled training data: the test split keeps its own classes
        var index = train.Classes.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => (long)p.i, StringComparer.Ordinal);
        var unknown = test.Classes!.Where(c => !index.ContainsKey(c)).ToList();
        if (unknown.Count > 0)
            throw new DataException($"'{Path.Combine(root, testFolder)}' has the class{(unknown.Count == 1 ? "" : "es")} {string.Join(", ", unknown.Take(5).Select(u => $"'{u}'"))} " +
                                    $"that train/ lacks; test classes are matched to the training classes by folder name.");
        return test with { Labels = [.. test.Labels!.Select(l => index[test.Classes![(int)l]])], Classes = train.Classes };
    }

    /// <summary>Decodes every image once (on the workers, filling the cache when it is on); returns the indices that decode, after a note on those that do not.</summary>
    private static int[] Validate(SampleStore store, DataOptions options)
    {
        var source = (ImageFileSource)store.Source;
        var bad = new ConcurrentDictionary<int, string>();
        Parallel.For(0, source.Count, new ParallelOptions { MaxDegreeOfParallelism = options.WorkerCount },
            () => new byte[source.SampleBytes],
            (i, _, buffer) =>
            {
                try
                {
                    store.Read(i, buffer);
                }
                catch (DataException e)
                {
                    bad[i] = e.Message;
                }
                return buffer;
            },
            _ => { });
        if (source.TakeUpscaleNote() is { } note) options.Log?.Invoke(note);
        if (bad.IsEmpty) return [.. Enumerable.Range(0, source.Count)];
        var first = bad.OrderBy(p => p.Key).Take(3).Select(p => p.Value);
        options.Log?.Invoke($"note: {bad.Count} of {source.Count} images cannot be decoded and are left out (--skip-bad-files): {string.Join(" ", first)}{(bad.Count > 3 ? " ..." : "")}");
        return [.. Enumerable.Range(0, source.Count).Where(i => !bad.ContainsKey(i))];
    }

    private static string Name(string root, string folder) => folder.Length == 0 ? $"'{root}'" : $"'{Path.Combine(root, folder)}'";

    private static string Extension(string path) => Path.GetExtension(path) is { Length: > 0 } e ? e.ToLowerInvariant() : "(no extension)";

    /// <summary>"a, b, c" or "a, b, c and 7 more".</summary>
    internal static string Few(IReadOnlyList<string> items) => string.Join(", ", items.Take(3)) + (items.Count > 3 ? $" and {items.Count - 3} more" : "");
}
