using static TorchSharp.torch;

namespace Jepa.Runtime.Training;

/// <summary>
/// The collapse monitor of one run (<see cref="CollapseMonitorOptions"/>): a fixed batch drawn once from the training
/// data, embedded with the experiment's <c>MonitorEmbeddings</c> (modules in eval mode, no gradient) at step 0 and every
/// <c>Every</c> steps; a reading below either threshold is an alarm. docs/runtime-training.md, "The collapse monitor".
/// </summary>
internal sealed class CollapseMonitor : IDisposable
{
    /// <summary>Mixed into the run seed to draw the fixed batch (epoch 0 of that seed, first batch).</summary>
    internal const long MonitorSeed = 0x6D6F6E69746F72; // "monitor"

    private readonly JepaExperiment experiment;
    private readonly CollapseMonitorOptions options;
    private readonly Tensor batch;

    /// <summary>Draws the fixed batch: the first <paramref name="samples"/> of epoch 0 under <c>seed ^ MonitorSeed</c>, on the device.</summary>
    public CollapseMonitor(JepaExperiment experiment, CollapseMonitorOptions options, ITrainingData data, int samples, long seed)
    {
        this.experiment = experiment;
        this.options = options;
        using var scope = NewDisposeScope();
        using var e = data.Batches(samples, seed ^ MonitorSeed, 0).GetEnumerator();
        if (!e.MoveNext()) throw new InvalidOperationException("The training data yielded no monitoring batch.");
        batch = e.Current.to(experiment.Device).DetachFromDisposeScope();
    }

    /// <summary>Whether step <paramref name="step"/> (steps completed) of a run of <paramref name="total"/> takes a reading.</summary>
    public bool IsDue(long step, long total) => step % options.Every == 0 || step == total;

    /// <summary>The reading after <paramref name="step"/> steps; the modules go back to train mode afterwards.</summary>
    public CollapseReading Measure(long step)
    {
        var modules = experiment.Modules().Select(r => r.Module).Distinct().ToArray();
        foreach (var m in modules) m.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var z = experiment.Embeddings(batch);
            return new CollapseReading(step, CollapseMetrics.EmbeddingStd(z), CollapseMetrics.RankMe(z));
        }
        finally
        {
            foreach (var m in modules) m.train();
        }
    }

    /// <summary>The alarm that <paramref name="r"/> raises, or null when it is above both thresholds.</summary>
    public CollapseAlarm? Judge(CollapseReading r)
    {
        var lowStd = r.Std < options.MinStd;
        var lowRank = r.RankMe < options.MinRank;
        if (!lowStd && !lowRank) return null;
        var what = string.Join(" and ", new[]
        {
            lowStd ? $"the std of the L2-normalised embeddings is {r.Std:G3} (below {options.MinStd:G3})" : null,
            lowRank ? $"their effective rank (RankMe) is {r.RankMe:G3} (below {options.MinRank:G3})" : null,
        }.Where(s => s is not null));
        var then = options.Action == CollapseAction.Stop ? "training stops" : "training goes on";
        return new CollapseAlarm(r.Step, r.Std, r.RankMe, options.Action,
            $"{experiment.Name}: representation collapse at step {r.Step}: {what}; {then}. The encoder maps inputs to nearly the same point: an EMA or stop-gradient target, or a regularizer (vicreg, sigreg), prevents it.");
    }

    public void Dispose() => batch.Dispose();
}
