using System.Collections;
using System.Text.Json;
using Jepa.Runtime.Data;
using Jepa.Runtime.Interop;
using Jepa.Runtime.Training;
using TorchSharp;
using TorchSharp.PyBridge;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Jepa.PyTorch.Tests;

/// <summary>
/// Checkpoints both ways (src/Jepa.Runtime/Interop/PyTorchCheckpoint.cs): a model trained by a PyTorch program loads
/// into the generated experiment and encodes as PyTorch does; a TorchSharp run exported to <c>.pt</c> resumes in
/// PyTorch; broken or foreign files are refused and change nothing; the data split and order agree with PyTorch's.
/// </summary>
[Collection(PyTorchCollection.Name)]
public class CheckpointInteropTests(ITestOutputHelper output)
{
    private static readonly string Digits = RepositoryRoot.Combine("data", "digits.csv.gz");

    [SkippableTheory]
    [InlineData("DigitsJepa", "examples/Digits/pytorch/train_digits_jepa.py")]
    [InlineData("TokenJepa", "examples/TokenJepa/pytorch/train_token_jepa.py")]
    public void A_PyTorch_checkpoint_loads_into_the_generated_experiment(string name, string program)
    {
        Python.RequireTorch();
        using var folder = new TempFolder();
        var (code, text) = Python.Run([program, "--data", Digits, "--steps", "3", "--out", folder.File("run"), "--monitor-samples", "64"], TimeSpan.FromMinutes(5));
        Assert.True(code == 0, text);
        var checkpoint = folder.File("run/checkpoint.pt");

        using var experiment = Create(name);
        var before = Interop.Modules(experiment);
        var info = PyTorchCheckpoint.Load(experiment, checkpoint);
        Assert.Equal((3L, name, 3L), (info.Step, info.Experiment, experiment.StepsTaken));
        Assert.True(info.HasOptimizerState);
        Assert.NotEqual(0.0, Interop.MaxDifference((Tensor)((Hashtable)before["context"]!)[ContextWeight(name)]!, experiment.Modules().First().Module.state_dict()[ContextWeight(name)]));
        // The normalisation the program computed on the training data and trained with came along (options.json has it).
        using (var options = JsonDocument.Parse(File.ReadAllText(folder.File("run/options.json"))))
        {
            var saved = options.RootElement.GetProperty("normalization");
            var normalization = experiment.EffectiveOptions.Normalization!;
            Assert.Equal(saved.GetProperty("mean").EnumerateArray().Select(e => e.GetDouble()), normalization.Mean);
            Assert.Equal(saved.GetProperty("std").EnumerateArray().Select(e => e.GetDouble()), normalization.Std);
            Assert.Equal(1347L, normalization.Samples);
            Assert.False(normalization.IsIdentity);
        }

        // The same batch encoded by both: the weights arrived under the right names (and both encodes normalise the
        // batch with the run's normalisation, which came with the checkpoint).
        using var x = Batch(name);
        PyTorchCheckpoint.Write(folder.File("x.pt"), new Hashtable { ["format"] = PyTorchCheckpoint.Format, ["version"] = 1, ["x"] = x });
        (code, text) = Python.Run(["tests/python/tools/encode.py", name, checkpoint, folder.File("x.pt"), folder.File("z.pt")], TimeSpan.FromMinutes(2));
        Assert.True(code == 0, text);
        var pyZ = (Tensor)PyTorchUnpickler.UnpickleStateDict(File.OpenRead(folder.File("z.pt")))["z"]!;
        using var eval = experiment.EvaluationMode();
        var z = experiment.Encode(x);
        var difference = Interop.MaxDifference(z, pyZ) / Interop.MaxAbs([z]);
        output.WriteLine($"{name}: PyTorch checkpoint after 3 steps, encodings of 32 samples differ by {difference:E2} of the largest");
        Assert.True(difference <= 1e-5, $"encodings differ by {difference:E2}");
    }

