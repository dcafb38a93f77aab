using Jepa.Runtime.Data;
using Jepa.Runtime.Evaluation;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Jepa.Runtime.Training;

/// <summary>
/// The base class of every generated experiment. The derived class builds its modules under
/// <see cref="InitializationScope"/>, hands them to <see cref="Register"/>, and writes one <see cref="TrainingStep"/>.
/// This class is that contract (docs/internals/generated-code-contract.md) and the entry points a user calls; the work
/// behind them has its own types: the loop (<see cref="Trainer"/>), the run folder's files (<see cref="RunFolder"/>),
/// the collapse monitor (<see cref="CollapseMonitor"/>), the checkpoint format (<see cref="Checkpoint"/>) and device
/// resolution (<see cref="Devices"/>).
/// </summary>
public abstract class JepaExperiment : IDisposable
{
    /// <summary>Held while modules are initialised from torch's global generator, so parallel constructions cannot interleave.</summary>
    internal static readonly object GlobalRandomLock = new();

    private readonly TrainingState state = new();
    private TrainingOptimizer? optimizer;
    private Generator? generator;
    private Normalizer? normalizer;
    private bool disposed;

    /// <summary>Loads TorchSharp's native backend and resolves <see cref="ExperimentOptions.Device"/>.</summary>
    protected JepaExperiment(string name, ExperimentOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(options);
        Name = name;
        InitialOptions = options;
        EffectiveOptions = options;
        Device = Devices.Resolve(options.Device);
    }

    /// <summary>The experiment's name (the <c>experiment</c> of the <c>.jepa</c> file); checkpoints carry it.</summary>
    public string Name { get; }

    /// <summary>
    /// The options the experiment was built with. (Not named <c>Options</c>: generated classes declare a nested record
    /// <c>Options</c>, which would hide such a property, warning CS0108; they expose the typed value as <c>Settings</c>.)
    /// </summary>
    public ExperimentOptions InitialOptions { get; }

    /// <summary>The options of the latest run, with the run length of <see cref="TrainOptions"/> applied.</summary>
    public ExperimentOptions EffectiveOptions { get; internal set; }

    /// <summary>Where the modules live and the steps run.</summary>
    public Device Device { get; }

    /// <summary>Optimizer steps taken so far (restored by <see cref="Load"/>).</summary>
    public long StepsTaken => state.Step;

    /// <summary>The online (context) encoder given to <see cref="Register"/>.</summary>
    internal nn.Module? ContextModule { get; private set; }

    /// <summary>The target encoder given to <see cref="Register"/> (the context encoder itself unless an EMA).</summary>
    internal nn.Module? TargetModule { get; private set; }

    /// <summary>The predictor given to <see cref="Register"/>.</summary>
    internal nn.Module? PredictorModule { get; private set; }

    public TargetKind TargetKind { get; private set; }

    /// <summary>
    /// Seeds torch's global generator with <see cref="ExperimentOptions.Seed"/> (and holds a process-wide lock) until
    /// disposed, then restores the generator: modules created in it get the same initial weights for the same options.
    /// </summary>
    protected IDisposable InitializationScope() => new SeededScope(InitialOptions.Seed);

