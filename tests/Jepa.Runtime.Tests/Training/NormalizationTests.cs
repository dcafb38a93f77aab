using System.Text.Json;
using Jepa.Runtime.Training;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Training;

/// <summary>
/// Input normalisation: the statistics against a plain double-precision computation, the one place that applies them
/// (<see cref="JepaExperiment.Normalize"/>), and the same normalised samples in training, the collapse monitor and
/// embedding; the values travel in the effective options, options.json and every checkpoint.
/// </summary>
[Collection(TrainerCollection.Name)]
public class NormalizationTests
{
    private static TensorData Data(long count, long[] shape, float[] offsets, long seed = 5)
    {
        using var g = new Generator(unchecked((ulong)seed));
        var x = rand([count, .. shape], generator: g);
        if (offsets.Length > 1) x = x * 2 + tensor(offsets).reshape([1, offsets.Length, .. Enumerable.Repeat(1L, shape.Length - 1)]);
        return new TensorData(x.DetachFromDisposeScope());
    }

    /// <summary>Mean and population std of each channel (axis 1 of a rank-4 tensor, else one), in double, value by value.</summary>
    private static (double[] Mean, double[] Std) ByHand(Tensor all)
    {
        var values = all.data<float>().ToArray();
        var channels = all.dim() >= 4 ? (int)all.shape[1] : 1;
        var perChannel = all.dim() >= 4 ? (int)(all.numel() / all.shape[0] / channels) : (int)all.numel();
        var groups = Enumerable.Range(0, channels).Select(_ => new List<double>()).ToArray();
        for (var i = 0; i < values.Length; i++) groups[all.dim() >= 4 ? i / perChannel % channels : 0].Add(values[i]);
        var mean = groups.Select(g => g.Average()).ToArray();
        var std = groups.Select((g, c) => Math.Sqrt(g.Sum(v => (v - mean[c]) * (v - mean[c])) / g.Count)).ToArray();
        return (mean, std);
    }

    private static Tensor All(TensorData data) => data.Batches((int)data.Count, 0, 0).Single();

    [Fact]
    public void Each_channel_gets_the_mean_and_population_std_of_all_its_values_across_batches()
    {
        var data = Data(700, [3, 2, 2], [0f, 5f, -3f]); // 700 samples: batches of 256, 256 and 188
        var (mean, std) = ByHand(All(data));

        var n = InputNormalization.Compute(data, seed: 1);

        Assert.Equal(700, n.Samples);
        Assert.Equal(3, n.Mean.Count);
        for (var c = 0; c < 3; c++)
        {
            Assert.Equal(mean[c], n.Mean[c], 1e-5);
            Assert.Equal(std[c], n.Std[c], 1e-5);
        }
        Assert.Equal(n, InputNormalization.Compute(data, seed: 1)); // the same values again
    }

    [Fact]
    public void A_vector_or_a_2d_sample_is_one_channel_and_a_constant_channel_is_only_centred()
    {
        foreach (var shape in new long[][] { [5], [4, 3] })
        {
            var data = Data(300, shape, [0f]);
            var (mean, std) = ByHand(All(data));
            var n = InputNormalization.Compute(data, seed: 2);
            Assert.Equal([mean[0]], n.Mean.ToArray(), (a, b) => Math.Abs(a - b) < 1e-5);
            Assert.Equal([std[0]], n.Std.ToArray(), (a, b) => Math.Abs(a - b) < 1e-5);
        }

        var constant = new TensorData(full(20, 1, 2, 2, 0.25f).DetachFromDisposeScope());
        var c = InputNormalization.Compute(constant, seed: 0);
        Assert.Equal(0.25, c.Mean[0], 1e-7);
        Assert.Equal(1.0, c.Std[0]);
    }

    [Fact]
    public void At_most_MaxSamples_are_read()
    {
        var data = Data(InputNormalization.MaxSamples + 300, [1], [0f]);
        Assert.Equal(InputNormalization.MaxSamples, InputNormalization.Compute(data, seed: 0).Samples);
    }

