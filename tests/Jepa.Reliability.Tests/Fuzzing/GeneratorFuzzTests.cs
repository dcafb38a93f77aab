using System.Text;
using System.Text.RegularExpressions;
using CsCheck;
using Jepa.Dsl.Tests.Properties;
using Microsoft.CodeAnalysis;
using Xunit.Abstractions;

namespace Jepa.Reliability.Tests.Fuzzing;

/// <summary>
/// The whole generator, fuzzed in memory (see <see cref="GeneratorCheck"/> for what must hold): grammar-shaped random
/// files, byte-level and text-level mutations of every example <c>.jepa</c>, and projects of several files whose
/// paths and experiment names may collide. 500 cases per property; JEPA_FUZZ_ITERATIONS sets another count (the long
/// mode of docs/reliability.md runs 10,000). Each test prints what it ran (<c>--logger "console;verbosity=detailed"</c>).
/// </summary>
public class GeneratorFuzzTests(ITestOutputHelper output)
{
    public static long Iterations { get; } =
        long.TryParse(Environment.GetEnvironmentVariable("JEPA_FUZZ_ITERATIONS"), out var n) && n > 0 ? n : 500;

    private void Run(string property, Gen<JepaFile[]> inputs, Action<GeneratorCheck> expect, Action<GeneratorCheck, JepaFile[]>? each = null)
    {
        var check = new GeneratorCheck();
        each ??= (c, files) => c.Check(files);
        inputs.Sample(files => each(check, files), iter: Iterations, threads: 1, print: files => string.Join("\n", files.Select(f => f.ToString())));
        output.WriteLine(check.Summary(property));
        expect(check);
    }

    [Fact]
    public void Grammar_shaped_files_through_the_generator() =>
        Run("grammar-shaped", JepaGenerators.File.Select(text => new[] { JepaFile.FromText("/project/fuzz.jepa", text) }), check =>
        {
            // The generator reaches the binder's checks, not only syntax errors.
            Assert.True(check.DiagnosticIds.Keys.Count(id => id.StartsWith("JEPA1", StringComparison.Ordinal)) >= 10, check.Summary("grammar-shaped"));
        });

    [Fact]
    public void Valid_shaped_files_through_the_generator() =>
        Run("valid-shaped", ValidShapedFiles.File.Select(text => new[] { JepaFile.FromText("/project/valid.jepa", text) }), check =>
        {
            // Most of them are error-free, and their generated code differs from case to case.
            Assert.True(check.ErrorFree * 2 >= check.Cases, check.Summary("valid-shaped"));
            Assert.True(check.DistinctCompiled * 3 >= check.Cases, check.Summary("valid-shaped"));
        });

    [Fact]
    public void Byte_mutated_examples_through_the_generator() =>
        Run("byte-mutated examples", Mutations.MutatedExample.Select(f => new[] { f }), check =>
        {
            // Enough mutants stay error-free for the compile check to mean something.
            Assert.True(check.ErrorFree * 10 >= check.Cases, check.Summary("byte-mutated examples"));
            Assert.True(check.DistinctCompiled * 20 >= check.Cases, check.Summary("byte-mutated examples"));
        });

    [Fact]
    public void Text_mutated_examples_through_the_generator()
    {
        var examples = Mutations.Examples.Select(e => Encoding.UTF8.GetString(e.Bytes)).ToList();
        Run("text-mutated examples", JepaGenerators.MutatedExample(examples).Select(text => new[] { JepaFile.FromText("/project/m.jepa", text) }), check =>
            Assert.True(check.ErrorFree * 20 >= check.Cases, check.Summary("text-mutated examples")));
    }

