namespace Jepa.Bench.HandWritten;

/// <summary>One training step of a fixed model on a fixed batch, for timing.</summary>
public interface IStepBenchmark : IDisposable
{
    string Name { get; }

    /// <summary>Runs one full training step and returns the loss (read on the host, so the step is complete).</summary>
    float Step();
}
