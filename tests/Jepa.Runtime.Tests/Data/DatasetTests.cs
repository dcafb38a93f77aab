using Jepa.Runtime.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Data;

public class DatasetTests
{
    private static JepaDataset Numbered(int n, int classes = 3) =>
        new(arange(n * 4, dtype: ScalarType.Float32).reshape(n, 4), arange(n, dtype: ScalarType.Int64) % classes, "numbered");

    [Fact]
    public void Digits_are_embedded_with_their_known_class_counts()
    {
        using var digits = Datasets.Digits();
        Assert.Equal(1797, digits.Count);
        Assert.Equal(new long[] { 64 }, digits.SampleShape);
        Assert.Equal(0f, digits.Features.min().item<float>());
        Assert.Equal(1f, digits.Features.max().item<float>());
        // The first sample of the file is a 0: 0,0,5,13,9,1,0,0,... / 16.
        Assert.Equal(new[] { 0f, 0f, 5 / 16f, 13 / 16f, 9 / 16f, 1 / 16f }, digits.Features[0, ..6].data<float>().ToArray());
        // scikit-learn's load_digits() class counts.
        Assert.Equal(new long[] { 178, 182, 177, 183, 181, 182, 181, 179, 174, 180 }, digits.Labels!.bincount(null).data<long>().ToArray());
    }

