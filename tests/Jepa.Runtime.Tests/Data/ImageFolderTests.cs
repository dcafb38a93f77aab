using Jepa.Runtime.Data;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Data;

public class ImageFolderTests
{
    internal static LoadedData Open(string path, long[] shape, List<string>? notes = null, bool skipBadFiles = false, long? cache = null, int workers = 2) =>
        DataSources.Open([path], new DataOptions { InputShape = shape, Log = notes is null ? null : notes.Add, SkipBadFiles = skipBadFiles, CacheBytes = cache, Workers = workers });

    /// <summary>All samples in stored order as bytes (the float values x 255, rounded).</summary>
    internal static byte[][] Samples(ISampleSet data)
    {
        using var all = data.ToDataset();
        using var bytes = (all.Features * 255).round().to(ScalarType.Byte);
        var flat = bytes.reshape(all.Count, -1);
        return [.. Enumerable.Range(0, (int)all.Count).Select(i => flat[i].data<byte>().ToArray())];
    }

    [Fact]
    public void Class_folders_are_labelled_in_code_point_order_with_images_at_any_depth()
    {
        using var folder = new TempFolder();
        // Code-point order: "B" < "a" < "z" < "é"; culture order would put "a" before "B".
        TestImages.Write(folder.Path, "z/1.png", TestImages.Flat(2, 2, 30));
        TestImages.Write(folder.Path, "a/2.png", TestImages.Flat(2, 2, 20));
        TestImages.Write(folder.Path, "a/1.PNG", TestImages.Flat(2, 2, 10));
        TestImages.Write(folder.Path, "a/deeper/0.png", TestImages.Flat(2, 2, 15));
        TestImages.Write(folder.Path, "B/x.jpg", TestImages.Encode(TestImages.Rgba(2, 2, (_, _, _) => 0), 2, 2, SkiaSharp.SKEncodedImageFormat.Jpeg));
        TestImages.Write(folder.Path, "é/1.png", TestImages.Flat(2, 2, 40));
        TestImages.Write(folder.Path, ".hidden/1.png", TestImages.Flat(2, 2, 99));
        TestImages.Write(folder.Path, "a/.DS_Store", [1, 2, 3]);
        using var data = Open(folder.Path, [1, 2, 2]);
        var train = data.Train;
        Assert.Equal(["B", "a", "z", "é"], train.ClassNames);
        Assert.Equal([0L, 1, 1, 1, 2, 3], train.LabelValues!);
        Assert.Equal([0, 10, 20, 15, 30, 40], Samples(train).Select(s => (int)s[0]));   // a's own files, then a/deeper
        Assert.Equal(["B/x.jpg", "a/1.PNG", "a/2.png", "a/deeper/0.png", "z/1.png", "é/1.png"], data.Files.Select(f => f.Path));
        Assert.All(data.Files, f => Assert.Equal(1, f.Samples));
        Assert.Equal(new FileInfo(Path.Combine(folder.Path, "z/1.png")).Length, data.Files[4].Bytes);
        Assert.Null(data.Test);
        Assert.Equal("image folder (4 class folders)", data.Layout);
    }

    [Fact]
    public void A_flat_folder_is_unlabelled_and_other_files_are_ignored_in_one_note()
    {
        using var folder = new TempFolder();
        for (var i = 0; i < 3; i++) TestImages.Write(folder.Path, $"{i}.png", TestImages.Flat(3, 3, (byte)i));
        folder.Write("README.txt", "about");
        folder.Write("labels.csv", "1,2");
        folder.Write("more.txt", "x");
        var notes = new List<string>();
        using var data = Open(folder.Path, [1, 3, 3], notes);
        Assert.False(data.Train.HasLabels);
        Assert.Empty(data.Train.ClassNames);
        Assert.Equal(3, data.Train.Count);
        Assert.Equal($"note: 3 files are not images by extension and were ignored in '{folder.Path}': .txt (2), .csv (1).", Assert.Single(notes));
        Assert.Equal("image folder (flat, unlabelled)", data.Layout);
    }

