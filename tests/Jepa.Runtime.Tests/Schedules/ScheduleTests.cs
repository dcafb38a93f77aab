using Jepa.Runtime.Schedules;

namespace Jepa.Runtime.Tests.Schedules;

public class ScheduleTests
{
    private const double Tol = 1e-15;

    [Fact]
    public void Ramp_constant_linear_and_cosine()
    {
        var constant = new Ramp(0.05);
        Assert.True(constant.IsConstant);
        Assert.Equal(0.05, constant.Linear(0.7));
        Assert.Equal(0.05, constant.Cosine(0.3));
        Assert.Equal("0.05", constant.ToString());

        var ramp = new Ramp(0.996, 1.0);
        Assert.Equal(0.996, ramp.Linear(0), Tol);
        Assert.Equal(0.998, ramp.Linear(0.5), Tol);
        Assert.Equal(1.0, ramp.Linear(1), Tol);
        Assert.Equal(1.0, ramp.Linear(7), Tol); // clamped
        Assert.Equal(0.996, ramp.Linear(-1), Tol);
        Assert.Equal("0.996 -> 1", ramp.ToString());

        var wd = new Ramp(0.04, 0.4);
        Assert.Equal(0.04, wd.Cosine(0), Tol);
        Assert.Equal(0.22, wd.Cosine(0.5), 1e-15);
        // 0.4 + (0.04 - 0.4) * 0.5 * (1 + cos(pi / 4)) = 0.4 - 0.18 * 1.7071067811865475
        Assert.Equal(0.09272077938642145, wd.Cosine(0.25), 1e-15);
        Assert.Equal(0.4, wd.Cosine(1), Tol);
    }

    [Fact]
    public void Warmup_cosine_hand_computed_values()
    {
        // warm-up 10 steps from 0 to 1e-3, then cosine to 0 over the remaining 100 (T = 110).
        var s = new TrainingSchedule(LrScheduleKind.WarmupCosine, new Ramp(1e-3), startLr: 0, finalLr: 0, warmupSteps: 10,
            new Ramp(0.0), null, totalSteps: 110);
        Assert.Equal(1e-4, s.LearningRateAt(0), 1e-18);   // k = 1: 1/10 of the way
        Assert.Equal(5e-4, s.LearningRateAt(4), 1e-18);   // k = 5
        Assert.Equal(9e-4, s.LearningRateAt(8), 1e-18);   // k = 9
        Assert.Equal(1e-3, s.LearningRateAt(9), 1e-18);   // k = 10: the peak, cosine progress 0
        Assert.Equal(5e-4, s.LearningRateAt(59), 1e-18);  // k = 60: progress 1/2, half way down
        Assert.Equal(1e-3 * 0.5 * (1 + Math.Cos(Math.PI * 0.25)), s.LearningRateAt(34), 1e-18); // k = 35: progress 1/4
        Assert.Equal(0, s.LearningRateAt(109), 1e-18);    // the last step: FinalLr
        Assert.Equal(0, s.LearningRateAt(500), 1e-18);    // beyond the end: stays at FinalLr
    }

    [Fact]
    public void Ijepa_vith14_recipe_at_a_few_steps()
    {
        // configs/in1k_vith14_ep300.yaml with 100 iterations per epoch: 40 warm-up epochs 2e-4 -> 1e-3, cosine to 1e-6
        // over 300 epochs; wd cosine 0.04 -> 0.4; EMA 0.996 -> 1.0.
        const long ipe = 100, total = 300 * ipe, warmup = 40 * ipe;
        var s = new TrainingSchedule(LrScheduleKind.WarmupCosine, new Ramp(1e-3), 2e-4, 1e-6, warmup,
            new Ramp(0.04, 0.4), new Ramp(0.996, 1.0), total);
        Assert.Equal(2e-4 + 1.0 / warmup * 8e-4, s.LearningRateAt(0), 1e-18);
        Assert.Equal(2e-4 + 0.5 * 8e-4, s.LearningRateAt(warmup / 2 - 1), 1e-18);
        Assert.Equal(1e-3, s.LearningRateAt(warmup - 1), 1e-18);
        Assert.Equal(1e-6 + (1e-3 - 1e-6) * 0.5, s.LearningRateAt(warmup + (total - warmup) / 2 - 1), 1e-17);
        Assert.Equal(1e-6, s.LearningRateAt(total - 1), 1e-18);

        Assert.Equal(0.04 + 0.36 * 0.5 * (1 - Math.Cos(Math.PI / total)), s.WeightDecayAt(0), 1e-15);
        Assert.Equal(0.22, s.WeightDecayAt(total / 2 - 1), 1e-15);
        Assert.Equal(0.4, s.WeightDecayAt(total - 1), 1e-15);

        Assert.Equal(0.996, s.EmaMomentumAt(0)!.Value, 1e-15);
        Assert.Equal(0.998, s.EmaMomentumAt(total / 2)!.Value, 1e-15);
        Assert.Equal(1.0 - 0.004 / total, s.EmaMomentumAt(total - 1)!.Value, 1e-15);
    }

