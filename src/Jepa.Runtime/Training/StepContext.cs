using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Training;

/// <summary>
/// What one training step may do besides computing its loss: draw random numbers from <see cref="Generator"/>, take the
/// optimizer step with <see cref="BackwardAndStep"/> and update an EMA target with <see cref="UpdateEma"/>. The trainer
/// creates one per step, inside that step's dispose scope.
/// </summary>
public sealed class StepContext
{
    private readonly TrainingOptimizer optimizer;
    private readonly double? gradClip;

    internal StepContext(long step, int epoch, Generator generator, TrainingOptimizer optimizer, double learningRate,
        double weightDecay, double? emaMomentum, double? gradClip)
    {
        Step = step;
        Epoch = epoch;
        Generator = generator;
        this.optimizer = optimizer;
        LearningRate = learningRate;
        WeightDecay = weightDecay;
        EmaMomentum = emaMomentum;
        this.gradClip = gradClip;
    }

    /// <summary>The run's generator for corruptions and masks; its state is part of every checkpoint.</summary>
    public Generator Generator { get; }

    /// <summary>The number of this step: 1 for the first step of the run (resumed runs continue the count).</summary>
    public long Step { get; }

    /// <summary>The 0-based epoch this step's batch comes from.</summary>
    public int Epoch { get; }

    /// <summary>The learning rate of this step (from the schedule).</summary>
    public double LearningRate { get; }

    /// <summary>The weight decay of the decaying parameter group in this step (from the schedule).</summary>
    public double WeightDecay { get; }

    /// <summary>The EMA momentum after this step, or null when the target is not an EMA.</summary>
    public double? EmaMomentum { get; }

    /// <summary>Total L2 norm of the gradients before clipping, once <see cref="BackwardAndStep"/> ran.</summary>
    public double? GradientNorm { get; private set; }

    /// <summary>The terms passed to <see cref="BackwardAndStep"/>, once it ran.</summary>
    public LossTerms? Terms { get; private set; }

    /// <summary>True once <see cref="UpdateEma"/> ran.</summary>
    public bool EmaUpdated { get; private set; }

    /// <summary>
    /// Takes the optimizer step: (1) reads every term and throws <see cref="NonFiniteLossException"/> naming the first
    /// that is NaN or infinite, before anything changes; (2) the weighted sum; (3) zero_grad and backward; (4) the total
    /// gradient norm, checked finite, and clipping to <c>GradClip</c>; (5) lr and weight decay of each parameter group
    /// from the schedules (no decay on biases and 1-D parameters); (6) the optimizer step.
    /// </summary>
    public void BackwardAndStep(LossTerms terms)
    {
        ArgumentNullException.ThrowIfNull(terms);
        if (Terms is not null) throw new InvalidOperationException($"BackwardAndStep was called twice in step {Step}.");
        if (terms.Count == 0) throw new ArgumentException("A training step needs at least one loss term.", nameof(terms));

        // 1. Every term finite, before any parameter changes.
        var values = new Dictionary<string, double>(terms.Count);
        double total = 0;
        foreach (var term in terms)
        {
            var v = Scalars.Read(term.Value);
            if (!double.IsFinite(v)) throw new NonFiniteLossException(term.Name, Step, v);
            values[term.Name] = v;
            total += term.Weight * v;
        }

        // 2. The weighted total.
        Tensor loss = null!;
        foreach (var term in terms)
        {
            var weighted = term.Weight == 1.0 ? term.Value : term.Value * term.Weight;
            loss = loss is null ? weighted : loss + weighted;
        }

        // 3. Gradients.
        optimizer.ZeroGrad();
        loss.backward();

        // 4. Gradient norm (before clipping), clipping.
        var norm = optimizer.ClipGradients(gradClip);
        if (!double.IsFinite(norm)) throw new NonFiniteLossException("gradient norm", Step, norm);
        GradientNorm = norm;

        // 5-6. Schedules, then the step.
        optimizer.SetSchedules(LearningRate, WeightDecay);
        optimizer.Step();
        terms.Record(values, total);
        Terms = terms;
    }

    /// <summary>
    /// <c>theta_target &lt;- m * theta_target + (1 - m) * theta_online</c> for every parameter pair, under no-grad, with
    /// this step's momentum. Call it after <see cref="BackwardAndStep"/>.
    /// </summary>
    public void UpdateEma(nn.Module target, nn.Module online)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(online);
        if (Terms is null) throw new InvalidOperationException("UpdateEma must follow BackwardAndStep (the EMA tracks the updated weights).");
        if (EmaUpdated) throw new InvalidOperationException($"UpdateEma was called twice in step {Step}.");
        var m = EmaMomentum ?? throw new InvalidOperationException("UpdateEma needs an EMA target: register the target with TargetKind.Ema.");
        Ema.Update(target, online, m);
        EmaUpdated = true;
    }
}
