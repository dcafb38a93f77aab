namespace Jepa.Runtime.Schedules;

/// <summary>
/// Every schedule of a run as a pure function of the step index: learning rate, weight decay and EMA momentum.
/// <para>
/// <c>step</c> is the 0-based index of the optimizer step about to be taken (0 for the first step, <c>TotalSteps - 1</c>
/// for the last). The conventions follow I-JEPA's <c>src/train.py</c> and <c>src/utils/schedulers.py</c>, where the lr and
/// wd schedulers are stepped once before each optimizer step (so step <c>s</c> sees their counter at <c>k = s + 1</c>)
/// and the momentum generator yields its value for <c>i = s</c>:
/// </para>
/// <list type="bullet">
/// <item><description>WarmupCosine lr: <c>k &lt; W</c>: <c>StartLr + (k / W) * (peak - StartLr)</c>; otherwise
/// <c>FinalLr + (peak - FinalLr) * 0.5 * (1 + cos(pi * (k - W) / max(1, T - W)))</c>, so the last warm-up step is at the
/// peak and the last step at FinalLr.</description></item>
/// <item><description>WarmupCosine wd: <c>WeightDecay.Cosine(k / T)</c> (I-JEPA's CosineWDSchedule).</description></item>
/// <item><description>Constant: lr <c>LearningRate.Linear(k / T)</c> and wd <c>WeightDecay.Linear(k / T)</c>; no warm-up.</description></item>
/// <item><description>EMA momentum: <c>EmaMomentum.Linear(s / T)</c>: the first step uses Start and the value approaches
/// End (I-JEPA's generator <c>ema[0] + i * (ema[1] - ema[0]) / T</c>).</description></item>
/// </list>
/// Resuming at step s therefore fast-forwards every schedule to s without any stored schedule state.
/// </summary>
public sealed record TrainingSchedule
{
    /// <summary>Creates a schedule; <paramref name="warmupSteps"/> is already converted from epochs where needed.</summary>
    public TrainingSchedule(LrScheduleKind kind, Ramp learningRate, double startLr, double finalLr, long warmupSteps,
        Ramp weightDecay, Ramp? emaMomentum, long totalSteps)
    {
        ArgumentNullException.ThrowIfNull(learningRate);
        ArgumentNullException.ThrowIfNull(weightDecay);
        if (totalSteps < 1) throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, "a run needs at least one step");
        if (warmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, "warm-up steps cannot be negative");
        if (kind == LrScheduleKind.WarmupCosine && !learningRate.IsConstant)
            throw new ArgumentException($"With the WarmupCosine schedule the learning rate is the peak, one value; got {learningRate}. Use FinalLr for the end value.", nameof(learningRate));
        if (kind == LrScheduleKind.Constant && warmupSteps > 0)
            throw new ArgumentException("Warm-up needs the WarmupCosine schedule; the Constant schedule has none.", nameof(warmupSteps));
        Kind = kind;
        LearningRate = learningRate;
        StartLr = startLr;
        FinalLr = finalLr;
        WarmupSteps = warmupSteps;
        WeightDecay = weightDecay;
        EmaMomentum = emaMomentum;
        TotalSteps = totalSteps;
    }

    public LrScheduleKind Kind { get; }
    public Ramp LearningRate { get; }
    public double StartLr { get; }
    public double FinalLr { get; }
    public long WarmupSteps { get; }
    public Ramp WeightDecay { get; }
    public Ramp? EmaMomentum { get; }
    public long TotalSteps { get; }

    /// <summary>The learning rate of the step with 0-based index <paramref name="step"/>.</summary>
    public double LearningRateAt(long step) => Kind switch
    {
        LrScheduleKind.WarmupCosine => WarmupCosine(step + 1, WarmupSteps, TotalSteps, StartLr, LearningRate.Start, FinalLr),
        _ => LearningRate.Linear((double)(step + 1) / TotalSteps),
    };

    /// <summary>The weight decay (of the parameter group that decays) for the step with 0-based index <paramref name="step"/>.</summary>
    public double WeightDecayAt(long step) => Kind switch
    {
        LrScheduleKind.WarmupCosine => WeightDecay.Cosine((double)(step + 1) / TotalSteps),
        _ => WeightDecay.Linear((double)(step + 1) / TotalSteps),
    };

    /// <summary>The EMA momentum applied after the step with 0-based index <paramref name="step"/>, or null without an EMA target.</summary>
    public double? EmaMomentumAt(long step) => EmaMomentum?.Linear((double)step / TotalSteps);

    /// <summary>
    /// I-JEPA's WarmupCosineSchedule at counter <paramref name="k"/> (1 for the first step): linear from
    /// <paramref name="startLr"/> to <paramref name="peakLr"/> over <paramref name="warmup"/> steps, then a half cosine to
    /// <paramref name="finalLr"/> at <paramref name="total"/>; never below <paramref name="finalLr"/> when it lies under the peak.
    /// </summary>
    public static double WarmupCosine(long k, long warmup, long total, double startLr, double peakLr, double finalLr)
    {
        if (k < warmup)
            return startLr + (double)k / Math.Max(1, warmup) * (peakLr - startLr);
        var progress = Math.Min(1.0, (double)(k - warmup) / Math.Max(1, total - warmup));
        var lr = finalLr + (peakLr - finalLr) * 0.5 * (1.0 + Math.Cos(Math.PI * progress));
        return finalLr <= peakLr ? Math.Max(finalLr, lr) : Math.Min(finalLr, lr);
    }
}
