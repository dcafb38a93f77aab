using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Jepa.Runtime.Native;

/// <summary>
/// Asks libtorch to back its large CPU tensors with transparent huge pages: sets <c>THP_MEM_ALLOC_ENABLE=1</c> in the
/// process environment when the assembly loads, before libtorch's first allocation (c10 reads the variable once, then,
/// and from then on aligns every allocation of 2 MiB or more to 2 MiB and advises the kernel to use huge pages for it).
/// The reason is the cost of page faults: glibc gives a large tensor its own mapping and returns it to the system when
/// the tensor is freed, so every training step faults its activations in again, 4 KiB at a time. On the AMD Zen 5
/// virtual machine of 2026-12-01 that was most of a step: a 32-to-64-channel convolution over 512 28x28 images took
/// 629 ms forward with 4 KiB pages and 122 ms with huge pages, and the MNIST recipe's steps went from 1.41 to 0.98 s
/// with the same parameters and the same peak memory (docs/runtime-training.md, "CPU memory"). Linux only (elsewhere
/// libtorch ignores the variable); the kernel decides whether to honour the advice (<c>madvise</c> or <c>always</c> in
/// <c>/sys/kernel/mm/transparent_hugepage/enabled</c>). A user who sets the variable, to 0 included, keeps that value.
/// </summary>
public static class HugePages
{
    /// <summary>libtorch's (c10's) variable: 1 advises huge pages for CPU allocations of 2 MiB or more.</summary>
    public const string Variable = "THP_MEM_ALLOC_ENABLE";

    /// <summary>What this process runs with: "1" when set here, the user's own value, or null off Linux.</summary>
    public static string? Effective { get; private set; }

    /// <summary>True when this assembly set the variable (the user had not).</summary>
    public static bool SetHere { get; private set; }

    /// <summary>The value to set, or null to leave the environment alone: null off Linux and when the user has set it.</summary>
    public static string? Decide(bool linux, string? current) => linux && string.IsNullOrEmpty(current) ? "1" : null;

    // A module initializer for the reason OneDnnIsa has one: the variable must be in the native environment before the
    // first tensor, whichever entry point creates it.
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "libtorch reads the variable at its first allocation; this must run before any entry point makes one.")]
    internal static void EnableBeforeFirstAllocation()
    {
        var current = Environment.GetEnvironmentVariable(Variable);
        var value = Decide(OperatingSystem.IsLinux(), current);
        if (value is null)
        {
            Effective = string.IsNullOrEmpty(current) ? null : current;
            return;
        }
        if (!NativeEnvironment.Set(Variable, value)) return;
        Effective = value;
        SetHere = true;
    }
}