    [Fact]
    public void Constant_schedule_follows_ramps_linearly_without_warmup()
    {
        var s = new TrainingSchedule(LrScheduleKind.Constant, new Ramp(1e-2, 1e-3), 0, 0, 0, new Ramp(0.1, 0.0), null, 10);
        Assert.Equal(1e-2 - 9e-3 * 0.1, s.LearningRateAt(0), 1e-18);
        Assert.Equal(1e-3, s.LearningRateAt(9), 1e-18);
        Assert.Equal(0.05, s.WeightDecayAt(4), 1e-16);
        Assert.Null(s.EmaMomentumAt(3));

        var flat = new TrainingSchedule(LrScheduleKind.Constant, new Ramp(3e-4), 0, 0, 0, new Ramp(0.05), null, 10);
        Assert.All(Enumerable.Range(0, 10), i => Assert.Equal(3e-4, flat.LearningRateAt(i)));
        Assert.All(Enumerable.Range(0, 10), i => Assert.Equal(0.05, flat.WeightDecayAt(i)));
    }

    [Fact]
    public void Warmup_cosine_is_continuous_monotone_and_bounded_for_many_lengths()
    {
        foreach (var total in new long[] { 1, 2, 3, 7, 50, 333, 1000 })
        foreach (var warmup in new long[] { 0, 1, 2, 5, 49, 200 })
        {
            if (warmup > total) continue;
            var s = new TrainingSchedule(LrScheduleKind.WarmupCosine, new Ramp(1e-3), 1e-5, 1e-6, warmup, new Ramp(0.0), new Ramp(0.99, 1), total);
            double previous = double.NaN;
            for (long i = 0; i < total; i++)
            {
                var lr = s.LearningRateAt(i);
                Assert.InRange(lr, 1e-6, 1e-3);
                if (i > 0 && i < warmup) Assert.True(lr > previous, $"warm-up must rise (T {total}, W {warmup}, step {i})");
                if (i >= warmup && i > 0) Assert.True(lr <= previous + 1e-18, $"cosine must not rise (T {total}, W {warmup}, step {i})");
                previous = lr;
                var m = s.EmaMomentumAt(i)!.Value;
                Assert.InRange(m, 0.99, 1.0);
            }
            // The last step ends the cosine at FinalLr; a run that is all warm-up ends at the peak.
            Assert.Equal(warmup < total ? 1e-6 : 1e-3, s.LearningRateAt(total - 1), 1e-18);
        }
    }

    [Fact]
    public void Invalid_schedules_are_refused_with_a_reason()
    {
        var e1 = Assert.Throws<ArgumentException>(() => new TrainingSchedule(LrScheduleKind.WarmupCosine, new Ramp(1e-3, 1e-4), 0, 0, 5, new Ramp(0.0), null, 10));
        Assert.Contains("peak", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => new TrainingSchedule(LrScheduleKind.Constant, new Ramp(1e-3), 0, 0, 5, new Ramp(0.0), null, 10));
        Assert.Contains("Warm-up needs the WarmupCosine", e2.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingSchedule(LrScheduleKind.Constant, new Ramp(1e-3), 0, 0, 0, new Ramp(0.0), null, 0));
    }
}
