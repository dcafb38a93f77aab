using System.Globalization;

namespace Jepa.Runtime.Training;

/// <summary>
/// How much memory a run may still take, as Linux tells it: <c>MemAvailable</c> of <c>/proc/meminfo</c> (what the
/// kernel can give without swapping: free memory plus reclaimable caches), and the limit of the process's cgroup
/// (v2: <c>memory.max</c> less <c>memory.current</c>, with the inactive page cache of <c>memory.stat</c> counted as
/// free; v1: <c>memory.limit_in_bytes</c> less <c>memory.usage_in_bytes</c>, the same way), whichever is smaller; and
/// this process's resident memory now and at its peak (<c>VmRSS</c>, <c>VmHWM</c> of <c>/proc/self/status</c>).
/// Elsewhere (Windows, macOS) the .NET runtime's view: <see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/> less the
/// memory in use, and the process's working set.
/// </summary>
public static class SystemMemory
{
    /// <summary>The memory available to this process (bytes) and where the figure comes from, in words
    /// (<c>MemAvailable</c>, <c>the cgroup's memory.max</c>).</summary>
    public static (long Bytes, string Source) Available() => Available("/proc", "/sys/fs/cgroup");

    /// <summary><see cref="Available()"/> with other roots for <c>/proc</c> and <c>/sys/fs/cgroup</c> (tests).</summary>
    internal static (long Bytes, string Source) Available(string proc, string cgroupRoot)
    {
        var meminfo = Path.Combine(proc, "meminfo");
        if (!File.Exists(meminfo))
        {
            var info = GC.GetGCMemoryInfo();
            return (Math.Max(0, info.TotalAvailableMemoryBytes - info.MemoryLoadBytes), "the .NET runtime's available memory");
        }

        var available = (Bytes: Field(File.ReadLines(meminfo), "MemAvailable:") ?? long.MaxValue, Source: "MemAvailable");
        if (CgroupRoom(proc, cgroupRoot) is { } room && room < available.Bytes) available = (room, "the cgroup's memory limit");
        return available;
    }

    /// <summary>This process's resident memory now and its peak so far (bytes).</summary>
    public static (long Current, long Peak) Resident()
    {
        const string status = "/proc/self/status";
        if (File.Exists(status))
        {
            var lines = File.ReadAllLines(status);
            var current = Field(lines, "VmRSS:") ?? 0;
            return (current, Field(lines, "VmHWM:") ?? current);
        }

        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return (process.WorkingSet64, process.PeakWorkingSet64);
    }

    /// <summary>Room left under the cgroup's limit (v2, else v1), or null without a limit.</summary>
    private static long? CgroupRoom(string proc, string root)
    {
        var cgroup = Path.Combine(proc, "self", "cgroup");
        if (!File.Exists(cgroup)) return null;
        foreach (var line in File.ReadLines(cgroup))
        {
            // v2: "0::/path"; v1: "N:memory:/path" (or "N:memory,...:/path").
            var parts = line.Split(':', 3);
            if (parts.Length != 3) continue;
            var relative = parts[2].TrimStart('/');
            if (parts[0] == "0" && parts[1].Length == 0)
            {
                var folder = Path.Combine(root, relative);
                if (!Directory.Exists(folder)) folder = root;
                if (Number(Path.Combine(folder, "memory.max")) is { } max && Number(Path.Combine(folder, "memory.current")) is { } current)
                    return Math.Max(0, max - current + (StatField(Path.Combine(folder, "memory.stat"), "inactive_file") ?? 0));
            }
            else if (parts[1].Split(',').Contains("memory"))
            {
                // In a container the cgroup's own path may not exist under the mount point, which is then the cgroup.
                var folder = Path.Combine(root, "memory", relative);
                if (!Directory.Exists(folder)) folder = Path.Combine(root, "memory");
                if (Number(Path.Combine(folder, "memory.limit_in_bytes")) is { } max && max < long.MaxValue / 2 &&
                    Number(Path.Combine(folder, "memory.usage_in_bytes")) is { } usage)
                    return Math.Max(0, max - usage + (StatField(Path.Combine(folder, "memory.stat"), "total_inactive_file") ?? 0));
            }
        }
        return null;
    }

    /// <summary>A number file of the cgroup file system; null when missing or <c>max</c> (no limit).</summary>
    private static long? Number(string path)
    {
        if (!File.Exists(path)) return null;
        var text = File.ReadAllText(path).Trim();
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
    }

    private static long? StatField(string path, string name)
    {
        if (!File.Exists(path)) return null;
        foreach (var line in File.ReadLines(path))
        {
            var parts = line.Split(' ');
            if (parts.Length == 2 && parts[0] == name && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return n;
        }
        return null;
    }

    /// <summary>A <c>Name:   123 kB</c> line of <c>/proc</c>, in bytes.</summary>
    private static long? Field(IEnumerable<string> lines, string name)
    {
        foreach (var line in lines)
        {
            if (!line.StartsWith(name, StringComparison.Ordinal)) continue;
            var parts = line[name.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 1 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                return parts.Length > 1 && parts[1] == "kB" ? n * 1024 : n;
        }
        return null;
    }
}