    [Fact]
    public void Train_and_test_folders_give_the_test_split_with_classes_matched_by_name()
    {
        using var folder = new TempFolder();
        foreach (var (cls, value) in new[] { ("cat", 10), ("dog", 20), ("eel", 30) })
            TestImages.Write(folder.Path, $"train/{cls}/1.png", TestImages.Flat(2, 2, (byte)value));
        TestImages.Write(folder.Path, "test/eel/1.png", TestImages.Flat(2, 2, 31));
        TestImages.Write(folder.Path, "test/cat/1.png", TestImages.Flat(2, 2, 11));
        using var data = Open(folder.Path, [1, 2, 2]);
        Assert.Equal(3, data.Train.Count);
        var test = data.Test!;
        Assert.Equal(["cat", "dog", "eel"], test.ClassNames);
        Assert.Equal([0L, 2], test.LabelValues!);   // cat is class 0, eel class 2, as in train/
        Assert.Equal([11, 31], Samples(test).Select(s => (int)s[0]));
        Assert.Equal(["train/cat/1.png", "train/dog/1.png", "train/eel/1.png", "test/cat/1.png", "test/eel/1.png"], data.Files.Select(f => f.Path));
    }

    [Fact]
    public void A_test_class_the_training_set_lacks_is_an_error()
    {
        using var folder = new TempFolder();
        TestImages.Write(folder.Path, "train/cat/1.png", TestImages.Flat(2, 2, 1));
        TestImages.Write(folder.Path, "test/cow/1.png", TestImages.Flat(2, 2, 1));
        var e = Assert.Throws<DataException>(() => Open(folder.Path, [1, 2, 2]));
        Assert.Equal($"'{Path.Combine(folder.Path, "test")}' has the class 'cow' that train/ lacks; test classes are matched to the training classes by folder name.", e.Message);
    }

    [Fact]
    public void Images_beside_class_folders_are_ambiguous()
    {
        using var folder = new TempFolder();
        TestImages.Write(folder.Path, "loose.png", TestImages.Flat(2, 2, 1));
        TestImages.Write(folder.Path, "cat/1.png", TestImages.Flat(2, 2, 1));
        var e = Assert.Throws<DataException>(() => Open(folder.Path, [1, 2, 2]));
        Assert.Equal($"'{folder.Path}' holds images directly (loose.png) and class folders with images (cat): the layout is ambiguous. " +
                     "Put every image in a class folder (labelled) or all of them in one folder (unlabelled).", e.Message);
    }

    [Fact]
    public void Test_and_val_beside_train_are_ambiguous()
    {
        using var folder = new TempFolder();
        foreach (var split in new[] { "train", "test", "val" }) TestImages.Write(folder.Path, $"{split}/cat/1.png", TestImages.Flat(2, 2, 1));
        var e = Assert.Throws<DataException>(() => Open(folder.Path, [1, 2, 2]));
        Assert.StartsWith($"The data folder '{folder.Path}' has train/, test/ and val/ subfolders: which one is the test split is ambiguous", e.Message);
    }

    [Fact]
    public void An_empty_folder_is_an_error()
    {
        using var folder = new TempFolder();
        var e = Assert.Throws<DataException>(() => Open(folder.Path, [1, 2, 2]));
        Assert.Equal($"The data folder '{folder.Path}' is empty.", e.Message);
    }

    [Fact]
    public void A_folder_without_images_names_what_it_holds()
    {
        using var folder = new TempFolder();
        folder.Write("x.npy", "not really");
        var e = Assert.Throws<DataException>(() => Open(folder.Path, [1, 2, 2]));
        Assert.Equal($"'{folder.Path}' holds no images (.png, .jpg, .jpeg, .bmp, .webp); it holds x.npy (give a data file itself to --data).", e.Message);
    }

    [Fact]
    public void A_class_folder_without_images_is_an_error()
    {
        using var folder = new TempFolder();
        TestImages.Write(folder.Path, "cat/1.png", TestImages.Flat(2, 2, 1));
        Directory.CreateDirectory(Path.Combine(folder.Path, "dog"));
        TestImages.Write(folder.Path, "eel/notes.txt", []);
        var e = Assert.Throws<DataException>(() => Open(folder.Path, [1, 2, 2]));
        Assert.Equal($"The class folders 'dog', 'eel' in '{folder.Path}' hold no images (.png, .jpg, .jpeg, .bmp, .webp); every subfolder is a class: add images or remove them.", e.Message);
    }

