using System.Diagnostics;
using Jepa.Runtime.Data;
using Jepa.Runtime.Evaluation;
using Jepa.Runtime.Native;
using Jepa.Runtime.Schedules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Jepa.Runtime.Training;

/// <summary>
/// The base class of every generated experiment. The derived class builds its modules under
/// <see cref="InitializationScope"/>, hands them to <see cref="Register"/>, and writes one <see cref="TrainingStep"/>;
/// this class owns the loop (<see cref="Train"/>): one dispose scope per step, schedules, the optimizer, checkpoints
/// (<see cref="Save"/>, <see cref="Load"/>), metrics and the collapse monitor.
/// </summary>
public abstract class JepaExperiment : IDisposable
{
    /// <summary>Held while modules are initialised from torch's global generator, so parallel constructions cannot interleave.</summary>
    internal static readonly object GlobalRandomLock = new();

    private readonly TrainingState state = new();
    private TrainingOptimizer? optimizer;
    private Generator? generator;
    private bool disposed;

    /// <summary>Loads TorchSharp's native backend and resolves <see cref="ExperimentOptions.Device"/>.</summary>
    protected JepaExperiment(string name, ExperimentOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(options);
        Name = name;
        InitialOptions = options;
        EffectiveOptions = options;
        Device = ResolveDevice(options.Device);
    }

    /// <summary>The experiment's name (the <c>experiment</c> of the <c>.jepa</c> file); checkpoints carry it.</summary>
    public string Name { get; }

    /// <summary>
    /// The options the experiment was built with. (Not named <c>Options</c>: generated classes declare a nested record
    /// <c>Options</c>, which would hide such a property, warning CS0108; they expose the typed value as <c>Settings</c>.)
    /// </summary>
    public ExperimentOptions InitialOptions { get; }

    /// <summary>The options of the latest run, with the run length of <see cref="TrainOptions"/> applied.</summary>
    public ExperimentOptions EffectiveOptions { get; private set; }

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
    /// Trains until the run length (<see cref="ExperimentOptions.Steps"/> or <see cref="ExperimentOptions.Epochs"/>,
    /// or the override in <paramref name="run"/>) is reached, continuing from <see cref="StepsTaken"/> (after a
    /// <see cref="Load"/> or an earlier call). Throws <see cref="NonFiniteLossException"/> when a loss term is NaN or
    /// infinite (the last checkpoint is left as it was).
    /// </summary>
    public TrainingRun Train(ITrainingData data, TrainOptions? run = null, IProgress<StepReport>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ObjectDisposedException.ThrowIf(disposed, this);
        RequireRegistered();
        run ??= new TrainOptions();
        CheckRunOptions(run);
        var log = run.Log ?? (message => Console.Error.WriteLine(message));
        var runFolder = run.RunFolder is null ? null : Path.GetFullPath(run.RunFolder);
        var resumedFrom = run.ResumeFrom is null ? null : Resume(run.ResumeFrom, runFolder, log);

        // 1. The run: effective options, length, schedules.
        var options = InitialOptions;
        if (run.Steps is not null) options = options with { Steps = run.Steps };
        if (run.Epochs is not null) options = options with { Epochs = run.Epochs };
        options.Validate();
        EffectiveOptions = options;
        var count = data.Count;
        if (count < options.Batch)
            throw new ArgumentException($"The training data has {count} samples, fewer than one batch of {options.Batch}.", nameof(data));
        var stepsPerEpoch = count / options.Batch;
        var total = options.Steps ?? checked(options.Epochs!.Value * stepsPerEpoch);
        var warmup = options.WarmupSteps > 0 ? options.WarmupSteps : (long)Math.Round(options.WarmupEpochs * stepsPerEpoch);
        var schedule = new TrainingSchedule(options.Schedule, options.LearningRate, options.StartLr, options.FinalLr, warmup,
            options.WeightDecay, TargetKind == TargetKind.Ema ? options.EmaMomentum : null, total);
        var session = new RunSession(options, run, schedule, total, stepsPerEpoch, runFolder, progress, log, state.Seconds);

        // 2. Optimizer, generator, train mode.
        EnsureOptimizer();
        EnsureGenerator();
        state.TotalSteps = total;
        foreach (var m in Modules().Select(r => r.Module).Distinct()) m.train();
        if (session.CheckpointPath is not null && run.ResumeFrom is not null && File.Exists(session.CheckpointPath))
            session.LastCheckpoint = session.CheckpointPath;
        // The run folder's checkpoint is kept as the previous one when a newer replaces it, if it belongs to this run
        // (resumed from it or from its previous one); a fresh run in a used folder does not keep another run's file.
        session.KeepPrevious = session.CheckpointPath is not null &&
                               (resumedFrom == session.CheckpointPath || resumedFrom == PreviousCheckpointPath(session.CheckpointPath));
        if (runFolder is not null) Checkpoint.DeleteAbandonedTemporaries(runFolder, CheckpointFileName);

        var stop = StopReason.Completed;
        try
        {
            // 3. Run folder and collapse monitor (with its baseline at step 0).
            if (runFolder is not null)
            {
                Directory.CreateDirectory(runFolder);
                WriteAtomically(Path.Combine(runFolder, OptionsFileName), options.ToJson());
                session.Metrics = new MetricsWriter(runFolder, state.Step);
            }
            if (options.Collapse is not null && state.Step < total)
            {
                session.MonitorBatch = MonitorBatch(data, (int)Math.Min(count, run.MonitorSamples), options.Seed);
                if (state.Step == 0 && state.Readings.Count == 0)
                {
                    var baseline = Measure(session.MonitorBatch, 0);
                    state.Readings.Add(baseline);
                    session.Metrics?.Write(new MetricsRow(0, 0, state.Seconds, EmbeddingStd: baseline.Std, RankMe: baseline.RankMe));
                }
            }

            // 4. Epochs of steps.
            while (state.Step < total && stop == StopReason.Completed)
                stop = TrainEpoch(data, session, cancellationToken);

            // 5. The final checkpoint.
            state.Seconds = session.Seconds;
            if (session.CheckpointPath is not null) SaveCheckpoint(session);
        }
        finally
        {
            session.Metrics?.Dispose();
            session.MonitorBatch?.Dispose();
        }
        return new TrainingRun(state.Step, total, session.Clock.Elapsed.TotalSeconds, state.LastTerms, state.LastLoss,
            [.. state.Readings], [.. state.Alarms], stop, runFolder, session.LastCheckpoint);
    }

