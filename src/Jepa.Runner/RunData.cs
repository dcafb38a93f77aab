using System.Globalization;
using System.Text.Json.Nodes;
using Jepa.Runtime.Data;
using Jepa.Runtime.Evaluation;
using static TorchSharp.torch;

namespace Jepa.Runner;

/// <summary>Samples used for one purpose, for messages and <c>evaluation.json</c>: how many, and from where.</summary>
internal sealed record DataUse(string Source, long Samples)
{
    public JsonObject ToJson() => new() { ["source"] = Source, ["samples"] = Samples };
}

/// <summary>
/// The splits of a run (docs/runtime-training.md, "The runner"): what the encoder trains on
/// (<c>--data</c>, labels optional), what the probes fit on (<c>--probe-data</c>, else the training data when it has
/// labels) and what the evaluation reports on (<c>--test-data</c>, else the data's own test split, else
/// <c>split(test: 0.25)</c> of the probe data, stratified and seeded; when the probe data is the training data, the
/// encoder trains on the rest only). The test classes are matched to the probe classes by name.
/// </summary>
internal sealed class RunData : IDisposable
{
    private readonly List<IDisposable> owned = [];

    private RunData(ISampleSet train, DataUse trainUse)
    {
        Train = train;
        TrainUse = trainUse;
    }

    /// <summary>What the encoder trains on.</summary>
    public ISampleSet Train { get; private set; }

    /// <summary>What the probes fit on (labelled), or null when the run has no evaluation.</summary>
    public ISampleSet? Probe { get; private set; }

    /// <summary>What the evaluation reports on (labelled), or null; <see cref="TestDataset"/> gives it in the probe data's classes.</summary>
    public ISampleSet? Test { get; private set; }

    /// <summary>The probe class of each test label, where the two differ (classes matched by name); null: the same.</summary>
    private Dictionary<long, long>? testLabels;

    public DataUse TrainUse { get; private set; }

    public DataUse? ProbeUse { get; private set; }

    public DataUse? TestUse { get; private set; }

    /// <summary>True when the test samples are a split held out from the probe data.</summary>
    public bool HeldOut { get; private set; }

    /// <summary>What the runner prints about the split, one line.</summary>
    public string Summary { get; private set; } = "";

    /// <summary>Counts and sources of train, probe and test samples, for <c>evaluation.json</c>.</summary>
    public JsonObject ToJson() => new()
    {
        ["train"] = TrainUse.ToJson(),
        ["probe"] = ProbeUse?.ToJson(),
        ["test"] = TestUse?.ToJson(),
    };