    [Fact]
    public void Grey_and_colour_images_are_converted_to_the_input_channels()
    {
        using var folder = new TempFolder();
        TestImages.Write(folder.Path, "a.png", TestImages.Flat(2, 2, 100, grey: true));
        TestImages.Write(folder.Path, "b.png", TestImages.Png(2, 2, (_, _, c) => (byte)(c == 0 ? 255 : 0)));   // red
        using (var rgb = Open(folder.Path, [3, 2, 2]))
        {
            var samples = Samples(rgb.Train);
            Assert.Equal(Enumerable.Repeat((byte)100, 12), samples[0]);
            Assert.Equal([255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0], samples[1].Select(b => (int)b));
        }
        using var grey = Open(folder.Path, [1, 2, 2]);
        Assert.Equal([[100, 100, 100, 100], [76, 76, 76, 76]], Samples(grey.Train).Select(s => s.Select(b => (int)b).ToArray()));
    }

    [Fact]
    public void Images_smaller_than_the_input_are_upscaled_with_a_note()
    {
        using var folder = new TempFolder();
        TestImages.Write(folder.Path, "big.png", TestImages.Flat(8, 8, 50));
        TestImages.Write(folder.Path, "small.png", TestImages.Flat(2, 3, 60));
        var notes = new List<string>();
        using var data = Open(folder.Path, [1, 4, 4], notes);
        var samples = Samples(data.Train);
        Assert.All(samples[1], b => Assert.Equal(60, b));
        Assert.Equal("note: images smaller than the input 4 x 4 are upscaled (the first: small.png, 2 x 3); docs/data.md says how.", Assert.Single(notes));
    }

    [Fact]
    public void An_input_that_is_not_an_image_shape_is_refused()
    {
        using var folder = new TempFolder();
        TestImages.Write(folder.Path, "a.png", TestImages.Flat(2, 2, 1));
        var e = Assert.Throws<DataException>(() => Open(folder.Path, [64]));
        Assert.StartsWith($"'{folder.Path}' is a folder of images, which become samples of shape [channels, height, width] with 1 (grey) or 3 (RGB) channels; the experiment's input is [64].", e.Message);
        using var twoDimensional = Open(folder.Path, [2, 2]);   // [h, w]: grey
        Assert.Equal(new long[] { 2, 2 }, twoDimensional.Train.SampleShape);
    }

    [Fact]
    public void A_truncated_image_stops_the_epoch_with_an_error_naming_it()
    {
        using var folder = new TempFolder();
        for (var i = 0; i < 8; i++) TestImages.Write(folder.Path, $"{i}.png", TestImages.Png(4, 4, TestImages.Pixel));
        var bad = TestImages.Png(16, 16, TestImages.Pixel);
        TestImages.Write(folder.Path, "5.png", bad[..(bad.Length / 2)]);
        using var data = Open(folder.Path, [1, 4, 4]);
        var e = Assert.Throws<DataException>(() =>
        {
            foreach (var batch in data.Train.Batches(4, seed: 1, epoch: 0)) batch.Dispose();
        });
        Assert.StartsWith($"'{Path.Combine(folder.Path, "5.png")}' cannot be decoded: the file is truncated", e.Message);
    }

    [Fact]
    public void Skipping_bad_files_leaves_them_out_when_indexed_so_count_and_order_are_fixed()
    {
        using var folder = new TempFolder();
        for (var i = 0; i < 6; i++) TestImages.Write(folder.Path, $"c/{i}.png", TestImages.Flat(2, 2, (byte)(10 * i)));
        var bad = TestImages.Png(16, 16, TestImages.Pixel);
        TestImages.Write(folder.Path, "c/2.png", bad[..(bad.Length / 2)]);
        TestImages.Write(folder.Path, "c/4.png", "not an image"u8.ToArray());
        var notes = new List<string>();
        using var data = Open(folder.Path, [1, 2, 2], notes, skipBadFiles: true);
        Assert.Equal(4, data.Train.Count);
        Assert.Equal([0, 10, 30, 50], Samples(data.Train).Select(s => (int)s[0]));
        Assert.Equal([1L, 1, 0, 1, 0, 1], data.Files.Select(f => f.Samples));
        var note = Assert.Single(notes);
        Assert.StartsWith($"note: 2 of 6 images cannot be decoded and are left out (--skip-bad-files): '{Path.Combine(folder.Path, "c/2.png")}' cannot be decoded: the file is truncated", note);
    }
}
