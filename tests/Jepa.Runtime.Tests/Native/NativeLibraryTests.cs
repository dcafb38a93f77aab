using System.Runtime.InteropServices;
using Jepa.Runtime.Native;
using TorchSharp;

namespace Jepa.Runtime.Tests.Native;

public class NativeLibraryTests
{
    [Fact]
    public void Native_backend_loads_and_computes()
    {
        TorchNative.EnsureLoaded();
        using var a = torch.tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2);
        using var b = torch.mm(a, a);
        Assert.Equal(new float[] { 7, 10, 15, 22 }, b.data<float>().ToArray());
    }

    [Fact]
    public void Output_copy_is_patched_exactly_where_the_system_lacks_the_glibcxx_version()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux)) return;
        var library = Directory.EnumerateFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories).Single();
        var needs = ElfVersionNeeds.Read(library);
        var requirement = Assert.Single(needs, n => n.Version == TorchNative.RequiredGlibcxx);
        Assert.Equal(!TorchNative.SystemLibstdcxxHas(TorchNative.RequiredGlibcxx), requirement.Weak);
        // Every other requirement is left as it was.
        Assert.All(needs.Where(n => n.Version != TorchNative.RequiredGlibcxx), n => Assert.False(n.Weak));
    }
}