    private static void CheckRunOptions(TrainOptions run)
    {
        if (run.Steps is not null && run.Epochs is not null) throw new ArgumentException("TrainOptions: set Steps or Epochs, not both.", nameof(run));
        if (run.LogEvery < 1) throw new ArgumentException($"TrainOptions.LogEvery must be at least 1 (is {run.LogEvery}).", nameof(run));
        if (run.CheckpointEvery < 0) throw new ArgumentException($"TrainOptions.CheckpointEvery cannot be negative (is {run.CheckpointEvery}).", nameof(run));
        if (run.MonitorSamples < 2) throw new ArgumentException($"TrainOptions.MonitorSamples must be at least 2 (is {run.MonitorSamples}).", nameof(run));
        if (run.CheckpointEvery > 0 && run.RunFolder is null) throw new ArgumentException("TrainOptions.CheckpointEvery needs a RunFolder.", nameof(run));
    }

    /// <summary>The steps of the current epoch from the current position, until it ends, the run ends or something stops it.</summary>
    private StopReason TrainEpoch(ITrainingData data, RunSession session, CancellationToken cancellationToken)
    {
        var options = session.Options;
        // The order depends only on (seed, epoch), so a resumed run starts at the batch it stopped before.
        using var batches = data.Batches(options.Batch, options.Seed, state.Epoch, dropLast: true, startBatch: state.Position).GetEnumerator();
        while (state.Step < session.Total)
        {
            if (cancellationToken.IsCancellationRequested) return StopReason.Cancelled;
            if (!batches.MoveNext())
                throw new InvalidOperationException($"Epoch {state.Epoch} of the training data ended after {state.Position} batches of {options.Batch}; " +
                                                    $"{data.Count} samples make {session.StepsPerEpoch}. Did the data change since the checkpoint?");
            var stop = TakeStep(batches.Current, session);
            if (session.CheckpointPath is not null && session.Run.CheckpointEvery > 0 && state.Step % session.Run.CheckpointEvery == 0
                && state.Step < session.Total && stop == StopReason.Completed)
                SaveCheckpoint(session);
            if (stop != StopReason.Completed) return stop;
            if (state.Position == 0) break; // the epoch is over
        }
        return StopReason.Completed;
    }

