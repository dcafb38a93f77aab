using System.CommandLine;
using Jepa.Runner;

namespace Jepa.Cli;

/// <summary>
/// <c>jepa check|fmt|graph|train|export|evaluate</c>. Exit codes: 0 success; 1 a file has errors, is not formatted (<c>fmt --check</c>)
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
        var root = new RootCommand("Checks, formats, draws, trains, exports and evaluates .jepa files with the same compiler, generator and runner as a build.");
        root.Subcommands.Add(Check(output, error));
        root.Subcommands.Add(Format(output, error));
        root.Subcommands.Add(Graph(output, error));
        root.Subcommands.Add(Train(output, error));
        root.Subcommands.Add(Export(output, error));
        root.Subcommands.Add(Evaluate(output, error));
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

    private static Command Export(TextWriter output, TextWriter error)
    {
        var file = new Argument<string>("file") { Description = "A .jepa file." };
        var target = new Option<string>("--target") { Description = "The target: pytorch (a program for python3 and torchrun, docs/scale-out.md).", Required = true };
        target.AcceptOnlyFromAmong(Jepa.Dsl.Emit.PyTorchEmitter.Target);
        var outDirectory = new Option<string?>("--out", "-o") { Description = "The folder for train_NAME.py (default: the pytorch folder beside the file)." };
        var experiment = new Option<string?>("--experiment") { Description = "Export only this experiment (default: every experiment of the file)." };
        var check = new Option<bool>("--check") { Description = "Write nothing; exit with 1 when a program in the folder is missing or differs from the export." };
        var command = new Command("export", "Writes the PyTorch program of each experiment of a .jepa file: train_NAME.py, for python3 and torchrun.")
        {
            file, target, outDirectory, experiment, check,
        };
        command.SetAction(result => ExportCommand.Execute(result.GetValue(file)!, result.GetValue(target)!, result.GetValue(outDirectory), result.GetValue(experiment),
            result.GetValue(check), output, error));
        return command;
    }

    private static Command Evaluate(TextWriter output, TextWriter error)
    {
        var file = new Argument<string>("file") { Description = "The .jepa file the checkpoint was trained from." };
        var checkpoint = new Option<string>("--checkpoint")
        {
            Description = "A checkpoint: checkpoint.ckpt of a .NET run, checkpoint.pt of an exported PyTorch program, or a run folder holding one.",
            Required = true,
        };
        var experiment = new Option<string?>("--experiment") { Description = "The experiment when the file has several." };
        var outDirectory = new Option<string?>("--out") { Description = "The folder for evaluation.json (default: the checkpoint's folder)." };
        var command = new Command("evaluate", "Loads a checkpoint into the experiment of a .jepa file and runs its probes (linear, few-shot, kNN) on the splits a run uses.")
        {
            file, checkpoint, experiment, outDirectory,
        };
        var runOptions = new RunOptions();
        runOptions.AddTo(command, training: false);
        command.SetAction(result => EvaluateCommand.Execute(result.GetValue(file)!, result.GetValue(experiment), result.GetValue(checkpoint)!,
            runOptions.Read(result) with { Out = result.GetValue(outDirectory) }, output, error));
        return command;
    }
}
