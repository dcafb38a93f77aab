using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Jepa.EndToEnd.Tests;

/// <summary>
/// Stops and failures met while training, with the Digits program (and <c>jepa train</c>) as child processes:
/// SIGINT and SIGTERM mid-run leave a checkpoint at the step reached, record the stop in run.json, exit 130 and 143, and
/// the resume command they print ends with the parameters of an uninterrupted run; a second SIGINT aborts at once and
/// the folder still resumes exactly; a second process on a run folder is refused naming the first; an exception on a
/// data worker or on a thread of its own prints one line and leaves its detail in error.log. docs/reliability.md,
/// "Stops and failures", lists what each prints.
/// </summary>
[Collection(DotnetCollection.Name)]
public partial class StopTests(ITestOutputHelper log)
{
    private const int Steps = 400;
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    /// <summary>The digest of an uninterrupted 400-step run, computed once for the tests of this class.</summary>
    private static readonly Lazy<string> Reference = new(() =>
    {
        using var temp = new TempFolder("jepa-stop-reference");
        var result = ExampleProcess.Run("Digits", Patience, "--steps", $"{Steps}", "--out", Path.Combine(temp.Path, "run"), "--plain");
        Assert.True(result.ExitCode == 0, result.All);
        return Digest(result.Output);
    });

    [GeneratedRegex(@"^Parameters SHA-256: ([0-9a-f]{64})$", RegexOptions.Multiline)]
    private static partial Regex DigestLine();

    [GeneratedRegex(@"^Interrupted by (SIGINT|SIGTERM) at step (\d+) of (\d+); checkpoint (\S+) \(written in ([\d.]+) s\)\.$", RegexOptions.Multiline)]
    private static partial Regex InterruptedLine();

    [GeneratedRegex(@"^Resume with: (.+)$", RegexOptions.Multiline)]
    private static partial Regex ResumeLine();

    private static string Digest(string output)
    {
        var match = DigestLine().Match(output);
        Assert.True(match.Success, $"no digest line in\n{output}");
        return match.Groups[1].Value;
    }

