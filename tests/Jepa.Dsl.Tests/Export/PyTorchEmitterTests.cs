using Jepa.Dsl.Emit;

namespace Jepa.Dsl.Tests.Export;

/// <summary>
/// The PyTorch emitter (src/Jepa.Dsl/Emit/PyTorch*.cs): JEPA154 located at what the target lacks, names made unique in
/// one place, literals, and output that depends on the spec alone. That the programs run, under one process and two,
/// is tested in tests/Jepa.PyTorch.Tests (ExportedProgramTests); that the committed ones are current in
/// <see cref="PyTorchProgramsTests"/>.
/// </summary>
public class PyTorchEmitterTests
{
    private static ExportResult Export(string text, string path = "/project/e.jepa") => PyTorchEmitter.Export(JepaCompiler.Compile(path, text));

    [Fact]
    public void A_CSharp_encoder_is_JEPA154_at_its_statement_and_the_other_experiments_export()
    {
        var text = DiagnosticsDoc.BaseNamed("Plain") + "\n" + DiagnosticsDoc.BaseNamed("Custom")
            .Replace("encoder context = mlp(hidden: [32], out: 16);", "encoder context = My.Encoders.Tiny(out: 16);", StringComparison.Ordinal);

        var result = Export(text);

        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("/project/e.jepa(13,5): error JEPA154: 'encoder context = My.Encoders.Tiny(out: 16)' names the C# type My.Encoders.Tiny, and the " +
                     "PyTorch target builds only the catalog's encoders; the PyTorch target cannot export experiment 'Custom' (it trains in .NET with jepa train)",
            diagnostic.Format("/project/e.jepa"));
        Assert.Equal(["Custom"], result.Failed);
        Assert.Equal(["train_plain.py"], result.Programs.Select(p => p.FileName));
    }

    [Fact]
    public void Views_and_a_projector_export_and_a_CSharp_encoder_among_them_is_still_JEPA154()
    {
        var text = File.ReadAllText(RepositoryRoot.Combine("tests", "Jepa.Generators.Tests", "Sources", "every-builtin.jepa"));
        var projectorOnly = DiagnosticsDoc.BaseNamed("Projected")
            .Replace("predictor = mlp(", "projector = mlp(out: 8);\n    predictor = mlp(", StringComparison.Ordinal);
        var custom = projectorOnly.Replace("experiment Projected", "experiment CustomProjected", StringComparison.Ordinal)
            .Replace("encoder context = mlp(hidden: [32], out: 16);", "encoder context = My.Encoders.Tiny(out: 16);", StringComparison.Ordinal);

        var result = Export(text + "\n" + projectorOnly + "\n" + custom);

        Assert.Equal(["CustomProjected"], result.Failed);
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("JEPA154", diagnostic.Id);
        Assert.Contains("error JEPA154: 'encoder context = My.Encoders.Tiny(out: 16)' names the C# type My.Encoders.Tiny", diagnostic.Format("/project/e.jepa"), StringComparison.Ordinal);
        string Program(string name) => result.Programs.Single(p => p.Experiment == name).Text;

        // LeJEPA's views: each group drawn for the global batch, the views of one size as one batch, the mean target.
        var views = Program("Views");
        Assert.Contains("from jepa_torch import corruptions as C, losses as L, models as M, training as T, views as V\n", views, StringComparison.Ordinal);
        Assert.Contains("\"global\": V.draw(self.global_, image, 2, g, part),", views, StringComparison.Ordinal);
        Assert.Contains("\"sigreg_directions\": [L.sigreg_directions(8, SIGREG_DIRECTIONS, g).to(image.device) for _ in range(4)],", views, StringComparison.Ordinal);
        Assert.Contains("context = V.stack(4, self.context(self.normalize(drawn[\"global\"])), self.context(self.normalize(drawn[\"local\"])))", views, StringComparison.Ordinal);
        Assert.Contains("target = V.mean(context[0:2])", views, StringComparison.Ordinal);
        Assert.Contains("\"mse\": (V.pairwise(predicted.float(), target.float(), lambda p, t: L.mse(p, t)), 1 - SIGREG_WEIGHT),", views, StringComparison.Ordinal);
        Assert.Contains("V.mean_over_views(lambda z, d: L.sigreg(z, d, reduce=self.ddp.all_reduce), context.float(), draws=drawn[\"sigreg_directions\"])", views, StringComparison.Ordinal);
        // The encoder and its projector are one module (TorchSharp's Projected: encoder.*, projector.*); encode reads the encoder.
        Assert.Contains("self.context_encoder = M.Projected(M.ConvEncoder(self.input_shape, channels=[4, 8], kernel=3, pool=\"mean\", out=8, norm=\"group\", groups=2), " +
                        "M.MlpEncoder((8,), hidden=[16], out=8, norm=\"none\", act=\"gelu\")).to(ddp.device)", views, StringComparison.Ordinal);
        Assert.Contains("return self.context_encoder.encoder(self.normalize(image))", views, StringComparison.Ordinal);

        // An EMA target of some views and a predictor: the target's own pass without gradient, every pair but a view with itself.
        var pixels = Program("PixelViews");
        Assert.Contains("self.target_encoder = T.ema_copy(self.context_encoder, lambda: M.Projected(", pixels, StringComparison.Ordinal);
        Assert.Contains("target = V.stack(2, self.target(self.normalize(drawn[\"masked\"])))", pixels, StringComparison.Ordinal);
        Assert.Contains("context = V.stack(3, self.context(self.normalize(torch.cat([drawn[\"masked\"], drawn[\"dropped\"]], 0))))", pixels, StringComparison.Ordinal);
        Assert.Contains("lambda p, t: L.smooth_l1(p, t, beta=LOSS_BETA), same_view=(0, 0)), 1.0),", pixels, StringComparison.Ordinal);
        Assert.Contains("return self.target_encoder.encoder(self.normalize(image))", pixels, StringComparison.Ordinal);

        // A projector without views: the predictor reads the projector's width.
        var projected = Program("Projected");
        Assert.Contains("M.Projected(M.MlpEncoder(self.input_shape, hidden=[32], out=16", projected, StringComparison.Ordinal);
        Assert.Contains("self.predictor = M.MlpEncoder((8,),", projected, StringComparison.Ordinal);
        Assert.DoesNotContain("views as V", projected, StringComparison.Ordinal);
    }

