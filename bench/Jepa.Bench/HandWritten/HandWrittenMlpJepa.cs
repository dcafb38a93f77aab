using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Jepa.Bench.HandWritten;

/// <summary>
/// The vector JEPA of Models/mlp.jepa written by hand in plain TorchSharp (no Jepa.Runtime): what a careful engineer
/// would write without the toolkit. Same work per step as the generated code: target forward under no-grad and layer
/// norm, feature dropout (p 0.3, no rescaling) then gaussian noise (std 0.1), context forward, prediction, smooth L1,
/// AdamW over two groups (no decay on biases), EMA update. The benchmark compares its step time with the generated code's.
/// </summary>
public sealed class HandWrittenMlpJepa : IStepBenchmark
{
    private readonly Sequential context;
    private readonly Sequential target;
    private readonly Sequential predictor;
    private readonly Plain update;
    private readonly Tensor x;
    private readonly Generator generator;

    /// <summary>Builds the model for <paramref name="x"/> (B, 64), which it uses as the batch of every step.</summary>
    public HandWrittenMlpJepa(Tensor x, long seed)
    {
        random.manual_seed(seed);
        context = Mlp(64, 256, 256, 128);
        target = Mlp(64, 256, 256, 128);
        predictor = Mlp(128, 256, 128);
        target.load_state_dict(context.state_dict());
        foreach (var p in target.parameters()) p.requires_grad = false;
        update = new Plain(context, predictor, target);
        this.x = x;
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
        update.Update(loss);
        return loss.item<float>();
    }

    private static Sequential Mlp(params int[] sizes)
    {
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        for (var i = 0; i < sizes.Length - 1; i++)
        {
            layers.Add(($"fc{i}", Linear(sizes[i], sizes[i + 1])));
            if (i < sizes.Length - 2) layers.Add(($"act{i}", ReLU()));
        }
        return Sequential(layers);
    }

    public void Dispose()
    {
        update.Dispose();
        context.Dispose();
        target.Dispose();
        predictor.Dispose();
        generator.Dispose();
    }
}