    /// <summary>One optimizer step on <paramref name="batch"/>, inside its own dispose scope, with what follows it.</summary>
    private StopReason TakeStep(Tensor batch, RunSession session)
    {
        using var scope = NewDisposeScope();
        var options = session.Options;
        var index = state.Step; // 0-based index of this step

        // 1. The batch (now owned by this scope) on the device; this step's schedule values.
        var x = batch.MoveToOtherDisposeScope(scope).to(Device);
        var step = new StepContext(index + 1, state.Epoch, generator!, optimizer!, session.Schedule.LearningRateAt(index),
            session.Schedule.WeightDecayAt(index), session.Schedule.EmaMomentumAt(index), options.GradClip);

        // 2. The experiment's step: loss terms, BackwardAndStep, UpdateEma.
        try
        {
            TrainingStep(x, step);
        }
        catch (NonFiniteLossException e)
        {
            throw e.WithCheckpoint(session.LastCheckpoint);
        }
        if (step.Terms is null) throw new InvalidOperationException($"{GetType().Name}.TrainingStep returned without calling BackwardAndStep.");
        if (TargetKind == TargetKind.Ema && !step.EmaUpdated) throw new InvalidOperationException($"{GetType().Name}.TrainingStep did not call UpdateEma for its EMA target.");

        // 3. Where the run stands.
        var epoch = state.Epoch;
        state.Step++;
        state.Position++;
        if (state.Position == session.StepsPerEpoch)
        {
            state.Epoch++;
            state.Position = 0;
        }
        state.LastTerms = step.Terms.Values!;
        state.LastLoss = step.Terms.Total!.Value;
        state.Seconds = session.Seconds;
        var stepsPerSecond = session.Rate(state.Step);

        // 4. The collapse monitor.
        var stop = StopReason.Completed;
        CollapseReading? reading = null;
        CollapseAlarm? alarm = null;
        if (session.MonitorBatch is not null && options.Collapse is { } c && (state.Step % c.Every == 0 || state.Step == session.Total))
        {
            reading = Measure(session.MonitorBatch, state.Step);
            state.Readings.Add(reading);
            alarm = Judge(reading, c);
            if (alarm is not null)
            {
                state.Alarms.Add(alarm);
                session.Log(alarm.Message);
                if (alarm.Action == CollapseAction.Stop) stop = StopReason.Collapse;
            }
        }

        // 5. Metrics and progress.
        if (state.Step % session.Run.LogEvery == 0 || reading is not null || state.Step == session.Total || stop != StopReason.Completed)
        {
            session.Metrics?.Write(new MetricsRow(state.Step, epoch, state.Seconds, state.LastTerms, state.LastLoss, step.LearningRate,
                step.WeightDecay, step.EmaMomentum, step.GradientNorm, stepsPerSecond, reading?.Std, reading?.RankMe));
            session.Progress?.Report(new StepReport(state.Step, session.Total, epoch, state.LastTerms, state.LastLoss, step.LearningRate,
                step.WeightDecay, step.EmaMomentum, step.GradientNorm!.Value, stepsPerSecond, TimeSpan.FromSeconds(state.Seconds),
                stepsPerSecond > 0 ? TimeSpan.FromSeconds((session.Total - state.Step) / stepsPerSecond) : null,
                state.Readings.Count > 0 ? state.Readings[^1] : null, alarm));
        }
        return stop;
    }

    private void SaveCheckpoint(RunSession session)
    {
        session.Metrics?.Flush();
        ObjectDisposedException.ThrowIf(disposed, this);
        var path = session.CheckpointPath!;
        var previous = PreviousCheckpointPath(path);
        if (!session.KeepPrevious && File.Exists(previous)) File.Delete(previous); // another run's
        // A second write at the same step (a run cancelled right after a periodic checkpoint) replaces the latest
        // checkpoint and leaves the previous one, of an earlier step, in place.
        var rotate = session.KeepPrevious && session.LastSavedStep != state.Step;
        Checkpoint.Write(path, this, rotate ? previous : null);
        session.KeepPrevious = true;
        session.LastSavedStep = state.Step;
        session.LastCheckpoint = path;
    }