    private static JsonObject StopRecord(string folder) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "run.json")))!["stop"]!.AsObject();

    [Theory]
    [InlineData(2, "SIGINT", 130)]
    [InlineData(15, "SIGTERM", 143)]
    public void A_signal_mid_run_checkpoints_the_step_reached_and_the_printed_command_resumes_to_the_uninterrupted_parameters(int signal, string name, int exitCode)
    {
        using var temp = new TempFolder("jepa-stop");
        var folder = Path.Combine(temp.Path, "run");
        var expected = Reference.Value;

        // No periodic checkpoint: the one the folder holds afterwards is the stop's own.
        using var process = ExampleProcess.Start("Digits", "--steps", $"{Steps}", "--checkpoint-every", "0", "--out", folder, "--plain");
        Assert.True(process.WaitForLine(l => l.StartsWith("step 100/", StringComparison.Ordinal), Patience) is not null, process.Output + process.Error);
        process.Signal(signal);
        Assert.True(process.WaitForExit(Patience), "the run did not stop");

        log.WriteLine($"{name}: exit {process.ExitCode}\n{process.Error}");
        Assert.True(process.ExitCode == exitCode, $"exit {process.ExitCode}\n{process.Output}\n{process.Error}");
        var stopped = InterruptedLine().Match(process.Error);
        Assert.True(stopped.Success, process.Error);
        var step = long.Parse(stopped.Groups[2].Value, CultureInfo.InvariantCulture);
        Assert.Equal(name, stopped.Groups[1].Value);
        Assert.InRange(step, 100, Steps - 1);
        Assert.Equal(Path.Combine(folder, "checkpoint.ckpt"), stopped.Groups[4].Value);
        Assert.Equal(step, CheckpointStep(Path.Combine(folder, "checkpoint.ckpt")));
        var record = StopRecord(folder);
        Assert.Equal("interrupted", record["reason"]!.GetValue<string>());
        Assert.Equal(name, record["signal"]!.GetValue<string>());
        Assert.Equal("training", record["phase"]!.GetValue<string>());
        Assert.Equal(step, record["step"]!.GetValue<long>());
        Assert.Equal(Steps, record["total_steps"]!.GetValue<long>());
        Assert.InRange(record["checkpoint_seconds"]!.GetValue<double>(), 0, 30);
        Assert.DoesNotContain("   at ", process.Output + process.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(folder, "evaluation.json")), "the evaluation ran after the stop");

        // The exact command it printed finishes the run with the parameters of the uninterrupted one.
        var resumed = RunPrinted(ResumeLine().Match(process.Error));
        Assert.True(resumed.ExitCode == 0, resumed.All);
        Assert.Equal(expected, Digest(resumed.Output));
        Assert.Equal("completed", StopRecord(folder)["reason"]!.GetValue<string>());
    }

    [Fact]
    public void A_second_SIGINT_aborts_at_once_and_the_folder_still_resumes_to_the_uninterrupted_parameters()
    {
        using var temp = new TempFolder("jepa-abort");
        var folder = Path.Combine(temp.Path, "run");
        var expected = Reference.Value;

        using var process = ExampleProcess.Start("Digits", "--steps", $"{Steps}", "--checkpoint-every", "20", "--out", folder, "--plain");
        Assert.True(process.WaitForLine(l => l.StartsWith("step 100/", StringComparison.Ordinal), Patience) is not null, process.Output + process.Error);
        process.Signal(2);
        var deadline = DateTime.UtcNow + Patience;
        while (!process.Error.Contains("SIGINT: stopping after the current step", StringComparison.Ordinal) && !process.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(1);
        process.Signal(2);
        Assert.True(process.WaitForExit(Patience), "the run did not end");

        log.WriteLine($"exit {process.ExitCode}\n{process.Error}");
        Assert.Equal(130, process.ExitCode);
        Assert.Contains("Aborted at once (a second SIGINT): the run folder keeps its last complete checkpoint.", process.Error);
        Assert.DoesNotContain("Resume with:", process.Error);

        var resumed = ExampleProcess.Run("Digits", Patience, "--resume", folder, "--plain");
        Assert.True(resumed.ExitCode == 0, resumed.All);
        Assert.Equal(expected, Digest(resumed.Output));
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
    }

    [Fact]
    public void A_second_process_on_a_run_folder_is_refused_naming_the_first_and_a_finished_run_needs_resume_or_overwrite()
    {
        using var temp = new TempFolder("jepa-owner");
        var folder = Path.Combine(temp.Path, "run");

        using var first = ExampleProcess.Start("Digits", "--steps", "5000", "--checkpoint-every", "0", "--out", folder, "--plain");
        Assert.True(first.WaitForLine(l => l.StartsWith("step ", StringComparison.Ordinal), Patience) is not null, first.Output + first.Error);
        foreach (var args in new[] { new[] { "--out", folder }, ["--out", folder, "--overwrite"] })
        {
            var second = ExampleProcess.Run("Digits", Patience, [.. args, "--steps", "5", "--plain"]);
            log.WriteLine($"{string.Join(' ', args)}: exit {second.ExitCode}\n{second.Error}");
            Assert.Equal(1, second.ExitCode);
            Assert.StartsWith($"error: The run folder {folder} is in use by process {first.Id} on host {Environment.MachineName}, started ", second.Error);
            Assert.Contains("one run at a time writes a folder.", second.Error);
        }
        Assert.False(first.HasExited, "the first run was disturbed");
        first.Signal(15);
        Assert.True(first.WaitForExit(Patience) && first.ExitCode == 143, first.Error);

        // Stopped, the folder holds a run: a new run there needs --resume or --overwrite.
        var again = ExampleProcess.Run("Digits", Patience, "--out", folder, "--steps", "5", "--plain");
        log.WriteLine(again.Error);
        Assert.Equal(1, again.ExitCode);
        Assert.StartsWith($"error: {folder} already holds a run (DigitsJepa, interrupted at step ", again.Error);
        Assert.Contains($"Give --resume {folder} to continue it, or --overwrite to replace it (or another --out).", again.Error);
        var replaced = ExampleProcess.Run("Digits", Patience, "--out", folder, "--steps", "5", "--overwrite", "--plain");
        Assert.True(replaced.ExitCode == 0, replaced.All);
        Assert.Contains($"Replacing the run in {folder} (--overwrite).", replaced.Output);
        Assert.Equal(5, StopRecord(folder)["step"]!.GetValue<long>());
    }

    [Theory]
    [InlineData("data-worker:10", "Injected fault (JEPA_FAULT_INJECTION=data-worker:10): the data worker filling batch 10 of this process failed.", "BatchPrefetcher.Work")]
    [InlineData("background-thread", "Injected fault (JEPA_FAULT_INJECTION): a background thread failed.", "thread 'injected'")]
    public void An_unexpected_exception_on_another_thread_prints_one_line_and_leaves_its_detail_in_error_log(string fault, string message, string detail)
    {
        using var temp = new TempFolder("jepa-fault");
        var folder = Path.Combine(temp.Path, "run");
        // 600 unlabelled 8x8 images in an IDX file: a streaming data set, read by data workers (the digits are in memory).
        var images = Path.Combine(temp.Path, "images.idx");
        var bytes = new List<byte> { 0, 0, 8, 3, 0, 0, 2, 0x58, 0, 0, 0, 8, 0, 0, 0, 8 };
        var random = new Random(3);
        for (var i = 0; i < 600 * 64; i++) bytes.Add((byte)random.Next(256));
        File.WriteAllBytes(images, [.. bytes]);

        var result = ExampleProcess.Run(ExampleProcess.Start("Digits", new Dictionary<string, string> { ["JEPA_FAULT_INJECTION"] = fault },
            "--data", images, "--steps", "20", "--out", folder, "--plain"), Patience);

        log.WriteLine($"{fault}: exit {result.ExitCode}\n{result.Error}");
        Assert.Equal(1, result.ExitCode);
        var errorLog = Path.Combine(folder, "error.log");
        Assert.Equal($"error: unexpected failure (InvalidOperationException): {message} The detail is in {errorLog}.", result.Error.Trim());
        Assert.DoesNotContain("   at ", result.Output + result.Error, StringComparison.Ordinal);
        var text = File.ReadAllText(errorLog);
        Assert.Contains("System.InvalidOperationException: Injected fault", text);
        Assert.Contains("   at ", text);
        Assert.Contains(detail, text);
        Assert.Contains(detail, result.All);   // a failing test's message carries the detail of a temporary run folder
        var record = StopRecord(folder);
        Assert.Equal("failed", record["reason"]!.GetValue<string>());
        Assert.Equal(errorLog, record["error_log"]!.GetValue<string>());
    }

    [Fact]
    public void Jepa_train_stops_on_SIGTERM_and_prints_a_resume_command_that_names_the_file()
    {
        using var temp = new TempFolder("jepa-train-stop");
        var folder = Path.Combine(temp.Path, "run");
        var file = Path.Combine(Repository.Root, "examples", "Digits", "digits.jepa");

        using var process = ExampleProcess.StartCli(null, "train", file, "--steps", $"{Steps}", "--checkpoint-every", "0", "--out", folder, "--plain");
        Assert.True(process.WaitForLine(l => l.StartsWith("step 100/", StringComparison.Ordinal), Patience) is not null, process.Output + process.Error);
        process.Signal(15);
        Assert.True(process.WaitForExit(Patience), "the run did not stop");

        log.WriteLine(process.Error);
        Assert.Equal(143, process.ExitCode);
        var resume = ResumeLine().Match(process.Error);
        Assert.Equal($"dotnet {ExampleProcess.CliDll()} train {file} --resume {folder} --plain", resume.Groups[1].Value);
        var step = long.Parse(InterruptedLine().Match(process.Error).Groups[2].Value, CultureInfo.InvariantCulture);
        Assert.Equal(step, CheckpointStep(Path.Combine(folder, "checkpoint.ckpt")));
        var resumed = RunPrinted(resume);
        Assert.True(resumed.ExitCode == 0, resumed.All);
        Assert.Equal(Reference.Value, Digest(resumed.Output));
    }

    /// <summary>Runs a printed command (a <c>dotnet</c> command line, words quoted as a POSIX shell quotes them).</summary>
    private static ProcessResult RunPrinted(Match line)
    {
        Assert.True(line.Success, "no command printed");
        var words = ShellWords(line.Groups[1].Value);
        Assert.Equal("dotnet", words[0]);
        var dll = words[1];
        var cli = dll.EndsWith("jepa.dll", StringComparison.Ordinal);
        Assert.Equal(cli ? ExampleProcess.CliDll() : ExampleProcess.Dll(Path.GetFileNameWithoutExtension(dll)), dll);
        return ExampleProcess.Run(cli ? ExampleProcess.StartCli(null, [.. words.Skip(2)]) : ExampleProcess.Start(Path.GetFileNameWithoutExtension(dll), [.. words.Skip(2)]), Patience);
    }

    private static List<string> ShellWords(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var quoted = false;
        var any = false;
        foreach (var c in text)
        {
            if (c == '\'') { quoted = !quoted; any = true; continue; }
            if (c == ' ' && !quoted)
            {
                if (any) words.Add(word.ToString());
                word.Clear();
                any = false;
                continue;
            }
            word.Append(c);
            any = true;
        }
        if (any) words.Add(word.ToString());
        return words;
    }

    /// <summary>The step a checkpoint was written at: the format of docs/runtime-training.md, "Checkpoints" (a 20-byte
    /// header, then the sections meta (5 strings) and progress (the step first)).</summary>
    private static long CheckpointStep(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
        reader.BaseStream.Position = 20;
        Assert.Equal("meta", reader.ReadString());
        for (var i = 0; i < 5; i++) reader.ReadString();
        Assert.Equal("progress", reader.ReadString());
        return reader.ReadInt64();
    }
}