    [Fact]
    public void Normalize_subtracts_each_channels_mean_and_divides_by_its_std()
    {
        using var e = new TinyJepa(TinyOptions.Default with { Normalization = new InputNormalization([1.0, 2.0, 3.0], [1.0, 2.0, 4.0]) });
        using var x = rand(2, 3, 4, 4);

        using var y = e.Normalize(x);

        for (var c = 0; c < 3; c++)
        {
            using var expected = (x[.., c] - (c + 1)) / new[] { 1.0, 2.0, 4.0 }[c];
            Assert.True(y[.., c].allclose(expected, rtol: 1e-6, atol: 1e-6), $"channel {c}");
        }
        Assert.Contains("samples have 5", Assert.Throws<ArgumentException>(() => e.Normalize(rand(2, 5, 4, 4))).Message);
        Assert.Contains("are one channel", Assert.Throws<ArgumentException>(() => e.Normalize(rand(2, 8))).Message);

        using var none = new TinyJepa(TinyOptions.Default with { Normalization = InputNormalization.None });
        Assert.Same(x, none.Normalize(x));
        using var scalar = new TinyJepa(TinyOptions.Default with { Normalization = new InputNormalization([0.5], [2.0]) });
        using var v = rand(3, 8);
        Assert.True(scalar.Normalize(v).allclose((v - 0.5) / 2.0));
        Assert.Contains("Normalization needs finite means and positive",
            string.Join(" ", (TinyOptions.Default with { Normalization = new InputNormalization([0.0], [0.0]) }).Problems()));
    }

    [Fact]
    public void Training_the_collapse_monitor_and_Embed_see_the_same_normalised_samples()
    {
        var data = Data(64, [8], [0f]);
        var raw = All(data);
        var options = TinyOptions.Default with { Batch = 64, Steps = 2, Collapse = new CollapseMonitorOptions(0, 0, CollapseAction.Warn, 1) };
        using var e = new TinyJepa(options);
        var seen = new List<(string Where, double Mean, double Std)>();
        e.Saw = (where, x) => seen.Add((where, x.mean().item<float>(), x.std(unbiased: false).item<float>()));

        e.Train(data, new TrainOptions { MonitorSamples = 64 });

        // Each training batch and the monitor's batch is all 64 samples, normalised: mean 0, std 1.
        Assert.Contains(seen, s => s.Where == "step");
        Assert.Contains(seen, s => s.Where == "encode");
        Assert.All(seen, s => Assert.True(Math.Abs(s.Mean) < 1e-5 && Math.Abs(s.Std - 1) < 1e-5, $"{s.Where}: mean {s.Mean}, std {s.Std}"));

        Tensor? encoded = null;
        e.Saw = (where, x) => encoded = x.clone().DetachFromDisposeScope();
        using (e.EvaluationMode()) e.Embed(raw).Dispose();
        var n = e.EffectiveOptions.Normalization!;
        Assert.True(encoded!.allclose((raw - n.Mean[0]) / n.Std[0], rtol: 1e-6, atol: 1e-6));
    }

    [Fact]
    public void A_fresh_run_computes_it_options_json_and_checkpoints_carry_it_and_a_resume_keeps_it()
    {
        var data = Data(100, [8], [0f]);
        var folder = TestFolders.Create("normalization");
        using (var first = new TinyJepa(TinyOptions.Default with { Steps = 6 }))
        {
            first.Train(data, new TrainOptions { RunFolder = folder });
            Assert.Equal(InputNormalization.Compute(data, TinyOptions.Default.Seed), first.EffectiveOptions.Normalization);
        }
        var computed = InputNormalization.Compute(data, TinyOptions.Default.Seed);
        using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, RunFolder.OptionsFileName))))
        {
            var stored = json.RootElement.GetProperty("Normalization");
            Assert.Equal(computed.Mean[0], stored.GetProperty("Mean")[0].GetDouble());
            Assert.Equal(100, stored.GetProperty("Samples").GetInt64());
        }

        // Resumed on other data, the run keeps its normalisation (restored from the checkpoint, not computed again).
        var checkpoint = Path.Combine(folder, RunFolder.CheckpointFileName);
        using (var resumed = new TinyJepa(TinyOptions.Default with { Steps = 9 }))
        {
            resumed.Load(checkpoint);
            Assert.Equal(computed, resumed.EffectiveOptions.Normalization);
            resumed.Train(Data(100, [8], [0f], seed: 9));
            Assert.Equal(computed, resumed.EffectiveOptions.Normalization);
        }

        // A declared normalisation must be the checkpoint's.
        using var declared = new TinyJepa(TinyOptions.Default with { Normalization = new InputNormalization([0.5], [0.25]) });
        var x = Assert.Throws<CheckpointException>(() => declared.Load(checkpoint));
        Assert.Contains("Normalization:", x.Message);
    }
}
