using System.Text.Json;
using Jepa.Dsl;
using Jepa.Dsl.Emit;
using Xunit.Abstractions;

namespace Jepa.PyTorch.Tests;

/// <summary>
/// What <c>jepa export --target pytorch</c> writes runs, and what it trains <c>jepa evaluate</c> reads: the programs of
/// the catalog's test file (every built-in the PyTorch target maps, in the combinations the C# catalog test trains) and
/// of a file whose names collide with Python's train as one process and compute, as two gloo processes at B/2, the
/// first gradients and parameters of one process at B (tests/python/tools/exported_check.py), with the image links in
/// one more program; a short run of the
/// digits program is evaluated by <c>jepa evaluate</c> on its checkpoint.
/// </summary>
[Collection(PyTorchCollection.Name)]
public class ExportedProgramTests(ITestOutputHelper output)
{
    /// <summary>Names a program must make unique: the class M (the models module), the batch 'step', the corruption 'lambda'.</summary>
    private const string Names = """
        experiment M {
            input step: float[64];
            corruption lambda = gaussian_noise(std: 0.1) then feature_dropout(p: 0.1);
            encoder context = mlp(hidden: [16], out: 8, norm: batch);
            encoder target = ema(context);
            predictor = mlp(hidden: [8]);
            objective { predict target(step) from context(lambda(step)); loss mse; regularize vicreg; }
            train { optimizer adamw(lr: 1e-3); batch 64; steps 10; }
        }
        """;

    /// <summary>The image links and pixel masks, which the catalog file uses only with views,
    /// in one corruption on the 1x8x8 digits (grayscale and colour jitter's saturation and hue need RGB: tests/python
    /// checks them against torchvision).</summary>
    private const string Images = """
        experiment Images {
            input image: float[1, 8, 8];
            corruption view = random_resized_crop(scale: 0.3..1.0, size: [6, 6]) then random_rotation(degrees: 20) then random_affine(degrees: 5, translate: 0.1, scale: 0.9..1.1, shear: 8) then elastic_transform(alpha: 20, sigma: 0.5) then color_jitter(saturation: 0, hue: 0, p: 1.0)
                then gaussian_blur(sigma: 0.1..1.0) then solarize(p: 0.5) then random_erasing(p: 0.5) then pixel_block_mask(patch: 2)
                then pixel_random_mask(patch: 3, ratio: 0.25);
            encoder context = conv(channels: [4], out: 8, norm: group, groups: 2);
            encoder target = ema(context);
            predictor = mlp(hidden: [16]);
            objective { predict target(image) from context(view(image)); loss mse; }
            train { optimizer adamw(lr: 1e-3); batch 64; steps 10; }
        }
        """;

    [SkippableFact]
    public void Every_exported_program_of_the_catalog_file_trains_and_two_processes_compute_what_one_does()
    {
        Python.RequireTorch();
        using var folder = new TempFolder();
        const string catalog = "tests/Jepa.Generators.Tests/Sources/every-builtin.jepa";
        var exported = PyTorchEmitter.Export(JepaCompiler.Compile(catalog, File.ReadAllText(RepositoryRoot.Combine(catalog))));
        Assert.Empty(exported.Failed);   // views and the projector too (docs/scale-out.md)
        var names = PyTorchEmitter.Export(JepaCompiler.Compile("names.jepa", Names + "\n" + Images));
        Assert.Empty(names.Diagnostics);
        foreach (var program in exported.Programs.Concat(names.Programs)) File.WriteAllText(folder.File(program.FileName), program.Text);

        var (code, text) = Python.Run(["tests/python/tools/exported_check.py", folder.Path], TimeSpan.FromMinutes(10));
        output.WriteLine(text);
        Assert.True(code == 0, text);
        foreach (var experiment in exported.Programs.Concat(names.Programs).Select(p => p.Experiment))
            Assert.Contains($"{experiment}: 2 processes x B/2 against 1 x B", text);
    }

    [SkippableFact]
    public void Jepa_evaluate_reads_the_checkpoint_of_a_PyTorch_run()
    {
        Python.RequireTorch();
        using var folder = new TempFolder();
        var (code, text) = Python.Run(["examples/Digits/pytorch/train_digits_jepa.py", "--data", RepositoryRoot.Combine("data", "digits.csv.gz"), "--steps", "20",
            "--out", folder.File("run"), "--monitor-samples", "64"], TimeSpan.FromMinutes(5));
        Assert.True(code == 0, text);

        var printed = new StringWriter { NewLine = "\n" };
        var errors = new StringWriter { NewLine = "\n" };
        var exit = Jepa.Cli.JepaCommand.Run(["evaluate", RepositoryRoot.Combine("examples", "Digits", "digits.jepa"), "--checkpoint", folder.File("run/checkpoint.pt"),
            "--out", folder.File("evaluation")], printed, errors);
        output.WriteLine(printed.ToString());
        Assert.True(exit == 0, printed + errors.ToString());
        Assert.Contains("step 20 of a PyTorch run on 1 process", printed.ToString());
        Assert.Contains("Evaluation on the held-out split", printed.ToString());

        using var json = JsonDocument.Parse(File.ReadAllText(folder.File("evaluation/evaluation.json")));
        var root = json.RootElement;
        // The 450 samples the program held out (its split is TorchSharp's: CheckpointInteropTests), the 1,347 it trained on.
        Assert.Equal((20L, 450L, 1347L), (root.GetProperty("steps").GetInt64(), root.GetProperty("test_samples").GetInt64(), root.GetProperty("train_samples").GetInt64()));
        Assert.Equal(folder.File("run/checkpoint.pt"), root.GetProperty("checkpoint").GetString());
        var probe = root.GetProperty("linear_probe");
        Assert.NotEqual(probe.GetProperty("jepa").GetDouble(), probe.GetProperty("random_init").GetDouble());   // the trained weights arrived
        Assert.True(root.GetProperty("knn").GetProperty("jepa").GetDouble() > 0.5);
        Assert.Equal(JsonValueKind.Number, root.GetProperty("collapse").GetProperty("final_std").ValueKind);
    }
}
