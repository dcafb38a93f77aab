using System.Text;
using Jepa.Dsl.Diagnostics;
using Jepa.Dsl.Emit;

namespace Jepa.Cli;

/// <summary>
/// <c>jepa export FILE.jepa --target pytorch [-o DIR] [--experiment NAME] [--check]</c>: the PyTorch program of each
/// experiment (<see cref="PyTorchEmitter"/>), <c>train_NAME.py</c> in DIR (by default the <c>pytorch</c> folder beside
/// the file), runnable as <c>python3 train_NAME.py --data ...</c> and under <c>torchrun</c> (docs/scale-out.md).
/// <c>--check</c> writes nothing and fails when a program in DIR differs from what the file exports.
/// </summary>
internal static class ExportCommand
{
    public static int Execute(string file, string target, string? outDirectory, string? name, bool check, TextWriter output, TextWriter error)
    {
        if (!File.Exists(file))
        {
            error.WriteLine($"error: {file} does not exist");
            return 1;
        }

        if (target != PyTorchEmitter.Target)
        {
            error.WriteLine($"error: there is no export target '{target}'; the target is {PyTorchEmitter.Target}");
            return 2;
        }

        var compilation = JepaFiles.Compile(file, error);
        if (compilation is null) return 1;
        if (name is not null && JepaFiles.Select(compilation, name, error) is null) return 1;

        var result = PyTorchEmitter.Export(compilation);
        foreach (var diagnostic in result.Diagnostics) error.WriteLine(diagnostic.Format(file));
        if (compilation.HasErrors)
        {
            error.WriteLine($"error: {file} has errors: nothing was exported");
            return 1;
        }

        // An experiment the target cannot print (JEPA154) is reported; the others are exported all the same.
        var folder = outDirectory ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file))!, "pytorch");
        var programs = result.Programs.Where(p => name is null || p.Experiment == name).ToList();
        var failed = result.Failed.Count(f => name is null || f == name);
        var code = check ? Check(programs, folder, output, error) : Write(programs, folder, output, error);
        if (failed == 0) return code;
        error.WriteLine($"error: {failed} experiment{(failed == 1 ? "" : "s")} of {file} could not be exported");
        return 1;
    }

    /// <summary>The path of a program in <paramref name="folder"/>.</summary>
    public static string PathOf(string folder, ExportedProgram program) => Path.Combine(folder, program.FileName);

    private static int Write(IReadOnlyList<ExportedProgram> programs, string folder, TextWriter output, TextWriter error)
    {
        try
        {
            Directory.CreateDirectory(folder);
            foreach (var program in programs)
            {
                var path = PathOf(folder, program);
                File.WriteAllText(path, program.Text, new UTF8Encoding(false));
                output.WriteLine($"Wrote {path} ({program.Experiment})");
            }

            if (programs.Count > 0)
                output.WriteLine($"Run one with: python3 {PathOf(folder, programs[0])} --data FILE..., or torchrun --nproc_per_node N ... (docs/scale-out.md).");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: cannot write to {folder}: {exception.Message}");
            return 1;
        }

        if (!HasRuntime(folder))
            output.WriteLine("Note: the programs import the runtime package jepa_torch, which no folder above them holds: put the python/ folder of the Jepa repository on PYTHONPATH.");
        return 0;
    }

    private static int Check(IReadOnlyList<ExportedProgram> programs, string folder, TextWriter output, TextWriter error)
    {
        var stale = 0;
        foreach (var program in programs)
        {
            var path = PathOf(folder, program);
            var current = File.Exists(path) ? File.ReadAllText(path).Replace("\r\n", "\n") : null;
            if (current == program.Text) continue;
            stale++;
            error.WriteLine(current is null ? $"{path}: missing" : $"{path}: differs from what {program.Experiment} exports");
        }

        output.WriteLine(stale == 0 ? $"{programs.Count} program(s) in {folder} are current." : $"{stale} of {programs.Count} program(s) are not current: run jepa export again.");
        return stale == 0 ? 0 : 1;
    }

    /// <summary>True when a folder above <paramref name="folder"/> (or itself) holds <c>python/jepa_torch</c>, where the
    /// programs look for the runtime package.</summary>
    private static bool HasRuntime(string folder)
    {
        for (var d = new DirectoryInfo(Path.GetFullPath(folder)); d is not null; d = d.Parent)
            if (Directory.Exists(Path.Combine(d.FullName, "python", "jepa_torch"))) return true;
        return false;
    }
}
