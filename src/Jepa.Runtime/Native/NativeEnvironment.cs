using System.Runtime.InteropServices;

namespace Jepa.Runtime.Native;

/// <summary>
/// Sets a variable where native libraries read it. .NET's <see cref="Environment.SetEnvironmentVariable(string, string)"/>
/// changes only the managed copy on Unix, while libtorch and oneDNN call the C library's <c>getenv</c>; on Windows it
/// sets the process environment, which they read with <c>GetEnvironmentVariable</c>.
/// </summary>
internal static class NativeEnvironment
{
    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    /// <summary>Sets <paramref name="name"/> in both environments; false when the C library's could not be set.</summary>
    public static bool Set(string name, string value)
    {
        Environment.SetEnvironmentVariable(name, value);
        if (OperatingSystem.IsWindows()) return true;
        try
        {
            return SetEnv(name, value, 0) == 0;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }
}
