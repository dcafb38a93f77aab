using System.Diagnostics;
using Jepa.Runtime.Schedules;
using static TorchSharp.torch;

namespace Jepa.Runtime.Training;

/// <summary>
/// The training loop of one call of <see cref="JepaExperiment.Train(ITrainingData, TrainOptions?, IProgress{StepReport}?, CancellationToken)"/>:
/// epochs of steps, each in its own dispose scope, with schedules, checkpoints (through <see cref="RunFolder"/>),
/// metrics and the collapse monitor. docs/runtime-training.md, "The experiment and its loop", describes each step.
/// </summary>
internal sealed class Trainer
{
    private readonly JepaExperiment experiment;
    private readonly TrainingState state;
    private readonly TrainOptions run;
    private readonly IProgress<StepReport>? progress;
    private readonly Action<string> log;
    private readonly RunFolder? folder;
    private readonly Stopwatch clock = new();
    private readonly Queue<(long Step, double Seconds)> window = new();
    private ExperimentOptions options = null!;
    private TrainingSchedule schedule = null!;
    private long total;
    private long stepsPerEpoch;
    private double secondsBefore;
    private MetricsWriter? metrics;
    private CollapseMonitor? monitor;
    private OnlineEvaluation? online;
    private double onlineSeconds;
    private double onlineSecondsBefore;
    private string? lastCheckpoint;
    private double? checkpointSeconds;
    private string phase = "preparing to train";

    private Trainer(JepaExperiment experiment, TrainOptions run, IProgress<StepReport>? progress)
    {
        this.experiment = experiment;
        state = experiment.State;
        this.run = run;
        this.progress = progress;
        log = run.Log ?? (message => Console.Error.WriteLine(message));
        folder = run.RunFolder is null ? null : new RunFolder(run.RunFolder);
    }

    /// <summary>Trains <paramref name="experiment"/> on <paramref name="data"/> until the run length is reached.</summary>
    public static TrainingRun Train(JepaExperiment experiment, ITrainingData data, TrainOptions? run, IProgress<StepReport>? progress, CancellationToken cancellationToken)
    {
        run ??= new TrainOptions();
        CheckRunOptions(run);
        // One run at a time writes a run folder: the runner holds its lock for the whole program; a direct call takes it
        // for the call.
        using var owner = run.RunFolder is { } path && !RunFolderLock.IsHeld(path) ? RunFolderLock.Acquire(path) : null;
        var trainer = new Trainer(experiment, run, progress);
        using var guard = Native.CollectionGuard.Enter();         // no collection while TorchSharp calls are in flight
        try
        {
            return trainer.Train(data, cancellationToken);
        }
        catch (Exception e) when (AllocationFailedException.From(e, trainer.phase) is { } failed && !ReferenceEquals(failed, e))
        {
            throw failed;
        }
    }

    private static void CheckRunOptions(TrainOptions run)
    {
        if (run.Steps is not null && run.Epochs is not null) throw new ArgumentException("TrainOptions: set Steps or Epochs, not both.", nameof(run));
        if (run.LogEvery < 1) throw new ArgumentException($"TrainOptions.LogEvery must be at least 1 (is {run.LogEvery}).", nameof(run));
        if (run.CheckpointEvery < 0) throw new ArgumentException($"TrainOptions.CheckpointEvery cannot be negative (is {run.CheckpointEvery}).", nameof(run));
        if (run.MonitorSamples < 2) throw new ArgumentException($"TrainOptions.MonitorSamples must be at least 2 (is {run.MonitorSamples}).", nameof(run));
        if (run.CheckpointEvery > 0 && run.RunFolder is null) throw new ArgumentException("TrainOptions.CheckpointEvery needs a RunFolder.", nameof(run));
    }

