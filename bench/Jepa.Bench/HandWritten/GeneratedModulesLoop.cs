using Jepa.Runtime.Losses;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Jepa.Bench.HandWritten;

/// <summary>
/// A diagnostic between the two sides of benchmark 1: the generated class's own modules and corruption
/// (<see cref="BenchMlp"/>: MlpEncoder, FeatureDropout then GaussianNoise, TargetNorm, Loss) in the hand-written loop
/// (plain AdamW, plain EMA, no trainer). Hand-written vs this isolates the modules; this vs <c>Train</c> the trainer.
/// </summary>
public sealed class GeneratedModulesLoop : IStepBenchmark
{
    private readonly BenchMlp experiment;
    private readonly Plain update;
    private readonly Tensor x;
    private readonly Generator generator;

    public GeneratedModulesLoop(Tensor x, long seed)
    {
        experiment = new BenchMlp(BenchMlp.Options.Default with { Collapse = null });
        update = new Plain(experiment.ContextEncoder, experiment.Predictor, experiment.TargetEncoder);
        this.x = x;
        generator = new Generator((ulong)seed);
    }

    public string Name => "generated modules, hand-written loop";

    public float Step()
    {
        using var scope = NewDisposeScope();
        Tensor t;
        using (no_grad())
        {
            t = TargetNorm.Layer(experiment.TargetEncoder.forward(x));
        }
        var noisy = experiment.Noisy.Apply(x, generator);
        var loss = Loss.SmoothL1(experiment.Predictor.forward(experiment.ContextEncoder.forward(noisy)), t);
        update.Update(loss);
        return loss.item<float>();
    }

    public void Dispose()
    {
        update.Dispose();
        experiment.Dispose();
        generator.Dispose();
    }
}
