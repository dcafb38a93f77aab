using System.Text.RegularExpressions;
using Jepa.Runtime.Native;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Native;

public partial class HugePagesTests(ITestOutputHelper output)
{
    [Fact]
    public void The_variable_is_set_on_Linux_only_and_never_over_the_users_choice()
    {
        Assert.Equal("1", HugePages.Decide(linux: true, current: null));
        Assert.Equal("1", HugePages.Decide(linux: true, current: ""));
        Assert.Null(HugePages.Decide(linux: true, current: "0"));
        Assert.Null(HugePages.Decide(linux: true, current: "1"));
        Assert.Null(HugePages.Decide(linux: false, current: null));
    }

    [GeneratedRegex(@"^AnonHugePages:\s+(\d+) kB$", RegexOptions.Multiline)]
    private static partial Regex AnonHugePagesLine();

    private static long AnonHugePagesKiB() =>
        long.Parse(AnonHugePagesLine().Match(File.ReadAllText("/proc/self/smaps_rollup")).Groups[1].Value);

    /// <summary>
    /// The variable reaches libtorch: a 64 MiB tensor made here is backed by huge pages when the kernel takes advice
    /// (<c>madvise</c>, this machine's setting), which it does only for memory that libtorch advised. Under
    /// <c>always</c> the kernel uses them anyway, under <c>never</c> not at all, and the test checks that instead.
    /// </summary>
    [Fact]
    public void A_large_tensor_is_backed_by_huge_pages_when_the_kernel_takes_advice()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Null(HugePages.Effective);
            return;
        }
        output.WriteLine($"{HugePages.Variable}: {HugePages.Effective ?? "(not set)"}, set here: {HugePages.SetHere}");
        Assert.NotNull(HugePages.Effective);                                             // set here, or by the user
        Assert.Equal(HugePages.Effective, Environment.GetEnvironmentVariable(HugePages.Variable));

        var modes = File.ReadAllText("/sys/kernel/mm/transparent_hugepage/enabled");
        var mode = Regex.Match(modes, @"\[(\w+)\]").Groups[1].Value;
        var before = AnonHugePagesKiB();
        using var tensor = ones(16L << 20);                                            // 64 MiB of float32, every page touched
        var grown = AnonHugePagesKiB() - before;
        output.WriteLine($"kernel: {modes.Trim()}; huge pages grew by {grown / 1024} MiB");

        if (mode == "never") Assert.Equal(0, grown);
        else if (mode == "always" || HugePages.Effective == "1")
            Assert.True(grown >= 32 << 10, $"64 MiB tensor: only {grown / 1024} MiB on huge pages (kernel mode {mode}).");
        else Assert.True(grown < 32 << 10, $"{HugePages.Variable}={HugePages.Effective}, yet {grown / 1024} MiB on huge pages.");
    }
}
