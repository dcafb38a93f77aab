using System.Runtime.CompilerServices;
using System.Text;

namespace Jepa.Tests.Shared;

/// <summary>
/// Snapshot assertions with Verify's conventions (Verify itself is not served here, see docs/testing.md): the expected
/// text lives in a checked-in <c>NAME.verified.EXT</c> file; a mismatch writes <c>NAME.received.EXT</c> beside it and
/// fails; a missing verified file fails too. Set <c>JEPA_ACCEPT_SNAPSHOTS=1</c> to accept: the received text is written
/// as the verified file and the test passes. Verified files are LF; received files are git-ignored.
/// </summary>
public static class Snapshot
{
    public const string AcceptVariable = "JEPA_ACCEPT_SNAPSHOTS";

    /// <summary>Compares <paramref name="actual"/> with <c>Snapshots/NAME.verified.EXT</c> next to the calling test file.</summary>
    public static void Match(string actual, string name, string extension = "txt", [CallerFilePath] string callerFile = "")
    {
        var directory = Path.Combine(RepositoryRoot.SourceDirectory(callerFile), "Snapshots");
        MatchFile(actual, Path.Combine(directory, $"{name}.verified.{extension}"));
    }

    /// <summary>Compares <paramref name="actual"/> with the verified file at <paramref name="verifiedPath"/>.</summary>
    public static void MatchFile(string actual, string verifiedPath) => MatchFile(actual, verifiedPath, verifiedPath.Replace(".verified.", ".received."));

    /// <summary>Compares <paramref name="actual"/> with a committed file that is itself the expectation (an exported
    /// program, <c>train_x.py</c>); a mismatch writes <paramref name="receivedPath"/> (<c>train_x.received.py</c>).</summary>
    public static void MatchFile(string actual, string verifiedPath, string receivedPath)
    {
        actual = Normalize(actual);
        var accept = Environment.GetEnvironmentVariable(AcceptVariable) is "1" or "true";
        var exists = File.Exists(verifiedPath);
        var expected = exists ? Normalize(File.ReadAllText(verifiedPath)) : null;
        if (expected == actual)
        {
            if (File.Exists(receivedPath)) File.Delete(receivedPath);
            return;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(verifiedPath)!);
        if (accept)
        {
            File.WriteAllText(verifiedPath, actual, new UTF8Encoding(false));
            if (File.Exists(receivedPath)) File.Delete(receivedPath);
            return;
        }
        File.WriteAllText(receivedPath, actual, new UTF8Encoding(false));
        var message = exists
            ? $"Snapshot mismatch: {verifiedPath}\n{FirstDifference(expected!, actual)}\nReceived text written to {receivedPath}. " +
              $"Review the difference (diff the two files); accept with {AcceptVariable}=1."
            : $"Snapshot missing: {verifiedPath}. Received text written to {receivedPath}; accept with {AcceptVariable}=1.";
        Assert.Fail(message);
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n");

    internal static string FirstDifference(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            var left = i < e.Length ? e[i] : "<end of file>";
            var right = i < a.Length ? a[i] : "<end of file>";
            if (left != right) return $"First difference at line {i + 1}:\n  verified: {left}\n  received: {right}";
        }
        return "The texts differ only in trailing content.";
    }
}
