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
}

/// <summary>The seconds per step of one loop in each repetition, in the order taken.</summary>
public sealed record Timing(string Name, IReadOnlyList<double> SecondsPerStep)
{
    public double Median => Stats.Median(SecondsPerStep);

    public double Min => SecondsPerStep.Min();
}

/// <summary>
/// Times several loops side by side: each is warmed up, then the repetitions alternate between them (repetition r starts
/// with loop r mod n, so no loop always runs first or last), so that load from elsewhere on the machine hits all alike.
/// </summary>
public static class Interleaved
{
    public static IReadOnlyList<Timing> Measure(IReadOnlyList<ITimedLoop> loops, int warmupSteps, int stepsPerRep, int reps)
    {
        foreach (var loop in loops) loop.Run(warmupSteps);
        var times = loops.Select(_ => new List<double>()).ToArray();
        var watch = new Stopwatch();
        for (var r = 0; r < reps; r++)
        {
            for (var k = 0; k < loops.Count; k++)
            {
                var i = (r + k) % loops.Count;
                watch.Restart();
                loops[i].Run(stepsPerRep);
                var wall = watch.Elapsed.TotalSeconds / stepsPerRep;
                times[i].Add(loops[i].LastSecondsPerStep ?? wall);
            }
        }
        return loops.Select((l, i) => new Timing(l.Name, times[i])).ToList();
    }

    /// <summary>The median over repetitions of a / b, each pair taken next to each other in time.</summary>
    public static double PairedRatio(Timing a, Timing b) =>
        Stats.Median(a.SecondsPerStep.Zip(b.SecondsPerStep, (x, y) => x / y).ToList());
}

public static class Stats
{
    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var s = values.OrderBy(v => v).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
