using System.CommandLine;
using Jepa.Runner;

namespace Jepa.Cli;

/// <summary>
/// <c>jepa check|fmt|graph|train</c>. Exit codes: 0 success; 1 a file has errors, is not formatted (<c>fmt --check</c>)
/// or a run failed; 2 the command line itself is wrong.
/// </summary>
public static class JepaCommand
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = Create(output, error);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var problem in parse.Errors) error.WriteLine($"error: {problem.Message}");
            error.WriteLine("Run jepa --help to see the commands and their options.");
            return 2;
        }

        return parse.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }

    internal static RootCommand Create(TextWriter output, TextWriter error)
    {
        var root = new RootCommand("Checks, formats, draws and trains .jepa files with the same compiler, generator and runner as a build.");
        root.Subcommands.Add(Check(output, error));
        root.Subcommands.Add(Format(output, error));
        root.Subcommands.Add(Graph(output, error));
        root.Subcommands.Add(Train(output, error));
        return root;
    }

    private static Argument<string[]> Files(string description) => new("files")
    {
        Description = description,
        Arity = ArgumentArity.OneOrMore,
    };

    private static Command Check(TextWriter output, TextWriter error)
    {
        var files = Files(".jepa files, or folders to search for them.");
        var command = new Command("check", "Compiles .jepa files: diagnostics as a build reports them, then per experiment its parameters, FLOPs per step and shapes.")
        {
            files,
        };
        command.SetAction(result => CheckCommand.Execute(result.GetValue(files)!, output, error));
        return command;
    }

    private static Command Format(TextWriter output, TextWriter error)
    {
        var files = Files(".jepa files, or folders to search for them.");
        var check = new Option<bool>("--check") { Description = "Change nothing; list the files that are not formatted and exit with 1 if any." };
        var stdout = new Option<bool>("--stdout") { Description = "Print the formatted text instead of rewriting the files." };
        var command = new Command("fmt", "Rewrites .jepa files in canonical form, keeping comments.") { files, check, stdout };
        command.SetAction(result => FormatCommand.Execute(result.GetValue(files)!, result.GetValue(check), result.GetValue(stdout), output, error));
        return command;
    }

    private static Command Graph(TextWriter output, TextWriter error)
    {
        var file = new Argument<string>("file") { Description = "A .jepa file." };
        var format = new Option<string>("--format") { Description = "mermaid (default) or dot.", DefaultValueFactory = _ => "mermaid" };
        format.AcceptOnlyFromAmong("mermaid", "dot");
        var experiment = new Option<string?>("--experiment") { Description = "The experiment to draw when the file has several." };
        var command = new Command("graph", "Prints an experiment's architecture as a Mermaid flowchart or a Graphviz DOT graph.") { file, format, experiment };
        command.SetAction(result => GraphCommand.Execute(result.GetValue(file)!, result.GetValue(format)!, result.GetValue(experiment), output, error));
        return command;
    }

    private static Command Train(TextWriter output, TextWriter error)
    {
        var file = new Argument<string>("file") { Description = "A .jepa file." };
        var experiment = new Option<string?>("--experiment") { Description = "The experiment to train when the file has several." };
        var command = new Command("train", "Compiles a .jepa file in-process (the build's generator and Roslyn) and trains and evaluates it like the examples.")
        {
            file, experiment,
        };
        var runOptions = new RunOptions();
        runOptions.AddTo(command);
        command.SetAction(result => TrainCommand.Execute(result.GetValue(file)!, result.GetValue(experiment), runOptions.Read(result), output, error));
        return command;
    }
}
