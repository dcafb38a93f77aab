using Jepa.Runtime.Data;
using Jepa.Runtime.Tests.Evaluation;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Data;

/// <summary>What --data names, told apart: IDX folders and files, NumPy files, CSV, the embedded digits; and the errors.</summary>
public class SourceTests
{
    private static LoadedData Open(IReadOnlyList<string> paths, long[] shape, List<string>? notes = null) =>
        DataSources.Open(paths, new DataOptions { InputShape = shape, Log = notes is null ? null : notes.Add, Workers = 2 });

    private static string Numpy(string name) => SklearnCrossCheckTests.TestData(Path.Combine("numpy", name));

    private static float[] Values(ISampleSet data)
    {
        using var all = data.ToDataset();
        return all.Features.data<float>().ToArray();
    }

    [Fact]
    public void The_shipped_MNIST_folder_gives_7996_training_and_2004_test_samples()
    {
        var folder = RepositoryRoot.Combine("data", "mnist10k");
        using var data = Open([folder], [1, 28, 28]);
        Assert.Equal("MNIST-style IDX folder", data.Layout);
        Assert.Equal(7996, data.Train.Count);
        Assert.Equal(2004, data.Test!.Count);
        Assert.Equal(10, data.Train.ClassNames.Count);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), data.Test.LabelValues!.Distinct().Order());
        Assert.Equal(
            [("train-images-idx3-ubyte.gz", 7996L), ("train-labels-idx1-ubyte.gz", 7996L), ("t10k-images-idx3-ubyte.gz", 2004L), ("t10k-labels-idx1-ubyte.gz", 2004L)],
            data.Files.Select(f => (f.Path, f.Samples)));
        Assert.Equal(new FileInfo(Path.Combine(folder, "t10k-images-idx3-ubyte.gz")).Length, data.Files[2].Bytes);

        // The same values as the in-memory reader's (bytes / 255).
        using var reference = Datasets.Mnist(Path.Combine(folder, "t10k-images-idx3-ubyte.gz"), Path.Combine(folder, "t10k-labels-idx1-ubyte.gz"));
        Assert.Equal(reference.Features.data<float>().ToArray(), Values(data.Test));
        Assert.Equal(reference.LabelValues!, data.Test.LabelValues!);
    }

    [Fact]
    public void The_four_IDX_files_given_one_by_one_keep_their_test_split_and_a_flat_input_is_a_reshape()
    {
        var folder = RepositoryRoot.Combine("data", "mnist10k");
        string[] files = [.. new[] { "t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz" }.Select(f => Path.Combine(folder, f))];
        using var data = Open(files, [784]);
        Assert.Equal(new long[] { 784 }, data.Train.SampleShape);
        Assert.Equal(2004, data.Test!.Count);
        Assert.Equal("IDX files", data.Layout);
    }

    [Fact]
    public void In_a_folder_a_plain_IDX_file_beside_its_gzipped_copy_is_the_one_read()
    {
        using var folder = new TempFolder();
        folder.Write("train-images-idx3-ubyte", IdxTests.Idx([3, 2, 2], new byte[12]));
        folder.Write("train-images-idx3-ubyte.gz", IdxTests.Idx([2, 2, 2], new byte[8]), gzip: true);
        using var data = Open([folder.Path], [1, 2, 2]);
        Assert.Equal(3, data.Train.Count);
        Assert.False(data.Train.HasLabels);
        Assert.Null(data.Test);
    }

    [Fact]
    public void IDX_files_whose_counts_disagree_are_refused()
    {
        using var folder = new TempFolder();
        var images = folder.Write("train-images-idx3-ubyte", IdxTests.Idx([3, 2, 2], new byte[12]));
        var labels = folder.Write("train-labels-idx1-ubyte", IdxTests.Idx([2], [1, 0]));
        var e = Assert.Throws<DataException>(() => Open([folder.Path], [1, 2, 2]));
        Assert.Equal($"'{images}' has 3 images but '{labels}' has 2 labels.", e.Message);
    }

    [Fact]
    public void A_test_split_of_another_shape_is_refused()
    {
        using var folder = new TempFolder();
        folder.Write("train-images-idx3-ubyte", IdxTests.Idx([3, 2, 2], new byte[12]));
        folder.Write("train-labels-idx1-ubyte", IdxTests.Idx([3], [0, 1, 0]));
        var test = folder.Write("t10k-images-idx3-ubyte", IdxTests.Idx([1, 3, 3], new byte[9]));
        folder.Write("t10k-labels-idx1-ubyte", IdxTests.Idx([1], [1]));
        var e = Assert.Throws<DataException>(() => Open([folder.Path], [1, 2, 2]));
        Assert.Equal($"The test split '{test}' has samples of shape [1, 3, 3], but the training split '{Path.Combine(folder.Path, "train-images-idx3-ubyte")}' has [1, 2, 2]; both must have the same shape.", e.Message);
    }

    [Fact]
    public void A_test_class_the_training_labels_lack_is_refused()
    {
        using var folder = new TempFolder();
        folder.Write("train-images-idx3-ubyte", IdxTests.Idx([2, 1, 1], [0, 0]));
        folder.Write("train-labels-idx1-ubyte", IdxTests.Idx([2], [0, 1]));
        folder.Write("t10k-images-idx3-ubyte", IdxTests.Idx([2, 1, 1], [0, 0]));
        folder.Write("t10k-labels-idx1-ubyte", IdxTests.Idx([2], [1, 7]));
        var e = Assert.Throws<DataException>(() => Open([folder.Path], [1, 1, 1]));
        Assert.Equal($"The test split '{Path.Combine(folder.Path, "t10k-images-idx3-ubyte")}' has the class 7 that the training split '{Path.Combine(folder.Path, "train-images-idx3-ubyte")}' lacks.", e.Message);
    }

    [Fact]
    public void Two_data_sets_in_one_folder_or_IDX_beside_images_are_ambiguous()
    {
        using var folder = new TempFolder();
        folder.Write("train-images-idx3-ubyte", IdxTests.Idx([1, 1, 1], [0]));
        folder.Write("fashion-train-images-idx3-ubyte", IdxTests.Idx([1, 1, 1], [0]));
        Assert.StartsWith($"The data folder '{folder.Path}' holds IDX files of 2 data sets ('train-images...', 'fashion-train-images...')",
            Assert.Throws<DataException>(() => Open([folder.Path], [1, 1, 1])).Message);
        File.Delete(Path.Combine(folder.Path, "fashion-train-images-idx3-ubyte"));
        TestImages.Write(folder.Path, "a.png", TestImages.Flat(1, 1, 0));
        Assert.StartsWith($"The data folder '{folder.Path}' holds both IDX files (train-images-idx3-ubyte) and images (a.png)",
            Assert.Throws<DataException>(() => Open([folder.Path], [1, 1, 1])).Message);
    }

    [Fact]
    public void A_uint8_npy_of_channels_last_images_is_read_channels_first_with_a_note()
    {
        var notes = new List<string>();
        var path = Numpy("hwc_uint8.npy");   // (5, 2, 4, 3) written by NumPy
        using var data = Open([path], [3, 2, 4], notes);
        Assert.Equal(5, data.Train.Count);
        Assert.IsType<StreamingDataset>(data.Train);
        Assert.Equal($"note: '{path}' has samples of shape [2, 4, 3] (height, width, channels); they are read as [3, 2, 4].", Assert.Single(notes));
        var values = Values(data.Train);
        for (var c = 0; c < 3; c++)
        for (var y = 0; y < 2; y++)
        for (var x = 0; x < 4; x++)
            Assert.Equal(TestImages.Pixel(x, y, c) / 255f, values[24 + (c * 2 + y) * 4 + x]);   // sample 1
        Assert.Equal([("hwc_uint8.npy", 5L)], data.Files.Select(f => (f.Path, f.Samples)));
    }

    [Fact]
    public void A_float64_npy_in_Fortran_order_is_read_in_memory_as_float32()
    {
        using var data = Open([Numpy("fortran_float64.npy")], [4]);
        var memory = Assert.IsType<JepaDataset>(data.Train);
        Assert.Equal(Enumerable.Range(0, 24).Select(i => (float)(i / 10.0)), memory.Features.data<float>().ToArray());
    }

    [Fact]
    public void An_npy_of_an_unsupported_type_or_shape_is_refused()
    {
        var int16 = Numpy("int16.npy");
        Assert.Equal($"'{int16}' holds int16 values; samples must be uint8 (pixels 0..255, scaled by 1/255), float32 or float64 (taken as they are). Convert them, for example with x.astype(np.float32).",
            Assert.Throws<DataException>(() => Open([int16], [4])).Message);
        using var folder = new TempFolder();
        var flat = Path.Combine(folder.Path, "flat.npy");
        NumSharp.np.save(flat, NumSharp.np.arange(6).astype(NumSharp.NPTypeCode.Single));
        Assert.Equal($"'{flat}' has shape [6]; samples are an array of shape [N, ...] (N samples, each of at least one dimension).",
            Assert.Throws<DataException>(() => Open([flat], [1])).Message);
        var text = folder.Write("text.npy", "not numpy");
        Assert.StartsWith($"'{text}' is not a valid .npy file: ", Assert.Throws<DataException>(() => Open([text], [1])).Message);
    }

    [Fact]
    public void An_npz_in_the_keras_layout_gives_its_test_split()
    {
        using var data = Open([Numpy("keras_layout.npz")], [1, 2, 2]);
        Assert.Equal(".npz file", data.Layout);
        Assert.Equal(6, data.Train.Count);
        Assert.Equal([0L, 1, 2, 0, 1, 2], data.Train.LabelValues!);
        Assert.Equal([2L, 1, 0], data.Test!.LabelValues!);
        Assert.Equal(100 / 255f, Values(data.Test)[0]);
        Assert.Equal([("keras_layout.npz", 9L)], data.Files.Select(f => (f.Path, f.Samples)));
    }

    [Fact]
    public void An_npz_without_samples_or_with_two_candidates_is_refused()
    {
        using var folder = new TempFolder();
        var none = Path.Combine(folder.Path, "none.npz");
        NumSharp.np.savez(none, new Dictionary<string, NumSharp.NDArray> { ["weights"] = NumSharp.np.zeros(3) });
        Assert.Equal($"'{none}' has no array of samples: expected one named x, images, x_train, train_images; it has weights.",
            Assert.Throws<DataException>(() => Open([none], [1])).Message);
        var two = Path.Combine(folder.Path, "two.npz");
        NumSharp.np.savez(two, new Dictionary<string, NumSharp.NDArray> { ["x"] = NumSharp.np.zeros(new[] { 3, 1 }), ["images"] = NumSharp.np.zeros(new[] { 3, 1 }) });
        Assert.Equal($"'{two}' has x and images: which array holds the samples is ambiguous; keep one.",
            Assert.Throws<DataException>(() => Open([two], [1])).Message);
    }

    [Fact]
    public void Two_npy_files_are_samples_and_labels()
    {
        using var folder = new TempFolder();
        var x = Path.Combine(folder.Path, "x.npy");
        var y = Path.Combine(folder.Path, "y.npy");
        NumSharp.np.save(x, NumSharp.np.ones(new[] { 4, 3 }).astype(NumSharp.NPTypeCode.Single));
        NumSharp.np.save(y, NumSharp.np.array(new[] { 1, 0, 1, 2 }));
        using var data = Open([y, x], [3]);
        Assert.Equal([1L, 0, 1, 2], data.Train.LabelValues!);
        Assert.Equal(new long[] { 3 }, data.Train.SampleShape);
    }

    [Fact]
    public void Without_data_the_digits_and_with_a_CSV_the_file_as_before()
    {
        using (var digits = Open([], [64]))
        {
            Assert.Equal(1797, digits.Train.Count);
            Assert.Equal([("digits.csv.gz", 1797L)], digits.Files.Select(f => (f.Path, f.Samples)));
            Assert.Equal(Datasets.DigitsBytes, digits.Files[0].Bytes);
            Assert.True(digits.Files[0].Bytes > 50_000);
        }
        using var folder = new TempFolder();
        var csv = folder.Write("d.csv", "1,2,0\n3,4,1\n");
        using var data = Open([csv], [2]);
        var memory = Assert.IsType<JepaDataset>(data.Train);
        Assert.Equal([0.25f, 0.5f, 0.75f, 1f], memory.Features.data<float>().ToArray());
        Assert.Equal("CSV file", data.Layout);
        Assert.Equal(folder.Path, data.Root);
    }

    [Fact]
    public void Missing_paths_and_combinations_that_mean_nothing_are_refused()
    {
        using var folder = new TempFolder();
        Assert.Equal($"The data path '{folder.Path}/missing' does not exist.", Assert.Throws<DataException>(() => Open([$"{folder.Path}/missing"], [1])).Message);
        var a = folder.Write("a.csv", "1,0\n");
        var b = folder.Write("b.csv", "1,0\n");
        Assert.Equal($"--data takes one folder; or one file (CSV, .npy, .npz, IDX); or IDX files (images, labels, and their t10k pair); or two .npy files (samples and labels); got 2 files: {a}, {b}.",
            Assert.Throws<DataException>(() => Open([a, b], [1])).Message);
        Assert.Equal($"--data takes one folder, or files; got 2 paths with a folder among them: {folder.Path}, {a}.",
            Assert.Throws<DataException>(() => Open([folder.Path, a], [1])).Message);
    }
}