    /// <summary>
    /// Loads the checkpoint to resume from. When it cannot be loaded (missing, truncated, damaged) and the previous
    /// checkpoint beside it (<see cref="PreviousCheckpointPath"/>) can, resumes from that one and says so through
    /// <paramref name="log"/>; a damaged checkpoint of the run folder is renamed <c>*.damaged</c> so that it never
    /// becomes the previous checkpoint. Returns the full path of the file loaded.
    /// </summary>
    private string Resume(string path, string? runFolder, Action<string> log)
    {
        var full = Path.GetFullPath(path);
        try
        {
            Load(full);
            return full;
        }
        catch (CheckpointException damaged)
        {
            var previous = PreviousCheckpointPath(full);
            if (!File.Exists(previous)) throw;
            try
            {
                Load(previous);
            }
            catch (CheckpointException also)
            {
                throw new CheckpointException(full, $"{damaged.Problem} The previous checkpoint '{previous}' cannot be loaded either: {also.Problem}", damaged);
            }

            var aside = string.Empty;
            if (runFolder is not null && full == Path.Combine(runFolder, CheckpointFileName) && File.Exists(full))
            {
                File.Move(full, full + ".damaged", overwrite: true);
                aside = $" The damaged file is kept as '{full}.damaged'.";
            }
            log($"Checkpoint '{full}' cannot be loaded: {damaged.Problem} Resumed from the previous checkpoint '{previous}' (step {state.Step}) instead.{aside}");
            return previous;
        }
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
    /// on frozen <see cref="Encode"/> embeddings of a stratified split of <paramref name="labelled"/> (seeded by the run
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
            return Evaluator.Run(x => Encode(x.to(Device)), labelled, options, InitialOptions.Seed, batchSize);
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

    /// <summary>The checkpoint file the trainer writes in a run folder.</summary>
    public const string CheckpointFileName = "checkpoint.ckpt";

    /// <summary>
    /// What the trainer renames a run folder's checkpoint to when it writes a newer one, so that one complete
    /// checkpoint survives whatever happens to the newest; resuming falls back to it.
    /// </summary>
    public const string PreviousCheckpointFileName = "checkpoint.prev.ckpt";

    /// <summary>The previous checkpoint kept beside <paramref name="checkpoint"/>: <c>NAME.prev.EXT</c>
    /// (<c>checkpoint.prev.ckpt</c> beside <c>checkpoint.ckpt</c>).</summary>
    public static string PreviousCheckpointPath(string checkpoint)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpoint);
        var full = Path.GetFullPath(checkpoint);
        return Path.Combine(Path.GetDirectoryName(full)!, Path.GetFileNameWithoutExtension(full) + ".prev" + Path.GetExtension(full));
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
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var seen = new HashSet<nn.Module>(ReferenceEqualityComparer.Instance);
        foreach (var (role, module) in Modules())
        {
            if (!seen.Add(module)) continue;
            foreach (var (key, tensor) in module.state_dict())
            {
                sha.AppendData(System.Text.Encoding.UTF8.GetBytes($"{role}.{key}:{tensor.dtype}[{string.Join(",", tensor.shape)}]\n"));
                using var scope = NewDisposeScope();
                sha.AppendData(tensor.detach().cpu().contiguous().bytes);
            }
        }
        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
    }

    /// <summary>The effective options file the trainer writes in a run folder.</summary>
    public const string OptionsFileName = "options.json";

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

    private CollapseReading Measure(Tensor batch, long step)
    {
        var modules = Modules().Select(r => r.Module).Distinct().ToArray();
        foreach (var m in modules) m.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var z = MonitorEmbeddings(batch);
            return new CollapseReading(step, CollapseMetrics.EmbeddingStd(z), CollapseMetrics.RankMe(z));
        }
        finally
        {
            foreach (var m in modules) m.train();
        }
    }

    private CollapseAlarm? Judge(CollapseReading r, CollapseMonitorOptions c)
    {
        var lowStd = r.Std < c.MinStd;
        var lowRank = r.RankMe < c.MinRank;
        if (!lowStd && !lowRank) return null;
        var what = string.Join(" and ", new[]
        {
            lowStd ? $"the std of the L2-normalised embeddings is {r.Std:G3} (below {c.MinStd:G3})" : null,
            lowRank ? $"their effective rank (RankMe) is {r.RankMe:G3} (below {c.MinRank:G3})" : null,
        }.Where(s => s is not null));
        var then = c.Action == CollapseAction.Stop ? "training stops" : "training goes on";
        return new CollapseAlarm(r.Step, r.Std, r.RankMe, c.Action,
            $"{Name}: representation collapse at step {r.Step}: {what}; {then}. The encoder maps inputs to nearly the same point: an EMA or stop-gradient target, or a regularizer (vicreg, sigreg), prevents it.");
    }

    private Tensor MonitorBatch(ITrainingData data, int samples, long seed)
    {
        using var scope = NewDisposeScope();
        using var e = data.Batches(samples, seed ^ MonitorSeed, 0).GetEnumerator();
        if (!e.MoveNext()) throw new InvalidOperationException("The training data yielded no monitoring batch.");
        return e.Current.to(Device).DetachFromDisposeScope();
    }

    /// <summary>Mixed into the run seed to draw the collapse monitor's fixed batch (epoch 0 of that seed, first batch).</summary>
    internal const long MonitorSeed = 0x6D6F6E69746F72; // "monitor"

    internal static void WriteAtomically(string path, string text)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }

    private static Device ResolveDevice(string device)
    {
        TorchNative.EnsureLoaded();
        switch (device)
        {
            case "cpu":
                return CPU;
            case "auto":
                return cuda.is_available() ? CUDA : CPU;
            default:
                if (device == "cuda" || device.StartsWith("cuda:", StringComparison.Ordinal))
                {
                    var why = $"Device '{device}' was asked for, but CUDA is not available here: build with the MSBuild property " +
                              "JepaTorchBackend=cuda-linux (or cuda-windows), which references TorchSharp's CUDA backend package, and run on " +
                              "a machine with an NVIDIA GPU and driver; or use Device = \"cpu\" or \"auto\".";
                    try
                    {
                        TorchNative.EnsureLoaded(cuda: true);
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        throw new InvalidOperationException($"{why} ({e.Message})", e);
                    }
                    if (!cuda.is_available()) throw new InvalidOperationException(why);
                    return torch.device(device);
                }
                throw new ArgumentException($"Device must be cpu, cuda, cuda:N or auto (is '{device}').");
        }
    }

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