    /// <summary>
    /// An IDE session: one driver kept across a sequence of edits of a file (byte-mutated examples), as the IDE runs the
    /// generator on every keystroke. After each edit the incremental run must give exactly what a fresh driver gives for
    /// that text (the same diagnostics and generated files), so no cached step survives a change it depends on.
    /// </summary>
    [Fact]
    public void Edits_in_an_IDE_session_give_what_a_fresh_run_gives()
    {
        var sessions = 0L;
        var edits = 0L;
        var session = Mutations.MutatedExample.Array[2, 6];
        session.Sample(files =>
        {
            sessions++;
            var driver = Fuzzing.GeneratorCheck.Driver();
            AdditionalText? current = null;
            foreach (var file in files)
            {
                edits++;
                var next = new ByteAdditionalText("/project/edited.jepa", file.Bytes);
                driver = current is null ? driver.AddAdditionalTexts([next]) : driver.ReplaceAdditionalText(current, next);
                current = next;
                driver = driver.RunGenerators(Fuzzing.GeneratorCheck.Compilation);
                var incremental = driver.GetRunResult().Results.Single();
                var fresh = Fuzzing.GeneratorCheck.Driver().AddAdditionalTexts([next]).RunGenerators(Fuzzing.GeneratorCheck.Compilation).GetRunResult().Results.Single();
                Assert.Null(incremental.Exception);
                Assert.Equal(Describe(fresh), Describe(incremental));
            }
        }, iter: Iterations / 2, threads: 1, print: files => string.Join("\n", files.Select(f => f.ToString())));
        output.WriteLine($"IDE sessions: {sessions} sessions of 2 to 6 edits, {edits} edits, each compared with a fresh run");
        Assert.True(edits >= Iterations, $"{edits} edits");
    }

    private static string Describe(GeneratorRunResult result) =>
        string.Join("\n", result.Diagnostics.Select(d => d.ToString()).Order(StringComparer.Ordinal)) + "\n---\n" +
        string.Join("\n", result.GeneratedSources.Select(g => g.HintName + "\n" + g.SourceText).Order(StringComparer.Ordinal));

    /// <summary>Paths that differ only in ways a generated file name could lose: case, separators, dots, spaces.</summary>
    private static readonly string[] Paths =
    [
        "/project/a.jepa", "/project/A.jepa", "/project/a/b.jepa", "/project/a.b.jepa", "/project/a b.jepa", "/project/a_b.jepa",
        "/project/sub/a.jepa", "/elsewhere/a.jepa", "/project/.jepa", "/project/ä.jepa", "/project/a.JEPA", "/project/x.y.jepa",
    ];

    [Fact]
    public void Projects_of_several_files_through_the_generator()
    {
        // Two or three example files under paths that may collide once made into generated file names. The second
        // file's experiments are renamed to lower case and the third's to upper case: distinct C# classes whose
        // generated file names differ only in case.
        var file = Gen.Select(Gen.Int[0, Mutations.Examples.Count - 1], Gen.Int[0, Paths.Length - 1], (example, path) => (example, path));
        var project = file.Array[2, 3].Where(files => files.Select(f => f.path).Distinct().Count() == files.Length).Select(files =>
            files.Select((f, i) =>
            {
                var text = Encoding.UTF8.GetString(Mutations.Examples[f.example].Bytes);
                text = Regex.Replace(text, @"experiment (\w+)", m => "experiment " + (i switch
                {
                    0 => m.Groups[1].Value,
                    1 => m.Groups[1].Value.ToLowerInvariant(),
                    _ => m.Groups[1].Value.ToUpperInvariant(),
                }));
                return JepaFile.FromText(Paths[f.path], text);
            }).ToArray());
        Run("projects of several files", project,
            check => Assert.True(check.Generating * 2 >= check.Cases, check.Summary("projects of several files")),
            (check, files) =>
            {
                // Each file generates what it generates alone, under names unique in the project (ignoring case). The
                // single-file properties compile generated code; here the names are the point.
                var names = check.Check(files, compile: false);
                Assert.Equal(names.Count, names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
                var alone = files.Sum(f => check.Check([f], compile: false, count: false).Count);
                Assert.Equal(alone, names.Count);
            });
    }
}
