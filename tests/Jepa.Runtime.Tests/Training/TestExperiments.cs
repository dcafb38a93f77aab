using Jepa.Runtime.Schedules;
using Jepa.Runtime.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Tests.Training;

/// <summary>Trainer tests construct modules from torch's global generator and compare runs bit for bit: run them alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrainerCollection
{
    public const string Name = "Trainer (serial: global RNG, bit-identical comparisons)";
}

/// <summary>A small MLP (Linear, GELU, Linear) as a single-input module.</summary>
public sealed class TinyMlp : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> first;
    private readonly nn.Module<Tensor, Tensor> act;
    private readonly nn.Module<Tensor, Tensor> second;

    public TinyMlp(long input, long hidden, long output, bool layerNorm = false) : base(nameof(TinyMlp))
    {
        first = nn.Linear(input, hidden);
        act = layerNorm ? nn.Sequential(nn.LayerNorm(hidden), nn.GELU()) : nn.GELU();
        second = nn.Linear(hidden, output);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => second.forward(act.forward(first.forward(x)));
}

public sealed record TinyOptions : ExperimentOptions
{
    public static TinyOptions Default { get; } = new();

    public TinyOptions()
    {
        Batch = 16;
        Steps = 30;
        Seed = 3;
        LearningRate = new Ramp(1e-2);
        WeightDecay = new Ramp(0.05);
        Collapse = null;
    }

    public int Input { get; init; } = 8;
    public int Hidden { get; init; } = 16;
    public int Width { get; init; } = 4;
    public TargetKind Target { get; init; } = TargetKind.Ema;
    public double NoiseStd { get; init; } = 0.1;
    public bool LayerNorm { get; init; }
}

/// <summary>
/// A vector JEPA built by hand: target(x) predicted from context(x + noise); an EMA, stop-gradient or shared target.
/// Test hooks: a NaN loss at a chosen step, skipping the optimizer step or the EMA update.
/// </summary>
public sealed class TinyJepa : JepaExperiment
{
    public TinyJepa(TinyOptions? options = null) : base("TinyJepa", options ?? TinyOptions.Default)
    {
        Settings = options ?? TinyOptions.Default;
        using var init = InitializationScope();
        Context = new TinyMlp(Settings.Input, Settings.Hidden, Settings.Width, Settings.LayerNorm);
        Target = Settings.Target == TargetKind.Ema
            ? Ema.CopyOf(Context, () => new TinyMlp(Settings.Input, Settings.Hidden, Settings.Width, Settings.LayerNorm))
            : Context;
        Predictor = new TinyMlp(Settings.Width, Settings.Hidden, Settings.Width);
        Register(context: Context, target: Target, targetKind: Settings.Target, predictor: Predictor);
    }

    public TinyOptions Settings { get; }
    public TinyMlp Context { get; }
    public TinyMlp Target { get; }
    public TinyMlp Predictor { get; }

    /// <summary>Makes the loss NaN (or infinite) from this step number on.</summary>
    public long? NonFiniteFromStep { get; set; }
    public double NonFiniteValue { get; set; } = double.NaN;
    /// <summary>From this step number on, the loss stays finite but its gradient is NaN (sqrt at 0).</summary>
    public long? NonFiniteGradientFromStep { get; set; }
    public bool SkipBackward { get; set; }
    public bool SkipEma { get; set; }
    public bool ZeroLoss { get; set; }
    /// <summary>After this many training steps, <see cref="Encode"/> maps every input to the same point (a collapse).</summary>
    public long? CollapseAfterSteps { get; set; }
    private long stepsCalled;
    public List<(long Step, double Lr, double Wd, double? Momentum)> Seen { get; } = [];
    /// <summary>Called with "step" and each training batch, and with "encode" and each input of <see cref="Encode"/>.</summary>
    public Action<string, Tensor>? Saw { get; set; }

    public override Tensor Corrupt(Tensor image, Generator generator) =>
        image + torch.randn(image.shape, generator: generator, device: image.device) * Settings.NoiseStd;