    private TrainingRun Train(ITrainingData data, CancellationToken cancellationToken)
    {
        var resumedFrom = run.ResumeFrom is null ? null : RunFolder.Resume(experiment, run.ResumeFrom, folder, log);

        // 1. The run: effective options, length, normalisation, schedules.
        options = experiment.InitialOptions;
        if (run.Steps is not null) options = options with { Steps = run.Steps };
        if (run.Epochs is not null) options = options with { Epochs = run.Epochs };
        options.Validate();
        var count = data.Count;
        if (count < options.Batch)
            throw new ArgumentException($"The training data has {count} samples, fewer than one batch of {options.Batch}.", nameof(data));
        // Declared, or kept from the checkpoint or an earlier run, or computed on the data when a fresh run starts.
        if (options.Normalization is null)
            options = options with { Normalization = experiment.EffectiveOptions.Normalization ?? InputNormalization.Compute(data, options.Seed) };
        experiment.EffectiveOptions = options;
        stepsPerEpoch = count / options.Batch;
        total = options.Steps ?? checked(options.Epochs!.Value * stepsPerEpoch);
        var warmup = options.WarmupSteps > 0 ? options.WarmupSteps : (long)Math.Round(options.WarmupEpochs * stepsPerEpoch);
        schedule = new TrainingSchedule(options.Schedule, options.LearningRate, options.StartLr, options.FinalLr, warmup,
            options.WeightDecay, experiment.TargetKind == TargetKind.Ema ? options.EmaMomentum : null, total);
        secondsBefore = state.Seconds;
        onlineSecondsBefore = onlineSeconds = state.OnlineReadings.Sum(r => r.Seconds);
        clock.Start();

        // 2. Optimizer, generator, train mode.
        experiment.EnsureOptimizer();
        experiment.EnsureGenerator();
        state.TotalSteps = total;
        foreach (var m in experiment.Modules().Select(r => r.Module).Distinct()) m.train();
        if (folder is not null && run.ResumeFrom is not null && File.Exists(folder.CheckpointPath))
            lastCheckpoint = folder.CheckpointPath;
        folder?.Adopt(resumedFrom);

        var stop = StopReason.Completed;
        try
        {
            // 3. Run folder and collapse monitor (with its baseline at step 0).
            if (folder is not null)
            {
                folder.WriteOptions(options);
                metrics = new MetricsWriter(folder.Path, state.Step);
            }
            if (options.Collapse is { } collapse && state.Step < total)
            {
                phase = "the collapse monitor's baseline";
                monitor = new CollapseMonitor(experiment, collapse, data, (int)Math.Min(count, run.MonitorSamples), options.Batch, options.Seed);
            }
            if (options.Evaluation?.Online is not null && state.Step < total)
                online = CreateOnlineEvaluation(data);
            if (state.Step == 0)
            {
                // The baselines of a fresh run (a collapse reading never raises an alarm at step 0).
                var baseline = state.Readings.Count == 0 ? monitor?.Measure(0) : null;
                if (baseline is not null) state.Readings.Add(baseline);
                var evaluation = state.OnlineReadings.Count == 0 ? MeasureOnline(0) : null;
                state.Seconds = Seconds;
                if (baseline is not null || evaluation is not null)
                    metrics?.Write(new MetricsRow(0, 0, state.Seconds, EmbeddingStd: baseline?.Std, RankMe: baseline?.RankMe,
                        OnlineLinearProbe: evaluation?.LinearProbe, OnlineKnn: evaluation?.Knn, OnlineSeconds: evaluation?.Seconds));
            }

            // 4. Epochs of steps.
            while (state.Step < total && stop == StopReason.Completed)
                stop = TrainEpoch(data, cancellationToken);

            // 5. The final checkpoint; the heap trimmed before the evaluation that follows.
            state.Seconds = Seconds;
            if (folder is not null) SaveCheckpoint();
            Native.NativeHeap.Trim();
        }
        finally
        {
            metrics?.Dispose();
            monitor?.Dispose();
            online?.Dispose();
        }
        return new TrainingRun(state.Step, total, clock.Elapsed.TotalSeconds, state.LastTerms, state.LastLoss,
            [.. state.Readings], [.. state.Alarms], stop, folder?.Path, lastCheckpoint) { CheckpointSeconds = checkpointSeconds, OnlineReadings = [.. state.OnlineReadings] };
    }

