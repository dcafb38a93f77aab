namespace Jepa.Generators.Tests.Infrastructure;

/// <summary>Locates the repository from the test's output folder (the folder holding Jepa.sln).</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string Examples => Path.Combine(Root, "examples");

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Jepa.sln"))) return directory.FullName;
        }
        throw new InvalidOperationException($"Jepa.sln not found above {AppContext.BaseDirectory}.");
    }
}