    [Fact]
    public void The_image_links_and_pixel_masks_export_through_their_PyTorch_column()
    {
        var text = """
            experiment Images {
                input image: float[3, 8, 8];
                corruption view = random_resized_crop(scale: 0.3..1.0, size: [6, 6]) then random_rotation(degrees: 20) then random_affine(degrees: 5, translate: 0.1, scale: 0.9..1.1, shear: 8) then elastic_transform(sigma: 0.5) then color_jitter(p: 1.0) then grayscale(p: 0.5)
                    then gaussian_blur(sigma: 0.1..1.0) then solarize(p: 0.5) then random_erasing(p: 0.5) then pixel_block_mask(patch: 2)
                    then pixel_random_mask(patch: 3, ratio: 0.25);
                encoder context = conv(channels: [4], out: 8, norm: group, groups: 2);
                encoder target = ema(context);
                predictor = mlp(hidden: [16]);
                objective { predict target(image) from context(view(image)); loss mse; }
                train { optimizer adamw(lr: 1e-3); batch 8; steps 1; }
            }
            """;

        var program = Assert.Single(Export(text).Programs).Text;

        Assert.Contains("self.view = C.Compose(C.RandomResizedCrop(scale=(0.3, 1.0), ratio=(0.75, 1.3333), size=[6, 6]), C.RandomRotation(degrees=20.0, fill=0.0), " +
                        "C.RandomAffine(degrees=5.0, translate=0.1, scale=(0.9, 1.1), shear=8.0, fill=0.0), C.ElasticTransform(alpha=50.0, sigma=0.5, fill=0.0), " +
                        "C.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1, p=1.0), C.Grayscale(p=0.5), " +
                        "C.GaussianBlur(sigma=(0.1, 1.0), p=0.5), C.Solarize(threshold=0.5, p=0.5), " +
                        "C.RandomErasing(scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0.0, p=0.5), " +
                        "C.PixelMask(lambda grid: C.MultiBlockMask(grid, targets=4, target_scale=(0.15, 0.2), context_scale=(0.85, 1.0), " +
                        "aspect=(0.75, 1.5), min_keep=4), patch=2, value=0.0), C.PixelMask(lambda grid: C.RandomTokenMask(grid, ratio=0.25), " +
                        "patch=3, value=0.0))\n", program, StringComparison.Ordinal);
        Assert.Contains("M.ConvEncoder(self.input_shape, channels=[4], kernel=3, pool=\"mean\", out=8, norm=\"group\", groups=2)", program, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_with_errors_exports_nothing_and_reports_the_compilers_diagnostics()
    {
        var result = Export(File.ReadAllText(RepositoryRoot.Combine("examples", "Collapse", "collapse.jepa")));

        Assert.Equal(["JEPA301"], result.Diagnostics.Select(d => d.Id));
        Assert.Empty(result.Programs);
        Assert.Empty(result.Failed);
    }

    [Fact]
    public void Names_from_the_file_never_take_Pythons_keywords_the_imports_or_the_steps_locals()
    {
        // The class M would hide the models module, the batch 'step' the training step's context, 'lambda' is a keyword.
        var text = """
            experiment M {
                input step: float[64];
                corruption lambda = gaussian_noise(std: 0.1);
                encoder context = mlp(hidden: [16], out: 8);
                encoder target = ema(context);
                predictor = mlp(hidden: [8]);
                objective { predict target(step) from context(lambda(step)); loss mse; }
                train { optimizer adamw(lr: 1e-3); steps 10; }
            }
            """;

        var program = Assert.Single(Export(text).Programs);

        Assert.Equal(("train_m.py", "M"), (program.FileName, program.Experiment));
        Assert.Contains("class M_(jt.Experiment):", program.Text, StringComparison.Ordinal);
        Assert.Contains("    name = \"M\"\n", program.Text, StringComparison.Ordinal);
        Assert.Contains("def loss_terms(self, step_batch, drawn):", program.Text, StringComparison.Ordinal);
        Assert.Contains("self.lambda_ = C.GaussianNoise(std=0.1)", program.Text, StringComparison.Ordinal);
        Assert.Contains("\"lambda\": self.lambda_(step_batch, g, part),", program.Text, StringComparison.Ordinal);
        Assert.Contains("jt.run.main(M_, OPTIONS, __doc__)", program.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_program_depends_on_the_spec_alone_a_comment_changes_nothing()
    {
        var text = File.ReadAllText(RepositoryRoot.Combine("examples", "Digits", "digits.jepa"));
        var edited = text.Replace("// an 8x8 image, flattened row-major", "// another comment, as long as it is", StringComparison.Ordinal);
        Assert.NotEqual(text, edited);

        Assert.Equal(Export(text, "/project/digits.jepa").Programs.Single().Text, Export(edited, "/elsewhere/digits.jepa").Programs.Single().Text);
    }

    [Theory]
    [InlineData(1e-3, "1e-3")]
    [InlineData(3e-4, "3e-4")]
    [InlineData(2.5e-4, "2.5e-4")]
    [InlineData(1e-6, "1e-6")]
    [InlineData(0.005, "5e-3")]
    [InlineData(-1e-4, "-1e-4")]
    [InlineData(0.01, "0.01")]
    [InlineData(0.996, "0.996")]
    [InlineData(25, "25.0")]
    [InlineData(0, "0.0")]
    [InlineData(1e21, "1e+21")]
    public void Numbers_are_Python_floats_small_ones_in_scientific_notation(double value, string literal)
    {
        Assert.Equal(literal, Python.Number(value));
        Assert.Equal(value, double.Parse(literal, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("DigitsJepa", "digits_jepa")]
    [InlineData("DigitsVicReg", "digits_vic_reg")]
    [InlineData("JEPAModel", "jepa_model")]
    [InlineData("my_run2", "my_run2")]
    [InlineData("Run2D", "run2_d")]
    public void Program_files_are_the_experiment_in_snake_case(string experiment, string snake) =>
        Assert.Equal($"train_{snake}.py", PyTorchEmitter.FileName(experiment));

    [Fact]
    public void Two_experiments_whose_files_would_coincide_get_distinct_files()
    {
        var text = DiagnosticsDoc.BaseNamed("FooBar") + "\n" + DiagnosticsDoc.BaseNamed("Foo_Bar");

        Assert.Equal(["train_foo_bar.py", "train_foo_bar_2.py"], Export(text).Programs.Select(p => p.FileName));
    }

    [Fact]
    public void Comments_wrap_at_120_columns_and_keep_shapes_whole()
    {
        var program = Export(File.ReadAllText(RepositoryRoot.Combine("examples", "TokenJepa", "token.jepa"))).Programs.Single().Text;

        Assert.All(program.Split('\n').Where(l => l.TrimStart().StartsWith('#')), line => Assert.True(line.Length <= 120, $"{line.Length} columns: {line}"));
        Assert.Contains("#    (b, Nc, 64) -> (b, Nt, 64)\n", program, StringComparison.Ordinal);
    }
}
