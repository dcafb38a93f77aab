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
