using System.Runtime.InteropServices;
using TorchSharp;

namespace Jepa.Runtime.Native;

/// <summary>
/// Loads TorchSharp's native backend once and turns its misleading failure ("doesn't contain a reference to
/// libtorch-cpu-linux-x64") into a message that names the real cause and the fix.
/// </summary>
public static class TorchNative
{
    private static readonly object Gate = new();
    private static bool loaded;

    /// <summary>The GLIBCXX version that TorchSharp 0.107's libLibTorchSharp.so asks for.</summary>
    public const string RequiredGlibcxx = "GLIBCXX_3.4.32";

    /// <summary>Initializes the native backend (CPU, or CUDA when <paramref name="cuda"/>), or throws <see cref="TorchNativeLoadException"/>.</summary>
    public static void EnsureLoaded(bool cuda = false)
    {
        lock (Gate)
        {
            if (loaded && !cuda) return;
            try
            {
                torch.InitializeDeviceType(cuda ? DeviceType.CUDA : DeviceType.CPU);
                loaded = true;
            }
            // InvalidOperationException: "Torch device type CUDA did not initialise on the current machine" (a CPU
            // backend, or no driver).
            catch (Exception e) when (e is NotSupportedException or TypeInitializationException or DllNotFoundException or InvalidOperationException)
            {
                throw new TorchNativeLoadException(Explain(cuda), e);
            }
        }
    }

    internal static string Explain(bool cuda)
    {
        var lines = new List<string> { $"TorchSharp's native library could not be loaded ({(cuda ? "CUDA" : "CPU")} backend)." };
        var library = FindLibTorchSharp();
        if (library is null)
        {
            lines.Add($"libLibTorchSharp was not found under {AppContext.BaseDirectory}: the project needs a backend package " +
                      "(TorchSharp-cpu, or TorchSharp-cuda-linux/-windows chosen with the MSBuild property JepaTorchBackend).");
        }
        else if (RuntimeInformation.IsOSPlatform(OSPlatform.Linux) && !SystemLibstdcxxHas(RequiredGlibcxx) && !IsWeakened(library))
        {
            lines.Add($"{library} needs {RequiredGlibcxx} but this system's libstdc++ is older. The Jepa build step " +
                      "(build/Jepa.Native.targets, target JepaPatchNativeLibraryAfterBuild) marks that requirement weak in the " +
                      "output copy; rebuild the project (it runs after Build and Publish), or install a libstdc++ from GCC 13 or newer.");
        }
        else if (cuda)
        {
            lines.Add("The CUDA backend needs the TorchSharp-cuda package (JepaTorchBackend=cuda-linux) and an NVIDIA driver.");
        }
        else
        {
            lines.Add("Run `ldd` on libLibTorchSharp.so in the output folder to see which dependency is missing.");
        }
        return string.Join(Environment.NewLine, lines);
    }

    private static string? FindLibTorchSharp()
    {
        var name = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "LibTorchSharp.dll"
                 : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? "libLibTorchSharp.dylib" : "libLibTorchSharp.so";
        return Directory.EnumerateFiles(AppContext.BaseDirectory, name, SearchOption.AllDirectories).FirstOrDefault();
    }

    /// <summary>True where the system's libstdc++ (the one the dynamic loader picks) defines <paramref name="version"/>.</summary>
    internal static bool SystemLibstdcxxHas(string version)
    {
        string[] candidates =
        [
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/usr/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
        ];
        var path = candidates.FirstOrDefault(File.Exists);
        return path is null || Contains(File.ReadAllBytes(path), System.Text.Encoding.ASCII.GetBytes(version + "\0"));
    }

    /// <summary>True where the library's requirement of <see cref="RequiredGlibcxx"/> carries the ELF weak flag.</summary>
    internal static bool IsWeakened(string library) => ElfVersionNeeds.Read(library)
        .Any(n => n.Version == RequiredGlibcxx && n.Weak);

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}

/// <summary>Thrown when TorchSharp's native backend cannot be loaded; the message names the cause and the fix.</summary>
public sealed class TorchNativeLoadException(string message, Exception inner) : Exception(message, inner);