    [SkippableFact]
    public void An_exported_TorchSharp_run_continues_in_PyTorch()
    {
        Python.RequireTorch();
        using var folder = new TempFolder();
        // The run's own options (batch 256), on the training split the runner and the program use, for 2 of 8 steps.
        using var experiment = new DigitsJepa(DigitsJepa.Options.Default with { Steps = 8, Collapse = null });
        using (var digits = Datasets.Digits())
        {
            var (train, _) = digits.Split(0.25, experiment.Settings.Seed);
            using (train) experiment.Train(train, new TrainOptions { Steps = 2 });
        }
        var checkpoint = folder.File("run/checkpoint.pt");
        PyTorchCheckpoint.Export(experiment, checkpoint);

        // The trained run normalises its inputs: both encodes do it themselves, the program's with the run's
        // normalisation, sent along (the exported checkpoint holds it too: options.normalization).
        using var x = Batch("DigitsJepa");
        var normalization = experiment.EffectiveOptions.Normalization!;
        PyTorchCheckpoint.Write(folder.File("x.pt"), new Hashtable
        {
            ["format"] = PyTorchCheckpoint.Format, ["version"] = 1, ["x"] = x,
            ["normalization"] = new Hashtable { ["mean"] = tensor(normalization.Mean.ToArray()), ["std"] = tensor(normalization.Std.ToArray()) },
        });
        var (code, text) = Python.Run(["tests/python/tools/encode.py", "DigitsJepa", checkpoint, folder.File("x.pt"), folder.File("z.pt")], TimeSpan.FromMinutes(2));
        Assert.True(code == 0, text);
        var py = PyTorchUnpickler.UnpickleStateDict(File.OpenRead(folder.File("z.pt")));
        var loaded = (Hashtable)py["modules"]!;
        foreach (DictionaryEntry role in Interop.Modules(experiment))
            foreach (DictionaryEntry t in (Hashtable)role.Value!)
                Assert.Equal(0.0, Interop.MaxDifference((Tensor)t.Value!, (Tensor)((Hashtable)loaded[role.Key]!)[t.Key]!));   // bit for bit
        using (experiment.EvaluationMode())
            Assert.True(Interop.MaxDifference(experiment.Encode(x), (Tensor)py["z"]!) <= 1e-6);
        Assert.Equal(2, Convert.ToInt64(py["step"], System.Globalization.CultureInfo.InvariantCulture));

        // The PyTorch program resumes from it (weights, EMA target and step; its optimizer starts afresh) and trains on.
        (code, text) = Python.Run(["examples/Digits/pytorch/train_digits_jepa.py", "--data", Digits, "--resume", folder.File("run"), "--steps", "8",
            "--monitor-samples", "64"], TimeSpan.FromMinutes(5));
        output.WriteLine(text);
        Assert.True(code == 0, text);
        Assert.Contains("at step 2", text);
        Assert.Contains("holds no optimizer state", text);
        Assert.Contains("(computed on 1347 training samples)", text);   // the export's, not computed again
        Assert.DoesNotContain("holds no normalisation", text);
        Assert.Contains("step 8/8 epoch 1", text);          // 5 steps of 256 per epoch of the 1,347 training samples
        Assert.Equal(8L, PyTorchCheckpoint.Load(experiment, checkpoint).Step);
    }

    [Fact]
    public void Export_then_Load_restores_weights_and_position()
    {
        using var folder = new TempFolder();
        using var trained = new DigitsJepa(DigitsJepa.Options.Default with { Batch = 64, Steps = 3, Collapse = null });
        using (var digits = Datasets.Digits()) trained.Train(digits);
        PyTorchCheckpoint.Export(trained, folder.File("checkpoint.pt"));
        using var fresh = new DigitsJepa(DigitsJepa.Options.Default with { Batch = 64, Steps = 3, Collapse = null, Seed = 99 });
        var info = PyTorchCheckpoint.Load(fresh, folder.File("checkpoint.pt"));
        Assert.Equal((3L, 0, 3L, 1), (info.Step, info.Epoch, info.Position, info.WorldSize));
        Assert.False(info.HasOptimizerState);
        Assert.Equal(trained.ParameterDigest(), fresh.ParameterDigest());
    }

