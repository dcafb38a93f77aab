namespace Jepa.Runtime.Training;

/// <summary>
/// What a tool needs to run a generated experiment without knowing its class: its name, the shape of one sample, the
/// file's options and a factory. Generated classes expose one as <c>Definition</c>; the runner and the <c>jepa</c>
/// command use it.
/// </summary>
/// <param name="Name">The experiment's name in the <c>.jepa</c> file.</param>
/// <param name="InputShape">The shape of one sample, without the batch dimension.</param>
/// <param name="Defaults">The values written in the file.</param>
/// <param name="Create">Builds the experiment from options (of the experiment's own <c>Options</c> type).</param>
public sealed record ExperimentDefinition(string Name, long[] InputShape, ExperimentOptions Defaults, Func<ExperimentOptions, JepaExperiment> Create)
{
    /// <summary>
    /// The memory a training run needs, from the compiler's cost model at the file's batch; null where it is unknown (a
    /// C# encoder's size is). The runner compares it with the memory available before it builds anything.
    /// </summary>
    public MemoryEstimate? Memory { get; init; }
}