    [Fact]
    public void Shuffling_depends_only_on_seed_and_epoch()
    {
        using var data = Numbered(100);
        var order = data.Order(7, 3);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), order.OrderBy(i => i));
        Assert.Equal(order, data.Order(7, 3));
        Assert.NotEqual(order, data.Order(7, 4));
        Assert.NotEqual(order, data.Order(8, 3));
        using var copy = Numbered(100);
        Assert.Equal(order, copy.Order(7, 3));
    }

    [Fact]
    public void Batches_drop_the_last_incomplete_one_and_resume_inside_an_epoch()
    {
        using var data = Numbered(10);
        Assert.Equal(3, data.BatchesPerEpoch(3));
        Assert.Equal(4, data.BatchesPerEpoch(3, dropLast: false));
        var all = data.Batches(3, 1, 0).Select(b => b.data<float>().ToArray()).ToList();
        Assert.Equal(3, all.Count);
        Assert.All(all, b => Assert.Equal(12, b.Length));
        var order = data.Order(1, 0);
        Assert.Equal(Enumerable.Range(0, 4).Select(j => order[3] * 4f + j), all[1][..4]);
        // Resuming at batch 1 gives the same remaining batches.
        var resumed = data.Batches(3, 1, 0, startBatch: 1).Select(b => b.data<float>().ToArray()).ToList();
        Assert.Equal(all.Skip(1), resumed);
        Assert.Equal(4, data.Batches(3, 1, 0, dropLast: false).Count());
    }

    [Fact]
    public void Labelled_batches_keep_features_and_labels_together()
    {
        using var data = Numbered(12, classes: 5);
        foreach (var (x, y) in data.LabelledBatches(4, 2, 1))
            Assert.True((x[.., 0] / 4).to(ScalarType.Int64).remainder(5).equal(y).all().item<bool>());
    }

    [Fact]
    public void Stratified_split_keeps_class_proportions_and_is_seeded()
    {
        using var digits = Datasets.Digits();
        var (train, test) = Datasets.StratifiedSplit(digits.Labels!, 0.25, 0);
        Assert.Empty(train.Intersect(test));
        Assert.Equal(1797, train.Length + test.Length);
        var counts = digits.Labels!.bincount(null).data<long>().ToArray();
        var y = digits.Labels!.data<long>().ToArray();
        // 450 test samples as scikit-learn (ceil(0.25 * 1797)); each class gets floor or ceil of a quarter of its size.
        Assert.Equal(450, test.Length);
        for (var c = 0; c < 10; c++)
            Assert.InRange(test.Count(i => y[i] == c), Math.Floor(0.25 * counts[c]), Math.Ceiling(0.25 * counts[c]));
        Assert.Equal(test, Datasets.StratifiedSplit(digits.Labels!, 0.25, 0).Test);
        Assert.NotEqual(test, Datasets.StratifiedSplit(digits.Labels!, 0.25, 1).Test);

        var (trainSet, testSet) = digits.Split(0.25, 0);
        Assert.Equal(train.Length, trainSet.Count);
        Assert.True(testSet.Features.equal(digits.Features.index_select(0, tensor(test))).all().item<bool>());
    }

    [Fact]
    public void Stratified_split_of_small_classes_keeps_one_sample_on_each_side()
    {
        var labels = tensor(new long[] { 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2 });
        var (train, test) = Datasets.StratifiedSplit(labels, 0.1, 3);
        Assert.Equal(2, test.Length);                       // ceil(1.1)
        Assert.Contains(10L, train);                        // a class of one sample stays in train
        Assert.Single(test, i => i < 2);                    // class 0 (2 samples): one each side
        Assert.Single(test, i => i is >= 2 and < 10);
    }

    [Fact]
    public void Reshape_to_the_input_shape_or_say_what_differs()
    {
        using var digits = Datasets.Digits();
        using var images = digits.ForExperiment([1, 8, 8], labelsNeededBy: "linear_probe");
        Assert.Equal(new long[] { 1797, 1, 8, 8 }, images.Features.shape);
        var e = Assert.Throws<DataException>(() => digits.Reshape([1, 28, 28]));
        Assert.Equal("The experiment expects samples of shape [1, 28, 28] (784 values each), but digits (embedded) has samples of shape [64] (64 values each).", e.Message);
    }

    [Fact]
    public void Validation_messages_name_the_problem()
    {
        using var empty = new JepaDataset(zeros(0, 4), source: "the empty set");
        Assert.Equal("the empty set has no samples.", Assert.Throws<DataException>(() => empty.Validate([4])).Message);

        var values = ones(3, 2, 2);
        values[2, 1, 0] = tensor(float.PositiveInfinity);
        using var infinite = new JepaDataset(values, source: "my tensors");
        Assert.Equal("my tensors contains +infinity at sample 2, feature 2 (both counted from 0); every value must be finite.",
            Assert.Throws<DataException>(() => infinite.Validate([4])).Message);

        using var unlabelled = new JepaDataset(ones(3, 4), source: "my tensors");
        unlabelled.Validate([2, 2]);
        Assert.Equal("few_shot needs labels, but my tensors has none. Load it with a label column, or pass labels with the features.",
            Assert.Throws<DataException>(() => unlabelled.Validate([4], labelsNeededBy: "few_shot")).Message);

        Assert.Equal("my tensors has 3 samples but 2 labels; give one label per sample.",
            Assert.Throws<DataException>(() => new JepaDataset(ones(3, 4), tensor(new long[] { 0, 1 }), "my tensors")).Message);
        Assert.Equal("my tensors has a negative label (-2); labels are class indices 0, 1, 2, ...",
            Assert.Throws<DataException>(() => new JepaDataset(ones(2, 4), tensor(new long[] { 0, -2 }), "my tensors")).Message);
        Assert.Equal("my tensors has labels that are not whole numbers; labels are class indices 0, 1, 2, ...",
            Assert.Throws<DataException>(() => new JepaDataset(ones(2, 4), tensor(new float[] { 0, 0.5f }), "my tensors")).Message);
    }

    [Fact]
    public void The_data_set_outlives_a_dispose_scope()
    {
        JepaDataset data;
        using (NewDisposeScope())
        {
            data = new JepaDataset(randn(5, 3), tensor(new long[] { 0, 1, 0, 1, 0 }));
        }
        using (data)
        {
            Assert.Equal(15, data.Features.numel());
            Assert.Equal(2, data.ClassCount);
        }
    }
}
