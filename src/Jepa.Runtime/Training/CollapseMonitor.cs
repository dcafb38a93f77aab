using static TorchSharp.torch;

namespace Jepa.Runtime.Training;

/// <summary>
/// The collapse monitor of one run (<see cref="CollapseMonitorOptions"/>): a fixed batch drawn once from the training
/// data, embedded with the experiment's <c>MonitorEmbeddings</c> (modules in eval mode, no gradient) at step 0 and every
/// <c>Every</c> steps, at most a training batch at a time (so its memory stays below the training step's); a reading
/// below either threshold is an alarm. docs/runtime-training.md, "The collapse monitor".
/// </summary>
internal sealed class CollapseMonitor : IDisposable
{
    /// <summary>Mixed into the run seed to draw the fixed batch (epoch 0 of that seed, first batch).</summary>
    internal const long MonitorSeed = 0x6D6F6E69746F72; // "monitor"

    private readonly JepaExperiment experiment;
    private readonly CollapseMonitorOptions options;
    private readonly Tensor batch;
    private readonly long chunk;

    /// <summary>Draws the fixed batch: the first <paramref name="samples"/> of epoch 0 under <c>seed ^ MonitorSeed</c>, on
    /// the device; it is embedded <paramref name="chunk"/> samples at a time (the training batch).</summary>
    public CollapseMonitor(JepaExperiment experiment, CollapseMonitorOptions options, ITrainingData data, int samples, int chunk, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunk, 1);
        this.experiment = experiment;
        this.options = options;
        this.chunk = chunk;
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
            var parts = new List<Tensor>();
            for (long start = 0; start < batch.shape[0]; start += chunk)
            {
                var first = start;
                parts.Add(Models.Temporaries.Free(() => experiment.Embeddings(batch.narrow(0, first, Math.Min(chunk, batch.shape[0] - first)))));
            }
            var z = parts.Count == 1 ? parts[0] : cat(parts, 0);
            return new CollapseReading(step, CollapseMetrics.EmbeddingStd(z), CollapseMetrics.RankMe(z));
        }
        finally
        {
            foreach (var m in modules) m.train();
        }
    }

    /// <summary>How far the std must fall below the baseline's for an alarm (a tenfold fall).</summary>
    internal const double StdFall = 10;

    /// <summary>How far RankMe must fall below the baseline's for an alarm (to half).</summary>
    internal const double RankFall = 2;

    /// <summary>
    /// The alarm that <paramref name="r"/> raises, or null. A metric alarms when it is below its threshold <b>and</b> has
    /// fallen from the run's <paramref name="baseline"/> (its first reading, at step 0): the std to below a tenth of the
    /// baseline's, RankMe to below half of it. The fall makes one pair of thresholds valid for vector and token encoders
    /// and for activations whose embeddings first grow a component they all share (GELU): a random-init ViT's pooled
    /// tokens, or a GELU MLP early in training, read below the absolute thresholds without having collapsed.
    /// </summary>
    public CollapseAlarm? Judge(CollapseReading r, CollapseReading baseline)
    {
        var lowStd = r.Std < options.MinStd && r.Std < baseline.Std / StdFall;
        var lowRank = r.RankMe < options.MinRank && r.RankMe < baseline.RankMe / RankFall;
        if (!lowStd && !lowRank) return null;
        var what = string.Join(" and ", new[]
        {
            lowStd ? $"the std of the L2-normalised embeddings is {r.Std:G3} (below {options.MinStd:G3}, and below a tenth of {baseline.Std:G3} at step {baseline.Step})" : null,
            lowRank ? $"their effective rank (RankMe) is {r.RankMe:G3} (below {options.MinRank:G3}, and below half of {baseline.RankMe:G3} at step {baseline.Step})" : null,
        }.Where(s => s is not null));
        var then = options.Action == CollapseAction.Stop ? "training stops" : "training goes on";
        return new CollapseAlarm(r.Step, r.Std, r.RankMe, options.Action,
            $"{experiment.Name}: representation collapse at step {r.Step}: {what}; {then}. The encoder maps inputs to nearly the same point: an EMA or stop-gradient target, or a regularizer (vicreg, sigreg), prevents it.");
    }

    public void Dispose() => batch.Dispose();
}
