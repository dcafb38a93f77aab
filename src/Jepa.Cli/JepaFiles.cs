using Jepa.Dsl;
using Jepa.Dsl.Binding;

namespace Jepa.Cli;

/// <summary>Finding and reading the files a command names.</summary>
internal static class JepaFiles
{
    /// <summary>The files named, and the <c>*.jepa</c> files under the folders named (bin and obj left out), in order.
    /// A name that is neither is reported; <paramref name="allFound"/> is false then.</summary>
    public static List<string> Expand(IEnumerable<string> paths, TextWriter error, out bool allFound)
    {
        allFound = true;
        var files = new List<string>();
        foreach (var path in paths)
        {
            if (File.Exists(path))
            {
                files.Add(path);
            }
            else if (Directory.Exists(path))
            {
                var found = Directory.EnumerateFiles(path, "*.jepa", SearchOption.AllDirectories)
                    .Where(f => !InBuildOutput(Path.GetRelativePath(path, f)))
                    .Order(StringComparer.Ordinal)
                    .ToList();
                if (found.Count == 0) error.WriteLine($"warning: no .jepa files under {path}");
                files.AddRange(found);
            }
            else
            {
                error.WriteLine($"error: {path} does not exist");
                allFound = false;
            }
        }

        return files;
    }

    private static bool InBuildOutput(string relative) =>
        relative.Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar).SkipLast(1).Any(part => part is "bin" or "obj");

    /// <summary>Compiles a file; null (with a message) when it cannot be read.</summary>
    public static JepaCompilation? Compile(string path, TextWriter error)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: cannot read {path}: {exception.Message}");
            return null;
        }

        return JepaCompiler.Compile(path, text);
    }

    /// <summary>The experiment a command works on: the one named, or the only one of the file.</summary>
    public static BoundExperiment? Select(JepaCompilation compilation, string? name, TextWriter error)
    {
        var experiments = compilation.Bound.Experiments;
        if (name is not null)
        {
            var found = experiments.FirstOrDefault(e => e.Name == name);
            if (found is null) error.WriteLine($"error: {compilation.Path} has no experiment {name}; it has: {Names(compilation)}");
            return found;
        }

        if (experiments.Count == 1) return experiments[0];
        error.WriteLine(experiments.Count == 0
            ? $"error: {compilation.Path} has no experiment"
            : $"error: {compilation.Path} has {experiments.Count} experiments ({Names(compilation)}): choose one with --experiment NAME");
        return null;
    }

    private static string Names(JepaCompilation compilation) => string.Join(", ", compilation.Bound.Experiments.Select(e => e.Name));
}
