using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Jepa.EndToEnd.Tests;

/// <summary>
/// Crash-safe training, end to end: the Digits example trains in a child process with a checkpoint every 2 steps; the
/// test kills it with SIGKILL again and again (at random moments, and inside checkpoint writes: the kill lands while the
/// temporary file of a write exists, which is how the test knows), resumes it each time with --resume, damages the
/// latest checkpoint before the last resume, and checks that the run ends with parameters bit-identical (same SHA-256
/// of every weight) to an uninterrupted run, with each metrics row written once and no temporary file left behind.
/// JEPA_CRASH_KILLS sets how many kills (default 8, at least 3 inside writes); docs/reliability.md has the figures.
/// </summary>
[Collection(DotnetCollection.Name)]
public partial class CrashSafetyTests(ITestOutputHelper log)
{
    private const int Steps = 400;
    private const int CheckpointEvery = 2;
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    private static int Kills => int.TryParse(Environment.GetEnvironmentVariable("JEPA_CRASH_KILLS"), out var n) && n > 0 ? n : 8;

    [GeneratedRegex(@"^Parameters SHA-256: ([0-9a-f]{64})$")]
    private static partial Regex DigestLine();

    private static string[] Arguments(params string[] more) =>
        ["--steps", Steps.ToString(CultureInfo.InvariantCulture), "--checkpoint-every", CheckpointEvery.ToString(CultureInfo.InvariantCulture), "--plain", .. more];

    /// <summary>Trains to the end of the training and returns the digest it prints; with <paramref name="finish"/>
    /// false the evaluation that follows is skipped (the process is killed after the digest).</summary>
    private static (string Digest, ExampleProcess Process) TrainToTheEnd(bool finish, params string[] args)
    {
        var process = ExampleProcess.Start("Digits", args);
        var line = process.WaitForLine(l => DigestLine().IsMatch(l), Patience);
        Assert.True(line is not null, $"no digest line\n{process.Output}\n{process.Error}");
        if (finish) Assert.True(process.WaitForExit(Patience) && process.ExitCode == 0, $"exit {process.ExitCode}\n{process.Output}\n{process.Error}");
        else process.Kill();
        return (DigestLine().Match(line!).Groups[1].Value, process);
    }

    private static bool WriteInProgress(string folder) => Directory.GetFiles(folder, ".checkpoint.ckpt.*.tmp").Length > 0;

    [Fact]
    public void Training_killed_at_random_moments_and_during_checkpoint_writes_resumes_to_identical_parameters()
    {
        using var temp = new TempFolder("jepa-crash");
        var reference = Path.Combine(temp.Path, "reference");
        var crashed = Path.Combine(temp.Path, "crashed");
        var latest = Path.Combine(crashed, "checkpoint.ckpt");
        var previous = Path.Combine(crashed, "checkpoint.prev.ckpt");
        ExampleProcess.Dll("Digits");

        // 1. The uninterrupted run.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (expected, first) = TrainToTheEnd(finish: false, Arguments("--out", reference));
        first.Dispose();
        var referenceSeconds = clock.Elapsed.TotalSeconds;

        // 2. Kill, resume, kill... Each process is killed once it has written a checkpoint of its own: half of the time
        //    after a random delay, half of the time as soon as a write is seen in progress (plus up to 3 ms).
        var seed = Environment.TickCount;
        var random = new Random(seed);
        int kills = 0, duringWrites = 0, attempts = 0, missingLatest = 0;
        var kinds = new List<string>();
        // A kill between the two renames of a write leaves no latest checkpoint; step 3 needs one to damage, so such a
        // last kill is followed by one more resume and kill.
        while ((kills < Kills || duringWrites < 3 || !File.Exists(latest)) && attempts < 4 * Kills)
        {
            attempts++;
            var resume = File.Exists(latest) || File.Exists(previous);
            var latestIntact = File.Exists(latest);
            using var process = ExampleProcess.Start("Digits", Arguments(resume ? ["--resume", crashed] : ["--out", crashed]));
            var deadline = DateTime.UtcNow + Patience;
            // Wait until this process has written a checkpoint (the latest one is newer than the process).
            while (!process.HasExited && DateTime.UtcNow < deadline && !(File.Exists(latest) && File.GetLastWriteTimeUtc(latest) > process.Started))
                Thread.Sleep(5);
            Assert.False(process.HasExited, $"the run ended before it could be killed (attempt {attempts})\n{process.Output}\n{process.Error}");
            Assert.True(DateTime.UtcNow < deadline, $"no checkpoint within {Patience}\n{process.Output}\n{process.Error}");
            var aimAtWrite = random.Next(2) == 0;
            if (aimAtWrite)
            {
                while (!process.HasExited && DateTime.UtcNow < deadline && !WriteInProgress(crashed)) Thread.SpinWait(1000);
                Thread.Sleep(random.Next(0, 4));
            }
            else
            {
                Thread.Sleep(random.Next(0, 300));
            }

            Assert.False(process.HasExited, $"the run ended before it could be killed (attempt {attempts})\n{process.Output}\n{process.Error}");
            process.Kill();
            Assert.NotEqual(0, process.ExitCode);
            kills++;
            var inWrite = WriteInProgress(crashed);
            if (inWrite) duringWrites++;
            if (!File.Exists(latest)) missingLatest++;
            kinds.Add(inWrite ? "write" : "between");
            // Writes are atomic: the latest checkpoint, when there is one, always loads (no fallback warning); it is
            // missing only after a kill between the two renames of a write, and then the previous one resumes.
            if (latestIntact) Assert.DoesNotContain("cannot be loaded", process.Error, StringComparison.Ordinal);
        }

        Assert.True(kills >= Kills && duringWrites >= 3 && File.Exists(latest),
            $"{kills} kills, {duringWrites} during checkpoint writes, in {attempts} attempts; latest checkpoint present: {File.Exists(latest)}");

        // 3. Damage the latest checkpoint; the last resume falls back to the previous one and finishes the run.
        var bytes = File.ReadAllBytes(latest);
        bytes[bytes.Length / 2] ^= 0x55;
        File.WriteAllBytes(latest, bytes);
        var (digest, last) = TrainToTheEnd(finish: true, Arguments("--resume", crashed));
        using (last)
        {
            Assert.Contains($"warning: Checkpoint '{latest}' cannot be loaded: checksum mismatch", last.Error);
            Assert.Contains($"Resumed from the previous checkpoint '{previous}'", last.Error);
            Assert.True(File.Exists(latest + ".damaged"));

            // 4. The same parameters as the uninterrupted run; each step's metrics row once; no temporary file left.
            Assert.Equal(expected, digest);
            var steps = File.ReadAllLines(Path.Combine(crashed, "metrics.jsonl"))
                .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt64()).ToList();
            Assert.Equal(steps.Order().Distinct(), steps);
            Assert.Equal(Steps, steps[^1]);
            Assert.Empty(Directory.GetFiles(crashed, "*.tmp"));
            using var evaluation = JsonDocument.Parse(File.ReadAllText(Path.Combine(crashed, "evaluation.json")));
            Assert.Equal(Steps, evaluation.RootElement.GetProperty("steps").GetInt64());
        }

        log.WriteLine($"seed {seed}: {kills} SIGKILLs in {attempts} runs, {duringWrites} during a checkpoint write, {missingLatest} between its two renames; " +
                      $"kills: {string.Join(" ", kinds)}; reference run {referenceSeconds:F1} s, whole test {clock.Elapsed.TotalSeconds:F1} s; digest {expected}");
    }
}
