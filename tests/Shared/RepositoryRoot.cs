namespace Jepa.Tests.Shared;

/// <summary>The repository the tests run in: the first folder above the test binaries that holds Jepa.sln.
/// Compiled into every test project (tests/Directory.Build.props).</summary>
internal static class RepositoryRoot
{
    public static string Path { get; } = Find();

    public static string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>A repository file's text with LF line ends.</summary>
    public static string Read(string relativePath) => File.ReadAllText(Combine(relativePath)).Replace("\r\n", "\n");

    /// <summary>The folder of a test's own source file, from its <c>[CallerFilePath]</c>. A CI build
    /// (<c>ContinuousIntegrationBuild</c>, set when <c>CI=true</c>) maps source paths to <c>/_/</c>, so such a path is
    /// resolved against the repository root.</summary>
    public static string SourceDirectory(string callerFilePath)
    {
        var file = callerFilePath.StartsWith("/_/", StringComparison.Ordinal) ? Combine(callerFilePath[3..]) : callerFilePath;
        return System.IO.Path.GetDirectoryName(file)!;
    }

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "Jepa.sln"))) return directory.FullName;
        }

        throw new InvalidOperationException($"Jepa.sln not found above {AppContext.BaseDirectory}.");
    }
}
