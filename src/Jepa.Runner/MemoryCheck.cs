using Jepa.Runtime;
using Jepa.Runtime.Data;
using Jepa.Runtime.Training;
using static TorchSharp.torch;

namespace Jepa.Runner;

/// <summary>
/// The memory check at the start of a run, before any module is built: the compiler's estimate
/// (<see cref="ExperimentDefinition.Memory"/>) plus the data the loader keeps in memory, against the memory this process
/// can still get (<see cref="SystemMemory.Available()"/>: MemAvailable and the cgroup's limit) plus what it already
/// holds; a run that cannot fit is refused in one message that names the estimate and the largest module.
/// <c>JEPA_MEMORY_BUDGET=SIZE</c> replaces the available memory by SIZE (the whole run must fit in it), <c>off</c>
/// turns the check off. On CUDA the estimate is printed, not checked: TorchSharp has no query for free GPU memory.
/// After training, <see cref="Peak"/> says the measured peak resident memory beside the estimate.
/// </summary>
internal sealed class MemoryCheck
{
    /// <summary>The environment variable that sets the memory budget (a size such as 8G, or <c>off</c>).</summary>
    public const string BudgetVariable = "JEPA_MEMORY_BUDGET";

    private readonly long? estimate;

    private MemoryCheck(long? estimate) => this.estimate = estimate;

    public static MemoryCheck Run(ExperimentDefinition definition, Device device, IEnumerable<ISampleSet> data, TextWriter output)
    {
        var dataBytes = data.Select(Bytes).Sum();
        if (definition.Memory is not { } memory)
        {
            output.WriteLine("Memory: not estimated (the compiler does not know the size of a C# encoder).");
            return new MemoryCheck(null);
        }

        var needed = memory.Total + dataBytes;
        var summary = $"about {ByteSize.Format(needed)} estimated for training (model {ByteSize.Format(memory.Model)} at batch {memory.Batch}, " +
                      $"data {ByteSize.Format(dataBytes)}, process {ByteSize.Format(memory.Baseline)})";
        if (device.type == TorchSharp.DeviceType.CUDA)
        {
            output.WriteLine($"Memory: {summary} on {device}: not checked (TorchSharp gives no free-memory query for CUDA devices).");
            return new MemoryCheck(needed);
        }

        var setting = Environment.GetEnvironmentVariable(BudgetVariable)?.Trim();
        if (string.Equals(setting, "off", StringComparison.OrdinalIgnoreCase))
        {
            output.WriteLine($"Memory: {summary}; not checked ({BudgetVariable}=off).");
            return new MemoryCheck(needed);
        }

        long room;
        string source;
        if (!string.IsNullOrEmpty(setting))
        {
            room = DataFiles.ParseSize(setting) ?? throw new RunException($"{BudgetVariable} takes a size such as 8G or 512M, or off; not '{setting}'.");
            source = $"{BudgetVariable}={setting}";
        }
        else
        {
            // What this process holds already is part of the estimate (the baseline), so it counts as room.
            var (available, from) = SystemMemory.Available();
            room = available + SystemMemory.Resident().Current;
            source = from;
        }

        if (needed > room)
            throw new RunException($"{definition.Name} needs about {ByteSize.Format(needed)} to train, more than the {ByteSize.Format(room)} it can have ({source}): " +
                                   $"{memory.Parts()}; data {ByteSize.Format(dataBytes)}. The largest module is the {memory.Largest()}. " +
                                   $"Make the model smaller or the batch lower; if the estimate is wrong for this machine, {BudgetVariable}=SIZE (or off) overrides the check.");
        output.WriteLine($"Memory: {summary}; {ByteSize.Format(room)} available ({source}).");
        return new MemoryCheck(needed);
    }

    /// <summary>The memory a data set keeps: a streaming set's bytes when they are in memory or cached, an in-memory
    /// set's tensors.</summary>
    private static long Bytes(ISampleSet data) => data switch
    {
        StreamingDataset streaming => streaming.MemoryBytes,
        JepaDataset memory => memory.Features.NumberOfElements * memory.Features.ElementSize + (memory.Labels?.NumberOfElements * 8 ?? 0),
        _ => 0,
    };

    /// <summary>The process's peak resident memory so far, and the estimate beside it.</summary>
    public string Peak()
    {
        var peak = SystemMemory.Resident().Peak;
        return $"Peak memory: {ByteSize.Format(peak)} resident" +
               (estimate is { } e ? $" (estimated {ByteSize.Format(e)}, {Percent(peak, e)} %)." : ".");
    }

    /// <summary>"+12", "-3" or "0": the difference in whole percent (a custom format alone wrote "-+0" for -0.04).</summary>
    internal static string Percent(long measured, long estimated)
    {
        var percent = (long)Math.Round((measured - estimated) * 100.0 / estimated, MidpointRounding.AwayFromZero);
        return percent.ToString("+0;-0;0", System.Globalization.CultureInfo.InvariantCulture);
    }
}
