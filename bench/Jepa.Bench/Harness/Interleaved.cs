using System.Diagnostics;

namespace Jepa.Bench.Harness;

/// <summary>Something whose training steps can be timed: <see cref="Run"/> takes that many full steps.</summary>
public interface ITimedLoop : IDisposable
{
    string Name { get; }

    /// <summary>Takes <paramref name="steps"/> training steps; returns when the last one is complete.</summary>
    void Run(int steps);

    /// <summary>Seconds per step as the loop measured it itself (a child process), or null to use the wall clock around <see cref="Run"/>.</summary>
    double? LastSecondsPerStep => null;

    /// <summary>Processor seconds per step of the last <see cref="Run"/> as the loop measured it (a child process), or null to use this process's.</summary>
    double? LastCpuSecondsPerStep => null;
}

/// <summary>
/// The seconds per step of one loop in each repetition, in the order taken: wall clock, and processor time (all threads
/// of the process that ran the steps), which other work on a shared machine disturbs much less when torch runs one thread.
/// </summary>
public sealed record Timing(string Name, IReadOnlyList<double> SecondsPerStep, IReadOnlyList<double> CpuSecondsPerStep)
{
    public double Median => Stats.Median(SecondsPerStep);

    public double CpuMedian => Stats.Median(CpuSecondsPerStep);

    public double Min => SecondsPerStep.Min();
}

/// <summary>
/// Times several loops side by side: each is warmed up, then the repetitions alternate between them (repetition r starts
/// with loop r mod n, so no loop always runs first or last), so that load from elsewhere on the machine hits all alike.
/// </summary>
public static class Interleaved
{
    /// <summary>
    /// Warms every loop up with <paramref name="plan"/>.Warmup steps, times 3 more steps of each to choose the steps per
    /// repetition (the same for all loops, so that about <paramref name="plan"/>.SecondsPerRep passes for the slowest),
    /// then takes <paramref name="plan"/>.Reps interleaved repetitions.
    /// </summary>
    public static (IReadOnlyList<Timing> Timings, int StepsPerRep) Measure(IReadOnlyList<ITimedLoop> loops, Plan plan)
    {
        foreach (var loop in loops) loop.Run(plan.Warmup);
        var slowest = 0.0;
        foreach (var loop in loops)
        {
            var probe = Stopwatch.StartNew();
            loop.Run(3);
            slowest = Math.Max(slowest, loop.LastSecondsPerStep ?? probe.Elapsed.TotalSeconds / 3);
        }
        var steps = (int)Math.Clamp(Math.Round(plan.SecondsPerRep / slowest), 1, 10_000);
        return (Measure(loops, 0, steps, plan.Reps), steps);
    }

    public static IReadOnlyList<Timing> Measure(IReadOnlyList<ITimedLoop> loops, int warmupSteps, int stepsPerRep, int reps)
    {
        if (warmupSteps > 0)
            foreach (var loop in loops) loop.Run(warmupSteps);
        var times = loops.Select(_ => new List<double>()).ToArray();
        var cpu = loops.Select(_ => new List<double>()).ToArray();
        var watch = new Stopwatch();
        using var self = Process.GetCurrentProcess();
        for (var r = 0; r < reps; r++)
        {
            for (var k = 0; k < loops.Count; k++)
            {
                var i = (r + k) % loops.Count;
                self.Refresh();
                var cpuBefore = self.TotalProcessorTime;
                watch.Restart();
                loops[i].Run(stepsPerRep);
                var wall = watch.Elapsed.TotalSeconds / stepsPerRep;
                self.Refresh();
                times[i].Add(loops[i].LastSecondsPerStep ?? wall);
                cpu[i].Add(loops[i].LastCpuSecondsPerStep ?? (self.TotalProcessorTime - cpuBefore).TotalSeconds / stepsPerRep);
            }
        }
        return loops.Select((l, i) => new Timing(l.Name, times[i], cpu[i])).ToList();
    }

    /// <summary>The median over repetitions of a / b, each pair taken next to each other in time.</summary>
    public static double PairedRatio(Timing a, Timing b) =>
        Stats.Median(a.SecondsPerStep.Zip(b.SecondsPerStep, (x, y) => x / y).ToList());

    /// <summary>The same for processor time.</summary>
    public static double PairedCpuRatio(Timing a, Timing b) =>
        Stats.Median(a.CpuSecondsPerStep.Zip(b.CpuSecondsPerStep, (x, y) => x / y).ToList());
}

/// <summary>Warm-up steps, the wall-clock time a repetition should take, and the number of repetitions.</summary>
public sealed record Plan(int Warmup, double SecondsPerRep, int Reps);

public static class Stats
{
    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var s = values.OrderBy(v => v).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
