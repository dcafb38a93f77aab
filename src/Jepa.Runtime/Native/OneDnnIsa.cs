using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Jepa.Runtime.Native;

/// <summary>
/// Keeps libtorch's oneDNN off its AVX-512 kernels unless the user chose otherwise: sets <c>ONEDNN_MAX_CPU_ISA=AVX2</c>
/// in the process environment when the assembly loads, before the first convolution creates a oneDNN primitive (oneDNN
/// reads the variable once, then). The reason: TorchSharp 0.107's libtorch 2.10 (oneDNN 3.7.1) computes wrong weight
/// gradients for a first convolution layer (1 or 3 input channels in the plain layout: the <c>jit:avx512_core</c>
/// backward-weights kernel) on an AVX-512 CPU (AMD family 26, Zen 5, measured 2026-12-01): with 4 output channels on
/// 8x8 and 12x12 images 1-50 % of the largest component off against float64, not the same from run to run; the outputs
/// agree to 1e-7, so nothing but the learning shows it (OneDnnIsaTests; the conv parity tests against PyTorch caught it). Capped at AVX2 the same kernels agree with float64 to 1e-7 and the MNIST recipe
/// trains at the same speed on that machine (docs/runtime-training.md, "CPU kernels"). A user who sets
/// <c>ONEDNN_MAX_CPU_ISA</c> (or the older <c>DNNL_MAX_CPU_ISA</c>) keeps that value; nothing changes off x64.
/// </summary>
public static class OneDnnIsa
{
    /// <summary>oneDNN's variable for the most capable instruction set its kernels may use.</summary>
    public const string Variable = "ONEDNN_MAX_CPU_ISA";

    /// <summary>The name oneDNN read before version 2.</summary>
    public const string LegacyVariable = "DNNL_MAX_CPU_ISA";

    /// <summary>The cap: AVX2 kernels, the widest that computed correct gradients on the machine with the fault.</summary>
    public const string Cap = "AVX2";

    /// <summary>What this process runs with: the cap set here, the user's own value, or null off x64.</summary>
    public static string? Effective { get; private set; }

    /// <summary>True when this assembly set the cap (the user had not set either variable).</summary>
    public static bool SetHere { get; private set; }

    /// <summary>
    /// The value to set, or null to leave the environment alone: null off x64 and when the user has set either variable
    /// (their choice wins, <c>ALL</c> included).
    /// </summary>
    public static string? Decide(Architecture architecture, string? current, string? legacy) =>
        architecture == Architecture.X64 && string.IsNullOrEmpty(current) && string.IsNullOrEmpty(legacy) ? Cap : null;

    // A module initializer, not a call in TorchNative.EnsureLoaded: the fault is in the first convolution whichever
    // entry point reaches it (generated code, the tests, a user's own module), and the variable must be in the native
    // environment before then.
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "oneDNN reads the variable at its first primitive; this must run before any entry point reaches one.")]
    internal static void CapBeforeFirstUse()
    {
        var current = Environment.GetEnvironmentVariable(Variable);
        var legacy = Environment.GetEnvironmentVariable(LegacyVariable);
        var value = Decide(RuntimeInformation.ProcessArchitecture, current, legacy);
        if (value is null)
        {
            Effective = string.IsNullOrEmpty(current) ? (string.IsNullOrEmpty(legacy) ? null : legacy) : current;
            return;
        }
        if (!NativeEnvironment.Set(Variable, value)) return;
        Effective = value;
        SetHere = true;
    }
}