    /// <summary>
    /// Declares the modules: their parameters are trained (the context encoder, the predictor, and the target when it is
    /// <see cref="TargetKind.Shared"/>), saved in checkpoints and moved to <see cref="Device"/>. An EMA target must be a
    /// separate module (<see cref="Ema.CopyOf"/>); a stop-gradient or shared target is the context encoder itself.
    /// </summary>
    protected void Register(nn.Module context, nn.Module target, TargetKind targetKind, nn.Module predictor)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(predictor);
        if (ContextModule is not null) throw new InvalidOperationException("Register was already called.");
        if (targetKind == TargetKind.Ema)
        {
            if (ReferenceEquals(target, context)) throw new ArgumentException("An EMA target must be a separate copy of the context encoder (Ema.CopyOf).", nameof(target));
            if (target.parameters().Any(p => p.requires_grad)) throw new ArgumentException("An EMA target must not require gradients (Ema.CopyOf turns them off).", nameof(target));
        }
        ContextModule = context;
        TargetModule = target;
        TargetKind = targetKind;
        PredictorModule = predictor;
        if (Device.type != DeviceType.CPU)
        {
            foreach (var m in Modules().Select(r => r.Module).Distinct()) m.to(Device);
        }
    }

    /// <summary>The corrupted view of a batch.</summary>
    public abstract Tensor Corrupt(Tensor image, Generator generator);

    /// <summary>The representation that evaluation uses (B, ...) -> (B, D), without gradient.</summary>
    public abstract Tensor Encode(Tensor image);

    /// <summary>One training step: compute the loss terms, call <see cref="StepContext.BackwardAndStep"/> (and <see cref="StepContext.UpdateEma"/> for an EMA target).</summary>
    protected abstract LossTerms TrainingStep(Tensor batch, StepContext step);

    /// <summary>The embeddings the collapse monitor measures; <see cref="Encode"/> unless overridden (e.g. with tokens).</summary>
    protected virtual Tensor MonitorEmbeddings(Tensor batch) => Encode(batch);

    /// <summary>
    /// The one place where inputs are normalised: per channel, <c>(x - mean) / std</c> with the
    /// <see cref="ExperimentOptions.Normalization"/> of <see cref="EffectiveOptions"/> (computed on the training data when
    /// a fresh run starts, or declared; restored by <see cref="Load"/>), after any augmentation. Generated code calls it
    /// on the batch right before each encoder forward and in <see cref="Encode"/>. Without a normalisation (none yet, or
    /// <see cref="InputNormalization.None"/>) it returns <paramref name="samples"/> itself. docs/runtime-training.md,
    /// "Normalisation".
    /// </summary>
    public Tensor Normalize(Tensor samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (EffectiveOptions.Normalization is not { } stats) return samples;
        if (normalizer is null || !normalizer.Fits(stats, samples))
        {
            normalizer?.Dispose();
            normalizer = new Normalizer(stats, samples);
        }
        return normalizer.Apply(samples);
    }

    /// <summary>
    /// The representation of samples as loaded (not yet normalised), as the evaluation and anything that embeds or
    /// exports use it: moved to <see cref="Device"/> and <see cref="Encode"/>d (which normalises them; no gradient).
    /// Wrap it in <see cref="EvaluationMode"/>. The runtime does nothing else to samples at its boundary: generated code
    /// normalises each view right before it enters an encoder (docs/runtime-training.md, "Normalisation").
    /// </summary>
    public Tensor Embed(Tensor samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        return Encode(samples.to(Device));
    }

    /// <summary>
    /// Trains until the run length (<see cref="ExperimentOptions.Steps"/> or <see cref="ExperimentOptions.Epochs"/>,
    /// or the override in <paramref name="run"/>) is reached, continuing from <see cref="StepsTaken"/> (after a
    /// <see cref="Load"/> or an earlier call). Throws <see cref="NonFiniteLossException"/> when a loss term is NaN or
    /// infinite (the last checkpoint is left as it was). The loop is <see cref="Trainer"/>'s.
    /// </summary>
    public TrainingRun Train(ITrainingData data, TrainOptions? run = null, IProgress<StepReport>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ObjectDisposedException.ThrowIf(disposed, this);
        RequireRegistered();
        return Trainer.Train(this, data, run, progress, cancellationToken);
    }

    /// <summary>
    /// <see cref="Train(ITrainingData, TrainOptions?, IProgress{StepReport}?, CancellationToken)"/> on a data set
    /// (already in the experiment's input shape: <c>data.ForExperiment(MyExperiment.InputShape)</c>).
    /// </summary>
    public TrainingRun Train(JepaDataset data, TrainOptions? run = null, IProgress<StepReport>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Train((ITrainingData)data, run, progress, cancellationToken);
    }

    /// <summary>
    /// Runs the probes of <paramref name="options"/> (by default the experiment's <see cref="ExperimentOptions.Evaluation"/>)
    /// on frozen <see cref="Embed"/> embeddings of a stratified split of <paramref name="labelled"/> (seeded by the run
    /// seed; the data in the experiment's input shape). The modules are in eval mode meanwhile.
    /// </summary>
    public EvaluationReport Evaluate(JepaDataset labelled, EvaluationOptions? options = null, int batchSize = 512)
    {
        ArgumentNullException.ThrowIfNull(labelled);
        ObjectDisposedException.ThrowIf(disposed, this);
        RequireRegistered();
        options ??= InitialOptions.Evaluation;
        using (EvaluationMode())
        {
            return Evaluator.Run(Embed, labelled, options, InitialOptions.Seed, batchSize);
        }
    }

    /// <summary>
    /// Puts every module in evaluation mode (batch norm uses its running statistics, nothing updates them) until
    /// disposed, then restores each module's mode: wrap any use of <see cref="Encode"/> outside training in it.
    /// </summary>
    public IDisposable EvaluationMode()
    {
        RequireRegistered();
        var modules = Modules().Select(r => r.Module).Distinct().ToArray();
        var training = modules.Select(m => m.training).ToArray();
        foreach (var m in modules) m.eval();
        return new Restore(() =>
        {
            for (var i = 0; i < modules.Length; i++) modules[i].train(training[i]);
        });
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        private Action? pending = restore;

        public void Dispose() => Interlocked.Exchange(ref pending, null)?.Invoke();
    }

    /// <summary>
    /// A SHA-256 digest (64 hex digits) of every parameter and buffer of the context encoder, the target (when it is a
    /// module of its own) and the predictor: names, types, shapes and raw bytes, in order. Two experiments with the same
    /// digest hold bit-identical weights (the runner prints it, so runs can be compared).
    /// </summary>
    public string ParameterDigest()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        RequireRegistered();
        return Digests.Parameters(this);
    }

    /// <summary>
    /// Writes a checkpoint atomically (a temporary file in the same folder, flushed, then renamed over
    /// <paramref name="path"/>): the modules, the optimizer state, the training position, schedules, RNG states and the
    /// effective options, with a SHA-256 checksum. See docs/runtime-training.md for the format.
    /// </summary>
    public void Save(string path)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        RequireRegistered();
        Checkpoint.Write(path, this);
    }

    /// <summary>
    /// Restores a checkpoint written by <see cref="Save"/> into this experiment (built with the same options), so
    /// <see cref="Train"/> continues exactly where it stopped. A missing, truncated, altered or foreign file throws
    /// <see cref="CheckpointException"/> and leaves the modules unchanged.
    /// </summary>
    public void Load(string path)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        RequireRegistered();
        Checkpoint.Read(path, this);
    }

    // ---- internals used by Checkpoint ----

    internal TrainingState State => state;

    internal IEnumerable<(string Role, nn.Module Module)> Modules()
    {
        yield return ("context", ContextModule!);
        yield return ("target", TargetModule!);
        yield return ("predictor", PredictorModule!);
    }

    internal TrainingOptimizer EnsureOptimizer()
    {
        if (optimizer is not null) return optimizer;
        var seen = new HashSet<IntPtr>();
        var parameters = new List<(string, Parameter)>();
        foreach (var (role, module) in Modules())
        {
            if (role == "target" && TargetKind == TargetKind.Ema) continue;
            foreach (var (name, p) in module.named_parameters())
            {
                if (!p.requires_grad || !seen.Add(p.Handle)) continue;
                parameters.Add(($"{role}.{name}", p));
            }
        }
        if (parameters.Count == 0) throw new InvalidOperationException("The experiment has no trainable parameters.");
        optimizer = new TrainingOptimizer(InitialOptions, parameters);
        return optimizer;
    }

    internal TrainingOptimizer? Optimizer => optimizer;

    internal Generator EnsureGenerator() => generator ??= new Generator(unchecked((ulong)InitialOptions.Seed), Device);

    internal void RequireRegistered()
    {
        if (ContextModule is null) throw new InvalidOperationException($"{GetType().Name} must call Register(context, target, targetKind, predictor) in its constructor.");
    }

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);

    /// <summary>The generated <see cref="TrainingStep"/>, for the <see cref="Trainer"/>.</summary>
    internal LossTerms Step(Tensor batch, StepContext step) => TrainingStep(batch, step);

    /// <summary>The generated <see cref="MonitorEmbeddings"/>, for the <see cref="CollapseMonitor"/>.</summary>
    internal Tensor Embeddings(Tensor batch) => MonitorEmbeddings(batch);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposed) return;
        disposed = true;
        if (!disposing) return;
        optimizer?.Dispose();
        generator?.Dispose();
        normalizer?.Dispose();
        if (ContextModule is not null)
            foreach (var m in Modules().Select(r => r.Module).Distinct()) m.Dispose();
    }

    /// <summary>Seeds torch's global generator under a process-wide lock and restores it afterwards.</summary>
    private sealed class SeededScope : IDisposable
    {
        private readonly Tensor saved;
        private bool done;

        public SeededScope(long seed)
        {
            Monitor.Enter(GlobalRandomLock);
            saved = torch.random.get_rng_state().DetachFromDisposeScope();
            torch.random.manual_seed(seed);
        }

        public void Dispose()
        {
            if (done) return;
            done = true;
            torch.random.set_rng_state(saved);
            saved.Dispose();
            Monitor.Exit(GlobalRandomLock);
        }
    }
}
