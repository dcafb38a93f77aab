using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Jepa.Runtime.Native;

namespace Jepa.Tests.Native;

/// <summary>
/// Runs Jepa.Runtime's module initializer (<see cref="OneDnnIsa"/>, the oneDNN cap) when this test assembly loads,
/// before any test. xunit runs test classes in parallel, and one that builds a TorchSharp convolution before it touches
/// a Jepa.Runtime type lets oneDNN start uncapped for the whole process: in one CI run of two on the AMD Zen 5 machine
/// (2026-12-01) OneDnnIsaTests then found the first convolution's gradient 9.2e-1 off. Programs are not exposed: the
/// runner and generated code reach Jepa.Runtime before their first convolution. One file, linked into the test projects
/// that reference Jepa.Runtime (tests/Shared is compiled into all of them).
/// </summary>
internal static class CpuKernels
{
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "A test assembly: the cap must be in place before the first test of any class runs.")]
    internal static void CapBeforeAnyTest() => RuntimeHelpers.RunModuleConstructor(typeof(OneDnnIsa).Module.ModuleHandle);
}
