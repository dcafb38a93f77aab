using System.Runtime.InteropServices;

namespace Jepa.Runtime.Native;

/// <summary>
/// Hands the C heap's free memory back to the system. libtorch allocates tensors with the C library's malloc; glibc
/// keeps what a training step frees in its arenas, and over a run of identical steps the resident memory creeps up
/// with fragmentation (the MNIST recipe: 0.85 GiB to 1.5-2.1 GiB over 150 steps, docs/reliability.md).
/// <c>malloc_trim(0)</c> returns the free pages of every arena. Elsewhere (musl, macOS, Windows) it does nothing.
/// </summary>
public static class NativeHeap
{
    private static volatile bool unavailable = !OperatingSystem.IsLinux();

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    /// <summary>Returns the C heap's free pages to the system; true when glibc released some.</summary>
    public static bool Trim()
    {
        if (unavailable) return false;
        try
        {
            return MallocTrim(0) != 0;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            unavailable = true;
            return false;
        }
    }
}