    /// <summary>The online evaluation on <see cref="TrainOptions.OnlineData"/>, else on the training data when it is labelled; else none, with a warning.</summary>
    private OnlineEvaluation? CreateOnlineEvaluation(ITrainingData data)
    {
        var labelled = run.OnlineData ?? (data is Data.ISampleSet { HasLabels: true } own ? own : null);
        if (labelled is null)
        {
            log($"{experiment.Name}: the online evaluation needs labelled samples (TrainOptions.OnlineData, or labelled training data); training goes on without it.");
            return null;
        }
        return OnlineEvaluation.Create(experiment, options.Evaluation, labelled, options.Seed);
    }

    /// <summary>The steps of the current epoch from the current position, until it ends, the run ends or something stops it.</summary>
    private StopReason TrainEpoch(ITrainingData data, CancellationToken cancellationToken)
    {
        // The order depends only on (seed, epoch), so a resumed run starts at the batch it stopped before.
        using var batches = data.Batches(options.Batch, options.Seed, state.Epoch, dropLast: true, startBatch: state.Position).GetEnumerator();
        while (state.Step < total)
        {
            if (cancellationToken.IsCancellationRequested) return StopReason.Cancelled;
            Native.CollectionGuard.SafePoint();                                                   // between steps
            if (!batches.MoveNext())
                throw new InvalidOperationException($"Epoch {state.Epoch} of the training data ended after {state.Position} batches of {options.Batch}; " +
                                                    $"{data.Count} samples make {stepsPerEpoch}. Did the data change since the checkpoint?");
            var stop = TakeStep(batches.Current);
            if (folder is not null && run.CheckpointEvery > 0 && state.Step % run.CheckpointEvery == 0 && state.Step < total && stop == StopReason.Completed)
                SaveCheckpoint();
            if (stop != StopReason.Completed) return stop;
            if (state.Position == 0) break; // the epoch is over
        }
        return StopReason.Completed;
    }

    /// <summary>
    /// Every this many steps the C heap's free pages go back to the system (<see cref="Native.NativeHeap.Trim"/>): the
    /// MNIST recipe's 150 steps peaked at 1.08 GiB with it against 1.52 GiB without, in 84.9 s against 82.8 s
    /// (every step: 0.95 GiB in 98.5 s; docs/reliability.md).
    /// </summary>
    private const int TrimEvery = 10;

