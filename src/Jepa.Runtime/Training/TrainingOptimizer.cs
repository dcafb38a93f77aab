using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Jepa.Runtime.Training;

/// <summary>
/// The run's optimizer (AdamW or SGD) over two parameter groups, as I-JEPA builds them: weight matrices and other
/// parameters of two or more dimensions decay; biases and 1-D parameters (norm scales, shifts) do not.
/// </summary>
internal sealed class TrainingOptimizer : IDisposable
{
    private readonly optim.Optimizer optimizer;
    private readonly Parameter[] all;
    private readonly Action<double, double> setSchedules;

    public TrainingOptimizer(ExperimentOptions options, IReadOnlyList<(string Name, Parameter Parameter)> parameters)
    {
        Kind = options.Optimizer;
        var decay = parameters.Where(p => Decays(p.Name, p.Parameter)).Select(p => p.Parameter).ToArray();
        var noDecay = parameters.Where(p => !Decays(p.Name, p.Parameter)).Select(p => p.Parameter).ToArray();
        all = [.. decay, .. noDecay];
        DecayingNames = parameters.Where(p => Decays(p.Name, p.Parameter)).Select(p => p.Name).ToArray();
        var lr = options.LearningRate.Start;
        switch (options.Optimizer)
        {
            case OptimizerKind.AdamW:
            {
                var (b1, b2) = options.Betas;
                var g1 = new AdamW.ParamGroup(decay, lr: lr, beta1: b1, beta2: b2, weight_decay: 0);
                var g2 = new AdamW.ParamGroup(noDecay, lr: lr, beta1: b1, beta2: b2, weight_decay: 0);
                optimizer = optim.AdamW([g1, g2], lr: lr, beta1: b1, beta2: b2);
                setSchedules = (l, wd) =>
                {
                    g1.Options.LearningRate = l;
                    g1.Options.weight_decay = wd;
                    g2.Options.LearningRate = l;
                    g2.Options.weight_decay = 0;
                };
                break;
            }
            case OptimizerKind.Sgd:
            {
                var g1 = new SGD.ParamGroup(decay, lr: lr, momentum: options.Momentum, weight_decay: 0, nesterov: options.Nesterov);
                var g2 = new SGD.ParamGroup(noDecay, lr: lr, momentum: options.Momentum, weight_decay: 0, nesterov: options.Nesterov);
                optimizer = optim.SGD([g1, g2], lr, momentum: options.Momentum, nesterov: options.Nesterov);
                setSchedules = (l, wd) =>
                {
                    g1.Options.LearningRate = l;
                    g1.Options.weight_decay = wd;
                    g2.Options.LearningRate = l;
                    g2.Options.weight_decay = 0;
                };
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(options), options.Optimizer, "unknown optimizer");
        }
    }

    public OptimizerKind Kind { get; }

    /// <summary>Names of the parameters that receive weight decay (for tests and the docs).</summary>
    public IReadOnlyList<string> DecayingNames { get; }

    public IReadOnlyList<Parameter> Parameters => all;

    /// <summary>I-JEPA's rule: no weight decay on biases and on 1-D parameters.</summary>
    public static bool Decays(string name, Parameter p) => p.dim() > 1 && !name.EndsWith("bias", StringComparison.Ordinal);

    public void ZeroGrad() => optimizer.zero_grad();

    /// <summary>The total L2 norm of all gradients; scales them to <paramref name="maxNorm"/> when given (PyTorch's clip_grad_norm_).</summary>
    public double ClipGradients(double? maxNorm)
    {
        if (maxNorm is { } max) return nn.utils.clip_grad_norm_(all, max);
        using var scope = NewDisposeScope();
        var norms = all.Select(p => p.grad).Where(g => g is not null).Select(g => linalg.vector_norm(g!)).ToArray();
        if (norms.Length == 0) return 0;
        return Scalars.Read(linalg.vector_norm(stack(norms)));
    }

    public void SetSchedules(double learningRate, double weightDecay) => setSchedules(learningRate, weightDecay);

    public void Step() => optimizer.step();

    /// <summary>The optimizer's state (moments, step counts, group options) in TorchSharp's format.</summary>
    public void Save(BinaryWriter writer) => ((OptimizerHelper)optimizer).save_state_dict(writer);

    public void Load(BinaryReader reader) => ((OptimizerHelper)optimizer).load_state_dict(reader);

    public void Dispose() => optimizer.Dispose();
}
