using System.Globalization;
using Xunit.Abstractions;

namespace Jepa.EndToEnd.Tests;

/// <summary>
/// Bad input through the Digits example as a child process: each case ends with a non-zero exit code and one clear
/// message on standard error (an "error:" line, plus the --help hint for command-line mistakes), and no stack trace
/// anywhere. docs/reliability.md lists every case with the message it gives.
/// </summary>
[Collection(DotnetCollection.Name)]
public class BadInputTests(BadInputTests.Files files, ITestOutputHelper log) : IClassFixture<BadInputTests.Files>
{
    /// <summary>The bad files, made once for all cases.</summary>
    public sealed class Files : IDisposable
    {
        private readonly TempFolder folder = new("jepa-bad-input");
        private readonly TempFolder pictures = new("jepa-bad-pictures");

        public Files()
        {
            var random = new Random(1);
            string Row(int width, int label, Func<int, string?>? cell = null) =>
                string.Join(",", Enumerable.Range(0, width).Select(i => cell?.Invoke(i) ?? random.Next(0, 17).ToString(CultureInfo.InvariantCulture))) + "," + label;
            string Csv(int rows, Func<int, string> row) => string.Concat(Enumerable.Range(0, rows).Select(i => row(i) + "\n"));
            folder.Write("narrow.csv", Csv(300, i => Row(10, i % 10)));
            folder.Write("nan.csv", Csv(300, i => Row(64, i % 10, c => i == 17 && c == 5 ? "nan" : null)));
            folder.Write("inf.csv", Csv(300, i => Row(64, i % 10, c => i == 5 && c == 0 ? "1e999" : null)));
            folder.Write("text.csv", Csv(300, i => Row(64, i % 10, c => i == 3 && c == 2 ? "abc" : null)));
            folder.Write("ragged.csv", Csv(300, i => Row(i == 40 ? 50 : 64, i % 10)));
            folder.Write("few.csv", Csv(20, i => Row(64, i % 10)));
            folder.Write("empty.csv", "");
            File.WriteAllBytes(Path.Combine(folder.Path, "binary.csv"), [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x0a]); // a PNG header
            File.WriteAllBytes(Path.Combine(folder.Path, "images.idx"), [0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 8, 0, 0, 0, 8, .. new byte[100]]);
            folder.Write("a-file", "not a folder\n");
            Directory.CreateDirectory(Path.Combine(pictures.Path, "cats"));
            pictures.Write("cats/1.png", "the shape is refused before any image is decoded");
            Directory.CreateDirectory(Path.Combine(folder.Path, "no-checkpoint"));
            Directory.CreateDirectory(Path.Combine(folder.Path, "random-checkpoint"));
            File.WriteAllBytes(Path.Combine(folder.Path, "random-checkpoint", "checkpoint.ckpt"), Enumerable.Range(0, 5000).Select(i => (byte)(i * 7919 % 251)).ToArray());
            Directory.CreateDirectory(Path.Combine(folder.Path, "truncated-checkpoint"));
            File.WriteAllBytes(Path.Combine(folder.Path, "truncated-checkpoint", "checkpoint.ckpt"),
                [.. "JEPACKPT"u8, .. BitConverter.GetBytes(1u), .. BitConverter.GetBytes(100_000L), .. new byte[500]]);
        }

        public string Root => folder.Path;

        /// <summary>A folder of images (one class folder).</summary>
        public string Pictures => pictures.Path;

        public void Dispose()
        {
            folder.Dispose();
            pictures.Dispose();
        }
    }

