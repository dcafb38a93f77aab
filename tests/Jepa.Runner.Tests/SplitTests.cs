using Jepa.Runtime.Data;
using Jepa.Runtime.Evaluation;

namespace Jepa.Runner.Tests;

/// <summary>The splits of a run (RunData.Plan): what the encoder trains on, what the probes fit on, what the evaluation reports on.</summary>
[Collection(RunnerCollection.Name)]
public class SplitTests
{
    private static readonly EvaluationOptions Knn = new() { Knn = new KnnOptions(5) };

    [Fact]
    public void Labelled_data_without_a_test_set_holds_out_a_quarter_and_the_encoder_never_sees_it()
    {
        using var source = Data.Source(Data.Labelled(100, 4, "train.csv"));

        using var data = RunData.Plan(source, null, null, Knn, seed: 1);

        Assert.True(data.HeldOut);
        Assert.Equal(25, data.Test!.Count);
        Assert.Equal(75, data.Train.Count);
        Assert.Same(data.Train, data.Probe);
        Assert.Equal([6L, 6, 6, 7], Counts(data.Test).OrderBy(c => c)); // four classes of 25, stratified
        Assert.Equal("Training on 75 samples; 25 held out for evaluation (25 %, stratified).", data.Summary);
        var json = data.ToJson();
        Assert.Equal(75, json["train"]!["samples"]!.GetValue<long>());
        Assert.Equal(25, json["test"]!["samples"]!.GetValue<long>());
        Assert.Equal("train.csv, held out (25 %, stratified)", json["test"]!["source"]!.GetValue<string>());
    }

    [Fact]
    public void A_sources_own_test_split_is_the_test_set_and_the_encoder_trains_on_all_of_the_rest()
    {
        using var source = Data.Source(Data.Labelled(80, 4, "mnist"), Data.Labelled(20, 4, "mnist t10k", seed: 9));

        using var data = RunData.Plan(source, null, null, Knn, seed: 1);

        Assert.False(data.HeldOut);
        Assert.Equal(80, data.Train.Count);
        Assert.Equal(80, data.Probe!.Count);
        Assert.Same(source.Test, data.Test);
        Assert.Equal("mnist (its own test split)", data.TestUse!.Source);
    }

    [Fact]
    public void Test_classes_are_matched_to_the_training_classes_by_name_and_an_unknown_class_is_an_error()
    {
        // Training classes by label: cat, dog, emu; the test data numbers them the other way round.
        using var train = Data.Source(Data.Labelled(30, 3, "train"), classNames: ["cat", "dog", "emu"]);
        using var test = Data.Source(Data.Labelled(9, 3, "test"), classNames: ["emu", "dog", "cat"]);

        using var data = RunData.Plan(train, test, null, Knn, seed: 1);

        using var matched = data.TestDataset();
        Assert.Equal(test.Samples.LabelValues!.Select(l => 2 - l), matched.Labels!.data<long>());
        Assert.Equal(30, data.Train.Count); // a test set given: nothing is held out

        using var stranger = Data.Source(Data.Labelled(9, 3, "other"), classNames: ["cat", "dog", "fox"]);
        var x = Assert.Throws<DataException>(() => RunData.Plan(train, stranger, null, Knn, seed: 1));
        Assert.StartsWith("The test data (other) has class 'fox' (3 samples), which the probe data (train) lacks", x.Message);
    }

    [Fact]
    public void Unlabelled_data_with_nothing_to_probe_on_trains_on_everything_and_says_it_skips_the_evaluation()
    {
        using var source = Data.Source(new JepaDataset(Data.Labelled(50, 2).Features, null, "images"));

        using var data = RunData.Plan(source, null, null, Knn, seed: 1);

        Assert.Null(data.Probe);
        Assert.Null(data.Test);
        Assert.Equal(50, data.Train.Count);
        Assert.Equal("images has no labels and no --probe-data was given: training on all 50 samples, without evaluation.", data.Summary);
        using var test = Data.Source(Data.Labelled(10, 2, "test"));
        Assert.Contains("give them with --probe-data", Assert.Throws<RunException>(() => RunData.Plan(source, test, null, Knn, seed: 1)).Message);
    }

    [Fact]
    public void Unlabelled_training_data_with_probe_data_trains_on_all_of_it_and_holds_out_part_of_the_probe_data()
    {
        using var source = Data.Source(new JepaDataset(Data.Labelled(50, 2).Features, null, "images"));
        using var probe = Data.Source(Data.Labelled(40, 4, "labelled.csv"));

        using var data = RunData.Plan(source, null, probe, Knn, seed: 1);

        Assert.Equal(50, data.Train.Count);
        Assert.Equal(30, data.Probe!.Count);
        Assert.Equal(10, data.Test!.Count);
        Assert.Equal("images", data.TrainUse.Source);
        Assert.Equal("labelled.csv, without the held-out split", data.ProbeUse!.Source);

        using var unlabelledProbe = Data.Source(new JepaDataset(Data.Labelled(40, 4).Features, null, "more images"));
        Assert.Contains("--probe-data needs labels", Assert.Throws<RunException>(() => RunData.Plan(source, null, unlabelledProbe, Knn, seed: 1)).Message);
    }

    private static long[] Counts(ISampleSet data) => data.LabelValues!.GroupBy(l => l).Select(g => (long)g.Count()).ToArray();
}
