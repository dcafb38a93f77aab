using System.Globalization;
using System.Text.RegularExpressions;

namespace Jepa.Runtime.Training;

/// <summary>
/// An allocation failed: libtorch's CPU allocator (<c>DefaultCPUAllocator: can't allocate memory: you tried to allocate
/// N bytes</c>), its CUDA allocator (<c>CUDA out of memory. Tried to allocate 2.00 GiB</c>) or the .NET runtime
/// (<see cref="OutOfMemoryException"/>). One message with the size asked for, where it is known, and the phase:
/// <c>building modules</c>, <c>training step N</c>, <c>evaluation</c>. (The kernel's out-of-memory killer sends SIGKILL
/// instead, which nothing catches: the run-start check against the estimate is what prevents that.)
/// </summary>
public sealed partial class AllocationFailedException : Exception
{
    public AllocationFailedException(string phase, long? bytes, Exception inner)
        : base(Describe(phase, bytes), inner)
    {
        Phase = phase;
        Bytes = bytes;
    }

    /// <summary>What the run was doing: <c>building modules</c>, <c>training step N</c>, <c>evaluation</c>.</summary>
    public string Phase { get; }

    /// <summary>The size of the allocation that failed, when the allocator said it.</summary>
    public long? Bytes { get; }

    /// <summary>
    /// <paramref name="exception"/> as an <see cref="AllocationFailedException"/> of <paramref name="phase"/> when it is
    /// an allocation failure (an <see cref="AllocationFailedException"/> already is one and is returned as it is), else null.
    /// </summary>
    public static AllocationFailedException? From(Exception exception, string phase)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is AllocationFailedException already) return already;
        if (exception is OutOfMemoryException) return new AllocationFailedException(phase, null, exception);
        var message = exception.Message;
        if (CpuAllocation().Match(message) is { Success: true } cpu)
            return new AllocationFailedException(phase, long.TryParse(cpu.Groups["bytes"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var b) ? b : null, exception);
        if (CudaAllocation().Match(message) is { Success: true } cuda)
            return new AllocationFailedException(phase, Size(cuda.Groups["number"].Value, cuda.Groups["unit"].Value), exception);
        if (message.Contains("can't allocate memory", StringComparison.OrdinalIgnoreCase) || message.Contains("out of memory", StringComparison.OrdinalIgnoreCase))
            return new AllocationFailedException(phase, null, exception);
        return null;
    }

    private static string Describe(string phase, long? bytes) =>
        $"Out of memory ({phase}): " +
        (bytes is { } b ? string.Create(CultureInfo.InvariantCulture, $"an allocation of {ByteSize.Format(b)} ({b:N0} bytes) failed.") : "an allocation failed.");

    private static long? Size(string number, string unit)
    {
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)) return null;
        var power = unit switch { "KiB" => 1, "MiB" => 2, "GiB" => 3, "TiB" => 4, _ => 0 };
        return (long)(value * Math.Pow(1024, power));
    }

    [GeneratedRegex(@"you tried to allocate (?<bytes>\d+) bytes", RegexOptions.CultureInvariant)]
    private static partial Regex CpuAllocation();

    [GeneratedRegex(@"out of memory\. Tried to allocate (?<number>[\d.]+) (?<unit>B|KiB|MiB|GiB|TiB)", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex CudaAllocation();
}