/// <summary>What one call of <see cref="JepaExperiment.Train(ITrainingData, TrainOptions?, IProgress{StepReport}?, CancellationToken)"/> works with.</summary>
internal sealed class RunSession(ExperimentOptions options, TrainOptions run, TrainingSchedule schedule, long total, long stepsPerEpoch,
    string? runFolder, IProgress<StepReport>? progress, Action<string> log, double secondsBefore)
{
    private readonly Queue<(long Step, double Seconds)> window = new();

    public ExperimentOptions Options { get; } = options;
    public TrainOptions Run { get; } = run;
    public TrainingSchedule Schedule { get; } = schedule;
    public long Total { get; } = total;
    public long StepsPerEpoch { get; } = stepsPerEpoch;
    public string? CheckpointPath { get; } = runFolder is null ? null : Path.Combine(runFolder, JepaExperiment.CheckpointFileName);
    public IProgress<StepReport>? Progress { get; } = progress;
    public Action<string> Log { get; } = log;
    public Stopwatch Clock { get; } = Stopwatch.StartNew();
    public MetricsWriter? Metrics { get; set; }
    public Tensor? MonitorBatch { get; set; }
    public string? LastCheckpoint { get; set; }

    /// <summary>Whether the run folder's checkpoint belongs to this run, so a newer one keeps it as the previous one.</summary>
    public bool KeepPrevious { get; set; }

    /// <summary>The step of the latest checkpoint this run wrote (-1: none yet).</summary>
    public long LastSavedStep { get; set; } = -1;

    /// <summary>Seconds trained in all runs so far, this one included.</summary>
    public double Seconds => secondsBefore + Clock.Elapsed.TotalSeconds;

    /// <summary>Steps per second over the last 50 steps.</summary>
    public double Rate(long step)
    {
        var seconds = Clock.Elapsed.TotalSeconds;
        window.Enqueue((step, seconds));
        while (window.Count > 50) window.Dequeue();
        var (firstStep, firstSeconds) = window.Peek();
        return window.Count < 2 || seconds <= firstSeconds ? 0 : (step - firstStep) / (seconds - firstSeconds);
    }
}

/// <summary>Where a run stands: everything besides the modules and the optimizer that a checkpoint must restore.</summary>
internal sealed class TrainingState
{
    public long Step;
    public int Epoch;
    public long Position;
    public long TotalSteps;
    public double Seconds;
    public IReadOnlyDictionary<string, double> LastTerms = new Dictionary<string, double>();
    public double LastLoss = double.NaN;
    public List<CollapseReading> Readings = [];
    public List<CollapseAlarm> Alarms = [];
}