    [Fact]
    public void A_program_runs_normalisation_comes_with_its_weights_and_a_declared_one_must_match()
    {
        using var folder = new TempFolder();
        using (var trained = new DigitsJepa()) PyTorchCheckpoint.Export(trained, folder.File("none.pt"));
        var payload = PyTorchCheckpoint.Read(folder.File("none.pt"));
        payload["options"] = new Hashtable { ["normalization"] = new Hashtable { ["mean"] = new ArrayList { 0.25 }, ["std"] = new ArrayList { 0.5 }, ["samples"] = 1347 } };
        PyTorchCheckpoint.Write(folder.File("normalised.pt"), payload);

        // An experiment that computes its normalisation takes the file's; from a file without one (a TorchSharp export), none.
        using var computes = new DigitsJepa();
        var info = PyTorchCheckpoint.Load(computes, folder.File("normalised.pt"));
        Assert.Equal(computes.EffectiveOptions.Normalization, info.Normalization);
        Assert.Equal("mean [0.25], std [0.5] (computed on 1347 training samples)", info.Normalization!.ToString());
        using var fromExport = new DigitsJepa();
        Assert.Null(PyTorchCheckpoint.Load(fromExport, folder.File("none.pt")).Normalization);
        Assert.True(fromExport.EffectiveOptions.Normalization!.IsIdentity);

        // A declared normalisation must be the file's; the experiment is left as it was.
        using var declared = new DigitsJepa(DigitsJepa.Options.Default with { Normalization = new InputNormalization([0.1], [0.3]) });
        var digest = declared.ParameterDigest();
        var differs = Assert.Throws<CheckpointException>(() => PyTorchCheckpoint.Load(declared, folder.File("normalised.pt")));
        Assert.Contains("trained with the normalisation mean [0.25], std [0.5]", differs.Message);
        Assert.Equal((digest, 0L), (declared.ParameterDigest(), declared.StepsTaken));

        payload["options"] = new Hashtable { ["normalization"] = new Hashtable { ["mean"] = new ArrayList { 0.25 }, ["std"] = new ArrayList { 0.0 } } };
        PyTorchCheckpoint.Write(folder.File("broken.pt"), payload);
        using var other = new DigitsJepa();
        Assert.Contains("options.normalization is not", Assert.Throws<CheckpointException>(() => PyTorchCheckpoint.Load(other, folder.File("broken.pt"))).Message);
    }

    [Fact]
    public void Export_writes_the_normalisation_the_run_trains_with_declared_or_computed()
    {
        using var folder = new TempFolder();
        // Declared: written as it is (no sample count), before any training.
        var declaredStats = new InputNormalization([0.1], [0.3]);
        using (var declared = new DigitsJepa(DigitsJepa.Options.Default with { Normalization = declaredStats })) PyTorchCheckpoint.Export(declared, folder.File("declared.pt"));
        var saved = (Hashtable)((Hashtable)PyTorchCheckpoint.Read(folder.File("declared.pt"))["options"]!)["normalization"]!;
        Assert.Equal([0.1], ((ArrayList)saved["mean"]!).Cast<double>());
        Assert.Equal([0.3], ((ArrayList)saved["std"]!).Cast<double>());
        Assert.False(saved.ContainsKey("samples"));
        using var computes = new DigitsJepa();
        Assert.Equal(declaredStats, PyTorchCheckpoint.Load(computes, folder.File("declared.pt")).Normalization);
        Assert.Equal(declaredStats, computes.EffectiveOptions.Normalization);
        using var other = new DigitsJepa(DigitsJepa.Options.Default with { Normalization = new InputNormalization([0.2], [0.3]) });
        Assert.Contains("trained with the normalisation mean [0.1], std [0.3]", Assert.Throws<CheckpointException>(() => PyTorchCheckpoint.Load(other, folder.File("declared.pt"))).Message);

        // Computed by the run on its training data: the same values and sample count come back.
        using var trained = new DigitsJepa(DigitsJepa.Options.Default with { Batch = 64, Steps = 1, Collapse = null });
        using (var digits = Datasets.Digits()) trained.Train(digits);
        PyTorchCheckpoint.Export(trained, folder.File("computed.pt"));
        using var fresh = new DigitsJepa();
        var info = PyTorchCheckpoint.Load(fresh, folder.File("computed.pt"));
        Assert.Equal(trained.EffectiveOptions.Normalization, info.Normalization);
        Assert.Equal(1797L, info.Normalization!.Samples);
    }

