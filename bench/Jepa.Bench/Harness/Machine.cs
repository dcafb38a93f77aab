using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace Jepa.Bench.Harness;

/// <summary>What the numbers were measured on: processor, cores, load, versions.</summary>
public static class Machine
{
    public static string Cpu()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? RuntimeInformation.ProcessArchitecture.ToString() : line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }

    /// <summary>The 1, 5 and 15 minute load averages, or null off Linux.</summary>
    public static double[]? LoadAverage()
    {
        if (!File.Exists("/proc/loadavg")) return null;
        return File.ReadAllText("/proc/loadavg").Split(' ').Take(3).Select(s => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    }

    public static string Load() => LoadAverage() is { } l ? $"load {l[0]:F2} {l[1]:F2} {l[2]:F2}" : "load n/a";

    /// <summary>Resident set size of this process in MiB (VmRSS), as the operating system counts it.</summary>
    public static double RssMiB()
    {
        if (File.Exists("/proc/self/status"))
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
        }
        using var p = System.Diagnostics.Process.GetCurrentProcess();
        return p.WorkingSet64 / (1024.0 * 1024.0);
    }

    public static JsonObject Describe() => new()
    {
        ["cpu"] = Cpu(),
        ["cores"] = Environment.ProcessorCount,
        ["torch_threads"] = TorchSharp.torch.get_num_threads(),
        ["os"] = RuntimeInformation.OSDescription,
        ["dotnet"] = Environment.Version.ToString(),
        ["torchsharp"] = typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString(),
        ["load_average_start"] = LoadAverage() is { } l ? new JsonArray(l.Select(v => (JsonNode)v).ToArray()) : null,
    };
}