    /// <summary>Plans the splits from the loaded sources; <paramref name="test"/> and <paramref name="probe"/> are
    /// those of <c>--test-data</c> and <c>--probe-data</c>, when given.</summary>
    public static RunData Plan(DataSource train, DataSource? test, DataSource? probe, EvaluationOptions evaluation, long seed)
    {
        var data = new RunData(train.Samples, new DataUse(train.Description, train.Samples.Count));
        if (!evaluation.Any)
        {
            data.Summary = $"Training on all {train.Samples.Count} samples (the evaluate block is empty: no evaluation).";
            return data;
        }

        // The probe data: --probe-data, else the training data when it has labels.
        var probeSource = probe ?? (train.Samples.HasLabels ? train : null);
        if (probe is not null) RequireLabels(probe, "--probe-data");
        if (probeSource is null)
        {
            if (test is not null)
                throw new RunException($"--test-data needs labelled samples to fit the probes on, but {train.Description} has no labels; give them with --probe-data.");
            data.Summary = $"{train.Description} has no labels and no --probe-data was given: training on all {train.Samples.Count} samples, without evaluation.";
            return data;
        }
        data.Probe = probeSource.Samples;
        data.ProbeUse = new DataUse(probeSource.Description, probeSource.Samples.Count);

        // The test data: --test-data (its own test split if it has one), else the own test split of the data the
        // probes fit on, else a held-out split of it.
        ISampleSet? testSet = null;
        string? testDescription = null;
        if (test is not null)
        {
            testSet = test.Test ?? test.Samples;
            testDescription = test.Test is null ? test.Description : $"{test.Description} (its own test split)";
            if (!testSet.HasLabels) throw new RunException($"--test-data needs labels, but {test.Description} has none: the evaluation reports how well the probes predict them.");
        }
        else if (probeSource.Test is { HasLabels: true } own)
        {
            testSet = own;
            testDescription = $"{probeSource.Description} (its own test split)";
        }

        if (testSet is null)
        {
            var (rest, held) = SampleOrder.Split(probeSource.Samples, evaluation.TestFraction, seed);
            data.owned.Add(rest);
            data.owned.Add(held);
            var fraction = evaluation.TestFraction.ToString("P0", CultureInfo.InvariantCulture);
            data.Probe = rest;
            data.ProbeUse = new DataUse($"{probeSource.Description}, without the held-out split", rest.Count);
            data.Test = held;
            data.HeldOut = true;
            data.TestUse = new DataUse($"{probeSource.Description}, held out ({fraction}, stratified)", held.Count);
            if (ReferenceEquals(probeSource, train))
            {
                // The encoder never sees the samples the evaluation reports on.
                data.Train = rest;
                data.TrainUse = data.ProbeUse;
                data.Summary = $"Training on {rest.Count} samples; {held.Count} held out for evaluation ({fraction}, stratified).";
            }
            else
            {
                data.Summary = $"Training on {train.Samples.Count} samples; the probes fit on {rest.Count} samples of {probeSource.Description} and are evaluated on {held.Count} held out ({fraction}, stratified).";
            }
            return data;
        }

        data.Test = testSet;
        data.testLabels = MatchClasses(testSet, probeSource.Samples, probeSource.Description, testDescription!);
        data.TestUse = new DataUse(testDescription!, testSet.Count);
        data.Summary = $"Training on {train.Samples.Count} samples" +
                       (ReferenceEquals(probeSource, train) ? "" : $"; the probes fit on {probeSource.Samples.Count} samples of {probeSource.Description}") +
                       $"; evaluation on {testSet.Count} samples of {testDescription}.";
        return data;
    }

    /// <summary>
    /// The probe class of each test class, matched by name (ordinal); a test class the probe data lacks is an error. Null
    /// when every test label already names the same class in the probe data.
    /// </summary>
    internal static Dictionary<long, long>? MatchClasses(ISampleSet test, ISampleSet probe, string probeDescription, string testDescription)
    {
        var probeClasses = probe.LabelValues!.Distinct().Order().ToArray();
        var index = probeClasses.ToDictionary(l => DataSource.ClassName(probe, l), l => l, StringComparer.Ordinal);
        var mapping = new Dictionary<long, long>();
        foreach (var group in test.LabelValues!.GroupBy(l => l).OrderBy(g => g.Key))
        {
            var name = DataSource.ClassName(test, group.Key);
            if (!index.TryGetValue(name, out var target))
                throw new DataException($"The test data ({testDescription}) has class '{name}' ({group.Count()} samples), which the probe data ({probeDescription}) lacks: " +
                                        $"the probes cannot predict a class they never saw. Its classes: {string.Join(", ", index.Keys)}.");
            mapping[group.Key] = target;
        }
        return mapping.All(m => m.Key == m.Value) ? null : mapping;
    }

    /// <summary>The probe samples in memory (what the probes fit on).</summary>
    public JepaDataset ProbeDataset() => (Probe ?? throw new InvalidOperationException("The run has no probe data.")).ToDataset();

    /// <summary>The test samples in memory, labelled with the probe data's classes.</summary>
    public JepaDataset TestDataset()
    {
        var test = (Test ?? throw new InvalidOperationException("The run has no test data.")).ToDataset();
        if (testLabels is null) return test;
        using (test)
        using (var scope = NewDisposeScope())
        {
            var labels = test.Labels!.data<long>().ToArray().Select(l => testLabels[l]).ToArray();
            return new JepaDataset(test.Features, tensor(labels), test.Source);
        }
    }

    private static void RequireLabels(DataSource source, string option)
    {
        if (!source.Samples.HasLabels) throw new RunException($"{option} needs labels, but {source.Description} has none: the probes learn to predict them.");
    }

    public void Dispose()
    {
        foreach (var d in owned) d.Dispose();
    }
}
