using Jepa.Runner;

namespace Jepa.Cli;

/// <summary>
/// <c>jepa evaluate FILE.jepa --checkpoint PATH [data options]</c>: compiles the file in-process as <c>jepa train</c>
/// does and evaluates the checkpoint's weights in its experiment through <see cref="CheckpointEvaluation"/>: a .NET
/// run's <c>checkpoint.ckpt</c> or an exported PyTorch program's <c>checkpoint.pt</c>, on the splits a run uses.
/// </summary>
internal static class EvaluateCommand
{
    public static int Execute(string file, string? name, string checkpoint, RunSettings settings, TextWriter output, TextWriter error)
    {
        var definition = TrainCommand.Build(file, name, error);
        return definition is null ? 1 : CheckpointEvaluation.Execute(definition, checkpoint, settings, output, error);
    }
}
