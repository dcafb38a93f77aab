using System.Globalization;

namespace Jepa.Runtime.Training;

/// <summary>
/// The memory a training run of an experiment needs, estimated by the compiler's cost model (docs/models.md, "Memory")
/// and carried by <see cref="ExperimentDefinition.Memory"/>: bytes of the trained modules' weights, the EMA copies,
/// the gradients, the optimizer state, the activations kept for the backward pass at the file's batch (every view of
/// the step counted), the transient workspace of the optimizer step and the checkpoint write, and the resident memory of
/// the process before any of it (the .NET runtime and libtorch). <see cref="Total"/> is what the process's peak
/// resident memory should come to on the CPU (bench section 9 compares the two for every example).
/// </summary>
/// <param name="Batch">The batch the activations are counted at.</param>
/// <param name="Weights">Parameters and buffers of the modules the optimizer trains.</param>
/// <param name="EmaCopies">Parameters and buffers of EMA target copies (not trained).</param>
/// <param name="Gradients">One gradient per trainable parameter.</param>
/// <param name="OptimizerState">AdamW's two moments, or SGD's momentum buffer, per trainable parameter.</param>
/// <param name="Activations">What the forward passes of one step keep for the backward pass, at <paramref name="Batch"/>.</param>
/// <param name="Workspace">Transient buffers at the peak: the optimizer step's temporaries and the checkpoint write's.</param>
/// <param name="Baseline">The process before the model: the .NET runtime, TorchSharp and libtorch loaded.</param>
/// <param name="LargestModule">The module that holds the most of the estimate, in words (<c>context encoder 'context' (mlp)</c>).</param>
/// <param name="LargestModuleBytes">That module's share: its weights, gradients, optimizer state and activations.</param>
public sealed record MemoryEstimate(
    int Batch,
    long Weights,
    long EmaCopies,
    long Gradients,
    long OptimizerState,
    long Activations,
    long Workspace,
    long Baseline,
    string LargestModule,
    long LargestModuleBytes)
{
    /// <summary>Everything but the baseline: what the model and its training add.</summary>
    public long Model => Weights + EmaCopies + Gradients + OptimizerState + Activations + Workspace;

    /// <summary>The estimated peak resident memory of a training process.</summary>
    public long Total => Model + Baseline;

    /// <summary>The parts in words: <c>weights 0.7 MiB, EMA copies 0.7 MiB, ..., process baseline 290 MiB</c>.</summary>
    public string Parts() =>
        $"weights {Size(Weights)}, EMA copies {Size(EmaCopies)}, gradients {Size(Gradients)}, optimizer state {Size(OptimizerState)}, " +
        $"activations at batch {Batch.ToString(CultureInfo.InvariantCulture)} {Size(Activations)}, workspace {Size(Workspace)}, process baseline {Size(Baseline)}";

    /// <summary>The largest module and its share, in words.</summary>
    public string Largest() => $"{LargestModule}, {Size(LargestModuleBytes)}";

    private static string Size(long bytes) => ByteSize.Format(bytes);
}
