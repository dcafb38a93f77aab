using System.IO.Compression;
using System.Text;

namespace Jepa.Runtime.Tests.Data;

/// <summary>A temporary folder deleted after the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "jepa-tests-" + Guid.NewGuid().ToString("N"));

    public string Write(string name, string text, bool gzip = false) => Write(name, Encoding.UTF8.GetBytes(text), gzip);

    public string Write(string name, byte[] bytes, bool gzip = false)
    {
        var path = System.IO.Path.Combine(Path, name);
        if (gzip)
        {
            using var file = File.Create(path);
            using var zip = new GZipStream(file, CompressionLevel.Fastest);
            zip.Write(bytes);
        }
        else
        {
            File.WriteAllBytes(path, bytes);
        }
        return path;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
