using Jepa.Runner;

namespace Jepa.Cli;

/// <summary>
/// <c>jepa train FILE.jepa [run options]</c>: compiles the file in-process (<see cref="InProcessBuild"/>) and runs the
/// experiment through <see cref="ExperimentRunner.Execute"/>, the code path of every example's program: same data,
/// progress, run folder and evaluation.
/// </summary>
internal static class TrainCommand
{
    public static int Execute(string file, string? name, RunSettings settings, TextWriter output, TextWriter error)
    {
        var definition = Build(file, name, error);
        if (definition is null) return 1;

        // The resume command printed after a stop starts the same way: this program, train, the file (and experiment).
        string[] program = [.. ExperimentRunner.ThisProgram(), "train", Path.GetFullPath(file), .. name is null ? Array.Empty<string>() : ["--experiment", name]];
        return ExperimentRunner.Execute(definition, settings, output, error, program);
    }

    /// <summary>The experiment of a file, compiled in-process; null after printing why not.</summary>
    public static Jepa.Runtime.Training.ExperimentDefinition? Build(string file, string? name, TextWriter error)
    {
        if (!File.Exists(file))
        {
            error.WriteLine($"error: {file} does not exist");
            return null;
        }

        var path = Path.GetFullPath(file);
        var compilation = JepaFiles.Compile(path, error);
        if (compilation is null) return null;
        var experiment = JepaFiles.Select(compilation, name, error);
        if (experiment is null) return null;

        var assembly = InProcessBuild.Compile(path, compilation.Text, error);
        if (assembly is null) return null;
        var definition = InProcessBuild.Definition(assembly, experiment.Name);
        if (definition is null) error.WriteLine($"error: the generated code has no {experiment.Name}.Definition");
        return definition;
    }
}