    /// <summary>As generated code does: the samples normalised right before the encoder.</summary>
    public override Tensor Encode(Tensor image)
    {
        var x = Normalize(image);
        Saw?.Invoke("encode", x);
        using var _ = no_grad();
        var z = Target.forward(x);
        return stepsCalled >= CollapseAfterSteps ? zeros_like(z) + 1 : z;
    }

    /// <summary>As generated code does: the corruption on the data as loaded, each encoder's input normalised right before it.</summary>
    protected override LossTerms TrainingStep(Tensor image, StepContext step)
    {
        var x = Normalize(image);
        Saw?.Invoke("step", x);
        stepsCalled++;
        Seen.Add((step.Step, step.LearningRate, step.WeightDecay, step.EmaMomentum));
        Tensor target;
        if (Settings.Target == TargetKind.Shared)
        {
            target = Target.forward(x);
        }
        else
        {
            using (no_grad()) target = Target.forward(x);
        }
        var predicted = Predictor.forward(Context.forward(Normalize(Corrupt(image, step.Generator))));
        var loss = nn.functional.mse_loss(predicted, target);
        if (ZeroLoss) loss = loss * 0;
        if (NonFiniteFromStep is { } s && step.Step >= s) loss = loss * NonFiniteValue;
        if (NonFiniteGradientFromStep is { } g && step.Step >= g) loss = loss + (predicted * 0).sqrt().sum();
        var terms = new LossTerms();
        terms.Add("mse", loss, weight: 1.0);
        terms.Add("l2", ZeroLoss ? predicted.pow(2).mean() * 0 : predicted.pow(2).mean(), weight: 0.01);
        if (SkipBackward) return terms;
        step.BackwardAndStep(terms);
        if (Settings.Target == TargetKind.Ema && !SkipEma) step.UpdateEma(Target, Context);
        return terms;
    }
}

/// <summary>In-memory samples; the order of an epoch is a permutation drawn from (seed, epoch) only.</summary>
public sealed class TensorData(Tensor features) : ITrainingData
{
    public long Count => features.shape[0];

    public int Enumerations { get; private set; }

    public IEnumerable<Tensor> Batches(int batchSize, long seed, long epoch, bool dropLast = true, long startBatch = 0)
    {
        Enumerations++;
        using var g = new Generator(unchecked((ulong)(seed * 1_000_003 + epoch)));
        using var perm = randperm(Count, generator: g).DetachFromDisposeScope();
        for (var start = startBatch * batchSize; start + (dropLast ? batchSize : 1) <= Count; start += batchSize)
        {
            using var idx = perm.narrow(0, start, Math.Min(batchSize, Count - start));
            yield return features.index_select(0, idx);
        }
    }

    public static TensorData Random(long count = 100, long width = 8, long seed = 11)
    {
        using var g = new Generator(unchecked((ulong)seed));
        return new TensorData(randn([count, width], generator: g).DetachFromDisposeScope());
    }
}

internal static class TestFolders
{
    public static string Create(string name)
    {
        var path = Path.Combine(Path.GetTempPath(), "jepa-tests", $"{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }
}

internal static class ModuleState
{
    /// <summary>Every parameter and buffer as raw float bytes, keyed by name.</summary>
    public static Dictionary<string, float[]> Snapshot(nn.Module m) =>
        m.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().data<float>().ToArray());

    public static void AssertIdentical(nn.Module expected, nn.Module actual)
    {
        var a = Snapshot(expected);
        var b = Snapshot(actual);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var key in a.Keys)
        {
            var x = a[key];
            var y = b[key];
            Assert.Equal(x.Length, y.Length);
            for (var i = 0; i < x.Length; i++)
            {
                if (BitConverter.SingleToInt32Bits(x[i]) != BitConverter.SingleToInt32Bits(y[i]))
                    Assert.Fail($"'{key}'[{i}] differs: {x[i]:R} vs {y[i]:R}");
            }
        }
    }
}
