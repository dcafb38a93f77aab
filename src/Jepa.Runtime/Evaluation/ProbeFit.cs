namespace Jepa.Runtime.Evaluation;

/// <summary>
/// How a probe's L-BFGS fit ended: the iterations it used of its <paramref name="Budget"/> (<c>linear_probe(epochs)</c>
/// or <c>few_shot(epochs)</c>), whether it converged (<see cref="LogisticRegression.Converged"/>), and the largest
/// gradient component it stopped at.
/// A probe that ran out of iterations under-fits, and an under-fitted probe can understate one representation more than
/// another (a randomly initialised encoder's probe converges more slowly than a trained one's), so the reports carry it.
/// </summary>
public sealed record ProbeFit(int Iterations, int Budget, bool Converged, double LargestGradient)
{
    /// <summary>The fit of <paramref name="probe"/>, trained with an iteration budget of <paramref name="budget"/>.</summary>
    public static ProbeFit Of(LogisticRegression probe, int budget)
    {
        ArgumentNullException.ThrowIfNull(probe);
        return new(probe.Iterations, budget, probe.Converged, probe.LargestGradient);
    }
}
