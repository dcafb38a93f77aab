namespace Jepa.Runtime.Training;

/// <summary>
/// A loss term (or the gradient norm) was NaN or infinite. Training stops at that step before any parameter changes;
/// the last checkpoint written before it is left as it was.
/// </summary>
public sealed class NonFiniteLossException : Exception
{
    public NonFiniteLossException(string term, long step, double value, string? lastCheckpoint = null)
        : base(Describe(term, step, value, lastCheckpoint))
    {
        Term = term;
        Step = step;
        Value = value;
        LastCheckpoint = lastCheckpoint;
    }

    /// <summary>The name of the loss term that was not finite (<c>gradient norm</c> for the gradients).</summary>
    public string Term { get; }

    /// <summary>The 1-based number of the step that failed (steps before it completed).</summary>
    public long Step { get; }

    public double Value { get; }

    /// <summary>The last good checkpoint of the run, if one was written.</summary>
    public string? LastCheckpoint { get; }

    internal NonFiniteLossException WithCheckpoint(string? path) => new(Term, Step, Value, path);

    private static string Describe(string term, long step, double value, string? checkpoint) =>
        $"The loss term '{term}' is {Format(value)} at step {step}; training stopped before that step changed any parameter." +
        (checkpoint is null ? "" : $" The last good checkpoint is {checkpoint}.") +
        " Lower the learning rate, set GradClip, or check the data and the loss for values that overflow.";

    private static string Format(double v) => double.IsNaN(v) ? "NaN" : double.IsPositiveInfinity(v) ? "+infinity" : double.IsNegativeInfinity(v) ? "-infinity" : v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A checkpoint file could not be read: the message names the file and what is wrong with it.</summary>
public sealed class CheckpointException : Exception
{
    public CheckpointException(string path, string problem, Exception? inner = null)
        : base($"Checkpoint '{path}' cannot be loaded: {problem}", inner)
    {
        Path = path;
        Problem = problem;
    }

    public string Path { get; }

    public string Problem { get; }
}
