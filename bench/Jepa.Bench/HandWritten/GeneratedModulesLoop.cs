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
    private readonly optim.Optimizer optimizer;
    private readonly Parameter[] targetParameters;
    private readonly Parameter[] contextParameters;
    private readonly Tensor x;
    private readonly Generator generator;

    public GeneratedModulesLoop(Tensor x, long seed)
    {
        experiment = new BenchMlp(BenchMlp.Options.Default with { Collapse = null });
        var trained = experiment.ContextEncoder.named_parameters().Concat(experiment.Predictor.named_parameters()).ToList();
        optimizer = Plain.AdamW(trained);
        targetParameters = experiment.TargetEncoder.parameters().ToArray();
        contextParameters = experiment.ContextEncoder.parameters().ToArray();
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
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        Plain.EmaUpdate(targetParameters, contextParameters);
        return loss.item<float>();
    }

    public void Dispose()
    {
        optimizer.Dispose();
        experiment.Dispose();
        generator.Dispose();
    }
}
