using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Jepa.Bench.HandWritten;

/// <summary>The optimizer and EMA update every hand-written loop shares, in plain TorchSharp (no Jepa.Runtime), as a
/// user writing a JEPA by hand would: AdamW over the context encoder and the predictor in two groups, weight decay 0.05
/// on matrices and none on biases and other 1-D parameters, lr 1e-3; then the EMA update of the target at momentum
/// 0.996.</summary>
internal sealed class Plain : IDisposable
{
    public const double Momentum = 0.996;

    private readonly optim.Optimizer optimizer;
    private readonly Parameter[] targetParameters;
    private readonly Parameter[] contextParameters;

    public Plain(nn.Module context, nn.Module predictor, nn.Module target)
    {
        var trained = context.named_parameters().Concat(predictor.named_parameters()).Select(p => p.parameter).ToList();
        optimizer = optim.AdamW(
        [
            new AdamW.ParamGroup(trained.Where(p => p.dim() > 1), new AdamW.Options { weight_decay = 0.05, LearningRate = 1e-3 }),
            new AdamW.ParamGroup(trained.Where(p => p.dim() <= 1), new AdamW.Options { weight_decay = 0.0, LearningRate = 1e-3 }),
        ]);
        targetParameters = target.parameters().ToArray();
        contextParameters = context.parameters().ToArray();
    }

    /// <summary>Back-propagates <paramref name="loss"/>, steps AdamW, then <c>target = m target + (1 - m) context</c>,
    /// parameter by parameter, under no-grad.</summary>
    public void Update(Tensor loss)
    {
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        using (no_grad())
        {
            for (var i = 0; i < targetParameters.Length; i++)
                targetParameters[i].mul_(Momentum).add_(contextParameters[i], alpha: 1 - Momentum);
        }
    }

    public void Dispose() => optimizer.Dispose();
}
