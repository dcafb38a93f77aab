using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Jepa.Bench.HandWritten;

/// <summary>
/// The vector JEPA of bench/jepa/MlpJepa.jepa written by hand in plain TorchSharp (no Jepa.Runtime): what a careful
/// engineer would write without the toolkit. The benchmark compares its step time with the generated code's.
/// </summary>
public sealed class HandWrittenMlpJepa : IStepBenchmark
{
    private readonly Sequential context;
    private readonly Sequential target;
    private readonly Sequential predictor;
    private readonly optim.Optimizer optimizer;
    private readonly Tensor x;
    private readonly Generator generator;

    public HandWrittenMlpJepa(int batch, long seed)
    {
        random.manual_seed(seed);
        context = Mlp(64, 256, 256, 128);
        target = Mlp(64, 256, 256, 128);
        predictor = Mlp(128, 256, 128);
        target.load_state_dict(context.state_dict());
        foreach (var p in target.parameters()) p.requires_grad = false;
        var decay = context.parameters().Concat(predictor.parameters()).Where(p => p.dim() > 1).ToList();
        var noDecay = context.parameters().Concat(predictor.parameters()).Where(p => p.dim() <= 1).ToList();
        optimizer = optim.AdamW(
        [
            new AdamW.ParamGroup(decay, new AdamW.Options { weight_decay = 0.05, LearningRate = 1e-3 }),
            new AdamW.ParamGroup(noDecay, new AdamW.Options { weight_decay = 0.0, LearningRate = 1e-3 }),
        ]);
        x = rand(batch, 64).DetachFromDisposeScope();
        generator = new Generator((ulong)seed);
    }

    public string Name => "mlp";

    public float Step()
    {
        using var scope = NewDisposeScope();
        Tensor t;
        using (no_grad())
        {
            t = functional.layer_norm(target.forward(x), [128]);
        }
        var keep = rand(x.shape, generator: generator).ge(0.3).to_type(ScalarType.Float32);
        var noisy = x * keep + randn(x.shape, generator: generator) * 0.1;
        var loss = functional.smooth_l1_loss(predictor.forward(context.forward(noisy)), t);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        using (no_grad())
        {
            foreach (var (pt, pc) in target.parameters().Zip(context.parameters()))
                pt.mul_(0.996).add_(pc, alpha: 1 - 0.996);
        }
        return loss.item<float>();
    }

    private static Sequential Mlp(params int[] sizes)
    {
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        for (int i = 0; i < sizes.Length - 1; i++)
        {
            layers.Add(($"fc{i}", Linear(sizes[i], sizes[i + 1])));
            if (i < sizes.Length - 2) layers.Add(($"act{i}", GELU()));
        }
        return Sequential(layers);
    }

    public void Dispose()
    {
        context.Dispose();
        target.Dispose();
        predictor.Dispose();
        x.Dispose();
        generator.Dispose();
    }
}
