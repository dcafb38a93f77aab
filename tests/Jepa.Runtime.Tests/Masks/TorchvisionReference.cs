using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Masks;

/// <summary>
/// The stored reference of TestData/torchvision_reference.py (torchvision 0.14 and PyTorch 1.13 from Debian): generated
/// images and what <c>torchvision.transforms.functional</c> makes of them, statistics of torchvision's random crop and
/// erase boxes, and PyTorch's conv encoder with each norm. Tensors are <c>{"shape": [...], "f32": base64}</c>.
/// </summary>
internal static class TorchvisionReference
{
    public const string ScriptName = "torchvision_reference.py";
    public const string FixtureName = "torchvision_reference.json";
    public const string Python = "/usr/bin/python3";

    public static string TestData(string name, [CallerFilePath] string here = "") =>
        Path.Combine(RepositoryRoot.SourceDirectory(here), "..", "TestData", name);

    private static readonly Lazy<JsonElement> Fixture = new(() => Parse(File.ReadAllText(TestData(FixtureName))));

    public static JsonElement Root => Fixture.Value;

    public static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement;

    /// <summary>A stored float32 tensor.</summary>
    public static Tensor Tensor(JsonElement e)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("The fixture stores little-endian floats.");
        var values = MemoryMarshal.Cast<byte, float>(Convert.FromBase64String(e.GetProperty("f32").GetString()!)).ToArray();
        var shape = e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
        return tensor(values, shape);
    }

    /// <summary>Why the reference cannot be regenerated here, or null when /usr/bin/python3 imports torchvision.</summary>
    public static string? Unavailable => Availability.Value;

    private static readonly Lazy<string?> Availability = new(() =>
    {
        if (!File.Exists(Python)) return $"{Python} does not exist, so torchvision cannot regenerate {FixtureName}.";
        var (code, _, error) = Run(["-c", "import torchvision"], TimeSpan.FromMinutes(1));
        return code == 0 ? null : $"{Python} cannot import torchvision (exit {code}: {error.Trim().Split('\n').LastOrDefault()}), so {FixtureName} cannot be regenerated.";
    });

    /// <summary>Runs /usr/bin/python3 with one OpenBLAS thread (platform-notes.md).</summary>
    public static (int Code, string Output, string Error) Run(IEnumerable<string> arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        start.Environment["OPENBLAS_NUM_THREADS"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Python} {string.Join(' ', arguments)} did not finish in {timeout}.");
        }
        return (process.ExitCode, output.Result, error.Result);
    }
}

/// <summary>A fact that runs only where /usr/bin/python3 imports torchvision; elsewhere it is reported as skipped, with the reason.</summary>
public sealed class TorchvisionFactAttribute : FactAttribute
{
    public TorchvisionFactAttribute()
    {
        if (TorchvisionReference.Unavailable is { } reason) Skip = reason;
    }
}

public class TorchvisionFixtureTests(ITestOutputHelper output)
{
    /// <summary>
    /// The committed fixture is what the committed script produces: regenerated into a temporary file and compared value
    /// by value (tensors within 2e-6, the tightest tolerance a test reads them with; other numbers within 1e-9 relative,
    /// everything else equal). Not bit for bit: float32 rounding differs between CPUs (the fixture, written elsewhere,
    /// and an AVX-512 machine of 2026-12-01 differed by up to 1.6e-6 in the rotations), while a change of meaning moves
    /// values by far more.
    /// </summary>
    [TorchvisionFact]
    public void The_fixture_is_what_the_script_produces()
    {
        var fresh = Path.Combine(Path.GetTempPath(), $"jepa-torchvision-{Guid.NewGuid():N}.json");
        try
        {
            var (code, _, error) = TorchvisionReference.Run([TorchvisionReference.TestData(TorchvisionReference.ScriptName), fresh], TimeSpan.FromMinutes(5));
            Assert.True(code == 0, $"the script failed (exit {code}): {error}");
            var largest = 0.0;
            Compare(TorchvisionReference.Root, TorchvisionReference.Parse(File.ReadAllText(fresh)), "$", ref largest);
            output.WriteLine($"regenerated {TorchvisionReference.FixtureName}: equal; largest tensor difference {largest:G3}");
        }
        finally
        {
            File.Delete(fresh);
        }
    }

    private static void Compare(JsonElement stored, JsonElement fresh, string path, ref double largest)
    {
        Assert.True(stored.ValueKind == fresh.ValueKind, $"{path}: {stored.ValueKind} stored, {fresh.ValueKind} regenerated");
        switch (stored.ValueKind)
        {
            case JsonValueKind.Object when stored.TryGetProperty("f32", out _):
                using (var a = TorchvisionReference.Tensor(stored))
                using (var b = TorchvisionReference.Tensor(fresh))
                {
                    Assert.True(a.shape.SequenceEqual(b.shape), $"{path}: shape [{string.Join(", ", a.shape)}] stored, [{string.Join(", ", b.shape)}] regenerated");
                    var difference = a.numel() == 0 ? 0 : (a - b).abs().max().item<float>();
                    largest = Math.Max(largest, difference);
                    Assert.True(difference <= 2e-6, $"{path}: tensors differ by {difference}");
                }
                break;
            case JsonValueKind.Object:
                Assert.Equal(stored.EnumerateObject().Select(p => p.Name), fresh.EnumerateObject().Select(p => p.Name));
                foreach (var p in stored.EnumerateObject()) Compare(p.Value, fresh.GetProperty(p.Name), $"{path}.{p.Name}", ref largest);
                break;
            case JsonValueKind.Array:
                Assert.True(stored.GetArrayLength() == fresh.GetArrayLength(), $"{path}: {stored.GetArrayLength()} items stored, {fresh.GetArrayLength()} regenerated");
                for (var i = 0; i < stored.GetArrayLength(); i++) Compare(stored[i], fresh[i], $"{path}[{i}]", ref largest);
                break;
            case JsonValueKind.Number:
                var (x, y) = (stored.GetDouble(), fresh.GetDouble());
                Assert.True(Math.Abs(x - y) <= 1e-9 * Math.Max(1, Math.Abs(x)), $"{path}: {x} stored, {y} regenerated");
                break;
            default:
                Assert.True(stored.ToString() == fresh.ToString(), $"{path}: '{stored}' stored, '{fresh}' regenerated");
                break;
        }
    }
}