    /// <summary>A case: its name, the arguments (<c>{0}</c> is the folder of the bad files, <c>{1}</c> a folder of
    /// images, <c>{run}</c> a fresh run folder), the exit code and what the error line must say.</summary>
    public static TheoryData<string, string, int, string> Cases() => new()
    {
        { "unknown option", "--stepz 3", 2, "error: unknown option '--stepz'; did you mean '--steps'?" },
        { "stray argument", "--steps 2 extra", 2, "error: unexpected argument 'extra'" },
        { "value that is not a number", "--steps many", 2, "error: --steps takes a whole number, not 'many'." },
        { "negative checkpoint interval", "--checkpoint-every -5", 2, "error: --checkpoint-every cannot be negative." },
        { "two run lengths", "--steps 3 --epochs 2", 2, "error: --epochs and --steps cannot be combined: give one run length." },
        { "unknown device", "--device gpu", 2, "error: Argument 'gpu' not recognized. Must be one of:" },
        { "CUDA on the CPU build", "--device cuda --steps 2 --out {run}", 1, "error: Device 'cuda' was asked for, but CUDA is not available here: TorchSharp's CUDA backend did not load" },
        { "missing data file", "--data {0}/missing.csv --out {run}", 1, "error: The data path '{0}/missing.csv' does not exist." },
        { "a folder without images as data", "--data {0} --out {run}", 1, "error: '{0}' holds no images (.png, .jpg, .jpeg, .bmp, .webp); it holds a-file, binary.csv, empty.csv and " },
        { "a folder of images for a flat input", "--data {1} --out {run}", 1, "error: '{1}' is a folder of images, which become samples of shape [channels, height, width] with 1 (grey) or 3 (RGB) channels; the experiment's input is [64]." },
        { "three data files", "--data {0}/nan.csv {0}/inf.csv {0}/text.csv --out {run}", 1, "error: --data takes one folder; or one file (CSV, .npy, .npz, IDX); or IDX files (images, labels, and their t10k pair); or two .npy files (samples and labels); got 3 files" },
        { "a cache size that is not one", "--cache-memory lots", 2, "error: --cache-memory takes a size such as 512M, 2G or 0, not 'lots'." },
        { "no data workers", "--data-workers 0", 2, "error: --data-workers must be at least 1." },
        { "wrong-shaped data", "--data {0}/narrow.csv --out {run}", 1, "error: The experiment expects samples of shape [64] (64 values each), but {0}/narrow.csv has samples of shape [10] (10 values each)." },
        { "NaN in data", "--data {0}/nan.csv --out {run}", 1, "error: {0}/nan.csv contains NaN at sample 17, feature 5 (both counted from 0) (line 18 of the file); every value must be finite." },
        { "infinity in data", "--data {0}/inf.csv --out {run}", 1, "error: {0}/inf.csv contains +infinity at sample 5, feature 0" },
        { "empty data", "--data {0}/empty.csv --out {run}", 1, "error: {0}/empty.csv has no samples." },
        { "text in data", "--data {0}/text.csv --out {run}", 1, "error: {0}/text.csv:4: the value 'abc' in column 3 is not a number." },
        { "ragged rows", "--data {0}/ragged.csv --out {run}", 1, "error: {0}/ragged.csv:41: expected 65 values (as on line 1), found 51." },
        { "binary file as CSV", "--data {0}/binary.csv --out {run}", 1, "error: {0}/binary.csv:1: this is not CSV text: character U+" },
        { "fewer samples than a batch", "--data {0}/few.csv --out {run}", 1, "error: The training data has 10 samples, fewer than one batch of 256." },
        { "truncated IDX images", "--data {0}/images.idx --out {run}", 1, "error: '{0}/images.idx' is truncated: the header announces 5 x 8 x 8 values" },
        { "run folder under a file", "--steps 2 --out {0}/a-file/run", 1, "error: The run folder {0}/a-file/run cannot be written:" },
        { "no checkpoint to resume", "--steps 2 --resume {0}/no-checkpoint", 1, "error: There is no checkpoint to resume from at {0}/no-checkpoint/checkpoint.ckpt." },
        { "random bytes as checkpoint", "--steps 2 --resume {0}/random-checkpoint", 1, "error: Checkpoint '{0}/random-checkpoint/checkpoint.ckpt' cannot be loaded: it is not a Jepa checkpoint" },
        { "truncated checkpoint", "--steps 2 --resume {0}/truncated-checkpoint", 1, "error: Checkpoint '{0}/truncated-checkpoint/checkpoint.ckpt' cannot be loaded: the file is truncated: its header announces 100000 bytes of content" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Bad_input_gives_one_clear_message_and_a_non_zero_exit(string what, string arguments, int exitCode, string message)
    {
        using var run = new TempFolder("jepa-bad-run");
        string Fill(string s) => s.Replace("{0}", files.Root, StringComparison.Ordinal).Replace("{1}", files.Pictures, StringComparison.Ordinal).Replace("{run}", Path.Combine(run.Path, "run"), StringComparison.Ordinal);
        var args = arguments.Split(' ').Select(Fill).Append("--plain").ToArray();

        var result = ExampleProcess.Run("Digits", TimeSpan.FromMinutes(3), args);

        log.WriteLine($"{what}: exit {result.ExitCode}\n{result.Error}");
        Assert.True(result.ExitCode == exitCode, $"{what}: exit {result.ExitCode}, expected {exitCode}\n{result.All}");
        var errorLines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var errors = errorLines.Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 1, $"{what}: expected one error line\n{result.Error}");
        Assert.StartsWith(Fill(message), errors[0]);
        // Nothing else on standard error but the --help hint of a command-line mistake (and the option list that
        // System.CommandLine prints under an unknown device).
        var other = errorLines.Where(l => l != errors[0] && l != "Run with --help to see the options." && !l.StartsWith('\'')).ToList();
        Assert.True(other.Count == 0, $"{what}: unexpected lines on standard error:\n{string.Join("\n", other)}");
        foreach (var text in new[] { result.Output, result.Error })
        {
            Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
            Assert.DoesNotContain("Unhandled exception", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("Exception:", text, StringComparison.Ordinal);
        }
    }
}
