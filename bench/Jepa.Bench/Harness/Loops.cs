using Jepa.Bench.HandWritten;
using Jepa.Runtime.Training;
using static TorchSharp.torch;

namespace Jepa.Bench.Harness;

/// <summary>A hand-written step benchmark as a timed loop.</summary>
public sealed class StepLoop(IStepBenchmark step, string name) : ITimedLoop
{
    public IStepBenchmark Inner => step;

    public string Name => name;

    public void Run(int steps)
    {
        for (var i = 0; i < steps; i++) step.Step();
    }

    public void Dispose() => step.Dispose();
}

/// <summary>
/// A generated experiment trained through <see cref="JepaExperiment.Train(ITrainingData, TrainOptions?, IProgress{StepReport}?, CancellationToken)"/>,
/// what users run: each <see cref="Run"/> continues the run by that many steps (no run folder, no progress sink).
/// </summary>
public sealed class TrainLoop(JepaExperiment experiment, Tensor batch, string name) : ITimedLoop
{
    private readonly SameBatch data = new(batch);

    public JepaExperiment Experiment => experiment;

    public string Name => name;

    public TrainingRun? LastRun { get; private set; }

    public void Run(int steps) =>
        LastRun = experiment.Train(data, new TrainOptions { Steps = experiment.StepsTaken + steps, Log = _ => { } });

    public void Run(int steps, IProgress<StepReport> progress, int every) =>
        LastRun = experiment.Train(data, new TrainOptions { Steps = experiment.StepsTaken + steps, LogEvery = every, Log = _ => { } }, progress);

    public void Dispose() => experiment.Dispose();
}

/// <summary>
/// Training data that is one batch, already in memory and on the device, yielded again and again (as a new tensor
/// handle on the same storage, since the trainer owns and disposes what it is given): the hand-written loops train on
/// the same tensor, so both sides do the same work per step. Its epochs are 1,000 batches long.
/// </summary>
public sealed class SameBatch(Tensor batch) : ITrainingData
{
    public long Count => batch.shape[0] * 1000;

    public IEnumerable<Tensor> Batches(int batchSize, long seed, long epoch, bool dropLast = true, long startBatch = 0)
    {
        if (batchSize != batch.shape[0]) throw new ArgumentException($"SameBatch holds batches of {batch.shape[0]}, not {batchSize}.");
        for (var i = startBatch; i < 1000; i++) yield return batch.alias();
    }
}
