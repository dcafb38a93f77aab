using Jepa.Dsl.Diagnostics;
using Jepa.Dsl.Formatting;

namespace Jepa.Cli;

/// <summary><c>jepa fmt FILES [--check] [--stdout]</c>.</summary>
internal static class FormatCommand
{
    public static int Execute(IReadOnlyList<string> paths, bool check, bool stdout, TextWriter output, TextWriter error)
    {
        var files = JepaFiles.Expand(paths, error, out var allFound);
        var failed = !allFound;
        foreach (var file in files)
        {
            var compilation = JepaFiles.Compile(file, error);
            if (compilation is null)
            {
                failed = true;
                continue;
            }

            string? formatted;
            try
            {
                formatted = JepaFormatter.Format(compilation.Syntax);
            }
            catch (InvalidOperationException exception)
            {
                error.WriteLine($"error: {file}: {exception.Message}");
                failed = true;
                continue;
            }

            if (formatted is null)
            {
                foreach (var diagnostic in compilation.Syntax.Diagnostics.Where(d => d.Severity == Severity.Error)) error.WriteLine(diagnostic.Format(file));
                error.WriteLine($"error: {file} has syntax errors and was not formatted");
                failed = true;
                continue;
            }

            if (stdout)
            {
                output.Write(formatted);
            }
            else if (formatted == compilation.Text)
            {
                continue;
            }
            else if (check)
            {
                output.WriteLine($"{file}: not formatted");
                failed = true;
            }
            else
            {
                File.WriteAllText(file, formatted);
                output.WriteLine($"formatted {file}");
            }
        }

        return failed ? 1 : 0;
    }
}
