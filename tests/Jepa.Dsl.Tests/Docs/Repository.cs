namespace Jepa.Dsl.Tests.Docs;

internal static class Repository
{
    /// <summary>The repository root: the first folder above the test binaries that holds Jepa.sln.</summary>
    public static string Root
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Jepa.sln")))
            {
                directory = directory.Parent;
            }

            return directory?.FullName ?? throw new InvalidOperationException("Jepa.sln not found above " + AppContext.BaseDirectory);
        }
    }

    public static string Read(string relativePath) => File.ReadAllText(Path.Combine(Root, relativePath)).Replace("\r\n", "\n");
}