    /// <summary>One optimizer step on <paramref name="batch"/>, inside its own dispose scope, with what follows it.</summary>
    private StopReason TakeStep(Tensor batch)
    {
        var index = state.Step; // 0-based index of this step
        phase = $"training step {index + 1}";
        StepContext step;
        using (var scope = NewDisposeScope())
        {
            // 1. The batch (now owned by this scope) on the device; this step's schedule values.
            var x = batch.MoveToOtherDisposeScope(scope).to(experiment.Device);
            step = new StepContext(index + 1, state.Epoch, experiment.EnsureGenerator(), experiment.Optimizer!, schedule.LearningRateAt(index),
                schedule.WeightDecayAt(index), schedule.EmaMomentumAt(index), options.GradClip);

            // 2. The experiment's step: loss terms, BackwardAndStep, UpdateEma.
            try
            {
                experiment.Step(x, step);
            }
            catch (NonFiniteLossException e)
            {
                throw e.WithCheckpoint(lastCheckpoint);
            }
        }
        // The step's tensors are freed here, before the collapse monitor and the online evaluation embed their samples:
        // their peak does not add to the step's. What follows reads only numbers (the terms' values, the gradient norm).
        if ((index + 1) % TrimEvery == 0) Native.NativeHeap.Trim();

        var name = experiment.GetType().Name;
        if (step.Terms is null) throw new InvalidOperationException($"{name}.TrainingStep returned without calling BackwardAndStep.");
        if (experiment.TargetKind == TargetKind.Ema && !step.EmaUpdated) throw new InvalidOperationException($"{name}.TrainingStep did not call UpdateEma for its EMA target.");

        // 3. Where the run stands.
        var epoch = state.Epoch;
        state.Step++;
        state.Position++;
        if (state.Position == stepsPerEpoch)
        {
            state.Epoch++;
            state.Position = 0;
        }
        state.LastTerms = step.Terms.Values!;
        state.LastLoss = step.Terms.Total!.Value;
        state.Seconds = Seconds;

        // 4. The collapse monitor.
        var stop = StopReason.Completed;
        CollapseReading? reading = null;
        CollapseAlarm? alarm = null;
        if (monitor is not null && monitor.IsDue(state.Step, total))
        {
            reading = monitor.Measure(state.Step);
            state.Readings.Add(reading);
            alarm = monitor.Judge(reading, state.Readings[0]);
            if (alarm is not null)
            {
                state.Alarms.Add(alarm);
                log(alarm.Message);
                if (alarm.Action == CollapseAction.Stop) stop = StopReason.Collapse;
            }
        }

        // 5. The online evaluation (its time is the run's, but not the steps' rate).
        var evaluation = online is not null && online.IsDue(state.Step, total) ? MeasureOnline(state.Step) : null;
        state.Seconds = Seconds;
        var stepsPerSecond = Rate(state.Step);

        // 6. Metrics and progress.
        if (state.Step % run.LogEvery == 0 || reading is not null || evaluation is not null || state.Step == total || stop != StopReason.Completed)
        {
            metrics?.Write(new MetricsRow(state.Step, epoch, state.Seconds, state.LastTerms, state.LastLoss, step.LearningRate,
                step.WeightDecay, step.EmaMomentum, step.GradientNorm, stepsPerSecond, reading?.Std, reading?.RankMe,
                evaluation?.LinearProbe, evaluation?.Knn, evaluation?.Seconds));
            progress?.Report(new StepReport(state.Step, total, epoch, state.LastTerms, state.LastLoss, step.LearningRate,
                step.WeightDecay, step.EmaMomentum, step.GradientNorm!.Value, stepsPerSecond, TimeSpan.FromSeconds(state.Seconds),
                Remaining(stepsPerSecond), state.Readings.Count > 0 ? state.Readings[^1] : null, alarm)
            {
                Online = state.OnlineReadings.Count > 0 ? state.OnlineReadings[^1] : null,
                OnlineSeconds = onlineSeconds,
            });
        }
        return stop;
    }

    /// <summary>Time left: the steps at the current rate, plus the online evaluations still due at the cost of the latest.</summary>
    private TimeSpan? Remaining(double stepsPerSecond)
    {
        if (stepsPerSecond <= 0) return null;
        var seconds = (total - state.Step) / stepsPerSecond;
        if (online is not null && state.OnlineReadings.Count > 0)
            seconds += online.DueAfter(state.Step, total) * state.OnlineReadings[^1].Seconds;
        return TimeSpan.FromSeconds(seconds);
    }

    /// <summary>An online evaluation after <paramref name="step"/> steps, kept in the run's state; null without one.</summary>
    private OnlineReading? MeasureOnline(long step)
    {
        if (online is null) return null;
        var reading = online.Measure(step);
        state.OnlineReadings.Add(reading);
        onlineSeconds += reading.Seconds;
        return reading;
    }

    private void SaveCheckpoint()
    {
        phase = $"writing the checkpoint of step {state.Step}";
        var watch = Stopwatch.StartNew();
        metrics?.Flush();
        experiment.ThrowIfDisposed();
        lastCheckpoint = folder!.SaveCheckpoint(experiment);
        checkpointSeconds = watch.Elapsed.TotalSeconds;
    }

    /// <summary>Seconds trained in all runs so far, this one included.</summary>
    private double Seconds => secondsBefore + clock.Elapsed.TotalSeconds;

    /// <summary>Steps per second over the last 50 steps, without the time of online evaluations.</summary>
    private double Rate(long step)
    {
        var seconds = clock.Elapsed.TotalSeconds - (onlineSeconds - onlineSecondsBefore);
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
    public List<OnlineReading> OnlineReadings = [];
}
