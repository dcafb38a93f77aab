using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Jepa.Bench.HandWritten;

/// <summary>The optimizer and EMA pieces every hand-written loop shares, in plain TorchSharp (no Jepa.Runtime), as a
/// user writing a JEPA by hand would: AdamW over two groups, weight decay 0.05 on matrices and none on biases and other
/// 1-D parameters, lr 1e-3; and the EMA update of the target at momentum 0.996.</summary>
internal static class Plain
{
    public const double Momentum = 0.996;

    public static optim.Optimizer AdamW(IEnumerable<(string name, Parameter parameter)> trained)
    {
        var all = trained.ToList();
        return optim.AdamW(
        [
            new AdamW.ParamGroup(all.Where(p => p.parameter.dim() > 1).Select(p => p.parameter), new AdamW.Options { weight_decay = 0.05, LearningRate = 1e-3 }),
            new AdamW.ParamGroup(all.Where(p => p.parameter.dim() <= 1).Select(p => p.parameter), new AdamW.Options { weight_decay = 0.0, LearningRate = 1e-3 }),
        ]);
    }

    /// <summary><c>target = m target + (1 - m) context</c>, parameter by parameter, under no-grad.</summary>
    public static void EmaUpdate(Parameter[] target, Parameter[] context)
    {
        using (no_grad())
        {
            for (var i = 0; i < target.Length; i++) target[i].mul_(Momentum).add_(context[i], alpha: 1 - Momentum);
        }
    }
}
