using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Jepa.EndToEnd.Tests;

/// <summary>
/// The compiler's memory estimate (docs/models.md, "Memory") against the peak resident memory measured by the runner,
/// for every example that builds (Collapse does not: JEPA301 on purpose): a run of 60 steps (Mnist: 30) at the file's batch,
/// with a checkpoint, prints <c>Peak memory: X resident (estimated Y, +Z %).</c> after training; the difference must be
/// within ±30 %, because the out-of-memory killer's SIGKILL cannot be caught and the check at the start of a run must
/// be right. The test also prints the final checkpoint's write time (run.json), which must fit the ~30 s that
/// schedulers leave between SIGTERM and SIGKILL. docs/reliability.md lists the figures of the runs made here.
/// </summary>
[Collection(DotnetCollection.Name)]
public partial class MemoryEstimateTests(ITestOutputHelper log)
{
    [GeneratedRegex(@"^Peak memory: ([\d.]+) ([MG])iB resident \(estimated ([\d.]+) ([MG])iB, ([+-]?\d+) %\)\.$", RegexOptions.Multiline)]
    private static partial Regex PeakLine();

    [Theory]
    [InlineData("Digits", 60)]
    [InlineData("Contrastive", 60)]
    [InlineData("SimSiam", 60)]
    [InlineData("TokenJepa", 60)]
    [InlineData("VicReg", 60)]
    [InlineData("Mnist", 30)]   // its peak is reached by step 3 (docs/reliability.md); 30 steps keep the test under two minutes here
    public void The_estimate_is_within_30_percent_of_the_measured_peak_and_the_checkpoint_fits_the_grace_period(string example, int steps)
    {
        using var temp = new TempFolder("jepa-memory");
        var folder = Path.Combine(temp.Path, "run");
        var result = ExampleProcess.Run(example, TimeSpan.FromMinutes(10), "--steps", steps.ToString(CultureInfo.InvariantCulture), "--checkpoint-every", (steps / 2).ToString(CultureInfo.InvariantCulture), "--out", folder, "--plain");
        Assert.True(result.ExitCode == 0, result.All);

        var peak = PeakLine().Match(result.Output);
        Assert.True(peak.Success, result.Output);
        var measured = MiB(peak.Groups[1].Value, peak.Groups[2].Value);
        var estimated = MiB(peak.Groups[3].Value, peak.Groups[4].Value);
        var seconds = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "run.json")))!["stop"]!["checkpoint_seconds"]!.GetValue<double>();
        var checkpoint = new FileInfo(Path.Combine(folder, "checkpoint.ckpt")).Length;
        log.WriteLine(FormattableString.Invariant(
            $"{example}: peak {measured:F1} MiB, estimated {estimated:F1} MiB ({(measured - estimated) * 100 / estimated:+0.0;-0.0} %); checkpoint {checkpoint / 1024.0:F0} KiB written in {seconds:F3} s"));
        Assert.InRange((measured - estimated) / estimated, -0.30, 0.30);
        Assert.InRange(seconds, 0, 30);
    }

    /// <summary>A size the runner printed (<c>ByteSize</c>: MiB, or GiB from 1 GiB on), in MiB.</summary>
    private static double MiB(string number, string unit) => double.Parse(number, CultureInfo.InvariantCulture) * (unit == "G" ? 1024 : 1);
}
