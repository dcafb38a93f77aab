using Jepa.Runtime.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Training;

/// <summary>
/// Turns a device name (<see cref="ExperimentOptions.Device"/>, <c>--device</c>) into a torch device, loading the native
/// backend on the way. The experiment's constructor and the runner (before it loads any data) both call it, so a
/// missing CUDA backend or GPU gives the same message everywhere.
/// </summary>
public static class Devices
{
    /// <summary>
    /// <c>cpu</c>; <c>auto</c> (CUDA where available, else the CPU); <c>cuda</c> or <c>cuda:N</c>, which throw
    /// <see cref="DeviceUnavailableException"/> where CUDA is not available. Anything else is an
    /// <see cref="ArgumentException"/>.
    /// </summary>
    public static Device Resolve(string device)
    {
        ArgumentNullException.ThrowIfNull(device);
        TorchNative.EnsureLoaded();
        if (device == "cpu") return CPU;
        if (device == "auto") return cuda.is_available() ? CUDA : CPU;
        if (device != "cuda" && !device.StartsWith("cuda:", StringComparison.Ordinal))
            throw new ArgumentException($"Device must be cpu, cuda, cuda:N or auto (is '{device}').", nameof(device));

        try
        {
            TorchNative.EnsureLoaded(cuda: true);
        }
        catch (TorchNativeLoadException e)
        {
            throw new DeviceUnavailableException(device, "TorchSharp's CUDA backend did not load (the default build has the CPU backend only).", e);
        }
        if (!cuda.is_available())
            throw new DeviceUnavailableException(device, "the CUDA backend is loaded, but torch finds no NVIDIA GPU (or no driver).");
        return torch.device(device);
    }
}

/// <summary>A CUDA device was asked for where CUDA is not available; the message says why and what to do.</summary>
public sealed class DeviceUnavailableException(string device, string reason, Exception? inner = null)
    : Exception($"Device '{device}' was asked for, but CUDA is not available here: {reason} Build with the MSBuild property " +
                "JepaTorchBackend=cuda-linux (or cuda-windows) and run on a machine with an NVIDIA GPU and driver, or use the device cpu or auto.", inner)
{
    /// <summary>The device that was asked for (<c>cuda</c>, <c>cuda:1</c>).</summary>
    public string Device { get; } = device;
}
