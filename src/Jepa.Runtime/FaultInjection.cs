namespace Jepa.Runtime;

/// <summary>
/// A test seam for the failures that tests must provoke in a child process, which no input can: the environment
/// variable <c>JEPA_FAULT_INJECTION</c> names one. <c>data-worker:N</c>: the data worker that fills the N-th batch of
/// the process throws an <see cref="InvalidOperationException"/>; <c>background-thread</c>: the runner starts a thread that
/// throws one, unhandled, when training starts. Not for users; docs/testing.md lists it.
/// </summary>
public static class FaultInjection
{
    /// <summary>The environment variable.</summary>
    public const string Variable = "JEPA_FAULT_INJECTION";

    private static readonly string? Fault = Environment.GetEnvironmentVariable(Variable);

    /// <summary>Whether <paramref name="fault"/> (without its <c>:N</c>) is the injected fault.</summary>
    public static bool Is(string fault) => Fault is { } f && (f == fault || f.StartsWith(fault + ":", StringComparison.Ordinal));

    private static long batchesFilled;

    /// <summary>Throws on the data worker that fills the N-th batch of this process (counted from 1, over every data
    /// set and epoch) when <c>data-worker:N</c> is set.</summary>
    internal static void DataWorker()
    {
        if (!Is("data-worker") || !long.TryParse(Fault!.AsSpan("data-worker:".Length), out var n)) return;
        var filled = Interlocked.Increment(ref batchesFilled);
        if (filled == n) throw new InvalidOperationException($"Injected fault ({Variable}={Fault}): the data worker filling batch {filled} of this process failed.");
    }
}