    [SkippableFact]
    public void A_PyTorch_program_resumes_an_export_with_the_normalisation_it_declares()
    {
        Python.RequireTorch();
        using var folder = new TempFolder();
        // A declared normalisation other than the data's: the program must take it, not compute its own.
        using (var experiment = new DigitsJepa(DigitsJepa.Options.Default with { Steps = 4, Collapse = null, Normalization = new InputNormalization([0.1], [0.3]) }))
        {
            using (var digits = Datasets.Digits())
            {
                var (train, _) = digits.Split(0.25, experiment.Settings.Seed);
                using (train) experiment.Train(train, new TrainOptions { Steps = 1 });
            }

            PyTorchCheckpoint.Export(experiment, folder.File("run/checkpoint.pt"));
        }

        var (code, text) = Python.Run(["examples/Digits/pytorch/train_digits_jepa.py", "--data", Digits, "--resume", folder.File("run"), "--steps", "2",
            "--monitor-samples", "64"], TimeSpan.FromMinutes(5));
        Assert.True(code == 0, text);
        Assert.Contains("Normalisation: mean [0.1], std [0.3] (declared).", text);
        Assert.Contains("step 2/2", text);
    }

    [Fact]
    public void Foreign_or_damaged_files_are_refused_and_change_nothing()
    {
        using var folder = new TempFolder();
        using var vicreg = new DigitsVicReg();
        PyTorchCheckpoint.Export(vicreg, folder.File("vicreg.pt"));
        using var experiment = new DigitsJepa();
        var digest = experiment.ParameterDigest();

        var other = Assert.Throws<CheckpointException>(() => PyTorchCheckpoint.Load(experiment, folder.File("vicreg.pt")));
        Assert.Contains("written for the experiment 'DigitsVicReg', not 'DigitsJepa'", other.Message);

        var bytes = File.ReadAllBytes(folder.File("vicreg.pt"));
        File.WriteAllBytes(folder.File("truncated.pt"), bytes[..(bytes.Length / 2)]);
        var truncated = Assert.Throws<CheckpointException>(() => PyTorchCheckpoint.Load(experiment, folder.File("truncated.pt")));
        Assert.Contains("not a readable PyTorch file", truncated.Message);

        using (var module = new Jepa.Runtime.Models.MlpEncoder([4], [2], 2)) module.save_py(folder.File("state_dict.pt"));
        var plain = Assert.Throws<CheckpointException>(() => PyTorchCheckpoint.Load(experiment, folder.File("state_dict.pt")));
        Assert.Contains("not a Jepa PyTorch checkpoint", plain.Message);

        // Right experiment, wrong shape: the file of a DigitsJepa whose predictor is narrower.
        using var narrow = new DigitsJepa(DigitsJepa.Options.Default with { PredictorHidden = [32] });
        PyTorchCheckpoint.Export(narrow, folder.File("narrow.pt"));
        var shape = Assert.Throws<CheckpointException>(() => PyTorchCheckpoint.Load(experiment, folder.File("narrow.pt")));
        Assert.Contains("predictor.layers.fc0.weight is Float32[32, 128] in the file and Float32[256, 128] here", shape.Message);

        Assert.Equal(digest, experiment.ParameterDigest());
        Assert.Equal(0L, experiment.StepsTaken);
    }

    [SkippableFact]
    public void PyTorch_splits_and_orders_the_data_as_TorchSharp_does()
    {
        Python.RequireTorch();
        var (code, text) = Python.Run(["tests/python/tools/data_order.py", "1", "3"], TimeSpan.FromMinutes(2));
        Assert.True(code == 0, text);
        var py = JsonDocument.Parse(text).RootElement;
        using var digits = Datasets.Digits();
        var (train, test) = Datasets.StratifiedSplit(digits.Labels!, 0.25, 1);
        Assert.Equal(train, py.GetProperty("train").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(test, py.GetProperty("test").EnumerateArray().Select(e => e.GetInt64()));
        using var subset = digits.Subset(train);
        Assert.Equal(subset.Order(1, 3), py.GetProperty("order").EnumerateArray().Select(e => e.GetInt64()));
    }

    private static JepaExperiment Create(string name) => name switch
    {
        "DigitsJepa" => new DigitsJepa(),
        "TokenJepa" => new TokenJepa(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    private static string ContextWeight(string name) => name == "TokenJepa" ? "patchEmbed.weight" : "layers.fc0.weight";

    private static Tensor Batch(string name)
    {
        using var digits = Datasets.Digits();
        long[] shape = name == "TokenJepa" ? [32, 1, 8, 8] : [32, 64];
        return digits.Features[..32].reshape(shape).clone();
    }
}
